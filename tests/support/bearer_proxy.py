"""An HTTP proxy that adds `Authorization: Bearer TOKEN` to every request it forwards.

The MCP conformance suite's server scenarios connect without credentials (its client takes only
a URL), while `/mcp` needs an OAuth token: the suite talks to this proxy, which forwards each
request as it came (method, path, headers, Host included, body) with the token added, and the
answer as it went. Without a token set it adds nothing (the sign-in goes through it too, so the
token is bound to the URL the suite uses).
"""

from __future__ import annotations

from .forwarding_proxy import ForwardingProxy


class BearerProxy(ForwardingProxy):
    def __init__(self, target_port: int):
        self.token: str | None = None
        super().__init__(f"http://127.0.0.1:{target_port}")

    def request_headers(self, headers: dict[str, str]) -> dict[str, str]:
        if self.token and "authorization" not in {k.lower() for k in headers}:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers
