"""Parameter and body declarations: each parses its input and describes itself in OpenAPI.

A route lists the specs it takes (`Router.add(params=…, body=…)`); the App reads every declared
parameter into `call.args` (defaults filled in) and openapi.py builds the document from the same
specs, so what is enforced and what is documented are one thing.
"""

from __future__ import annotations

import time

from .. import names
from ..durations import parse_duration
from ..errors import InvalidInput
from ..model import validate_namespace, validate_tag
from .core import Request, require_json_body

# Labels hold no control characters and are not blank; tags have no commas either.
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
LABEL_PATTERN = f"^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$"
TAG_PATTERN = f"^[^,{CONTROL}]*[^\\s,{CONTROL}][^,{CONTROL}]*$"
# A memory's text: something visible, no control character but line feed, carriage return (read
# as a line end) and tab (model.normalise_text).
_TEXT_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
TEXT_PATTERN = f"^[^{_TEXT_CONTROL}]*[^\\s{_TEXT_CONTROL}][^{_TEXT_CONTROL}]*$"


class Param:
    """One path or query parameter: its schema, and how a raw string becomes its value."""

    __slots__ = ("name", "schema", "description", "parse", "where", "required", "missing")

    def __init__(self, name, schema, description, *, parse=None, where="query", required=False, missing=None):
        self.name, self.schema, self.description = name, schema, description
        self.parse, self.where, self.required = parse, where, required
        self.missing = missing or f"{name} is required"

    def read(self, raw: str | None):
        if raw is None:
            if self.required:
                raise InvalidInput(self.missing)
            return self.schema.get("default")
        return raw if self.parse is None else self.parse(raw)

    def openapi(self) -> dict:
        return {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "description": self.description,
            "schema": self.schema,
        }


def integer(name: str, low: int, high: int, default: int | None, description: str) -> Param:
    def parse(raw: str) -> int:
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
        return int(raw)

    schema = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return Param(name, schema, description, parse=parse)


def namespace(name: str = "namespace") -> Param:
    schema = {"type": "string", "pattern": f"^{names.NAMESPACE_PATTERN}$", "default": names.DEFAULT_NAMESPACE}
    return Param(name, schema, "Namespace.", parse=validate_namespace)


def one_of(name: str, choices: tuple[str, ...], default: str, description: str) -> Param:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise InvalidInput(f"{name} must be {', '.join(choices[:-1])} or {choices[-1]}")
        return raw

    return Param(name, {"type": "string", "enum": list(choices), "default": default}, description, parse=parse)


def _since(raw: str) -> int:
    """ISO 8601 (2026-11-21, 2026-11-21T09:30:00Z) or a duration back from now: 30m, 12h, 7d, 2w."""
    from ..service import parse_time_us

    seconds = parse_duration(raw, limit_s=None)
    if seconds is not None:
        return int((time.time() - seconds) * 1_000_000)
    return parse_time_us(raw, field="since")


NAMESPACE = namespace()
LIMIT = integer("limit", 1, names.MAX_LIMIT, names.DEFAULT_LIMIT, "Most items to return.")
BUDGET = integer(
    "budget",
    names.MIN_CONTEXT_BUDGET,
    names.MAX_CONTEXT_BUDGET,
    names.DEFAULT_CONTEXT_BUDGET,
    "Most UTF-16 code units in the block (JavaScript's length: an emoji counts 2, as Claude Code counts).",
)
FORMAT = one_of("format", ("md", "text", "json"), "md", "Rendering of the block.")
BEFORE = Param("before", {"type": "string"}, "Opaque cursor: the `next` of the previous page.")
TAG = Param(
    "tag",
    {"type": "string", "minLength": 1, "maxLength": names.MAX_TAG_CHARS, "pattern": TAG_PATTERN},
    "Only memories with this tag.",
    parse=validate_tag,
)
SINCE = Param(
    "since", {"type": "string"}, "ISO 8601 date or time, or a duration back from now: 30m, 12h, 7d, 2w.", parse=_since
)
# Search also needs a word (Unicode's \w, as search.py tokenises), which an ECMA-262 pattern, whose
# \w is ASCII, cannot state: that rule stays a sentence in the 400.
Q_SCHEMA = {"type": "string", "minLength": 1, "maxLength": names.MAX_QUERY_CHARS}
SEARCH_QUERY = Param("q", Q_SCHEMA, "Words to find.", required=True, missing="q is required: the words to search for")
MEMORY_ID = Param(
    "memory_id", {"type": "string", "pattern": f"^{names.ULID_PATTERN}$"}, "Memory id (ULID).", where="path"
)
GRANT_ID = Param(
    "grant_id", {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}, "Connector grant id.", where="path"
)
KID = Param("kid", {"type": "string", "pattern": f"^{names.KID_PATTERN}$"}, "Key id.", where="path")
TOKEN = Param("t", {"type": "string", "maxLength": names.MAX_TOKEN_CHARS}, "Window token.")
CODE = Param("code", {"type": "string", "pattern": f"^{names.CODE_PATTERN}$"}, "Authenticator code.")


class JsonBody:
    """A JSON object body: its fields' schemas (for the document) and the check of its shape;
    the fields' values are the domain's to validate."""

    def __init__(
        self,
        schema_name: str,
        what: str,
        fields: dict[str, dict],
        *,
        required: tuple[str, ...] = (),
        min_fields: int = 0,
    ):
        self.schema_name, self.what, self.fields, self.required = schema_name, what, fields, required
        self.min_fields = min_fields
        self.media = "application/json"
        self.limit = names.MAX_JSON_BODY_BYTES  # the door reads no more than this

    def read(self, request: Request) -> dict:
        data = require_json_body(request)
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise InvalidInput(f"unknown field {unknown[0][:40]!r}; {self.what} takes {', '.join(self.fields)}")
        for name in self.required:
            if name not in data:
                raise InvalidInput(f"{name} is required")
        if len(data) < self.min_fields:
            raise InvalidInput(f"{self.what} takes at least one of {', '.join(self.fields)}")
        return data

    def schema(self) -> dict:
        schema = {
            "type": "object",
            "additionalProperties": False,
            "required": list(self.required),
            "properties": self.fields,
        }
        if self.min_fields:
            schema["minProperties"] = self.min_fields
        return schema


class RawBody:
    """A body the route reads itself (NDJSON): only its media type and description are declared."""

    def __init__(self, media: str, description: str, *, limit: int):
        self.media, self.description, self.limit = media, description, limit

    def schema(self) -> dict:
        return {"type": "string", "description": self.description}
