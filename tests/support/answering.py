"""A stand-in HTTP server that gives every request one set answer: what a proxy, an older server
or a failing one would say, to see how the CLI takes it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body, media = self.server.answer
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815

    def log_message(self, *args):
        pass


class AnsweringServer(ThreadingHTTPServer):
    """On 127.0.0.1 (free port), in a thread; set `.answer = (status, body, media type)`."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = (200, b"", "text/plain")
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def problem(self, status: int, detail: str) -> None:
        """Answer as the API does: problem+json."""
        self.answer = (status, json.dumps({"status": status, "detail": detail}), "application/problem+json")

    def close(self) -> None:
        self.shutdown()
        self.server_close()
