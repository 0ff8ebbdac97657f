"""Parameter and body declarations: each parses its input and describes itself in OpenAPI.

A route lists the specs it takes (`Router.add(params=…, body=…)`); the App reads every declared
parameter into `call.args` (defaults filled in) and openapi.py builds the document from the same
specs, so what is enforced and what is documented are one thing.
"""

from __future__ import annotations

import time

from .. import names
from ..durations import parse_duration
from ..errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from ..model import FIELDS, FieldSpec
from .core import Request, media_type, require_json_body, urlencoded


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
    """A namespace in the query (model.FIELDS' rule), the default one when absent."""
    field = FIELDS["namespace"]
    schema = field.json_schema(description="", default=names.DEFAULT_NAMESPACE)
    return Param(name, schema, field.description, parse=field.check)


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
TAG = Param("tag", FIELDS["tag"].json_schema(description=""), "Only memories with this tag.", parse=FIELDS["tag"].check)
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
    "grant_id", {"type": "string", "pattern": f"^{names.OAUTH_ID_PATTERN}$"}, "Connector grant id.", where="path"
)
KID = Param("kid", {"type": "string", "pattern": f"^{names.KID_PATTERN}$"}, "Key id.", where="path")
TOKEN = Param("t", {"type": "string", "maxLength": names.MAX_TOKEN_CHARS}, "Window token.")
CODE = Param("code", {"type": "string", "pattern": f"^{names.CODE_PATTERN}$"}, "Authenticator code.")


class JsonBody:
    """A JSON object body (RFC 8259): its fields' schemas (for the document) and the check of its
    shape. A field given as a model.FieldSpec is checked here too (its value replaced by what its
    check answers); one given as a schema is the domain's to validate (a memory's fields, which
    the write checks wherever it comes from). `fields` None: any members (a document whose rules
    are its RFC's, such as RFC 7591's client metadata at /register).
    `read` answers the object, or 415 (not application/json), 413, 400 (not JSON, not an
    object, an unknown or missing member)."""

    def __init__(
        self,
        schema_name: str,
        what: str,
        fields: dict[str, dict | FieldSpec] | None,
        *,
        required: tuple[str, ...] = (),
        min_fields: int = 0,
        limit: int = names.MAX_JSON_BODY_BYTES,
    ):
        self.schema_name, self.what, self.required = schema_name, what, required
        self.fields = None if fields is None else {k: _schema_of(v) for k, v in fields.items()}
        self.checks = {k: v.check for k, v in (fields or {}).items() if isinstance(v, FieldSpec)}
        self.min_fields = min_fields
        self.media = "application/json"
        self.limit = limit  # the door reads no more than this

    def read(self, request: Request) -> dict:
        data = require_json_body(request, self.limit)
        if self.fields is None:
            return data
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise InvalidInput(f"unknown field {unknown[0][:40]!r}; {self.what} takes {', '.join(self.fields)}")
        for name in self.required:
            if name not in data:
                raise InvalidInput(f"{name} is required")
        if len(data) < self.min_fields:
            raise InvalidInput(f"{self.what} takes at least one of {', '.join(self.fields)}")
        for name, check in self.checks.items():
            if name in data:
                data[name] = check(data[name])
        return data

    def schema(self) -> dict:
        if self.fields is None:
            return {"type": "object"}
        schema = {
            "type": "object",
            "additionalProperties": False,
            "required": list(self.required),
            "properties": self.fields,
        }
        if self.min_fields:
            schema["minProperties"] = self.min_fields
        return schema


def _schema_of(field: dict | FieldSpec) -> dict:
    return field.json_schema() if isinstance(field, FieldSpec) else field


FORM_MEDIA = "application/x-www-form-urlencoded"


class FormBody:
    """An HTML form's body, application/x-www-form-urlencoded (WHATWG URL Standard §5: `&`-separated
    name=value pairs, `+` a space, percent-encoded UTF-8), read one way at every door that takes
    one (the page's forms, OAuth's /authorize and /token). Stricter than a browser's parser where
    RFC 6749 asks it (§3.1, §3.2: "parameters MUST NOT be included more than once"): a name given
    twice, bytes that are not UTF-8 (raw or percent-encoded) and another media type are 400, which
    the route's door renders (an OAuth error object at /token, a page at /authorize and /ui).
    `read` answers {name: value}, values as sent (blank ones kept)."""

    def __init__(self, description: str, *, limit: int):
        self.media, self.description, self.limit = FORM_MEDIA, description, limit

    def read(self, request: Request) -> dict[str, str]:
        if media_type(request) != FORM_MEDIA:
            raise InvalidInput(f"send the form as {FORM_MEDIA}")
        if len(request.body) > self.limit:
            raise PayloadTooLarge(f"the form is over {self.limit} bytes")
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the form is not valid UTF-8") from None
        form: dict[str, str] = {}
        for name, value in urlencoded(text, "form"):
            if name in form:
                raise InvalidInput(f"the form gives {name[:40]!r} more than once")
            form[name] = value
        return form

    def schema(self) -> dict:
        return {"type": "object", "additionalProperties": {"type": "string"}, "description": self.description}


class RawBody:
    """A body the route reads itself (NDJSON, JSON-RPC): its media type and description, and,
    where given, the media types it `accept`s (415 with `media_error` otherwise) and its size
    (413 with `limit_error` over `limit`). `read` answers the bytes."""

    def __init__(
        self,
        media: str,
        description: str,
        *,
        limit: int,
        accept: tuple[str, ...] = (),
        media_error: str = "",
        limit_error: str = "",
    ):
        self.media, self.description, self.limit = media, description, limit
        self.accept, self.media_error, self.limit_error = accept, media_error, limit_error

    def read(self, request: Request) -> bytes:
        if self.accept and media_type(request) not in self.accept:
            raise UnsupportedMediaType(self.media_error or f"send the body as {self.media}")
        if self.limit_error and len(request.body) > self.limit:
            raise PayloadTooLarge(self.limit_error)
        return request.body

    def schema(self) -> dict:
        return {"type": "string", "description": self.description}
