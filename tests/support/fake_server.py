"""A local HTTP server on a free loopback port, serving in a daemon thread: the base of the
stand-in servers the real clients are pointed at (the fake model APIs, fake AWS, proxies, TLS
hosts), and `send_body`, the one way their handlers answer with a whole body."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers send_body sets itself (Content-Length; send_response adds Server and Date), or that
# belong to one connection (RFC 9110 §7.6.1): never copied from another answer.
_OWN_HEADERS = frozenset({"content-length", "server", "date", "connection", "keep-alive", "transfer-encoding"})


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs no line per request (http.server writes each to stderr)."""

    def log_message(self, *args) -> None:
        pass

    def json_body(self):
        """The request's body as JSON: {} when empty, {"raw": its text} when it is not JSON."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {"raw": raw.decode("utf-8", "replace")}


class LocalServer(ThreadingHTTPServer):
    """Serves `handler` on 127.0.0.1 from construction until `close()`, over TLS with `tls` (a
    server-side context holding its certificate); `requests` collects what the handler records.
    Subclasses set their own fields before calling this __init__."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self.requests: list[dict] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def send_body(
    handler: BaseHTTPRequestHandler,
    status: int,
    data: bytes,
    content_type: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Answer `handler`'s request with `data` whole: the status, Content-Type (when given), the
    `headers` pairs (but those in _OWN_HEADERS) and Content-Length."""
    handler.send_response(status)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    for name, value in headers:
        if name.lower() not in _OWN_HEADERS:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
