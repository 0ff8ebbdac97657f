"""What GlyphMemory does, one function per use: the HTTP routes each call one of these.

No boto3, no sqlite3 and no HTTP here: a store and a clock come in, memories go out.
"""

from __future__ import annotations

from datetime import UTC, datetime

from . import names
from .errors import InvalidInput, NotFound, Unavailable, Unprocessable
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

    def __new__(cls, memory: Memory, repeat: Repeat | None, redacted: list[str], similar: list[dict] | None = None):
        written = super().__new__(cls, (memory, repeat is not None))
        written.redacted = redacted
        written.repeat = repeat
        written.similar = similar or []
        return written

    def to_json(self) -> dict:
        """The answer every door renders: the memory, `duplicate`, what a repeat changed
        (`extended`, `tags_added`, `session_set`), `redacted` and `similar` (similar.find_similar:
        up to three other memories of the namespace close to this one)."""
        memory, duplicate = self
        return {
            **memory.to_json(),
            "duplicate": duplicate,
            **(self.repeat or NOTHING_CHANGED).to_json(),
            "redacted": self.redacted,
            "similar": self.similar,
        }


def clean_text(text: object, *, refuse: bool = False) -> tuple[object, list[str]]:
    """Every text passes the redactor before it is stored; `refuse` (GLYPH_REDACT=refuse,
    Settings.refuse_secrets) refuses a text holding a secret instead (422)."""
    if not isinstance(text, str):
        return text, []  # the model says what is wrong with it
    from .redact import redact, summary  # only writes pay for compiling the rules (~13 ms)

    cleaned, kinds = redact(text)
    if kinds and refuse:
        raise Unprocessable(f"the text holds secrets ({summary(kinds)}); nothing was stored", redacted=kinds)
    return cleaned, kinds


class Memories:
    """The memory service: a store (see store.Store) and the clock that orders writes;
    `refuse_secrets` (Settings.refuse_secrets) refuses a text holding a secret instead of
    storing it redacted."""

    def __init__(self, store, clock: Clock, *, refuse_secrets: bool = False):
        self.store = store
        self.clock = clock
        self.refuse_secrets = refuse_secrets

    def write(self, *, default_source: str = "api", text: object = None, similar: bool = True, **fields) -> Written:
        """Store a memory (its secrets redacted first); unpacks as (memory, duplicate), and
        `.redacted` lists the kinds of secret removed and `.similar` the memories of the namespace
        close to a new one (none for a repeat: it is the held memory; none unless `similar`, which
        a door leaves False for a caller that may not read: a `w` token, issue 21 §1; none when
        the store cannot answer that look, throttled or gone, after the memory was stored)."""
        from .similar import find_similar

        text, kinds = clean_text(text, refuse=self.refuse_secrets)
        memory = new_memory(clock=self.clock, default_source=default_source, text=text, **fields)
        close: list[dict] = []
        if similar:  # looked for before the put: on DynamoDB the put reuses this read of the
            # band items to choose which older members its own evict (stores/dynamodb_similar)
            try:
                close = find_similar(self, memory.text, namespace=memory.namespace, exclude=memory.id)
            except Unavailable:  # advice only: the memory is stored, and the answer must say so
                close = []
        stored, repeat = self.store.put(memory, now_s=self.clock.now_s())
        return Written(stored, repeat, kinds, close if repeat is None else [])

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

    def namespaces(self, limit: int = names.MAX_NAMESPACES_LISTED) -> list[str]:
        return self.store.namespaces(now_s=self.clock.now_s(), limit=limit)

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
            text, kinds = clean_text(text, refuse=self.refuse_secrets)
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
        """NDJSON lines (ndjson.memory_line), newest first, up to about max_bytes; the cursor
        says where to go on."""
        from . import ndjson  # only export and import read or write lines

        out: list[bytes] = []
        size = 0
        last: Memory | None = None
        for memory in self.iter_newest(namespace, before=before):
            if last is not None and size >= max_bytes:
                return b"".join(out), Cursor(last.epoch_us, last.id)
            line = ndjson.memory_line(memory)
            out.append(line)
            size += len(line)
            last = memory
        return b"".join(out), None

    def import_lines(self, body: bytes) -> dict:
        """Import NDJSON memories (ndjson.memory_fields); every line is checked before anything
        is stored. A repeat of a held memory follows the repeat rule, as a write does."""
        from . import ndjson

        now_s = self.clock.now_s()
        memories: list[Memory] = []
        redacted: list[str] = []
        try:
            records = list(ndjson.read_records(body))
        except InvalidInput as exc:
            raise InvalidInput(f"{exc.detail}; nothing was imported") from None
        for number, record in records:
            try:
                memory, kinds = self._imported_memory(record, now_s)
            except Unprocessable as exc:
                raise Unprocessable(f"line {number}: {exc.detail}", **exc.members) from None
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

    def _imported_memory(self, record: dict, now_s: float) -> tuple[Memory, list[str]]:
        from . import ndjson

        fields = ndjson.memory_fields(record, now_s=now_s)
        text, kinds = clean_text(fields.pop("text"), refuse=self.refuse_secrets)
        if fields["epoch_us"] is None:
            fields["epoch_us"] = self.clock.now_us()
        return build_memory(text=text, default_source="import", **fields), kinds


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
