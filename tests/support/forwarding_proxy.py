"""An HTTP proxy on a loopback port that forwards every request to one target and the answer
back: the base of the proxies tests put between a client and a real server (bearer_proxy's,
which adds a token; test_similar_outage's, which throttles some DynamoDB calls)."""

from __future__ import annotations

import http.client
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from .fake_server import LocalServer, QuietHandler, send_body

# RFC 9110 §7.6.1: headers of one connection, never forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
)


class ForwardingProxy(LocalServer):
    """Forwards each request to `target` (http://host:port) as it came (method, path, headers
    but the hop-by-hop ones, Host included, body) and its answer as it went. A subclass changes
    a request's headers (`request_headers`) or answers it itself (`answer`)."""

    def __init__(self, target: str):
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        super().__init__(_Forwarding)

    def request_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """The headers the request is forwarded with."""
        return headers

    def answer(self, request: BaseHTTPRequestHandler, body: bytes | None) -> tuple[int, list, bytes] | None:
        """(status, header pairs, body) to answer with instead of forwarding, or None."""
        return None


class _Forwarding(QuietHandler):
    protocol_version = "HTTP/1.1"
    server: ForwardingProxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        answer = self.server.answer(self, body)
        if answer is None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream = http.client.HTTPConnection(*self.server.target, timeout=30)
            try:
                upstream.request(self.command, self.path, body=body, headers=self.server.request_headers(headers))
                got = upstream.getresponse()
                answer = got.status, got.getheaders(), got.read()
            finally:
                upstream.close()
        status, headers_back, data = answer
        send_body(self, status, data, headers=[(k, v) for k, v in headers_back if k.lower() not in HOP_BY_HOP])

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = _forward
