"""A local HTTP server on a free loopback port, serving in a daemon thread: the base of the
fake model APIs (fake_claude, fake_openai, fake_gemini) the real clients are pointed at."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer(ThreadingHTTPServer):
    """Serves `handler` on 127.0.0.1 from construction until `close()`; `requests` collects what
    the handler records. Subclasses set their own fields before calling this __init__."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        super().__init__(("127.0.0.1", 0), handler)
        self.requests: list[dict] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
