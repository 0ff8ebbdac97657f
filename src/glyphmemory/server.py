"""The local door: a threaded stdlib HTTP/1.1 server that runs the same App as the Lambda."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from . import names
from .errors import GlyphError, InvalidInput, PayloadTooLarge, UriTooLong
from .http.app import App
from .http.core import Request, Response, finish, problem


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK of the headers: 40 ms on every keep-alive answer (measured).
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "GlyphMemory"

    server: GlyphServer

    def _dispatch(self) -> None:
        try:
            request = self._read_request()
        except GlyphError as error:
            self.close_connection = True  # the unread body would corrupt the next request
            self._send(finish(problem(error)))
            return
        with self.server.app_lock:
            response = self.server.app.handle(request)
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def _read_request(self) -> Request:
        if self.headers.get("Transfer-Encoding"):
            raise InvalidInput("send a Content-Length; chunked bodies are not accepted")
        raw_length = self.headers.get("Content-Length", "0") or "0"
        if not raw_length.isdigit():
            raise InvalidInput("Content-Length is not a number")
        length = int(raw_length)
        if length > names.MAX_IMPORT_BODY_BYTES:
            raise PayloadTooLarge(f"the body is over {names.MAX_IMPORT_BODY_BYTES} bytes")
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        return Request(
            method=self.command,
            path=unquote(path),
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line over 64 KiB, too many headers, a garbled
        line) answer as problems too, not as its HTML page. Its message is not echoed: it can
        quote the request line, token and all."""
        self.close_connection = True
        if code == 414:
            error: GlyphError = UriTooLong(f"the URL is longer than {names.MAX_URL_BYTES} bytes: shorten it")
        else:
            error = GlyphError(f"the request could not be read as HTTP/1.1 ({HTTPStatus(code).phrase})")
            error.status, error.title = code, HTTPStatus(code).phrase
        self._send(finish(problem(error)))

    def log_message(self, format: str, *args) -> None:
        # The stdlib line holds the full request line, query string (tokens) included.
        # The App logs every request as structured JSON instead.
        pass


class GlyphServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, *, one_at_a_time: bool = False):
        super().__init__(address, _Handler)
        self.app = app
        self.app_lock = threading.Lock() if one_at_a_time else nullcontext()


def make_server(app: App, host: str = "127.0.0.1", port: int = 8787) -> GlyphServer:
    # Over SQLite the app never waits on a network, and threads running it side by side only
    # fight over the GIL (sqlite3 drops and retakes it on every step): one at a time answers
    # 8 concurrent clients twice as fast (bench/http_local.py). A networked store keeps
    # threads parallel, so that one slow DynamoDB call does not hold up the rest.
    return GlyphServer((host, port), app, one_at_a_time=app.memories.store.in_process)
