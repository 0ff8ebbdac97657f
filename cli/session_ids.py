"""What Claude Code's hooks pass on stdin, and the memories each session already holds.

Claude Code runs a hook with a JSON object on stdin (`session_id`, `cwd`, `hook_event_name`,
and for UserPromptSubmit `prompt`). The SessionStart hook (`glyph context --hook`) keeps the ids
of the memories it printed, per session, in a small 0600 file in the data folder; the
UserPromptSubmit hook (`glyph recall --hook`) leaves those out: the session already has them.
Files older than MAX_AGE_S are removed when a new one is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time

from . import config

MAX_EVENT_BYTES = 1 << 20  # a prompt of Claude Code's is well under this
MAX_AGE_S = 7 * 86400
_WAIT_S = 0.2  # for stdin to have something: a hook run by hand has nothing to read
# A memory's id as a context block (md) shows it: the last one on its heading line (its tags come
# before it and may hold backticks; its text is quoted below, every line behind `> `).
_MEMORY_ID = re.compile(r"^## .*`([0-9A-HJKMNP-TV-Z]{26})`", re.MULTILINE)


def read_event() -> dict:
    """The hook's JSON object from stdin; {} when there is none or it is not an object."""
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return {}
        import select

        try:
            ready = select.select([sys.stdin], [], [], _WAIT_S)[0]
        except OSError:  # Windows: select() takes sockets only, and Claude Code closes the pipe
            ready = [sys.stdin]
        if not ready:
            return {}
        event = json.loads(sys.stdin.buffer.read(MAX_EVENT_BYTES) or b"{}")
    except (OSError, ValueError, AttributeError, RecursionError):  # RecursionError: nested too deep
        return {}
    return event if isinstance(event, dict) else {}


def _dir() -> str:
    return os.path.join(config.data_dir(), "sessions")


def _path(session_id: str) -> str:
    return os.path.join(_dir(), hashlib.sha256(session_id.encode()).hexdigest()[:24] + ".json")


def ids_in(block: str) -> list[str]:
    return list(dict.fromkeys(_MEMORY_ID.findall(block)))


def remember(event: dict, block: str) -> None:
    """Keep the ids `block` shows as the session's (a session without an id keeps nothing).
    Never raises: a data folder that cannot hold the file (read-only, `sessions` a file) or a
    session id that is not UTF-8 (a lone surrogate, valid in JSON) only costs the prompt hook
    its leaving out of what the start block showed; the session's start must not fail for it."""
    session = event.get("session_id")
    if not isinstance(session, str) or not session:
        return
    try:
        folder = _dir()
        os.makedirs(folder, mode=0o700, exist_ok=True)
        path = _path(session)
        partial = f"{path}.{os.getpid()}.tmp"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"ids": ids_in(block), "at": time.time()}, fh)
        os.replace(partial, path)
    except (OSError, ValueError):
        return
    _forget_old(folder)


def known(event: dict) -> set[str]:
    """The ids the session's start block showed (empty when unknown)."""
    session = event.get("session_id")
    if not isinstance(session, str) or not session:
        return set()
    try:
        with open(_path(session), encoding="utf-8") as fh:
            ids = json.load(fh).get("ids", [])
        return {i for i in ids if isinstance(i, str)}
    except (OSError, ValueError, AttributeError):
        return set()


def _forget_old(folder: str) -> None:
    cutoff = time.time() - MAX_AGE_S
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
    except OSError:
        pass
