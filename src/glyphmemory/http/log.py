"""Structured log lines: one JSON object per line on stderr (CloudWatch on Lambda).

Callers pass named fields only; nothing here ever receives a query string, a header or a
body, which is how tokens and codes stay out of the logs. GLYPH_LOG_LEVEL (Settings.log_level,
given to configure() when the App is built) picks how much: INFO (every request, the default),
WARNING (4xx and 5xx answers and errors), ERROR (5xx only).
"""

from __future__ import annotations

import json
import sys
import time

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
_threshold = 20  # INFO until configure()


def configure(level_name: str) -> None:
    """Log from this level on (a name of LEVELS; an unknown one logs everything from INFO)."""
    global _threshold
    _threshold = LEVELS.get(level_name.upper(), 20)


def _enabled(level: int) -> bool:
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


def capture_library_logs() -> None:
    """Libraries' `logging` records (the MCP SDK's) as this module's lines: one JSON object each,
    with the logger's name, where it logged, its message template (only when the record has
    arguments: an f-string message can hold request content) and the exception's type; never
    the arguments or the traceback, which can quote the request (a tool's arguments, a URI).
    Installed on the root logger, which also makes the SDK's logging.basicConfig a no-op."""
    import logging

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            fields = {"logger": record.name, "where": f"{record.module}:{record.lineno}"}
            if record.args:
                fields["event"] = str(record.msg)[:200]
            if record.exc_info and record.exc_info[0] is not None:
                fields["error"] = record.exc_info[0].__name__
            event("library", level=record.levelno, **fields)

    root = logging.getLogger()
    if not any(type(h).__name__ == "_Lines" for h in root.handlers):
        root.addHandler(_Lines())
