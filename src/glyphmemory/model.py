"""The memory: its fields, validation and normalisation. No storage, no HTTP."""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import time
import unicodedata
from collections import namedtuple
from datetime import date
from functools import lru_cache

from . import names
from .errors import InvalidInput

_NAMESPACE_RE = re.compile(names.NAMESPACE_PATTERN)
_ULID_RE = re.compile(names.ULID_PATTERN)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LINE_END_RE = re.compile(r"\r\n?")
_TRAILING_SPACE_RE = re.compile(r"[ \t]+\n")
# C0 and C1 controls but line feed and tab: ESC and friends rewrite a terminal (\x1b]52 sets its
# clipboard), and NUL, BEL or backspace have no place in a note either.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1): characters
# that render as nothing (zero-width space/joiner/non-joiner, word joiner, BOM, soft hyphen,
# bidi marks and isolates, variation selectors, tag characters, Hangul fillers).
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_WHITESPACE_RUN_RE = re.compile(r"\s+")  # str patterns: \s is every Unicode White_Space character


# Value classes are named tuples, not dataclasses: `dataclasses` imports `inspect`, 21 ms of
# every cold start at a full core (70 ms at a 512 MB function's share; bench/deployed_path.py).
_MemoryFields = namedtuple(
    "Memory",
    "id namespace text tags source session epoch_us content_hash expires_at updated_us",
    defaults=(None, None),
)


class Memory(_MemoryFields):
    """One memory (immutable). tags is a tuple, session and expires_at may be None."""

    __slots__ = ()

    def replace(self, **changes) -> Memory:
        return self._replace(**changes)

    @property
    def epoch_ms(self) -> int:
        return self.epoch_us // 1000

    @property
    def created_at(self) -> str:
        return iso_from_epoch_us(self.epoch_us)

    def is_expired(self, now_s: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now_s

    def to_json(self) -> dict:
        # Spelled out: dataclasses.asdict deep-copies every field and was most of the time
        # a 20-memory answer took (profiled in bench/http_local.py).
        return {
            "id": self.id,
            "namespace": self.namespace,
            "text": self.text,
            "tags": list(self.tags),
            "source": self.source,
            "session": self.session,
            "epoch_us": self.epoch_us,
            "content_hash": self.content_hash,
            "expires_at": self.expires_at,
            "created_at": self.created_at,
            "epoch_ms": self.epoch_ms,
            "updated_at": None if self.updated_us is None else iso_from_epoch_us(self.updated_us),
        }


class Cursor(namedtuple("Cursor", "epoch_us id")):
    """Position of the last memory of a page: the next page starts strictly after it."""

    __slots__ = ()


class Page(namedtuple("Page", "items next", defaults=((), None))):
    """A page of memories, newest first, and where the next one starts (None: no more)."""

    __slots__ = ()


class Clock:
    """Wall clock in microseconds that never repeats or goes back within this process.

    Two writes in one microsecond, or a clock step backwards, still get increasing epochs,
    so newest-first matches the order in which one client wrote.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now_us(self) -> int:
        with self._lock:
            self._last = max(time.time_ns() // 1000, self._last + 1)
            return self._last

    def now_s(self) -> float:
        return time.time()


_MAX_ISO_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z, the end of datetime's range


def iso_from_epoch_us(epoch_us: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds) of microseconds since 1970."""
    # Any stored epoch renders (clamped to years 1970-9999): one odd item, say from an import
    # before imports were bounded, must not turn every read of its namespace into a 500.
    # The time of day by arithmetic, the date from a cache: datetime.strftime was 18 % of the
    # work of answering 20 memories (profiled under bench/http_local.py's request).
    seconds, us = divmod(min(max(epoch_us, 0), _MAX_ISO_US), 1_000_000)
    days, seconds = divmod(seconds, 86_400)
    return f"{_iso_date(days)}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{us // 1000:03d}Z"


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1024)
def _iso_date(days: int) -> str:
    """`YYYY-MM-DD` of the day `days` after 1970-01-01."""
    return date.fromordinal(_EPOCH_ORDINAL + days).isoformat()


def new_ulid(epoch_ms: int) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32 (URL-safe)."""
    value = (epoch_ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def is_memory_id(value: str) -> bool:
    return bool(_ULID_RE.fullmatch(value))


def dedup_form(text: str) -> str:
    """The canonical form two texts are compared in: invisible characters (Default_Ignorable_Code_Point)
    dropped, Unicode NFC, every run of whitespace (any Unicode White_Space: NBSP, U+3000,
    tabs, line breaks) one space, trimmed. Not NFKC: it would equate x² with x2 and ½ with 1⁄2.
    Only the key uses it; the stored text stays as written."""
    text = unicodedata.normalize("NFC", _INVISIBLE_RE.sub("", text))
    return _WHITESPACE_RUN_RE.sub(" ", text).strip()


def content_hash(namespace: str, text: str) -> str:
    """The dedup key: SHA-256 (hex) of the namespace, a NUL and the text's dedup_form."""
    return hashlib.sha256(f"{namespace}\x00{dedup_form(text)}".encode()).hexdigest()


