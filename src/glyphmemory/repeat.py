"""What writing a memory's text again does (the repeat rule), and the words that say it.

A repeat (the same dedup key in the same namespace, see model.dedup_form) stores nothing new;
it may lengthen the held memory's life and add to it:
- lifetime: the later expiry wins, and no expiry beats any expiry (a repeat never shortens it);
- tags: the repeat's new tags are appended in their order, up to names.MAX_TAGS in all;
- session: the held one stays; a repeat only fills it in when the memory had none;
- text, source, id, created_at and updated_at stay as they were.

Both stores apply it atomically (stores/sqlite.py in its write transaction, stores/dynamodb.py
with a conditional transaction on the item and its claim), so concurrent repeats converge.
Only `names` is imported: the CLI words its `already saved` line with `summary` too.
"""

from __future__ import annotations

from . import names


class Repeat:
    """What a repeat changed on the held memory (nothing, when every field is false/empty)."""

    __slots__ = ("extended", "tags_added", "session_set")

    def __init__(self, extended: bool = False, tags_added: tuple[str, ...] = (), session_set: bool = False):
        self.extended = extended  # the expiry moved later, or went away
        self.tags_added = tags_added
        self.session_set = session_set

    @property
    def changed(self) -> bool:
        return self.extended or bool(self.tags_added) or self.session_set

    def to_json(self) -> dict:
        return {"extended": self.extended, "tags_added": list(self.tags_added), "session_set": self.session_set}

    def __repr__(self) -> str:
        return f"Repeat({self.to_json()})"


NOTHING_CHANGED = Repeat()


def merge(held, incoming):
    """The held memory (a model.Memory) after a repeat `incoming`: (memory, Repeat)."""
    if held.expires_at is None or incoming.expires_at is None:
        expires_at = None
    else:
        expires_at = max(held.expires_at, incoming.expires_at)
    room = max(names.MAX_TAGS - len(held.tags), 0)
    added = tuple(t for t in incoming.tags if t not in held.tags)[:room]
    session_set = held.session is None and incoming.session is not None
    repeat = Repeat(expires_at != held.expires_at, added, session_set)
    if not repeat.changed:
        return held, repeat
    return held.replace(
        expires_at=expires_at,
        tags=held.tags + added,
        session=incoming.session if session_set else held.session,
    ), repeat


def summary(answer: dict) -> str:
    """What a repeat changed, as words to follow `already saved <id>` (empty when nothing did).

    `answer` is a write's JSON answer: expires_at, extended, tags_added, session_set."""
    parts = []
    if answer.get("extended"):
        expires_at = answer.get("expires_at")
        if expires_at is None:
            parts.append("now kept with no expiry")
        else:
            import time  # a builtin module: no import cost

            parts.append("now kept until " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires_at)))
    if answer.get("tags_added"):
        parts.append("tags added: " + ", ".join(answer["tags_added"]))
    if answer.get("session_set"):
        parts.append("session set")
    return f" ({'; '.join(parts)})" if parts else ""
