"""The CLI's spool: writes and edits that could not be delivered wait here (NDJSON, 0600) and are
sent, in order, before the next command does its own work. Resending is harmless: the server
deduplicates a write, and an edit sent twice leaves the memory as once, so a crash between
delivery and removal changes nothing.

An entry is `{"spooled_at": UNIX_S, "payload": BODY}` (a write: POST /v1/memories) or
`{"spooled_at": UNIX_S, "edit": ID, "changes": BODY}` (an edit: PATCH /v1/memories/ID; a glyph
older than edits in the spool sets such a line aside as unreadable, never sends it as a write).

Nothing secret waits on the disk: a text is redacted with the server's own rules
(glyphmemory.redact) before it is written here or set aside in the rejected file. The client
cannot know whether the server refuses secrets (GLYPH_REDACT=refuse): it redacts anyway, so such
a write arrives with `[redacted:KIND]` in place of the secret instead of being refused."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from glyphmemory.ndjson import dump_line, split_lines


class Undeliverable(Exception):
    """The server refused this entry for good (api_client.refused_for_good): it is set aside in the
    rejected file with the answer's status and detail, and the entries behind it go on."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


@dataclass
class FlushResult:
    delivered: list[dict] = field(default_factory=list)
    remaining: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    held_by: Exception | None = None  # why the remaining entries wait (network, 5xx, key, time)


class Spool:
    def __init__(self, path: str):
        self.path = path
        self.rejected_path = path.replace(".ndjson", "") + ".rejected.ndjson"

    def exists(self) -> bool:
        return os.path.exists(self.path)  # one stat() on the fast path

    @contextmanager
    def _locked(self):
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            except ImportError:  # Windows: no flock; one glyph at a time is the common case
                pass
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, payload: dict) -> list[str]:
        """Keep a write for later, its secrets removed first; returns the kinds removed.
        Raises glyphmemory.errors.InvalidInput (nothing written) for a write the server would
        refuse for good: told it was spooled, the user would never see that refusal."""
        payload, kinds = redacted(payload)
        check_write(payload)
        self._add({"spooled_at": int(time.time()), "payload": payload})
        return kinds

    def append_edit(self, memory_id: str, changes: dict) -> list[str]:
        """Keep an edit (PATCH /v1/memories/ID's body) for later, as `append` keeps a write."""
        changes, kinds = redacted(changes)
        check_edit(memory_id, changes)
        self._add({"spooled_at": int(time.time()), "edit": memory_id, "changes": changes})
        return kinds

    def _add(self, entry: dict) -> None:
        line = dump_line(entry)
        with self._locked():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def entries(self) -> list[dict]:
        if not self.exists():
            return []
        with self._locked():
            good, _ = self._read()
        return good

    def _read(self) -> tuple[list[dict], list[str]]:
        good, bad = [], []
        with open(self.path, "rb") as fh:
            data = fh.read()
        for raw in split_lines(data):  # the one NDJSON reader: lines end at \n only
            line = raw.decode("utf-8", "replace")
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not isinstance(body_of(entry), dict):
                    raise ValueError
                good.append(entry)
            except ValueError:
                bad.append(line if line.endswith("\n") else line + "\n")
        return good, bad

    def flush(self, send: Callable[[dict], None]) -> FlushResult:
        """Deliver entries (`send(entry)`) in order; stop at the first that cannot be delivered now."""
        result = FlushResult()
        if not self.exists():
            return result
        with self._locked():
            entries, corrupt = self._read()
            kept: list[dict] = []
            rejected: list[str] = [redacted_line(line) for line in corrupt]
            if corrupt:
                result.problems.append(
                    f"{len(corrupt)} unreadable line(s) in {self.path} moved to {self.rejected_path}"
                )
            for index, entry in enumerate(entries):
                try:
                    send(entry)
                    result.delivered.append(entry)
                except Undeliverable as exc:
                    # Redacted again: an entry spooled by an older glyph may still hold a secret.
                    body = "changes" if "edit" in entry else "payload"
                    refused = {**entry, body: redacted(entry[body])[0], "status": exc.status, "error": exc.detail}
                    rejected.append(dump_line(refused).decode())
                    result.problems.append(
                        f"the server refused a spooled memory ({exc.status}: {exc.detail}); "
                        f"set aside in {self.rejected_path}"
                    )
                except Exception as exc:  # noqa: BLE001 — network, server, key, time: keep it and the rest
                    kept = entries[index:]
                    result.held_by = exc
                    break
            if rejected:
                fd = os.open(self.rejected_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.writelines(rejected)
            self._rewrite(kept)
            result.remaining = len(kept)
            result.rejected = len(rejected)
        return result

    def _rewrite(self, entries: list[dict]) -> None:
        if not entries:
            os.unlink(self.path)
            return
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for entry in entries:
                fh.write(dump_line(entry).decode())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def body_of(entry: dict):
    """What an entry sends: a write's payload, an edit's changes (None if it is neither)."""
    if "edit" in entry:
        return entry.get("changes") if isinstance(entry["edit"], str) else None
    return entry.get("payload")


def redacted(payload: dict) -> tuple[dict, list[str]]:
    """The payload with its text's secrets replaced by [redacted:KIND] (the server's rule table,
    imported only here: ~13 ms that only a spooled write pays), and the kinds removed."""
    text = payload.get("text")
    if not isinstance(text, str):
        return payload, []
    from glyphmemory.redact import redact

    clean, kinds = redact(text)
    return ({**payload, "text": clean} if kinds else payload), kinds


def check_write(payload: dict) -> None:
    """The server's checks of a POST /v1/memories body (model.new_memory: text, namespace, tags,
    source, session, ttl_days), so a write it would refuse is refused now; InvalidInput if not."""
    from glyphmemory.model import Clock, new_memory

    new_memory(clock=Clock(), default_source="cli", **payload)


def check_edit(memory_id: str, changes: dict) -> None:
    """The server's checks of a PATCH /v1/memories/ID (service.edit: the id, text and/or tags);
    InvalidInput if it would refuse them."""
    from glyphmemory.errors import InvalidInput
    from glyphmemory.model import is_memory_id, normalise_text, validate_tags

    if not is_memory_id(memory_id):
        raise InvalidInput("no memory has that id (it is not a memory id)")
    if not changes.keys() & {"text", "tags"}:
        raise InvalidInput("send text, tags or both")
    if "text" in changes:
        normalise_text(changes["text"])
    if "tags" in changes:
        validate_tags(changes["tags"])


def redacted_line(line: str) -> str:
    """An unreadable spool line, its secrets removed all the same (the rules work on any text)."""
    from glyphmemory.redact import redact

    return redact(line)[0]
