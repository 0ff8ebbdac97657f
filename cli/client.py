"""A small HTTP client for the API: mints a fresh short-lived token for every request.

Standard library only (http.client): the CLI runs at every session start and must start fast.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode, urlsplit

from glyphmemory.errors import retried
from glyphmemory.keys import Key
from glyphmemory.tokens import mint_window_token

REQUEST_TOKEN_TTL_S = 300
RETRY_BASE_DELAY_S = 0.4  # full jitter: 0-0.4 s, 0-0.8 s, … (errors.retried)
RETRY_AFTER_CAP_S = 10  # a longer Retry-After is not waited for in a command


class ApiError(Exception):
    """The server answered with an error status. `problem`: its RFC 9457 document ({} when the
    answer was not one), with the extension members (`other_id`, `retry_after_s`, `redacted`…)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str], problem: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.problem = problem or {}


class NetworkError(Exception):
    """The server could not be reached."""


RETRYABLE_STATUSES = (408, 429)  # and every 5xx


def retryable(exc: Exception) -> bool:
    """Worth trying again later (and spooling a write for): no answer, 408, 429 or a 5xx."""
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


class Client:
    def __init__(
        self,
        base_url: str,
        key: Key | None,
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
        if self.key is None:
            raise ApiError(401, "no key: run `glyph serve` once, or set GLYPH_KEY", {})
        return mint_window_token(self.key.kid, self.key.secret, scope, int(time.time()) + ttl_s)

    def _connection(self):
        import http.client

        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(self._host, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, timeout=self.timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str | None = None,
        query: dict | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
        tries: int | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One API call, retried on network errors, 5xx and 429 (backoff with jitter,
        honouring Retry-After) while tries and the deadline last."""
        return retried(
            lambda: self._once(method, path, scope=scope, query=query, body=body, content_type=content_type),
            retryable=retryable,
            attempts=tries or self.tries,
            deadline_s=self.deadline_s,
            base_delay_s=RETRY_BASE_DELAY_S,
            retry_after=_retry_after,
        )

    def _once(self, method, path, *, scope, query, body, content_type):
        target = self._parts.path.rstrip("/") + path
        if query:
            target += "?" + urlencode({k: v for k, v in query.items() if v is not None})
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
        if response.status >= 400:
            problem = _problem(data)
            detail = str(problem.get("detail") or problem.get("title") or "") or _plain_detail(data, response.reason)
            raise ApiError(response.status, detail, reply_headers, problem)
        return response.status, reply_headers, data

    def json(self, method: str, path: str, *, scope: str | None = None, query=None, payload=None, tries=None):
        body = None if payload is None else json.dumps(payload).encode()
        status, _, data = self.request(method, path, scope=scope, query=query, body=body, tries=tries)
        return status, (json.loads(data) if data else None)


def _retry_after(exc: Exception) -> float | None:
    """A server's Retry-After in seconds (delta-seconds only), at most RETRY_AFTER_CAP_S."""
    value = getattr(exc, "headers", {}).get("retry-after", "")
    return min(int(value), RETRY_AFTER_CAP_S) if value.isdigit() else None


def _problem(data: bytes) -> dict:
    """The answer's problem document (RFC 9457), {} when it holds none."""
    try:
        problem = json.loads(data)
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def _plain_detail(data: bytes, reason: str) -> str:
    return (data.decode("utf-8", "replace").strip() or reason)[:300]
