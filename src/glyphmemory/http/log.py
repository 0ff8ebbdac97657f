"""Structured log lines: one JSON object per line on stderr (CloudWatch on Lambda).

Callers pass named fields only; nothing here ever receives a query string, a header or a
body, which is how tokens and codes stay out of the logs.
"""

from __future__ import annotations

import json
import sys
import time


def event(msg: str, **fields) -> None:
    line = {"ts": round(time.time(), 3), "msg": msg, **fields}
    try:
        sys.stderr.write(json.dumps(line, separators=(",", ":")) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed stderr must never fail a request
        pass
