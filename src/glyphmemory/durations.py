"""Durations as people write them: 90s, 15m, 12h, 7d, 2w — the same units everywhere (the
API's `since`, the CLI's `--ttl` and `--since`)."""

from __future__ import annotations

import re

UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"([0-9]{1,7})([smhdw])")


def parse_duration(text: str, *, limit_s: int | None) -> int | None:
    """Seconds, or None when `text` is not a duration; a duration over limit_s is an error."""
    found = _DURATION_RE.fullmatch(text.strip())
    if found is None:
        return None
    seconds = int(found.group(1)) * UNIT_S[found.group(2)]
    if limit_s is not None and not 0 < seconds <= limit_s:
        from .errors import InvalidInput

        raise InvalidInput(f"{text!r} must be from 1 second to {limit_s // 86400} days")
    return seconds
