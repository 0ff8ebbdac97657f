"""The Claude Messages API over plain HTTP (httpx, no SDK): one streamed call at a time.

Streaming answers are server-sent events, read by event name: `message_start` (input usage),
`content_block_delta` (`text_delta`), `message_delta` (output usage, stop reason), `message_stop`,
`ping` at any time, and `error`, which may come after a 200. Timeouts bound the connect and every
gap between events. 429 and 529 are tried again with backoff and jitter, honouring `retry-after`,
but never a 429 saying the spend limit is reached, and never once text has been streamed.
The API key is read as the Anthropic SDKs read it (ANTHROPIC_API_KEY) and sent only in the
`x-api-key` header: it is in no error, log line or repr.
"""

from __future__ import annotations

import json
import math

from ..errors import retried

API_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-4-5"  # model ids change: GLYPH_BRIDGE_MODEL sets it
DEFAULT_MAX_TOKENS = 1024
RETRY_STATUSES = (429, 529)
SPEND_LIMIT = "enforced_spend_limit_reached"


class ClaudeError(Exception):
    """A failed call, as the client is told: an HTTP status and one sentence."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


class Claude:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        model: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        connect_timeout: float = 5.0,
        event_timeout: float | None = None,
        attempts: int = 4,
        max_delay_s: float = 20.0,
    ):
        import httpx

        self._key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.model = model or DEFAULT_MODEL
        self.max_tokens = max_tokens
        self.attempts, self.max_delay_s = attempts, max_delay_s
        # The longest wait between two events (Claude pings while it thinks).
        event_timeout = event_timeout or 60.0
        timeout = httpx.Timeout(connect=connect_timeout, read=event_timeout, write=10.0, pool=5.0)
        self._http = httpx.Client(timeout=timeout)

    @classmethod
    def configured(cls, api_key: str, settings) -> Claude:
        """A client as the settings ask: ANTHROPIC_BASE_URL, GLYPH_BRIDGE_MODEL,
        GLYPH_BRIDGE_MAX_TOKENS, GLYPH_BRIDGE_TIMEOUT_S (each unset: the default here)."""
        return cls(
            api_key,
            base_url=settings.anthropic_base_url,
            model=settings.bridge_model,
            max_tokens=settings.bridge_max_tokens or DEFAULT_MAX_TOKENS,
            event_timeout=settings.bridge_timeout_s,
        )

    def __repr__(self) -> str:
        return f"Claude({self.base_url}, {self.model})"

    def close(self) -> None:
        self._http.close()

    def stream(self, system: list[dict], messages: list[dict], on_text) -> dict:
        """Send one request with stream=true; call on_text(str) for each text delta; return the
        usage (input, cache read and creation, output tokens). ClaudeError on any failure."""
        body = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": messages,
            "stream": True,
        }
        try:
            return retried(
                lambda: self._once(body, on_text),
                retryable=lambda exc: isinstance(exc, _Retry),
                attempts=self.attempts,
                deadline_s=math.inf,  # the attempts bound it; each wait is at most max_delay_s
                base_delay_s=1.0,
                retry_after=lambda exc: exc.retry_after,
                max_delay_s=self.max_delay_s,
                exact_retry_after=True,
            )
        except _Retry as retry:
            raise ClaudeError(retry.status, retry.detail) from None

    def complete(self, system: list[dict], messages: list[dict]) -> str:
        parts: list[str] = []
        self.stream(system, messages, parts.append)
        return "".join(parts)

    def _once(self, body: dict, on_text) -> dict:
        import httpx

        headers = {
            "x-api-key": self._key,
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        streamed = False
        usage: dict = {}
        try:
            with self._http.stream("POST", self.base_url + "/v1/messages", json=body, headers=headers) as response:
                if response.status_code != 200:
                    response.read()
                    _refuse(response)
                for event, data in _events(response.iter_lines()):
                    if event == "message_start":
                        usage.update(data.get("message", {}).get("usage", {}))
                    elif event == "content_block_delta":
                        delta = data.get("delta", {})
                        if delta.get("type") == "text_delta" and delta.get("text"):
                            streamed = True
                            on_text(delta["text"])
                    elif event == "message_delta":
                        usage.update(data.get("usage", {}))
                        usage["stop_reason"] = data.get("delta", {}).get("stop_reason")
                    elif event == "message_stop":
                        return usage
                    elif event == "error":
                        error = data.get("error", {})
                        kind = error.get("type", "error")
                        if kind == "overloaded_error" and not streamed:
                            raise _Retry(529, "Claude is overloaded", None)
                        raise ClaudeError(
                            502, f"Claude stopped with an error ({kind}): {error.get('message', '')}"[:300]
                        )
        except httpx.TimeoutException:
            raise ClaudeError(504, "Claude did not answer in time") from None
        except httpx.TransportError as exc:
            raise ClaudeError(502, f"Claude could not be reached ({type(exc).__name__})") from None
        raise ClaudeError(502, "Claude's answer ended before message_stop")


class _Retry(Exception):
    def __init__(self, status: int, detail: str, retry_after: float | None):
        self.status, self.detail, self.retry_after = status, detail, retry_after


def _refuse(response) -> None:
    """Raise for a non-200 answer: _Retry for 429/529 worth another try, else ClaudeError."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    kind, message = error.get("type", "error"), str(error.get("message", ""))[:200]
    status = response.status_code
    code = (error.get("details") or {}).get("error_code") if isinstance(error.get("details"), dict) else None
    if status in RETRY_STATUSES and code != SPEND_LIMIT:
        try:
            after = float(response.headers.get("retry-after", ""))
        except ValueError:
            after = None
        raise _Retry(status, f"Claude is busy ({kind}); try again shortly", after)
    if code == SPEND_LIMIT:
        raise ClaudeError(status, "the Anthropic API spend limit is reached: raise it in the Console")
    raise ClaudeError(status, f"Claude refused the request ({kind}): {message}")


def _events(lines):
    """(event name, data) for each server-sent event."""
    name, data = None, []
    for line in lines:
        if not line:
            if name is not None or data:
                try:
                    payload = json.loads("\n".join(data)) if data else {}
                except ValueError:
                    payload = {}
                yield name or "message", payload
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
