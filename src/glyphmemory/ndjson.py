"""NDJSON, the export format: a memory's line both ways, and the one reader of lines.

A line is `Memory.to_json()` (the API's Memory shape) as UTF-8 JSON ending at `\\n`. Every field
goes back in on import: id, namespace, text, tags, source, session, the epoch (epoch_us, else
epoch_ms, else created_at), expires_at and updated_at; content_hash, created_at and epoch_ms
are derived again. So export → import → export is byte-identical (tests/contract/test_export_import.py).

Lines end at `\\n` only (a `\\r` before it is JSON whitespace): not at what str.splitlines() also
splits at (U+2028, U+2029, U+0085, \\v, \\f, \\x1c-\\x1e), which a JSON string may hold raw. Lines
written here escape U+2028, U+2029 and U+0085 too, for readers that do split there.
"""

from __future__ import annotations

import json

from . import names
from .errors import InvalidInput

# Imported times stay between 1970 and a day from now: a memory from the future would sort
# first for ever, and epochs past what SQLite and the ISO dates hold broke every read.
_FUTURE_SLACK_S = 86_400
_ESCAPES = {ord("\u2028"): "\\u2028", ord("\u2029"): "\\u2029", ord("\u0085"): "\\u0085"}


def dump_line(record: dict) -> bytes:
    """One NDJSON line: compact-ish UTF-8 JSON (as before: `json.dumps` defaults) and `\\n`."""
    return json.dumps(record, ensure_ascii=False).translate(_ESCAPES).encode() + b"\n"


def memory_line(memory) -> bytes:
    """The export line of a model.Memory."""
    return dump_line(memory.to_json())


def split_lines(data: bytes) -> list[bytes]:
    """NDJSON's lines, each with its `\\n` (the last may lack it); the only place lines are split."""
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def read_records(data: bytes):
    """(line number, object) for each non-blank line; InvalidInput names the line at fault.
    A UTF-8 byte order mark at the very start (Windows editors save one) is skipped: RFC 8259
    §8.1 lets a parser ignore it; anywhere else it is an error of its line."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    for number, raw in enumerate(split_lines(data), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput(f"line {number}: not UTF-8") from None
        except ValueError:
            raise InvalidInput(f"line {number}: not a JSON object") from None
        except RecursionError:
            raise InvalidInput(f"line {number}: nested too deeply") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"line {number}: not a JSON object")
        yield number, record


def memory_fields(record: dict, *, now_s: float) -> dict:
    """The fields of model.build_memory an export line gives (text unredacted, epoch_us None
    when the line has no time): id, times and expiry checked here, the rest by build_memory."""
    from .model import is_memory_id

    memory_id = record.get("id")
    if memory_id is not None and (not isinstance(memory_id, str) or not is_memory_id(memory_id)):
        raise InvalidInput("id must be a 26-character ULID")
    expires_at = record.get("expires_at")
    latest_expiry = int(now_s) + names.MAX_TTL_DAYS * 86_400
    if expires_at is not None and (
        isinstance(expires_at, bool) or not isinstance(expires_at, int) or not 0 <= expires_at <= latest_expiry
    ):
        raise InvalidInput(f"expires_at must be whole epoch seconds, at most {names.MAX_TTL_DAYS} days from now")
    return {
        "memory_id": memory_id,
        "namespace": record.get("namespace"),
        "text": record.get("text"),
        "tags": record.get("tags"),
        "source": record.get("source"),
        "session": record.get("session"),
        "epoch_us": _epoch_us(record, now_s),
        "expires_at": expires_at,
        "updated_us": _time_us(record, "updated_at", now_s),
    }


def _epoch_us(record: dict, now_s: float) -> int | None:
    """The epoch an exported line carries: epoch_us, else epoch_ms, else created_at."""
    latest_us = int((now_s + _FUTURE_SLACK_S) * 1_000_000)
    for field, scale in (("epoch_us", 1), ("epoch_ms", 1000)):
        value = record.get(field)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value * scale <= latest_us:
                raise InvalidInput(f"{field} must be a whole number between 1970 and a day from now")
            return value * scale
    return _time_us(record, "created_at", now_s)


def _time_us(record: dict, field: str, now_s: float) -> int | None:
    value = record.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be an ISO 8601 time")
    from .service import parse_time_us

    epoch_us = parse_time_us(value, field=field)
    if not 0 <= epoch_us <= int((now_s + _FUTURE_SLACK_S) * 1_000_000):
        raise InvalidInput(f"{field} must be between 1970 and a day from now")
    return epoch_us
