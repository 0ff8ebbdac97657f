"""The local door: a threaded stdlib HTTP/1.1 server that runs the same App as the Lambda.

What a stranger who can reach the port can hold, and for how long (issue 21 §4):
- at most MAX_CONNECTIONS connections in all and MAX_PER_SOURCE from one peer address (the
  socket's: nothing a client says is known before its headers are read); past either, a 503 at once;
- a request head (line and headers) must arrive within HEAD_DEADLINE_S of the server starting to
  wait for it, however it is trickled; a body within BODY_DEADLINE_S plus one second per
  MIN_BODY_RATE bytes, and only once the route and the credentials allow one (else 408, closed).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from contextlib import nullcontext
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from . import names
from .errors import GlyphError, InvalidInput, PayloadTooLarge, RequestTimeout, Unavailable, UriTooLong
from .http.app import App
from .http.core import Request, Response, finish, problem

IDLE_TIMEOUT_S = 15  # one read or write that waits this long ends the connection
HEAD_DEADLINE_S = 15  # the whole request head, from when the server waits for it (idle included)
BODY_DEADLINE_S, MIN_BODY_RATE = 15, 64 * 1024  # a body: 15 s plus 1 s per 64 KiB
MAX_CONNECTIONS = 64
MAX_PER_SOURCE = 16  # one peer address holds at most a quarter of the slots


def _busy_answer() -> bytes:
    body = problem(Unavailable("the server has too many open connections; retry in a moment", retry_after=1)).body
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
        f"X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class _DeadlineSocket(io.RawIOBase):
    """The connection's reading side, under the handler's current deadline: every recv waits at
    most until then (and never longer than IDLE_TIMEOUT_S), so trickling one byte at a time
    cannot stretch a read past it; past it, TimeoutError, as a socket timeout would raise."""

    def __init__(self, sock: socket.socket, handler: _Handler):
        self._sock, self._handler = sock, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self._handler.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline passed")
        self._sock.settimeout(min(left, IDLE_TIMEOUT_S))
        return self._sock.recv_into(buffer)


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
    deadline = float("inf")

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the stdlib's reader, replaced by one under the deadline
        self.rfile = io.BufferedReader(_DeadlineSocket(self.connection, self))

    def handle_one_request(self) -> None:
        self.deadline = time.monotonic() + HEAD_DEADLINE_S
        super().handle_one_request()

    def _dispatch(self) -> None:
        self.deadline = float("inf")  # the head is in; the body gets its own deadline
        self.connection.settimeout(IDLE_TIMEOUT_S)  # writes: the per-call timeout
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
        if self.headers.defects or self.headers.get_payload():
            # The parser stops at a line that is no `name: value` (whitespace before the colon,
            # no colon) and leaves the rest unread as headers: RFC 9112 §5.1 says 400.
            raise InvalidInput("a header line is not `name: value` (no whitespace may precede the colon)")
        if any("\n" in value for value in self.headers.values()):
            raise InvalidInput("a header is folded over two lines (obsolete line folding, RFC 9112 §5.2)")
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
            client=self._source(),
        )

    def _source(self) -> str:
        """The client's address for throttling: the socket peer; behind a proxy of yours
        (GLYPH_TRUST_FORWARDED=1, e.g. a tunnel whose clients all arrive from 127.0.0.1) the
        address that proxy saw, the last X-Forwarded-For entry (the one it appended)."""
        if self.server.app.settings.trust_forwarded:
            entries = ",".join(self.headers.get_all("X-Forwarded-For") or []).split(",")
            nearest = [e.strip() for e in entries if e.strip()]
            if nearest:
                return nearest[-1][:64]
        return self.client_address[0]

    def _read_body(self, limit: int | None) -> bytes:
        if limit is None or not self._length:
            return b""  # the route takes no body: any sent is dropped with the connection
        if self._length > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes")
        self.deadline = time.monotonic() + BODY_DEADLINE_S + self._length / MIN_BODY_RATE
        try:
            body = self.rfile.read(self._length)
        except (TimeoutError, OSError):
            self.close_connection = True
            raise RequestTimeout("the body did not arrive in time") from None
        finally:
            self.deadline = float("inf")
            self.connection.settimeout(IDLE_TIMEOUT_S)
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
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
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
        # One thread per connection, at most MAX_CONNECTIONS of them (thousands of half-sent
        # requests would otherwise be thousands of threads), at most MAX_PER_SOURCE per peer.
        self._slots_lock = threading.Lock()
        self._open: dict[str, int] = {}  # peer address -> open connections (no entry at 0)

    def _take_slot(self, source: str) -> bool:
        with self._slots_lock:
            held = self._open.get(source, 0)
            if held >= MAX_PER_SOURCE or sum(self._open.values()) >= MAX_CONNECTIONS:
                return False
            self._open[source] = held + 1
            return True

    def _free_slot(self, source: str) -> None:
        with self._slots_lock:
            held = self._open.pop(source, 1) - 1
            if held > 0:
                self._open[source] = held

    def process_request(self, request, client_address) -> None:
        source = client_address[0]
        if not self._take_slot(source):
            try:
                request.settimeout(1)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:  # the thread did not start: its slot is free again
            self._free_slot(source)
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._free_slot(client_address[0])


_BUSY = _busy_answer()


def make_server(app: App, host: str = "127.0.0.1", port: int = 8787) -> GlyphServer:
    # Over SQLite the app never waits on a network, and threads running it side by side only
    # fight over the GIL (sqlite3 drops and retakes it on every step): one at a time answers
    # 8 concurrent clients twice as fast (bench/http_local.py). A networked store keeps
    # threads parallel, so that one slow DynamoDB call does not hold up the rest.
    return GlyphServer((host, port), app, one_at_a_time=app.memories.store.in_process)
