"""The OpenAPI 3.1 document, built from the routes' own declarations (core.Router.add): their
parameters, bodies and answers are what the App enforces, so the document cannot drift."""

from __future__ import annotations

from .. import __version__, names
from .core import CHAT_PATHS

_AUTH = [{"bearer": []}, {"tokenHeader": []}, {"tokenQuery": []}]
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_TEXT_ERROR = {"description": "One plain-text sentence", "content": {"text/plain": {"schema": {"type": "string"}}}}


def _schemas() -> dict:
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
        "updated_at": {"type": ["string", "null"], "format": "date-time", "description": "Last edit, if any."},
        "expires_at": {"type": ["integer", "null"], "description": "Epoch seconds."},
        "content_hash": {
            "type": "string",
            "description": "The dedup key: SHA-256 of the namespace and the text's canonical form.",
        },
    }
    return {
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
                    "required": ["duplicate", "extended", "tags_added", "session_set", "redacted"],
                    "properties": {
                        "duplicate": {"type": "boolean"},
                        "extended": {"type": "boolean", "description": "A repeat made the memory live longer."},
                        "tags_added": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Tags a repeat added.",
                        },
                        "session_set": {"type": "boolean", "description": "A repeat set the missing session."},
                        "redacted": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Kinds of secret replaced by [redacted:KIND] before storing.",
                        },
                        "similar": {
                            "type": "array",
                            "maxItems": 3,
                            "description": "Other memories of the namespace close to this new one (best "
                            "first): if one says the same, correct it (PATCH) and delete this one.",
                            "items": {
                                "type": "object",
                                "required": ["id", "score", "excerpt"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                                    "excerpt": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            ]
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
                            {
                                "type": "object",
                                "properties": {
                                    "score": {"type": "number"},
                                    "matched": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "description": "The query's words this memory holds (normalised); empty for a memory "
                                        "of the same session shown because it follows one of the best hits",
                                    },
                                },
                            },
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
            "required": ["imported", "duplicates", "expired", "redacted"],
            "properties": {
                "imported": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "expired": {"type": "integer"},
                "redacted": {"type": "array", "items": {"type": "string"}},
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
        "ConnectorList": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "client_id", "resource", "created_at", "expires_at"],
                        "properties": {
                            "id": {"type": "string"},
                            "client_id": {"type": "string"},
                            "client_name": {"type": ["string", "null"]},
                            "resource": {"type": "string"},
                            "created_at": {"type": "string"},
                            "used_at": {"type": ["string", "null"]},
                            "expires_at": {"type": "string"},
                        },
                    },
                }
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
                "other_id": {"type": "string", "description": "409: the memory that already holds the text."},
                "retry_after_s": {"type": "integer", "description": "429, 503: seconds to wait (as Retry-After)."},
                "redacted": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "422: the kinds of secret the text held (GLYPH_REDACT=refuse).",
                },
            },
        },
    }


def _answer(content, description: str) -> dict:
    if content is None:
        return {"description": description}
    if isinstance(content, str):
        content = {"application/json": {"$ref": f"#/components/schemas/{content}"}}
    return {"description": description, "content": {media: {"schema": schema} for media, schema in content.items()}}


def _operation(route) -> dict:
    summary, description, security = route.doc
    operation = {"summary": summary}
    if description:
        operation["description"] = description
    if route.scope is None:
        operation["security"] = [] if security is None else security
    if route.params:
        operation["parameters"] = [p.openapi() for p in route.params]
    if route.body is not None:
        media, schema = route.body.media, route.body.schema()
        operation["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
    responses = {str(status): _answer(content, text) for status, (content, text) in route.answers.items()}
    # Any request can be malformed (400) or longer than a URL may be (414); a scoped one can lack
    # its token (401) or carry the wrong scope (403).
    errors = {400, 414, *route.errors} | ({401, 403} if route.scope else set())
    error = _TEXT_ERROR if route.template in CHAT_PATHS else _PROBLEM
    responses.update({str(code): error for code in sorted(errors)})
    operation["responses"] = responses
    return operation


def operation_id(route, taken: set[str]) -> str:
    """The handler's name in camelCase (write_memory → writeMemory), unique in the document:
    tools that import it (GPT Actions, client generators) name each operation by it."""
    head, *rest = route.handler.__name__.strip("_").split("_")
    name = head + "".join(word.capitalize() for word in rest)
    if name in taken:
        name += route.method.capitalize()
    taken.add(name)
    return name


def openapi_document(routes, base_url: str) -> dict:
    """The OpenAPI 3.1 document of these routes, served from `base_url` (its `servers` entry)."""
    paths: dict = {}
    taken: set[str] = set()
    for route in routes:
        operation = {"operationId": operation_id(route, taken), **_operation(route)}
        paths.setdefault(route.template, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GlyphMemory",
            "version": __version__,
            "description": "Episodic memory for AI assistants. Errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": base_url}],
        "security": _AUTH,
        "paths": paths,
        "components": {
            "schemas": _schemas(),
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
