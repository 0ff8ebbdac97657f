"""Structured log lines: one JSON object per line on stderr (CloudWatch on Lambda).

Callers pass named fields only; nothing here ever receives a query string, a header or a
body, which is how tokens and codes stay out of the logs. GLYPH_LOG_LEVEL picks how much:
INFO (every request, the default), WARNING (4xx and 5xx answers and errors), ERROR (5xx only).
"""

from __future__ import annotations

import json
import os
import sys
import time

from .. import names

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
_threshold: int | None = None


def _enabled(level: int) -> bool:
    global _threshold
    if _threshold is None:  # read once per process; an unknown value logs everything
        _threshold = LEVELS.get(os.environ.get(names.ENV_LOG_LEVEL, "INFO").upper(), 20)
    return level >= _threshold


def level_of(status: int) -> int:
    return 40 if status >= 500 else 30 if status >= 400 else 20


def event(msg: str, *, level: int = 20, **fields) -> None:
    if not _enabled(level):
        return
    line = {"ts": round(time.time(), 3), "msg": msg, **fields}
    try:
        sys.stderr.write(json.dumps(line, separators=(",", ":")) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed stderr must never fail a request
        pass
