"""The context block a new session starts from: newest memories first, within a character
budget, deterministic for the same data. Shared by /v1/context, /r and `glyph context`."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import names
from .errors import InvalidInput
from .model import Cursor, Memory
from .service import Memories

FORMATS = ("md", "text", "json")
CUT_MARKER = " … [truncated]"
_MIN_CUT_CHARS = 40  # below this a cut memory says nothing useful: leave it out instead
# Room kept for the header and the footer, whatever numbers they end up holding.
_HEADER_RESERVE = 240
_FOOTER_RESERVE = 90


@dataclass
class ContextBlock:
    namespace: str
    budget: int
    entries: list[tuple[Memory, str]] = field(default_factory=list)  # memory, text shown
    truncated_id: str | None = None
    older: int = 0  # memories left out, counted up to OLDER_COUNT_CAP

    @property
    def older_label(self) -> str:
        return f"{self.older}+" if self.older >= names.OLDER_COUNT_CAP else str(self.older)


def _stamp(memory: Memory) -> str:
    return memory.created_at[:16].replace("T", " ") + " UTC"


def _entry(memory: Memory, text: str, fmt: str) -> str:
    if fmt == "md":
        tags = " · " + " ".join(f"#{t}" for t in memory.tags) if memory.tags else ""
        return f"## {_stamp(memory)}{tags} · `{memory.id}`\n{text}\n\n"
    tags = f" ({', '.join(memory.tags)})" if memory.tags else ""
    return f"[{_stamp(memory)}]{tags} id={memory.id}\n{text}\n\n"


def _header(block: ContextBlock, fmt: str) -> str:
    n = len(block.entries)
    what = f"{n} most recent memor{'y' if n == 1 else 'ies'}, newest first"
    if fmt == "md":
        return (
            f"# GlyphMemory context · namespace `{block.namespace}`\n"
            f"Memories saved by the user's assistants in earlier sessions; {what}.\n\n"
        )
    return (
        f"GlyphMemory context, namespace {block.namespace}\n"
        f"Memories saved by the user's assistants in earlier sessions; {what}.\n\n"
    )


def _footer(block: ContextBlock) -> str:
    if block.older == 0:
        return "(no older memories)\n" if block.entries else "(no memories yet)\n"
    s = "" if block.older == 1 else "s"
    return f"({block.older_label} older memor{'y' if s == '' else 'ies'} not shown: budget reached)\n"


def build_context(memories: Memories, namespace: str, budget: int, fmt: str = "md") -> ContextBlock:
    if fmt not in FORMATS:
        raise InvalidInput("format must be md, text or json")
    if not names.MIN_CONTEXT_BUDGET <= budget <= names.MAX_CONTEXT_BUDGET:
        raise InvalidInput(
            f"budget must be {names.MIN_CONTEXT_BUDGET}-{names.MAX_CONTEXT_BUDGET} characters"
        )
    block = ContextBlock(namespace=namespace, budget=budget)
    room = budget - _HEADER_RESERVE - _FOOTER_RESERVE
    entry_fmt = "text" if fmt == "text" else "md"
    last: Memory | None = None
    for memory in memories.iter_newest(namespace):
        whole = _entry(memory, memory.text, entry_fmt)
        if len(whole) <= room:
            block.entries.append((memory, memory.text))
            room -= len(whole)
            last = memory
            continue
        spare = room - (len(whole) - len(memory.text)) - len(CUT_MARKER)
        if spare >= _MIN_CUT_CHARS:
            cut = memory.text[:spare].rstrip() + CUT_MARKER
            block.entries.append((memory, cut))
            block.truncated_id = memory.id
            last = memory
        else:
            # This memory is left out whole: count it and everything older.
            block.older = 1 + memories.count_older(namespace, Cursor(memory.epoch_us, memory.id))
            block.older = min(block.older, names.OLDER_COUNT_CAP)
            return block
        break
    if last is not None and block.older == 0:
        block.older = memories.count_older(namespace, Cursor(last.epoch_us, last.id))
    return block


def render_context(block: ContextBlock, fmt: str = "md") -> str:
    """The block as markdown or plain text; never longer than block.budget characters."""
    body = "".join(_entry(m, text, "text" if fmt == "text" else "md") for m, text in block.entries)
    return _header(block, fmt) + body + _footer(block)


def context_json(block: ContextBlock) -> dict:
    items = []
    for memory, text in block.entries:
        item = memory.to_json()
        item["text"] = text
        item["truncated"] = memory.id == block.truncated_id
        items.append(item)
    return {
        "namespace": block.namespace,
        "budget": block.budget,
        "items": items,
        "older": block.older,
        "older_capped": block.older >= names.OLDER_COUNT_CAP,
        "text": render_context(block, "md"),
    }
