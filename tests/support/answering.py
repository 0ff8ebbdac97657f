"""A stand-in HTTP server that gives every request one set answer: what a proxy, an older server
or a failing one would say, to see how the CLI takes it."""

from __future__ import annotations

import json

from .fake_server import LocalServer, QuietHandler, send_body


class _Handler(QuietHandler):
    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body, media = self.server.answer
        send_body(self, status, body if isinstance(body, bytes) else body.encode(), media)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815


class AnsweringServer(LocalServer):
    """On 127.0.0.1 (free port), in a thread; set `.answer = (status, body, media type)`."""

    def __init__(self):
        self.answer = (200, b"", "text/plain")
        super().__init__(_Handler)

    def problem(self, status: int, detail: str) -> None:
        """Answer as the API does: problem+json."""
        self.answer = (status, json.dumps({"status": status, "detail": detail}), "application/problem+json")
