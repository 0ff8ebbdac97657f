"""One client of the JSON API for every door that calls it (the MCP tools, the page, the CLI).

Two implementations of one interface, so each door gets the same decoded answers and the same
error whichever way its request goes:

- `InProcess(app, grant)`: the App's routes in this process (`App.handle_inside`), on behalf of a
  grant the caller has checked (the page's session, the remote `/mcp`'s OAuth grant, `glyph mcp`
  on the local store);
- `OverHttp(base_url, key)`: over HTTP (`http.client`, a fresh short token per request; the
  `glyph` command's client, and `glyph mcp`'s when a server is configured).

Both have `request(method, path, *, scope, query, payload | body, content_type) -> Answer` and
`call(...) -> data` (`Api`), and raise `ApiError` for a 4xx/5xx answer (`NetworkError` when no
answer came). A query drops its None values; the scope names the token the HTTP client mints
(in-process, the grant is checked against the route's own scope).

The CLI loads this module on its start path: json, time, collections and urllib.parse only
(which it has already);
http.client, the retry rule and the token minting are imported by the first request.
"""

from __future__ import annotations

import json
import time
from collections import namedtuple
from urllib.parse import parse_qs, quote, urlencode, urlsplit

# RFC 9457 §3.1's members, and the request id every problem carries: the rest are extensions.
STANDARD_MEMBERS = frozenset(("type", "title", "status", "detail", "instance", "request_id"))
PROBLEM_TYPE_PREFIX = "urn:glyphmemory:problem:"  # http/core.problem: the type is this + the slug
PLAIN_DETAIL_CHARS = 300  # of an answer that is not a problem document (a proxy's HTML page)
REQUEST_TOKEN_TTL_S = 300  # OverHttp's tokens: one per request
RETRY_BASE_DELAY_S = 0.4  # full jitter: 0-0.4 s, 0-0.8 s, … (errors.retried)
RETRY_AFTER_CAP_S = 10  # a longer Retry-After is not waited for in a command

RETRYABLE_STATUSES = (408, 429)  # and every 5xx


