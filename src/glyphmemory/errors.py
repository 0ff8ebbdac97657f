"""The few domain errors (the HTTP layer turns each into one problem+json answer), and the one
rule for trying a transient failure again (`retried`)."""

import time


class GlyphError(Exception):
    """Base class: an HTTP status, a short title and a sentence that says what to fix."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **members):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.members = members

    @property
    def extensions(self) -> dict:
        """RFC 9457 §3.2 extension members of the problem: what the error holds beyond its sentence
        (`other_id`, `redacted`, …), and `retry_after_s` (int seconds) when it says when to retry."""
        retry_after = self.headers.get("Retry-After", "")
        return {**self.members, **({"retry_after_s": int(retry_after)} if retry_after.isdigit() else {})}


class InvalidInput(GlyphError):
    status, title, slug = 400, "Invalid input", "invalid-input"


class Unauthorized(GlyphError):
    status, title, slug = 401, "Not authenticated", "unauthorized"


class Forbidden(GlyphError):
    status, title, slug = 403, "Not allowed", "forbidden"


class NotFound(GlyphError):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(GlyphError):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class PayloadTooLarge(GlyphError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class RequestTimeout(GlyphError):
    status, title, slug = 408, "Request timeout", "request-timeout"


class UriTooLong(GlyphError):
    status, title, slug = 414, "URI too long", "uri-too-long"


class UnsupportedMediaType(GlyphError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Conflict(GlyphError):
    """The change would give a namespace two memories with one text: `other_id` holds it."""

    status, title, slug = 409, "Conflict", "conflict"

    def __init__(self, detail: str, *, other_id: str):
        super().__init__(detail, other_id=other_id)
        self.other_id = other_id


class Unprocessable(GlyphError):
    status, title, slug = 422, "Unprocessable content", "unprocessable"


class TooManyRequests(GlyphError):
    status, title, slug = 429, "Too many requests", "too-many-requests"


class Unavailable(GlyphError):
    """The storage backend is throttling or down: the client should retry later."""

    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


# What to do with a transient error: one rule for every client that calls over the network (the
# CLI's API client, the AWS client's JSON and REST calls). It lives here because every start path
# (the CLI, the memory function) imports this module already: no import is added for it.


def retried(
    call,
    *,
    retryable,
    attempts: int,
    deadline_s: float,
    base_delay_s: float,
    retry_after=None,
    max_delay_s: float | None = None,
    exact_retry_after: bool = False,
):
    """`call()`'s result, tried again while `retryable(exc)` holds, attempts last and the next try
    would start before `deadline_s` seconds from now. The wait before try n+1 is full jitter
    (uniform 0 to base_delay_s·2ⁿ⁻¹ s, capped at max_delay_s when given, as the AWS SDKs do),
    raised to `retry_after(exc)` seconds when the server asked for longer (Retry-After; None when
    it did not). With `exact_retry_after`, a server's Retry-After is waited for exactly instead
    (capped at max_delay_s; the Messages API's rule for 429 and 529: its retry-after says when the
    limit resets), and the jitter only when it gave none. Raises the last error."""
    deadline = time.monotonic() + deadline_s
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not retryable(exc):
                raise
            import random  # only a retry pays for it

            ceiling = base_delay_s * 2 ** (attempt - 1)
            if max_delay_s is not None:
                ceiling = min(ceiling, max_delay_s)
            asked = retry_after(exc) if retry_after else None
            if exact_retry_after and asked is not None:
                delay = asked if max_delay_s is None else min(asked, max_delay_s)
            else:
                delay = max(random.uniform(0, ceiling), asked or 0)
            if time.monotonic() + delay >= deadline:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")
