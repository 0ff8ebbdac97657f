"""A fake Claude Messages API on 127.0.0.1 that speaks the real wire format, for the bridge's
tests and benchmark.

`POST /v1/messages` with `stream: true` answers named server-sent events (`message_start`,
`content_block_start`, `content_block_delta`, `ping`, `content_block_stop`, `message_delta`,
`message_stop`); usage follows the documented prompt-cache rules: a prefix ending on a
`cache_control` block (order: system, then messages) is written to the cache when it is at least
`min_cache_tokens` long, and a later request whose prefix matches one written in the last 5
minutes reads it (0.1× price) instead (tokens: characters / 4).

The last user message steers it: `[429xN]` / `[529xN]` fail N times with `retry-after: 0`, then
answer; `[spend]` is a 429 with error_code enforced_spend_limit_reached; `[error-event]` streams
a little, then an `error` event after the 200; `[stall]` streams one delta, then nothing. Every
request is recorded (`requests`), with whether the API key was right and the fake's own time to
first byte.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time

from .fake_server import LocalServer, QuietHandler, send_body

API_KEY = "sk-ant-test-" + "k" * 40


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


class FakeClaude(LocalServer):
    def __init__(self, *, min_cache_tokens: int = 1024, chunk: int = 12, delay_s: float = 0.0, stall_s: float = 5.0):
        self.min_cache_tokens, self.chunk, self.delay_s, self.stall_s = min_cache_tokens, chunk, delay_s, stall_s
        self.cache: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.lock = threading.Lock()
        super().__init__(_Handler)

    def replies(self) -> list[dict]:
        """The requests that were answered with a stream (not refused)."""
        return [r for r in self.requests if r["status"] == 200]

    # --- the prompt cache --------------------------------------------------------------------

    def usage(self, body: dict) -> dict:
        blocks: list[tuple[str, bool]] = []
        for block in body.get("system") or []:
            blocks.append((json.dumps(block.get("text")), "cache_control" in block))
        for message in body["messages"]:
            content = message["content"]
            content = [{"type": "text", "text": content}] if isinstance(content, str) else content
            for block in content:
                blocks.append((message["role"] + json.dumps(block.get("text")), "cache_control" in block))
        sizes = [tokens(text) for text, _ in blocks]
        total = sum(sizes)
        digest, prefixes = hashlib.sha256(body["model"].encode()), []
        for i, (text, _) in enumerate(blocks):
            digest.update(text.encode())
            prefixes.append((digest.copy().hexdigest(), sum(sizes[: i + 1])))
        breakpoints = [i for i, (_, marked) in enumerate(blocks) if marked]
        now = time.monotonic()
        with self.lock:
            read = 0
            if breakpoints:  # the longest cached prefix at or before the last breakpoint
                for key, size in reversed(prefixes[: breakpoints[-1] + 1]):
                    if self.cache.get(key, 0) > now:
                        read = size
                        break
            written = 0
            for i in breakpoints:
                key, size = prefixes[i]
                if size >= self.min_cache_tokens:
                    if self.cache.get(key, 0) <= now and size > read:
                        written = size - read
                    self.cache[key] = now + 300
        return {
            "input_tokens": total - read - written,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": written,
        }


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"
    server: FakeClaude

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        send_body(self, status, json.dumps(body).encode(), "application/json", (headers or {}).items())

    def _event(self, name: str, data: dict) -> None:
        self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def do_POST(self) -> None:
        started = time.perf_counter()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        record = {
            "body": body,
            "key_ok": self.headers.get("x-api-key") == API_KEY,
            "version": self.headers.get("anthropic-version"),
            "status": 200,
        }
        self.server.requests.append(record)
        if not record["key_ok"]:
            record["status"] = 401
            return self._json(
                401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
            )
        last = body["messages"][-1]["content"]
        last = last if isinstance(last, str) else " ".join(b.get("text", "") for b in last)
        failing = re.search(r"\[(429|529)x(\d+)\]", last)
        if failing:
            with self.server.lock:
                seen = self.server.failures.get(last, 0)
                self.server.failures[last] = seen + 1
            if seen < int(failing.group(2)):
                status = int(failing.group(1))
                record["status"] = status
                kind = "rate_limit_error" if status == 429 else "overloaded_error"
                return self._json(
                    status, {"type": "error", "error": {"type": kind, "message": "busy"}}, {"retry-after": "0"}
                )
        if "[spend]" in last:
            record["status"] = 429
            error = {
                "type": "rate_limit_error",
                "message": "spend limit",
                "details": {"error_code": "enforced_spend_limit_reached"},
            }
            return self._json(429, {"type": "error", "error": error}, {"retry-after": "0"})
        system = " ".join(b.get("text", "") for b in body.get("system") or [])
        if system.startswith("You write one memory"):
            reply = "Summary: " + " / ".join(re.findall(r"USER: ([^\n]{0,60})", last))
        else:
            reply = f"Echo: {last[:80]} (turns sent: {len(body['messages'])})"
        usage = self.server.usage(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"], "content": []}
        self._event(
            "message_start", {"type": "message_start", "message": {**message, "usage": {**usage, "output_tokens": 1}}}
        )
        self._event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        self._event("ping", {"type": "ping"})
        chunk = self.server.chunk
        for n, start in enumerate(range(0, len(reply), chunk)):
            if n == 0:
                record["ttfb_s"] = time.perf_counter() - started
            delta = {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": reply[start : start + chunk]},
            }
            self._event("content_block_delta", delta)
            if "[stall]" in last:
                time.sleep(self.server.stall_s)
                return
            if "[error-event]" in last and n == 1:
                return self._event(
                    "error", {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
                )
            if self.server.delay_s:
                time.sleep(self.server.delay_s)
        self._event("content_block_stop", {"type": "content_block_stop", "index": 0})
        self._event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": tokens(reply)}},
        )
        self._event("message_stop", {"type": "message_stop"})
