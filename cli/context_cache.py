"""The last context block each server gave, kept so that a session never starts empty.

`glyph context` saves every block it fetches (0600, in the data folder); the SessionStart hook
prints the saved one, marked with its age and the reason, when the server cannot answer in
time, and `glyph context --cached` prints it without asking the server at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from . import config


def _path(server: str, namespace: str, fmt: str) -> str:
    name = hashlib.sha256(f"{server}\n{namespace}\n{fmt}".encode()).hexdigest()[:24]
    return os.path.join(config.data_dir(), "context-cache", name + ".json")


def save(server: str, namespace: str, fmt: str, block: str) -> None:
    path = _path(server, namespace, fmt)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    record = {"server": server, "namespace": namespace, "format": fmt, "fetched_at": time.time(), "block": block}
    partial = f"{path}.{os.getpid()}.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh, ensure_ascii=False)
    os.replace(partial, path)  # a reader sees the old block or the new one, never half of one


def load(server: str, namespace: str, fmt: str) -> dict | None:
    """The saved record ({"block", "fetched_at", …}), or None when there is none or it is damaged."""
    try:
        with open(_path(server, namespace, fmt), encoding="utf-8") as fh:
            record = json.load(fh)
        if isinstance(record.get("block"), str) and isinstance(record.get("fetched_at"), (int, float)):
            return record
    except (OSError, ValueError, AttributeError):
        pass
    return None


def fit(block: str, budget: int) -> str:
    """The block within `budget` UTF-16 code units (glyphmemory.utf16: what the hook's cap counts),
    cut at a line end with a marker: a block saved under a larger budget, or from a server that
    counted characters."""
    from glyphmemory import utf16

    if utf16.length(block) <= budget:
        return block
    marker = "\n… (cut to fit the budget)\n"
    head = utf16.prefix(block, budget - utf16.length(marker))
    return head[: head.rfind("\n") + 1 or len(head)] + marker


def age_words(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


def describe(record: dict) -> str:
    from .base import human_time

    return f"cached {age_words(time.time() - record['fetched_at'])} ago ({human_time(record['fetched_at'])})"
