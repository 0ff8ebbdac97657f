"""The OpenAPI 3.1 document of the HTTP API, built from the shared limits."""

from __future__ import annotations

from .. import __version__, names

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_TEXT_ERROR = {"description": "One plain-text sentence", "content": {"text/plain": {"schema": {"type": "string"}}}}
_AUTH = [{"bearer": []}, {"tokenHeader": []}, {"tokenQuery": []}]
# Labels hold no control characters and are not blank; tags have no commas either.
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
_LABEL = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
_TAG = f"^[^,{_CONTROL}]*[^\\s,{_CONTROL}][^,{_CONTROL}]*$"


def _param(name: str, schema: dict, description: str, *, where: str = "query", required=False):
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


_NAMESPACE = _param(
    "namespace",
    {"type": "string", "pattern": f"^{names.NAMESPACE_PATTERN}$", "default": names.DEFAULT_NAMESPACE},
    "Namespace to read.",
)
_LIMIT = _param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": names.MAX_LIMIT, "default": names.DEFAULT_LIMIT},
    "Most items to return.",
)
_BEFORE = _param("before", {"type": "string"}, "Opaque cursor: the `next` of the previous page.")
_MEMORY_ID = _param(
    "memory_id", {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"}, "Memory id (ULID).",
    where="path", required=True,
)


def _errors(*codes: int) -> dict:
    return {str(code): _PROBLEM for code in codes}


def _json(schema_ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def openapi_document() -> dict:
    memory_props = {
        "id": {"type": "string", "description": "ULID, time-sortable and URL-safe."},
        "namespace": {"type": "string"},
        "text": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "source": {"type": "string"},
        "session": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "epoch_ms": {"type": "integer"},
        "epoch_us": {"type": "integer", "description": "Sort key: newest first is by this."},
        "expires_at": {"type": ["integer", "null"], "description": "Epoch seconds."},
        "content_hash": {"type": "string", "description": "SHA-256 of namespace and text."},
    }
    schemas = {
        "Memory": {
            "type": "object",
            "required": list(memory_props),
            "properties": memory_props,
        },
        "WrittenMemory": {
            "allOf": [
                {"$ref": "#/components/schemas/Memory"},
                {
                    "type": "object",
                    "required": ["duplicate"],
                    "properties": {"duplicate": {"type": "boolean"}},
                },
            ]
        },
        "MemoryInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                "text": {
                    "type": "string",
                    "minLength": 1,
                    "description": f"1 to {names.MAX_TEXT_BYTES} bytes of UTF-8 after normalisation.",
                },
                "tags": {
                    "type": "array",
                    "maxItems": names.MAX_TAGS,
                    "items": {"type": "string", "minLength": 1, "maxLength": names.MAX_TAG_CHARS, "pattern": _TAG},
                },
                "namespace": {
                    "type": ["string", "null"],
                    "pattern": f"^{names.NAMESPACE_PATTERN}$",
                    "description": "Absent or null: default.",
                },
                "source": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "maxLength": names.MAX_SOURCE_CHARS,
                    "pattern": _LABEL,
                    "description": "Absent or null: api.",
                },
                "session": {"type": ["string", "null"], "minLength": 1, "maxLength": names.MAX_SESSION_CHARS, "pattern": _LABEL},
                "ttl_days": {"type": "number", "exclusiveMinimum": 0, "maximum": names.MAX_TTL_DAYS},
            },
        },
        "MemoryPage": {
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Memory"}},
                "next": {"type": ["string", "null"]},
            },
        },
        "SearchHits": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "allOf": [
                            {"$ref": "#/components/schemas/Memory"},
                            {"type": "object", "properties": {"score": {"type": "number"}}},
                        ]
                    },
                }
            },
        },
        "Context": {
            "type": "object",
            "required": ["namespace", "budget", "items", "older", "older_capped", "text"],
            "properties": {
                "namespace": {"type": "string"},
                "budget": {"type": "integer"},
                "items": {"type": "array", "items": {"type": "object"}},
                "older": {"type": "integer"},
                "older_capped": {"type": "boolean"},
                "text": {"type": "string"},
            },
        },
        "ImportResult": {
            "type": "object",
            "required": ["imported", "duplicates", "expired"],
            "properties": {
                "imported": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "expired": {"type": "integer"},
            },
        },
        "TokenRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["scope"],
            "properties": {
                "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                "kid": {"type": "string", "pattern": f"^{names.KID_PATTERN}$"},
                "scope": {"type": "string", "enum": ["r", "w", "rw", "a"]},
                "ttl_s": {"type": "integer", "minimum": 1, "maximum": names.MAX_TOKEN_TTL_S},
            },
        },
        "TokenGrant": {
            "type": "object",
            "required": ["token", "expires_at", "scope", "kid"],
            "properties": {
                "token": {"type": "string", "maxLength": names.MAX_TOKEN_CHARS},
                "expires_at": {"type": "integer"},
                "scope": {"type": "string"},
                "kid": {"type": "string"},
            },
        },
        "KeyList": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kid", "name", "root"],
                        "properties": {
                            "kid": {"type": "string"},
                            "name": {"type": "string"},
                            "created_at": {"type": ["integer", "null"]},
                            "root": {"type": "boolean"},
                        },
                    },
                }
            },
        },
        "NewKey": {
            "type": "object",
            "required": ["kid", "name", "created_at", "secret", "otpauth_uri"],
            "properties": {
                "kid": {"type": "string"},
                "name": {"type": "string"},
                "created_at": {"type": "integer"},
                "secret": {"type": "string", "description": "Base32; shown once."},
                "otpauth_uri": {"type": "string"},
            },
        },
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "request_id": {"type": "string"},
            },
        },
    }
    paths = {
        "/v1/health": {
            "get": {
                "summary": "Liveness and version",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Up",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status", "version"],
                                    "properties": {"status": {"const": "ok"}, "version": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        },
        "/v1/memories": {
            "post": {
                "summary": "Write a memory (the same text in a namespace is stored once)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MemoryInput"}}},
                },
                "responses": {
                    "201": _json("WrittenMemory", "Stored"),
                    "200": _json("WrittenMemory", "Already stored: the existing memory"),
                    **_errors(400, 401, 403, 413, 415, 503),
                },
            },
            "get": {
                "summary": "Recent memories, newest first",
                "parameters": [
                    _NAMESPACE,
                    _LIMIT,
                    _BEFORE,
                    _param("tag", {"type": "string", "minLength": 1, "maxLength": names.MAX_TAG_CHARS, "pattern": _TAG}, "Only memories with this tag."),
                    _param("since", {"type": "string"}, "ISO 8601 date or time, or 30m / 12h / 7d / 2w."),
                ],
                "responses": {"200": _json("MemoryPage", "A page"), **_errors(400, 401, 403, 503)},
            },
        },
        "/v1/memories/{memory_id}": {
            "get": {
                "summary": "One memory",
                "parameters": [_MEMORY_ID],
                "responses": {"200": _json("Memory", "The memory"), **_errors(400, 401, 403, 404, 503)},
            },
            "delete": {
                "summary": "Delete a memory",
                "parameters": [_MEMORY_ID],
                "responses": {"204": {"description": "Deleted"}, **_errors(400, 401, 403, 404, 503)},
            },
        },
        "/v1/search": {
            "get": {
                "summary": "Keyword search, best match first",
                "parameters": [
                    _param("q", {"type": "string", "minLength": 1, "maxLength": names.MAX_QUERY_CHARS}, "Words to find.", required=True),
                    _NAMESPACE,
                    _LIMIT,
                ],
                "responses": {"200": _json("SearchHits", "Hits"), **_errors(400, 401, 403, 503)},
            }
        },
        "/v1/context": {
            "get": {
                "summary": "Context block for a new session",
                "parameters": [
                    _NAMESPACE,
                    _param(
                        "budget",
                        {"type": "integer", "minimum": names.MIN_CONTEXT_BUDGET, "maximum": names.MAX_CONTEXT_BUDGET, "default": names.DEFAULT_CONTEXT_BUDGET},
                        "Most characters in the block.",
                    ),
                    _param("format", {"type": "string", "enum": ["md", "text", "json"], "default": "md"}, "Rendering."),
                ],
                "responses": {
                    "200": {
                        "description": "The block",
                        "content": {
                            "text/markdown": {"schema": {"type": "string"}},
                            "text/plain": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"$ref": "#/components/schemas/Context"}},
                        },
                    },
                    **_errors(400, 401, 403, 503),
                },
            }
        },
        "/v1/export": {
            "get": {
                "summary": "Export a namespace as NDJSON, newest first (Link rel=next pages on)",
                "parameters": [_NAMESPACE, _BEFORE],
                "responses": {
                    "200": {"description": "One memory per line", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                    **_errors(400, 401, 403, 503),
                },
            }
        },
        "/v1/import": {
            "post": {
                "summary": "Import NDJSON memories (idempotent: duplicates are skipped)",
                "requestBody": {
                    "required": True,
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                "responses": {"200": _json("ImportResult", "Counts"), **_errors(400, 401, 403, 413, 415, 503)},
            }
        },
        "/v1/tokens": {
            "post": {
                "summary": "Exchange an authenticator code, or a token of wider scope, for a window token",
                "description": "Authorised by `code` (TOTP, single use, throttled: 10 failures in 15 min or 30 a day lock the key with 429) or by a token in the usual places.",
                "security": [{}, *_AUTH],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}},
                },
                "responses": {"201": _json("TokenGrant", "Minted"), **_errors(400, 401, 403, 415, 429, 503)},
            }
        },
        "/v1/keys": {
            "get": {
                "summary": "List keys (root key, admin scope)",
                "responses": {"200": _json("KeyList", "Keys"), **_errors(400, 401, 403, 503)},
            },
            "post": {
                "summary": "Add a device key; the secret and otpauth URI are shown only in this answer",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["name"],
                                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 64}},
                            }
                        }
                    },
                },
                "responses": {"201": _json("NewKey", "Added"), **_errors(400, 401, 403, 415, 503)},
            },
        },
        "/v1/keys/{kid}": {
            "delete": {
                "summary": "Revoke a device key",
                "parameters": [_param("kid", {"type": "string", "pattern": f"^{names.KID_PATTERN}$"}, "Key id.", where="path", required=True)],
                "responses": {"204": {"description": "Revoked"}, **_errors(400, 401, 403, 404, 503)},
            }
        },
        "/r": {
            "get": {
                "summary": "Chat read URL: markdown context plus write instructions",
                "description": "Authorised by `t` (read scope) or `code` (authenticator code, single use, throttled). Errors are one plain-text sentence.",
                "security": [{}],
                "parameters": [
                    _param("t", {"type": "string", "maxLength": names.MAX_TOKEN_CHARS}, "Window token."),
                    _param("code", {"type": "string", "pattern": "^[0-9]{6}$"}, "Authenticator code."),
                    _param("kid", {"type": "string", "pattern": f"^{names.KID_PATTERN}$"}, "Key of the code (default root)."),
                    _param("n", {"type": "integer", "minimum": 1, "maximum": names.MAX_LIMIT, "default": names.DEFAULT_LIMIT}, "Most memories."),
                    _param("ns", {"type": "string", "pattern": f"^{names.NAMESPACE_PATTERN}$"}, "Namespace."),
                    _param("q", {"type": "string", "minLength": 1, "maxLength": names.MAX_QUERY_CHARS}, "Search instead of recency."),
                    _param("budget", {"type": "integer", "minimum": names.MIN_CONTEXT_BUDGET, "maximum": names.MAX_CONTEXT_BUDGET}, "Most characters of context."),
                ],
                "responses": {
                    "200": {"description": "Context", "content": {"text/markdown": {"schema": {"type": "string"}}}},
                    **{str(c): _TEXT_ERROR for c in (400, 401, 403, 414, 429, 503)},
                },
            }
        },
        "/w": {
            "get": {
                "summary": "Chat write URL: the memory in the query string",
                "description": "`z` = base64url(gzip(UTF-8 text)), or `m` = percent-encoded text; exactly one. Idempotent: the same URL again answers `already saved <id>`.",
                "security": _AUTH,
                "parameters": [
                    _param("t", {"type": "string", "maxLength": names.MAX_TOKEN_CHARS}, "Window token with write scope (or any other token place)."),
                    _param("z", {"type": "string"}, "base64url of gzip-compressed text."),
                    _param("m", {"type": "string"}, "The text, percent-encoded."),
                    _param("tags", {"type": "string"}, "Comma-separated tags."),
                    _param("ns", {"type": "string", "pattern": f"^{names.NAMESPACE_PATTERN}$"}, "Namespace."),
                    _param("source", {"type": "string", "maxLength": names.MAX_SOURCE_CHARS, "pattern": _LABEL}, "Default chat."),
                ],
                "responses": {
                    "201": {"description": "saved <id>", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "200": {"description": "already saved <id>", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    **{str(c): _TEXT_ERROR for c in (400, 401, 403, 414, 503)},
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GlyphMemory",
            "version": __version__,
            "description": "Episodic memory for AI assistants. Errors are application/problem+json (RFC 9457).",
        },
        "security": _AUTH,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Problem": {
                    "description": "Problem details",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Window token kid.scope.exp.sig"},
                "tokenHeader": {"type": "apiKey", "in": "header", "name": "X-Glyph-Token"},
                "tokenQuery": {"type": "apiKey", "in": "query", "name": "t"},
            },
        },
    }
