"""The one application object both doors call: a request in, a response out.

No web framework: the Lambda adapter and the local server each build a `Request`, call
`App.handle`, and send back the `Response`. Routing, authorisation and the mapping of domain
errors to problem+json happen here, once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections import namedtuple
from urllib.parse import parse_qs

from .. import names
from ..errors import (
    GlyphError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    UriTooLong,
)
from ..basic_auth import BasicAuth
from ..keys import Keyring
from ..model import Clock
from ..service import Memories
from ..tokens import Grant, require_scope, verify_window_token
from . import log

_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


# Plain classes and named tuples, not dataclasses: `dataclasses` imports `inspect`, which was the
# costliest import of a cold start (bench/deployed_path.py).
class Request:
    __slots__ = ("method", "path", "query", "headers", "body", "request_id", "cold_start")

    def __init__(
        self,
        method: str,
        path: str,
        query: str = "",  # raw query string, still percent-encoded
        headers: dict[str, str] | None = None,  # lower-case names
        body: bytes = b"",
        request_id: str = "",
        cold_start: bool | None = None,  # known on Lambda only
    ):
        self.method, self.path, self.query = method, path, query
        self.headers = {} if headers is None else headers
        self.body, self.request_id, self.cold_start = body, request_id, cold_start

    def __repr__(self) -> str:  # never the query, headers or body: they may hold tokens
        return f"Request({self.method} {self.path})"


class Response:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.status, self.body = status, body
        self.headers = {} if headers is None else headers

    def __repr__(self) -> str:
        return f"Response({self.status}, {len(self.body)} bytes)"

    @classmethod
    def json(cls, data, status: int = 200, **headers: str) -> "Response":
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> "Response":
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


def problem(error: GlyphError, request_id: str = "") -> Response:
    """RFC 9457 problem details for a domain error."""
    body = {
        "type": f"urn:glyphmemory:problem:{error.slug}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    if request_id:
        body["request_id"] = request_id
    response = Response.json(body, error.status, **error.headers)
    response.headers["Content-Type"] = "application/problem+json"
    return response


class Call(namedtuple("Call", "request params query grant")):
    """What a route handler gets: the request, its path parameters, query and grant (or None)."""

    __slots__ = ()


# scope: r, w, a, or None for no auth; handler(app, call) -> Response; query: allowed names.
Route = namedtuple("Route", "method pattern template scope handler query")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, *, scope: str | None, query: tuple[str, ...] = ()):
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        allowed = frozenset(query) | ({"t"} if scope else frozenset())

        def register(handler):
            self.routes.append(
                Route(method, re.compile(regex + r"\Z"), template, scope, handler, allowed)
            )
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                if route.method == method:
                    return route, found.groupdict()
                allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(
                f"{path} does not take {method}; it takes {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        raise NotFound(f"there is no route {path}; see /openapi.json for the API")


def parse_query(raw: str, allowed: frozenset[str]) -> dict[str, str]:
    try:
        pairs = parse_qs(raw, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("the query string is not valid UTF-8") from None
    unknown = sorted(set(pairs) - allowed)
    if unknown:
        raise InvalidInput(
            f"unknown query parameter {unknown[0][:40]!r}; this route takes "
            + (", ".join(sorted(allowed)) or "none")
        )
    repeated = [k for k, v in pairs.items() if len(v) > 1]
    if repeated:
        raise InvalidInput(f"query parameter {repeated[0]!r} is given more than once")
    return {k: v[0] for k, v in pairs.items()}


# Chat fetchers cannot send headers, so the chat URL routes are exempt from basic auth.
CHAT_PATHS = frozenset({"/r", "/w"})


class App:
    def __init__(
        self,
        memories: Memories,
        keyring: Keyring,
        *,
        basic_auth: BasicAuth | None = None,
        router: Router | None = None,
    ):
        from . import auth_routes, chat_routes  # noqa: F401  (they register on ROUTER)
        from .routes import ROUTER  # routes import this module for Request/Response

        self.memories = memories
        self.basic_auth = basic_auth
        self.router = router or ROUTER
        self._use_keyring(keyring)

    def _use_keyring(self, keyring: Keyring) -> None:
        self.keyring = keyring
        # Cursors are signed with a key derived from the root secret, never the secret itself.
        self.cursor_key = _derive(keyring.root.secret, b"glyphmemory cursor v1")

    def use_root_key(self, root) -> None:
        """Switch to a rotated root key (the Lambda re-reads it from SSM every minute)."""
        if root != self.keyring.root:
            self._use_keyring(Keyring(root, self.keyring.store, cache_s=self.keyring.cache_s))

    @property
    def clock(self) -> Clock:
        return self.memories.clock

    def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request.request_id = request.request_id or os.urandom(8).hex()
        template = "-"
        try:
            if len(request.path) + len(request.query) + 1 > names.MAX_URL_BYTES:
                raise UriTooLong(
                    f"the URL is longer than {names.MAX_URL_BYTES} bytes: shorten it, "
                    "or send the memory in a POST body (glyph write)"
                )
            if self.basic_auth is not None and request.path not in CHAT_PATHS:
                self.basic_auth.check(request.headers.get("authorization"))
            route, params = self.router.match(request.method, request.path)
            template = route.template
            query = parse_query(request.query, route.query)
            grant = self._authorise(request, query, route.scope)
            response = route.handler(self, Call(request, params, query, grant))
        except GlyphError as error:
            response = self._error(request, error)
        except Exception as exc:  # a bug, not bad input: answer 500 without internals
            log.event("error", request_id=request.request_id, route=template, error=type(exc).__name__)
            response = self._error(request, _Internal("an internal error occurred; it has been logged"))
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        log.event(
            "request",
            request_id=request.request_id,
            method=request.method,
            route=template,
            status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            **({} if request.cold_start is None else {"cold_start": request.cold_start}),
        )
        return response

    @staticmethod
    def _error(request: Request, error: GlyphError) -> Response:
        """problem+json for the API; one plain sentence for the chat URLs, which chats read."""
        if request.path not in CHAT_PATHS:
            return problem(error, request.request_id)
        response = Response.text(f"Error {error.status}: {error.detail}.\n", error.status)
        response.headers.update(error.headers)
        return response

    def _authorise(self, request: Request, query: dict[str, str], scope: str | None) -> Grant | None:
        if scope is None:
            return None
        token = token_from(request, query)
        if token is None:
            raise Unauthorized(
                "this route needs a token: send Authorization: Bearer <token> "
                "(the glyph command does this for you)",
                headers={"WWW-Authenticate": 'Bearer realm="glyphmemory"'},
            )
        grant = verify_window_token(token, self.keyring.secret_for, self.clock.now_s())
        require_scope(grant, scope)
        return grant


class _Internal(GlyphError):
    status, title, slug = 500, "Internal error", "internal"


def token_from(request: Request, query: dict[str, str]) -> str | None:
    """The window token from Authorization: Bearer, X-Glyph-Token or t= (one place only: a
    request carrying two could be read two ways, so it is refused)."""
    header = request.headers.get("authorization", "")
    places = [
        header[7:].strip() if header[:7].lower() == "bearer " else None,
        request.headers.get("x-glyph-token"),
        query.get("t"),
    ]
    given = [p for p in places if p is not None]
    if len(given) > 1:
        raise InvalidInput("send the token in one place: Authorization: Bearer, X-Glyph-Token or t=")
    return given[0] if given and given[0] else None


def _derive(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, label, hashlib.sha256).digest()


def require_json_body(request: Request, limit: int = names.MAX_JSON_BODY_BYTES) -> dict:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    if len(request.body) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data
