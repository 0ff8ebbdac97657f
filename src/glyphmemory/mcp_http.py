"""`POST /mcp` through the SDK's own Streamable HTTP transport, from either door.

Both doors (the local server, the Lambda handler) hold a whole request and want a whole answer,
so the request is handed to the SDK's public ASGI app (`MCPServer.streamable_http_app`, stateless,
JSON answers) as one call and its answer collected. The SDK's session manager runs once per
instance (python-sdk#3121), so each request gets a new app, run inside its own lifespan; the
tools are registered once per App (`App.mcp_server`). The SDK checks Host and Origin against the public URL
(GLYPH_PUBLIC_URL, or where the request says it was sent): a page on another origin cannot drive
the connector from a browser.
"""

from __future__ import annotations

from contextvars import ContextVar
from urllib.parse import urlsplit

import anyio
from mcp.server.transport_security import TransportSecuritySettings

from .api_client import InProcess
from .http.core import Response
from .mcp_chatgpt import REQUEST_BASE_URL
from .mcp_tools import build_server
from .tokens import Grant

_SKIPPED = {"authorization", "cookie", "content-length", "host"}
_GRANT: ContextVar[Grant] = ContextVar("glyph_mcp_grant")
_REQUEST_ID: ContextVar[str] = ContextVar("glyph_mcp_request_id", default="")


class _RequestBackend(InProcess):
    """The API in this process, on behalf of the grant of the /mcp request being answered (set
    for the request's context: the tools run inside it, one request at a time or concurrently)."""

    def __init__(self, app):
        self.app = app

    @property
    def grant(self) -> Grant:
        return _GRANT.get()

    @property
    def request_id(self) -> str:  # a bug in a tool's API call logs the /mcp request's id
        return _REQUEST_ID.get()


def request_server(app):
    """An MCP server whose tools act through `app`'s routes with the grant of the /mcp request
    being answered (runtime.build_app hands this to the App, which keeps the one it builds)."""
    return build_server(_RequestBackend(app))


def handle_mcp(app, request, base_url: str, grant: Grant) -> Response:
    """Answer one /mcp request whose OAuth grant the door has checked; `grant` is what its
    tools act with (every API call they make checks it again: alive, scope)."""
    server = app.mcp_server()
    public = urlsplit(base_url)
    host = request.public_host or request.headers.get("host") or public.netloc
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[public.netloc],
        allowed_origins=[f"{public.scheme}://{public.netloc}"],
    )
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items() if k not in _SKIPPED]
    headers += [(b"host", host.encode("latin-1")), (b"content-length", str(len(request.body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": public.scheme,
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (request.client or "0.0.0.0", 0),
        "server": (public.hostname or "localhost", public.port or (443 if public.scheme == "https" else 80)),
    }
    answer = {"status": 500, "headers": {}, "body": []}
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            await anyio.sleep_forever()  # the whole body was given: what follows is a disconnect wait
        sent = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    async def run():
        asgi = server.streamable_http_app(stateless_http=True, json_response=True, transport_security=security)
        async with asgi.router.lifespan_context(asgi):  # this app's own session manager, running
            await asgi(scope, receive, send)

    base, acting = REQUEST_BASE_URL.set(base_url), _GRANT.set(grant)  # the page URLs; who the tools act for
    request_id = _REQUEST_ID.set(request.request_id)
    try:
        anyio.run(run)
    finally:
        REQUEST_BASE_URL.reset(base)
        _GRANT.reset(acting)
        _REQUEST_ID.reset(request_id)
    headers = {k: v for k, v in answer["headers"].items() if k.lower() not in ("content-length", "connection")}
    return Response(answer["status"], b"".join(answer["body"]), headers)