class ApiError(Exception):
    """The API answered with an error status (4xx/5xx). `problem` is its RFC 9457 document ({}
    when the answer held none), `detail` its sentence (else the start of the answer's text, else
    the status's reason), `headers` the answer's (names lower-case). `str()` is the detail."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, problem: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.problem = problem or {}

    @property
    def slug(self) -> str:
        """What kind of problem (`conflict`, `rate-limited`…: errors.py's slugs), "" if not the API's."""
        kind = str(self.problem.get("type") or "")
        return kind.removeprefix(PROBLEM_TYPE_PREFIX) if kind.startswith(PROBLEM_TYPE_PREFIX) else ""

    @property
    def extensions(self) -> dict:
        """The problem's extension members (RFC 9457 §3.2): `other_id`, `retry_after_s`, `redacted`…"""
        return {k: v for k, v in self.problem.items() if k not in STANDARD_MEMBERS}

    @property
    def message(self) -> str:
        """`STATUS: detail`: the sentence a tool error shows."""
        return f"{self.status}: {self.detail or 'the request failed'}"


class NetworkError(Exception):
    """The server could not be reached (no answer at all)."""


class Answer(namedtuple("Answer", "status headers body")):
    """A 2xx answer: `status`, `headers` (names lower-case), `body` (bytes)."""

    __slots__ = ()

    @property
    def data(self):
        """The body decoded: JSON as Python values, another type as text, None when empty."""
        if not self.body:
            return None
        if self.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
            return json.loads(self.body)
        return self.body.decode("utf-8", "replace")

    @property
    def next_cursor(self) -> str | None:
        """The `before` cursor of the answer's `Link: <…>; rel="next"` (an export's next page), or None."""
        target = link_target(self.headers.get("link", ""), "next")
        return None if target is None else parse_qs(urlsplit(target).query).get("before", [None])[0]


class Api:
    """The interface both implementations share; each sends a request its own way (`_send`)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str | None = None,
        query: dict | None = None,
        payload=None,
        body: bytes | None = None,
        content_type: str = "application/json",
        tries: int | None = None,
    ) -> Answer:
        """One call of the API: `payload` is sent as JSON, else `body` as `content_type`; `query`
        without its None values; `scope`, the token's scope over HTTP; `tries` (HTTP), at most
        this many. The 2xx Answer, or ApiError (a 4xx/5xx), or NetworkError (no answer)."""
        return self._send(method, path, scope, query_string(query), encoded(payload, body), content_type, tries)

    def _send(self, method, path, scope, query, body, content_type, tries) -> Answer:
        raise NotImplementedError

    def call(
        self, method: str, path: str, *, scope: str | None = None, query: dict | None = None, payload=None, **more
    ):
        """The answer's data (JSON decoded, text, or None); ApiError/NetworkError as `request`."""
        return self.request(method, path, scope=scope, query=query, payload=payload, **more).data


class InProcess(Api):
    """The API's routes in this process, on behalf of a grant the caller has checked (the route
    checks it again: alive, and its scope enough). `tries` is ignored: nothing to retry."""

    request_id = ""  # the id its requests log a bug with (a new one each when empty)

    def __init__(self, app, grant):
        self.app = app
        self.grant = grant

    def _send(self, method, path, scope, query, body, content_type, tries) -> Answer:
        from .http.core import Request

        headers = {"content-type": content_type, "accept": "application/json"}
        request = Request(method, path, query, headers, body or b"", request_id=self.request_id)
        response = self.app.handle_inside(request, self.grant)
        return checked(response.status, {k.lower(): v for k, v in response.headers.items()}, response.body)


def retryable(exc: Exception) -> bool:
    """Worth trying again later (and spooling a write or an edit for): no answer, 408, 429 or a 5xx."""
    return isinstance(exc, NetworkError) or (
        isinstance(exc, ApiError) and (exc.status >= 500 or exc.status in RETRYABLE_STATUSES)
    )


def refused_for_good(exc: Exception) -> bool:
    """The API's own refusal of this request as it stands: a problem+json 4xx (400, 409, 413, 422…)
    but 408 and 429 (try later) and 401/403 (about the key, not the request: a revoked key must not
    throw away what waits to be sent). Any other answer, e.g. a proxy's HTML 404, is not the API's."""
    return (
        isinstance(exc, ApiError)
        and 400 <= exc.status < 500
        and exc.status not in (401, 403, *RETRYABLE_STATUSES)
        and exc.headers.get("content-type", "").startswith("application/problem+json")
    )


class OverHttp(Api):
    """The API over HTTP (`http.client`), with a fresh short-lived token of the call's scope for
    every request, signed here with `key` (a keys.Key; None: every call needing a token is a 401);
    basic auth from the URL's userinfo when it has one. `tries` and `deadline_s` bound the retries
    of one call, `timeout` (seconds) each try's connection."""

    def __init__(
        self,
        base_url: str,
        key,
        *,
        timeout: float = 10.0,
        tries: int = 3,
        deadline_s: float = 30.0,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkError(f"not an http(s) URL: {base_url!r}")
        self._parts = parts
        self._basic = None
        if parts.username is not None:  # https://user:password@host: the basic-auth layer
            import base64
            from urllib.parse import unquote

            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._basic = "Basic " + base64.b64encode(pair.encode()).decode()
        name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        self._host = name + (f":{parts.port}" if parts.port else "")
        # Never show the password: messages name the server without the userinfo.
        self.base_url = f"{parts.scheme}://{self._host}{parts.path}".rstrip("/")
        self.key = key
        self.timeout = timeout
        self.tries = tries
        self.deadline_s = deadline_s

    def token(self, scope: str, ttl_s: int = REQUEST_TOKEN_TTL_S) -> str:
        from .tokens import mint_window_token

        if self.key is None:
            raise ApiError(401, "no key: run `glyph serve` once, or set GLYPH_KEY", {})
        return mint_window_token(self.key.kid, self.key.secret, scope, int(time.time()) + ttl_s)

    def _connection(self):
        import http.client

        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(self._host, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, timeout=self.timeout)

    def _send(self, method, path, scope, query, body, content_type, tries) -> Answer:
        """Retried on network errors, 5xx and 429 (backoff with jitter, honouring Retry-After)
        while tries and the deadline last."""
        from .errors import retried

        return retried(
            lambda: self._once(method, path, scope=scope, query=query, body=body, content_type=content_type),
            retryable=retryable,
            attempts=tries or self.tries,
            deadline_s=self.deadline_s,
            base_delay_s=RETRY_BASE_DELAY_S,
            retry_after=_retry_after,
        )

    def _once(self, method, path, *, scope, query, body, content_type):
        target = self._parts.path.rstrip("/") + url_path(path)
        if query:
            target += "?" + query
        headers = {"Accept": "application/json, text/markdown, */*"}
        if self._basic:
            headers["Authorization"] = self._basic
        if scope:
            if self._basic:
                headers["X-Glyph-Token"] = self.token(scope)
            else:
                headers["Authorization"] = "Bearer " + self.token(scope)
        if body is not None:
            headers["Content-Type"] = content_type
        conn = self._connection()
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
        except (OSError, ConnectionError) as exc:
            raise NetworkError(f"cannot reach {self.base_url} ({exc.__class__.__name__})") from None
        finally:
            conn.close()
        return checked(response.status, reply_headers, data, response.reason)


def _retry_after(exc: Exception) -> float | None:
    """A server's Retry-After in seconds (delta-seconds only), at most RETRY_AFTER_CAP_S."""
    value = getattr(exc, "headers", {}).get("retry-after", "")
    return min(int(value), RETRY_AFTER_CAP_S) if value.isdigit() else None


def query_string(query: dict | None) -> str:
    """The query's items as `a=1&b=2` (UTF-8, %-encoded), its None values left out. A lone
    surrogate (JSON's "\\ud800", a command-line argument that was not UTF-8) is encoded as it is,
    so the API refuses the query as not UTF-8 (its 400), as it refuses such bytes from anyone."""
    return urlencode({k: v for k, v in (query or {}).items() if v is not None}, errors="surrogatepass")


# RFC 3986 §3.3: what a path may hold as it is (pchar and "/"); the rest is %-encoded, so an id
# holding "?", "#", a space or a letter beyond ASCII stays one path segment the API refuses.
_PATH_SAFE = "/:@!$&'()*+,;="


def url_path(path: str) -> str:
    """`path` as a request target's path: the API's own paths unchanged, any other character
    %-encoded (UTF-8; a lone surrogate as it is, which the server refuses)."""
    return quote(path, safe=_PATH_SAFE, errors="surrogatepass")


def encoded(payload, body: bytes | None) -> bytes | None:
    """The request's body: `payload` as JSON, else `body` as it is."""
    return body if payload is None else json.dumps(payload).encode()


def checked(status: int, headers: dict[str, str], body: bytes, reason: str = "") -> Answer:
    """The Answer for a status below 400; ApiError with the problem document's members otherwise."""
    if status < 400:
        return Answer(status, headers, body)
    problem = problem_of(body)
    detail = str(problem.get("detail") or problem.get("title") or "")
    if not detail:
        detail = (body.decode("utf-8", "replace").strip() or reason)[:PLAIN_DETAIL_CHARS]
    raise ApiError(status, detail, headers, problem)


def problem_of(body: bytes) -> dict:
    """The answer's problem document (RFC 9457), {} when it holds none."""
    try:
        problem = json.loads(body)
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def link_target(value: str, rel: str) -> str | None:
    """The target URI of the first link whose relation types include `rel` in a `Link` header
    (RFC 8288 §3: `<uri>; rel="next", <uri>; rel="prev last"`; relation types compare without
    case; quoted strings may hold `,` and `;`), or None."""
    at, size = 0, len(value)
    while at < size:
        start = value.find("<", at)
        end = value.find(">", start + 1)
        if start < 0 or end < 0:
            return None
        target, at = value[start + 1 : end], end + 1
        params: dict[str, str] = {}
        while at < size and value[at] != ",":
            at = _skip_space(value, at)
            if at >= size or value[at] == ",":
                break
            if value[at] != ";":
                at += 1  # stray characters between parameters: skip them
                continue
            name_end = at + 1
            while name_end < size and value[name_end] not in "=;,":
                name_end += 1
            name = value[at + 1 : name_end].strip().lower()
            at = name_end
            text = ""
            if at < size and value[at] == "=":
                text, at = _param_value(value, _skip_space(value, at + 1))
            params.setdefault(name, text)  # §3.3: only the first rel counts
        if rel.lower() in params.get("rel", "").lower().split():
            return target
        at += 1  # past the comma
    return None


def _skip_space(value: str, at: int) -> int:
    while at < len(value) and value[at] in " \t":
        at += 1
    return at


def _param_value(value: str, at: int) -> tuple[str, int]:
    """A parameter's value at `at` (a token, or a quoted string with its \\-escapes), and where it ends."""
    if at < len(value) and value[at] == '"':
        out, at = [], at + 1
        while at < len(value) and value[at] != '"':
            if value[at] == "\\" and at + 1 < len(value):
                at += 1
            out.append(value[at])
            at += 1
        return "".join(out), at + 1
    end = at
    while end < len(value) and value[end] not in ";,":
        end += 1
    return value[at:end].strip(), end