def legacy_content_hash(namespace: str, text: str) -> str:
    """The key before dedup_form (schema 3 and earlier): SHA-256 of the namespace, a NUL and the
    normalised text. Memories stored then may still carry it (see the stores)."""
    return hashlib.sha256(f"{namespace}\x00{text}".encode()).hexdigest()


# --- validation ----------------------------------------------------------------------------


def validate_namespace(value: object) -> str:
    if value is None:
        return names.DEFAULT_NAMESPACE
    if not isinstance(value, str) or not _NAMESPACE_RE.fullmatch(value):
        raise InvalidInput(
            "namespace must be 1-64 characters of lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def normalise_text(value: object) -> str:
    """NFC, LF line ends, no trailing blanks on lines or around the text: what dedup compares."""
    if not isinstance(value, str):
        raise InvalidInput("text must be a string")
    text = unicodedata.normalize("NFC", value)
    text = _LINE_END_RE.sub("\n", text)
    text = _TRAILING_SPACE_RE.sub("\n", text).strip()
    if not text or not dedup_form(text):  # nothing but whitespace and invisible characters
        raise InvalidInput("text is empty: write at least one visible character")
    control = _CONTROL_RE.search(text)
    if control:
        raise InvalidInput(
            f"text contains the control character U+{ord(control.group()):04X}; only line breaks and tabs are allowed"
        )
    size = utf8_size(text, "text")
    if size > names.MAX_TEXT_BYTES:
        raise InvalidInput(
            f"text is {size} bytes of UTF-8; the limit is {names.MAX_TEXT_BYTES} (32 KiB): "
            "shorten it or split it into several memories"
        )
    return text


def utf8_size(value: str, field_name: str) -> int:
    """How many bytes `value` is in UTF-8; InvalidInput naming the field when it has no UTF-8 form
    (a lone surrogate: JSON's "\\ud800", an argument that was not UTF-8)."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(f"{field_name} is not valid Unicode (it holds a lone surrogate)") from None


def validate_tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput("tags must be a list of strings")
    if len(value) > names.MAX_TAGS:
        raise InvalidInput(f"tags has {len(value)} entries; at most {names.MAX_TAGS} are allowed")
    tags: list[str] = []
    for tag in value:
        tags.append(validate_tag(tag))
    return tuple(dict.fromkeys(tags))  # drop repeats, keep the order given


def validate_tag(tag: object) -> str:
    if not isinstance(tag, str):
        raise InvalidInput("each tag must be a string")
    tag = unicodedata.normalize("NFC", tag).strip()
    if not tag or len(tag) > names.MAX_TAG_CHARS:
        raise InvalidInput(f"each tag must be 1-{names.MAX_TAG_CHARS} characters")
    if "," in tag or any(unicodedata.category(c) == "Cc" for c in tag):
        raise InvalidInput("a tag may not contain commas or control characters")
    return tag


def validate_label(value: object, field_name: str, limit: int) -> str | None:
    """A short free label (source, session, key name): not blank, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(f"{field_name} must be a non-empty string of at most {limit} characters")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidInput(f"{field_name} may not contain control characters")
    return value.strip()


def validate_source(value: object, default: str) -> str:
    return validate_label(value, "source", names.MAX_SOURCE_CHARS) or default


def validate_session(value: object) -> str | None:
    return validate_label(value, "session", names.MAX_SESSION_CHARS)


def validate_ttl_days(value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput("ttl_days must be a number of days")
    if not 0 < value <= names.MAX_TTL_DAYS:
        raise InvalidInput(f"ttl_days must be more than 0 and at most {names.MAX_TTL_DAYS}")
    return value


def expires_at_from_ttl_days(value: object, now_s: float) -> int | None:
    days = validate_ttl_days(value)
    return None if days is None else math.ceil(now_s + days * 86400)


# --- the fields, declared once -------------------------------------------------------------
# As ECMA-262 patterns, JSON Schema's dialect: labels (source, session, a key's name) hold no
# control character (Unicode's Cc: C0, DEL, C1) and are not blank; tags have no commas either; a
# text holds something visible and no control character but line feed, carriage return (read as
# a line end) and tab (normalise_text).
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
LABEL_PATTERN = f"^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$"
TAG_PATTERN = f"^[^,{CONTROL}]*[^\\s,{CONTROL}][^,{CONTROL}]*$"
_TEXT_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
TEXT_PATTERN = f"^[^{_TEXT_CONTROL}]*[^\\s{_TEXT_CONTROL}][^{_TEXT_CONTROL}]*$"


class FieldSpec(namedtuple("FieldSpec", "name schema description check")):
    """One field a memory is written with, declared once for every door: its JSON Schema (what
    /openapi.json's bodies and parameters and the MCP tools' inputSchema say; OpenAPI 3.1 and MCP
    both speak JSON Schema 2020-12), its description, and `check(value)`: the value normalised
    (NFC, trimmed, line ends), None kept as None (or the default namespace), or InvalidInput (400)
    with the sentence every door shows. A schema says what a pattern can; `check` is the rule,
    equal to it on every value that needs no normalising (tests/unit/test_fields.py)."""

    __slots__ = ()

    def json_schema(self, *, nullable: bool = False, description: str | None = None, **more) -> dict:
        """The schema, its type also "null" when `nullable`, with this door's `description`
        (default: the field's own; "" for none) and `more` keywords (a default)."""
        schema = {**self.schema}
        if nullable:
            schema["type"] = [schema["type"], "null"]
        text = self.description if description is None else description
        if text:
            schema["description"] = text
        return {**schema, **more}


_TAG_SCHEMA = {"type": "string", "minLength": 1, "maxLength": names.MAX_TAG_CHARS, "pattern": TAG_PATTERN}


def label_field(name: str, limit: int, description: str) -> FieldSpec:
    """A short free label (validate_label's rule) as a field."""
    schema = {"type": "string", "minLength": 1, "maxLength": limit, "pattern": LABEL_PATTERN}
    return FieldSpec(name, schema, description, lambda value: validate_label(value, name, limit))


FIELDS = {
    spec.name: spec
    for spec in (
        FieldSpec(
            "text",
            {"type": "string", "minLength": 1, "pattern": TEXT_PATTERN},
            f"1 to {names.MAX_TEXT_BYTES} bytes of UTF-8 after normalisation.",
            normalise_text,
        ),
        FieldSpec(
            "namespace",
            {"type": "string", "pattern": f"^{names.NAMESPACE_PATTERN}$"},
            "A memory space: 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
            validate_namespace,
        ),
        FieldSpec("tag", _TAG_SCHEMA, f"1-{names.MAX_TAG_CHARS} characters, no commas.", validate_tag),
        FieldSpec(
            "tags",
            {"type": "array", "maxItems": names.MAX_TAGS, "items": _TAG_SCHEMA},
            f"At most {names.MAX_TAGS} tags, each 1-{names.MAX_TAG_CHARS} characters, no commas (repeats dropped).",
            validate_tags,
        ),
        label_field("source", names.MAX_SOURCE_CHARS, "Who wrote it (absent or null: the door's, such as api)."),
        label_field("session", names.MAX_SESSION_CHARS, "The conversation it came from."),
        FieldSpec(
            "ttl_days",
            {"type": "number", "exclusiveMinimum": 0, "maximum": names.MAX_TTL_DAYS},
            "Days to keep it (absent: for good).",
            validate_ttl_days,
        ),
    )
}


def new_memory(
    *,
    text: object,
    clock: Clock,
    namespace: object = None,
    tags: object = None,
    source: object = None,
    session: object = None,
    ttl_days: object = None,
    default_source: str = "api",
) -> Memory:
    """Validate and normalise a write; the id and epoch come from the clock."""
    return build_memory(
        text=text,
        namespace=namespace,
        tags=tags,
        source=source,
        session=session,
        default_source=default_source,
        epoch_us=clock.now_us(),
        expires_at=expires_at_from_ttl_days(ttl_days, clock.now_s()),
    )


def build_memory(
    *,
    text: object,
    namespace: object,
    tags: object,
    source: object,
    session: object,
    default_source: str,
    epoch_us: int,
    memory_id: str | None = None,
    expires_at: int | None = None,
    updated_us: int | None = None,
) -> Memory:
    """The one place a Memory is made from outside input: every field validated and normalised,
    the content hash taken, and an id minted from the epoch unless one is given."""
    ns = validate_namespace(namespace)
    body = normalise_text(text)
    return Memory(
        id=memory_id or new_ulid(epoch_us // 1000),
        namespace=ns,
        text=body,
        tags=validate_tags(tags),
        source=validate_source(source, default_source),
        session=validate_session(session),
        epoch_us=epoch_us,
        content_hash=content_hash(ns, body),
        expires_at=expires_at,
        updated_us=updated_us,
    )


# A device key's name (POST /v1/keys, Keyring.add_device) is a label too.
KEY_NAME = label_field("name", names.MAX_KEY_NAME_CHARS, "What the device is (shown in glyph keys).")
