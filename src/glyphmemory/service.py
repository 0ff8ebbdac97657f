"""What GlyphMemory does, one function per use: the HTTP routes each call one of these.

No boto3, no sqlite3 and no HTTP here: a store and a clock come in, memories go out.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from . import names
from .errors import InvalidInput, NotFound, Unprocessable
from .model import (
    Clock,
    Cursor,
    Memory,
    Page,
    build_memory,
    content_hash,
    is_memory_id,
    new_memory,
    normalise_text,
    validate_namespace,
    validate_tags,
)
from .repeat import NOTHING_CHANGED, Repeat


class Written(tuple):
    """(memory, duplicate) as a write answers, with the kinds of secret the redactor removed
    and, for a repeat, what it changed on the held memory (repeat.Repeat; None otherwise)."""

    def __new__(cls, memory: Memory, repeat: Repeat | None, redacted: list[str]):
        written = super().__new__(cls, (memory, repeat is not None))
        written.redacted = redacted
        written.repeat = repeat
        return written

    def to_json(self) -> dict:
        """The answer every door renders: the memory, `duplicate`, what a repeat changed
        (`extended`, `tags_added`, `session_set`) and `redacted`."""
        memory, duplicate = self
        return {
            **memory.to_json(),
            "duplicate": duplicate,
            **(self.repeat or NOTHING_CHANGED).to_json(),
            "redacted": self.redacted,
        }


def clean_text(text: object) -> tuple[object, list[str]]:
    """Every text passes the redactor before it is stored; GLYPH_REDACT=refuse refuses instead."""
    if not isinstance(text, str):
        return text, []  # the model says what is wrong with it
    from .redact import redact, summary  # only writes pay for compiling the rules (~13 ms)

    cleaned, kinds = redact(text)
    if kinds and os.environ.get(names.ENV_REDACT) == "refuse":
        raise Unprocessable(f"the text holds secrets ({summary(kinds)}); nothing was stored")
    return cleaned, kinds


class Memories:
    """The memory service: a store (see store.Store) and the clock that orders writes."""

    def __init__(self, store, clock: Clock):
        self.store = store
        self.clock = clock

    def write(self, *, default_source: str = "api", text: object = None, **fields) -> Written:
        """Store a memory (its secrets redacted first); unpacks as (memory, duplicate), and
        `.redacted` lists the kinds of secret removed."""
        text, kinds = clean_text(text)
        memory = new_memory(clock=self.clock, default_source=default_source, text=text, **fields)
        return Written(*self.store.put(memory, now_s=self.clock.now_s()), kinds)

    def recent(
        self,
        namespace: str,
        *,
        limit: int = names.DEFAULT_LIMIT,
        before: Cursor | None = None,
        tag: str | None = None,
        since_us: int | None = None,
    ) -> Page:
        return self.store.recent(
            validate_namespace(namespace),
            limit=limit,
            now_s=self.clock.now_s(),
            before=before,
            tag=tag,
            since_us=since_us,
        )

    def get(self, memory_id: str) -> Memory:
        memory = self.store.get(memory_id, now_s=self.clock.now_s()) if is_memory_id(memory_id) else None
        if memory is None:
            raise NotFound("no memory has that id (it may have been deleted or have expired)")
        return memory

    def edit(self, memory_id: str, *, text: object = None, tags: object = None) -> Written:
        """Change a memory's text and/or tags in place: the same id, namespace, time and place
        in the order, `updated_at` set; the new text redacted and deduplicated like a write."""
        if text is None and tags is None:
            raise InvalidInput("send text, tags or both")
        current = self.get(memory_id)
        kinds: list[str] = []
        body = current.text
        if text is not None:
            text, kinds = clean_text(text)
            body = normalise_text(text)
        new_tags = current.tags if tags is None else validate_tags(tags)
        updated = self.store.update(
            memory_id,
            text=body,
            tags=new_tags,
            content_hash=content_hash(current.namespace, body),
            updated_us=self.clock.now_us(),
            now_s=self.clock.now_s(),
        )
        if updated is None:
            raise NotFound("no memory has that id (it may have been deleted or have expired)")
        return Written(updated, None, kinds)

    def delete(self, memory_id: str) -> None:
        if not (is_memory_id(memory_id) and self.store.delete(memory_id)):
            raise NotFound("no memory has that id (it may have been deleted or have expired)")

    def iter_newest(
        self, namespace: str, *, before: Cursor | None = None, page: int = 100, first_page: int | None = None
    ):
        """Every unexpired memory of a namespace, newest first, read a page at a time (the first
        page may be smaller, when the caller can tell how many it will likely need)."""
        size = first_page or page
        while True:
            got = self.recent(namespace, limit=size, before=before)
            yield from got.items
            if got.next is None:
                return
            before, size = got.next, page

    def count_older(self, namespace: str, before: Cursor) -> int:
        return self.store.count_older(namespace, before=before, now_s=self.clock.now_s(), cap=names.OLDER_COUNT_CAP)

    # --- export and import -----------------------------------------------------------------

    def export_page(
        self, namespace: str, *, before: Cursor | None = None, max_bytes: int = names.EXPORT_PAGE_BYTES
    ) -> tuple[bytes, Cursor | None]:
        """NDJSON lines, newest first, up to about max_bytes; the cursor says where to go on."""
        out: list[bytes] = []
        size = 0
        last: Memory | None = None
        for memory in self.iter_newest(namespace, before=before):
            if last is not None and size >= max_bytes:
                return b"".join(out), Cursor(last.epoch_us, last.id)
            line = json.dumps(memory.to_json(), ensure_ascii=False).encode() + b"\n"
            out.append(line)
            size += len(line)
            last = memory
        return b"".join(out), None

    def import_lines(self, body: bytes) -> dict:
        """Import NDJSON memories; every line is checked before anything is stored."""
        now_s = self.clock.now_s()
        memories: list[Memory] = []
        redacted: list[str] = []
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the import body is not UTF-8") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                memory, kinds = self._imported_memory(line)
            except Unprocessable as exc:
                raise Unprocessable(f"line {number}: {exc.detail}") from None
            except InvalidInput as exc:
                raise InvalidInput(f"line {number}: {exc.detail}; nothing was imported") from None
            memories.append(memory)
            redacted += kinds
        counts = {"imported": 0, "duplicates": 0, "expired": 0, "redacted": sorted(set(redacted))}
        for memory in memories:
            if memory.is_expired(now_s):
                counts["expired"] += 1
                continue
            _, repeat = self.store.put(memory, now_s=now_s, keep_epoch=True)
            counts["imported" if repeat is None else "duplicates"] += 1
        return counts

    def _imported_memory(self, line: str) -> tuple[Memory, list[str]]:
        try:
            data = json.loads(line)
        except ValueError:
            raise InvalidInput("not a JSON object") from None
        except RecursionError:
            raise InvalidInput("nested too deeply") from None
        if not isinstance(data, dict):
            raise InvalidInput("not a JSON object")
        memory_id = data.get("id")
        if memory_id is not None and (not isinstance(memory_id, str) or not is_memory_id(memory_id)):
            raise InvalidInput("id must be a 26-character ULID")
        expires_at = data.get("expires_at")
        latest_expiry = int(self.clock.now_s()) + names.MAX_TTL_DAYS * 86_400
        if expires_at is not None and (
            isinstance(expires_at, bool) or not isinstance(expires_at, int) or not 0 <= expires_at <= latest_expiry
        ):
            raise InvalidInput(f"expires_at must be whole epoch seconds, at most {names.MAX_TTL_DAYS} days from now")
        epoch_us = _imported_epoch(data, self.clock.now_s())
        text, kinds = clean_text(data.get("text"))
        memory = build_memory(
            text=text,
            namespace=data.get("namespace"),
            tags=data.get("tags"),
            source=data.get("source"),
            session=data.get("session"),
            default_source="import",
            epoch_us=self.clock.now_us() if epoch_us is None else epoch_us,
            memory_id=memory_id,
            expires_at=expires_at,
        )
        return memory, kinds


# Imported times stay between 1970 and a day from now: a memory from the future would sort
# first for ever, and epochs past what SQLite and the ISO dates hold broke every read.
_FUTURE_SLACK_S = 86_400


def _imported_epoch(data: dict, now_s: float) -> int | None:
    """The epoch an exported line carries: epoch_us, else epoch_ms, else created_at."""
    latest_us = int((now_s + _FUTURE_SLACK_S) * 1_000_000)
    for field, scale in (("epoch_us", 1), ("epoch_ms", 1000)):
        value = data.get(field)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value * scale <= latest_us:
                raise InvalidInput(f"{field} must be a whole number between 1970 and a day from now")
            return value * scale
    created = data.get("created_at")
    if created is None:
        return None
    if not isinstance(created, str):
        raise InvalidInput("created_at must be an ISO 8601 time")
    epoch_us = parse_time_us(created, field="created_at")
    if not 0 <= epoch_us <= latest_us:
        raise InvalidInput("created_at must be between 1970 and a day from now")
    return epoch_us


def parse_time_us(value: str, *, field: str) -> int:
    """ISO 8601 date or date-time (UTC when no offset is given) as epoch microseconds."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{field} must be an ISO 8601 date or time such as 2026-11-21 or 2026-11-21T09:30:00Z"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1_000_000)
