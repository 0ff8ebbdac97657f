"""The local door: a threaded stdlib HTTP/1.1 server that runs the same App as the Lambda."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from . import names
from .errors import GlyphError, InvalidInput, PayloadTooLarge, Unavailable, UriTooLong
from .http.app import App
from .http.core import Request, Response, finish, problem

IDLE_TIMEOUT_S = 15
MAX_CONNECTIONS = 64


def _busy_answer() -> bytes:
    body = problem(Unavailable("the server has too many open connections; retry in a moment", retry_after=1)).body
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
        f"X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK of the headers: 40 ms on every keep-alive answer (measured).
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "GlyphMemory"

    server: GlyphServer

    # An idle keep-alive connection, or a client that stalls mid-request, is dropped after this.
    timeout = IDLE_TIMEOUT_S

    def _dispatch(self) -> None:
        try:
            request = self._request_head()
        except GlyphError as error:
            self.close_connection = True  # the unread body would corrupt the next request
            self._send(finish(problem(error)))
            return
        self._unread = self._length
        response = self.server.app.handle(request, read_body=self._read_body, lock=self.server.app_lock)
        if self._unread:
            self.close_connection = True  # refused before its body was read: drop the rest
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def _request_head(self) -> Request:
        """The request without its body: the App asks for that once the route and the
        credentials allow one (read_body)."""
        if self.headers.get_all("Transfer-Encoding"):
            raise InvalidInput("send a Content-Length; chunked or other transfer codings are not accepted")
        lengths = self.headers.get_all("Content-Length") or ["0"]
        if len(lengths) > 1:
            raise InvalidInput("send one Content-Length header")
        raw_length = lengths[0].strip() or "0"
        if not (raw_length.isascii() and raw_length.isdigit()) or len(raw_length) > 12:
            raise InvalidInput("Content-Length is not a number")
        self._length = int(raw_length)
        path, _, query = self.path.partition("?")
        return Request(
            method=self.command,
            path=unquote(path),
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            client=self.client_address[0],
        )

    def _read_body(self, limit: int | None) -> bytes:
        if limit is None or not self._length:
            return b""  # the route takes no body: any sent is dropped with the connection
        if self._length > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes")
        body = self.rfile.read(self._length)
        self._unread = 0
        if len(body) < self._length:
            self.close_connection = True
            raise InvalidInput("the body ended before its Content-Length")
        return body

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
        # One thread per connection, at most MAX_CONNECTIONS of them: thousands of half-sent
        # requests would otherwise be thousands of threads.
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:  # the thread did not start: its slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


_BUSY = _busy_answer()


def make_server(app: App, host: str = "127.0.0.1", port: int = 8787) -> GlyphServer:
    # Over SQLite the app never waits on a network, and threads running it side by side only
    # fight over the GIL (sqlite3 drops and retakes it on every step): one at a time answers
    # 8 concurrent clients twice as fast (bench/http_local.py). A networked store keeps
    # threads parallel, so that one slow DynamoDB call does not hold up the rest.
    return GlyphServer((host, port), app, one_at_a_time=app.memories.store.in_process)
