"""The HTTP core every door and route module shares: requests, answers, problems, routers.

A route declares its method, path, scope, parameters, body and answers once (`Router.add`);
the App parses and checks a request against that declaration, and the OpenAPI document is
built from the same declarations (openapi.py), so the two cannot drift.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from urllib.parse import parse_qsl

from .. import names
from ..errors import GlyphError, InvalidInput, MethodNotAllowed, NotFound, PayloadTooLarge, UnsupportedMediaType
from ..settings import Settings

# Chat fetchers cannot send headers: these paths are exempt from basic auth (their errors are
# one plain sentence: chat_routes' router says so).
CHAT_PATHS = frozenset({"/r", "/w"})
# Remote MCP clients (claude.ai) can send neither basic auth nor our tokens: the OAuth endpoints
# and /mcp, which OAuth guards, are exempt from basic auth too (their errors stay JSON).
OAUTH_PATHS = frozenset(
    {
        "/mcp",
        "/register",
        "/authorize",
        "/token",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
    }
)
# What the connector function serves on AWS (the memory function never loads the MCP SDK or the
# page's template engine): the MCP connector's paths and the web page, /ui and below.
CONNECTOR_ROUTES = (*sorted(OAUTH_PATHS), "/ui", "/ui/{proxy+}")


# Every answer, from a route or from a door's own refusal, carries these (unless it set its own).
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
DEFAULT_CACHE_CONTROL = "no-store"


# Plain classes and named tuples, not dataclasses: `dataclasses` imports `inspect`, which was the
# costliest import of a cold start (bench/deployed_path.py).
DEFAULT_SETTINGS = Settings()  # every setting at its default: a Request made outside a door


class Request:
    __slots__ = (
        "method",
        "path",
        "query",
        "headers",
        "body",
        "request_id",
        "cold_start",
        "scheme",
        "public_host",
        "client",
        "settings",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query: str = "",  # raw query string, still percent-encoded
        headers: dict[str, str] | None = None,  # lower-case names
        body: bytes = b"",
        request_id: str = "",
        cold_start: bool | None = None,  # known on Lambda only
        scheme: str = "http",  # as the door was reached: Lambda's is always https
        public_host: str | None = None,  # the viewer's host, where a trusted front says it
        client: str = "",  # the peer's address as the door sees it (throttling buckets)
        settings: Settings = DEFAULT_SETTINGS,  # what the door read at its start (App.handle sets it)
    ):
        self.method, self.path, self.query = method, path, query
        self.headers = {} if headers is None else headers
        self.body, self.request_id, self.cold_start = body, request_id, cold_start
        self.scheme, self.public_host, self.client = scheme, public_host, client
        self.settings = settings

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
    def json(cls, data, status: int = 200, **headers: str) -> Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


class InternalError(GlyphError):
    """A bug, not bad input: its answer says nothing of what failed (the log line has its type)."""

    status, title, slug = 500, "Internal error", "internal"


def guarded(run, render, *, request_id: str, where=lambda: "-", expected: tuple = (), passes: tuple = ()):
    """The one guarded run of every door: `run()`, or `render(error)` for the GlyphError it
    raised (or one of `expected`, errors with a status and a detail of a door's own); `passes`
    go on up (a door's control flow: the client left). Any other exception is a bug, logged as
    one JSON line (the request id, `where()`: the route or step, the exception's type; never its
    message nor the request's content, which may hold a token) and rendered as an InternalError
    (500), never a traceback."""
    try:
        return run()
    except passes:
        raise
    except (GlyphError, *expected) as error:
        return render(error)
    except Exception as exc:
        from . import log  # only paid when a bug shows

        log.event("error", level=40, request_id=request_id, route=where(), error=type(exc).__name__)
        return render(InternalError("an internal error occurred; it has been logged"))


def problem(error: GlyphError, request_id: str = "") -> Response:
    """RFC 9457 problem details for a domain error, with its extension members (§3.2)."""
    body = {
        "type": f"urn:glyphmemory:problem:{error.slug}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        **error.extensions,
    }
    if request_id:
        body["request_id"] = request_id
    response = Response.json(body, error.status, **error.headers)
    response.headers["Content-Type"] = "application/problem+json"
    return response


# RFC 9110 §5.1/§5.5: a field name is a token; a field value is visible characters, spaces, tabs
# and obs-text (bytes 0x80-0xFF, what Latin-1 maps one to one). CR, LF or NUL in a value would
# split the answer, and a character beyond Latin-1 cannot be sent at all. (Sets, not regular
# expressions: nothing to compile on the Lambda's cold path.)
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _value_fault(value: str) -> str | None:
    """Why a field value cannot be sent as it is, or None."""
    if value.isascii() and value.isprintable():  # visible ASCII and spaces: every usual value
        return None
    for c in value:
        if c in "\r\n":
            return "the value holds CR or LF"
        if c == "\0":
            return "the value holds NUL"
        if c > "\xff":
            return "the value holds a character outside Latin-1"
        if (c < " " and c != "\t") or c == "\x7f":
            return "the value holds a control character"
    return None


def unsafe_header(headers: dict[str, str]) -> tuple[str, str] | None:
    """(name, reason) of the first header that cannot be sent as it is, or None. The reason
    names the kind of character, never the value (it may hold a token or a user's input)."""
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not _TOKEN.issuperset(name):
            return str(name)[:40].encode("ascii", "backslashreplace").decode(), "the field name is not a token"
        fault = _value_fault(value) if isinstance(value, str) else "the value is not a string"
        if fault:
            return name, fault
    return None


def finish(response: Response) -> Response:
    """The headers every answer carries, whoever made it; and the last check before any door
    sends it: a header that cannot be sent safely turns the answer into a logged 500 (never a
    split answer, nor a connection dropped mid-write)."""
    bad = unsafe_header(response.headers)
    if bad is not None:
        from . import log  # only paid when a bug shows

        log.event("unsafe_header", level=40, status=response.status, header=bad[0], reason=bad[1])
        safe = problem(InternalError("the server built an answer it cannot send; it has been logged"))
        response.status, response.body, response.headers = safe.status, safe.body, safe.headers
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", DEFAULT_CACHE_CONTROL)
    return response


class Call(namedtuple("Call", "request params query args grant body", defaults=(None,))):
    """What a route handler gets: the request, its path parameters, the raw query, the declared
    parameters parsed (`args`, defaults filled in), the token's grant (None without auth) and the
    declared body as its spec read it (`body`: a JsonBody's dict, a FormBody's {name: value}, a
    RawBody's bytes; None for a route that declares none)."""

    __slots__ = ()


# A route's declaration: scope r, w, a or None (no auth); params: Param specs (path and query);
# body: a params.JsonBody, FormBody or RawBody (the App reads it into call.body), or None; answers: {status: (content, description)},
# content a schema name (JSON), {media: schema}, or None (no body);
# errors: problem statuses; doc: summary and description for the OpenAPI document (routes with
# no summary, the OAuth and MCP endpoints whose RFCs and spec define them, are left out of it);
# page: an HTML page (unknown query parameters are ignored, as RFC 6749 §3.1 asks of /authorize
# and links from mail add; its refusals are HTML too); prepare(request, query): work that may
# wait on the network (a metadata document), run before the server's one-at-a-time section.
# authorise(app, request) -> Grant: a scope-None route's own credential check (the connector's
# OAuth bearer), run where a scope's token check is: before the body is read.
# render_error(request, error) -> Response: how the route answers a GlyphError (its router's).
Route = namedtuple(
    "Route", "method pattern template scope handler params body answers errors doc page prepare authorise render_error"
)


class Router:
    """The routes of one module, declared with their parameters and answers, and how their errors
    are answered (as powertools' `exception_handler`): `render_error(request, error)` gives the
    answer to a GlyphError, an unexpected error's InternalError included; None is problem+json
    (RFC 9457). `prefix`: a path space the router answers for even where no route of it matches
    (a page's 404 under /ui is a page)."""

    def __init__(self, *, render_error=None, prefix: str | None = None) -> None:
        self.routes: list[Route] = []
        self.render_error = render_error
        self.prefixes: list[tuple[str, object]] = [] if prefix is None else [(prefix, render_error)]

    def add(
        self,
        method: str,
        template: str,
        *,
        scope: str | None,
        params: tuple = (),
        body=None,
        answers: dict | None = None,
        errors: tuple[int, ...] = (),
        summary: str = "",
        description: str = "",
        security: list | None = None,  # only for scope None: [] (none, the default) or optional auth
        page: bool = False,
        prepare=None,
        authorise=None,
    ):
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)

        def register(handler):
            self.routes.append(
                Route(
                    method,
                    re.compile(regex + r"\Z"),
                    template,
                    scope,
                    handler,
                    tuple(params),
                    body,
                    answers or {200: (None, "OK")},
                    errors,
                    (summary, description, security),
                    page,
                    prepare,
                    authorise,
                    self.render_error,
                )
            )
            return handler

        return register

    @classmethod
    def joined(cls, routers) -> Router:
        """One router holding the routes of several, in order, each answering its errors as its
        own router declared."""
        joined = cls()
        joined.routes = [route for router in routers for route in router.routes]
        joined.prefixes = [prefix for router in routers for prefix in router.prefixes]
        return joined

    def error_response(self, request: Request, error: GlyphError, route: Route | None = None) -> Response:
        """The answer to `error` in the format of the route that raised it; before a route was
        matched (404, 405, a URL too long, basic auth), of the first route on the path, or of the
        router whose prefix holds it; else problem+json."""
        render = self.render_error
        if route is not None:
            render = route.render_error
        else:
            on_path = [r.render_error for r in self.routes if r.pattern.match(request.path)]
            under = [r for p, r in self.prefixes if request.path == p or request.path.startswith(p + "/")]
            render = (on_path or under or [render])[0]
        if render is None:
            return problem(error, request.request_id)
        response = render(request, error)
        response.headers.update(error.headers)
        return response

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


def urlencoded(text: str, what: str) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded (WHATWG URL Standard §5.1), what a query string and an
    HTML form's body both are: (name, value) pairs in order, `+` a space, blank values kept;
    percent-encoded bytes must be UTF-8 (InvalidInput: "the {what} is not valid UTF-8")."""
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput(f"the {what} is not valid UTF-8") from None


def parse_query(raw: str, allowed: frozenset[str], *, ignore_unknown: bool = False) -> dict[str, str]:
    """A query string's parameters by name (`urlencoded`, then `query_args`' rules)."""
    pairs: dict[str, list[str]] = {}
    for name, value in urlencoded(raw, "query string"):
        pairs.setdefault(name, []).append(value)
    return query_args(pairs, allowed, ignore_unknown=ignore_unknown)


def query_args(pairs: dict[str, list[str]], allowed: frozenset[str], *, ignore_unknown: bool = False) -> dict[str, str]:
    """The App's rules on a query's decoded values by name (what API Gateway's
    multiValueQueryStringParameters hold too): each name at most once, and only `allowed`
    names (others ignored with `ignore_unknown`); InvalidInput saying which is not."""
    if ignore_unknown:
        pairs = {k: v for k, v in pairs.items() if k in allowed}
    unknown = sorted(set(pairs) - allowed)
    if unknown:
        raise InvalidInput(
            f"unknown query parameter {unknown[0][:40]!r}; this route takes " + (", ".join(sorted(allowed)) or "none")
        )
    repeated = [k for k, v in pairs.items() if len(v) > 1]
    if repeated:
        raise InvalidInput(f"query parameter {repeated[0]!r} is given more than once")
    return {k: v[0] for k, v in pairs.items()}


def media_type(request: Request) -> str:
    """The Content-Type's media type, lower-case, without parameters."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json_body(request: Request, limit: int = names.MAX_JSON_BODY_BYTES) -> dict:
    if media_type(request) != "application/json":
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    if len(request.body) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON") from None
    except RecursionError:  # [[[[…]]]] a few thousand deep: refused, not a 500
        raise InvalidInput("the body's JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


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


_HOST_RE = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def _host(value: str) -> str:
    host = value.split(",")[0].strip()
    if not _HOST_RE.fullmatch(host):
        raise InvalidInput("the Host header is not a host name")
    return host


def public_base_url(request: Request) -> str:
    """Where this server is reached from outside (the links /r hands out, OAuth's issuer and
    resource, the page's origin check, OpenAPI's server): GLYPH_PUBLIC_URL;
    else the viewer's host as a trusted front reports it (CloudFront, through the Lambda door);
    else X-Forwarded-Host/Proto only when GLYPH_TRUST_FORWARDED=1 (a server behind a proxy of
    yours: a client's own forwarding headers would otherwise pick the links' host); else Host."""
    configured = request.settings.public_url
    if configured:
        return configured.rstrip("/")
    if request.public_host:
        return f"https://{_host(request.public_host)}"
    headers = request.headers
    if request.settings.trust_forwarded and headers.get("x-forwarded-host"):
        proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
        return f"{'https' if proto == 'https' else 'http'}://{_host(headers['x-forwarded-host'])}"
    return f"{request.scheme}://{_host(headers.get('host') or '127.0.0.1:8787')}"
