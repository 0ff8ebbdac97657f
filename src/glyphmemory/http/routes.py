"""The /v1 routes: each parses its input, then calls one domain function."""

from __future__ import annotations

import re
import time

from .. import __version__, names
from ..context import build_context, context_json, render_context
from ..cursor import decode_cursor, encode_cursor
from ..errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from ..model import Cursor, validate_namespace, validate_tag
from ..search import search_memories
from ..service import parse_time_us
from .app import App, Call, Response, Router, require_json_body

ROUTER = Router()
route = ROUTER.add

_WRITE_FIELDS = {"text", "tags", "namespace", "source", "session", "ttl_days"}
_RELATIVE_RE = re.compile(r"([0-9]{1,6})([mhdw])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# --- query parsing -----------------------------------------------------------------------------


def int_param(query: dict, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def namespace_param(query: dict) -> str:
    return validate_namespace(query.get("namespace", names.DEFAULT_NAMESPACE))


def before_param(app: App, query: dict, namespace: str) -> Cursor | None:
    raw = query.get("before")
    return None if raw is None else decode_cursor(raw, namespace, app.cursor_key)


def since_param(query: dict) -> int | None:
    """ISO 8601 (2026-11-21, 2026-11-21T09:30:00Z) or relative: 30m, 12h, 7d, 2w."""
    raw = query.get("since")
    if raw is None:
        return None
    relative = _RELATIVE_RE.fullmatch(raw)
    if relative:
        seconds = int(relative.group(1)) * _UNIT_S[relative.group(2)]
        return int((time.time() - seconds) * 1_000_000)
    return parse_time_us(raw, field="since")


def next_link(app: App, page_next: Cursor | None, namespace: str) -> str | None:
    return None if page_next is None else encode_cursor(page_next, namespace, app.cursor_key)


# --- routes --------------------------------------------------------------------------------


@route("GET", "/v1/health", scope=None)
def health(app: App, call: Call) -> Response:
    return Response.json({"status": "ok", "version": __version__})


@route("GET", "/openapi.json", scope=None)
def openapi(app: App, call: Call) -> Response:
    from .openapi import openapi_document  # only this route pays for building it

    return Response.json(openapi_document(), **{"Cache-Control": "public, max-age=300"})


@route("POST", "/v1/memories", scope="w")
def write_memory(app: App, call: Call) -> Response:
    body = require_json_body(call.request)
    unknown = sorted(set(body) - _WRITE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0][:40]!r}; a memory takes {', '.join(sorted(_WRITE_FIELDS))}"
        )
    if "text" not in body:
        raise InvalidInput("text is required")
    memory, duplicate = app.memories.write(**body)
    data = {**memory.to_json(), "duplicate": duplicate}
    return Response.json(data, 200 if duplicate else 201)


@route("GET", "/v1/memories", scope="r", query=("namespace", "limit", "before", "tag", "since"))
def recent_memories(app: App, call: Call) -> Response:
    q = call.query
    namespace = namespace_param(q)
    tag = validate_tag(q["tag"]) if "tag" in q else None
    page = app.memories.recent(
        namespace,
        limit=int_param(q, "limit", names.DEFAULT_LIMIT, 1, names.MAX_LIMIT),
        before=before_param(app, q, namespace),
        tag=tag,
        since_us=since_param(q),
    )
    return Response.json(
        {"items": [m.to_json() for m in page.items], "next": next_link(app, page.next, namespace)}
    )


@route("GET", "/v1/memories/{memory_id}", scope="r")
def get_memory(app: App, call: Call) -> Response:
    return Response.json(app.memories.get(call.params["memory_id"]).to_json())


@route("DELETE", "/v1/memories/{memory_id}", scope="w")
def delete_memory(app: App, call: Call) -> Response:
    app.memories.delete(call.params["memory_id"])
    return Response(204)


@route("GET", "/v1/search", scope="r", query=("q", "namespace", "limit"))
def search(app: App, call: Call) -> Response:
    q = call.query
    if "q" not in q:
        raise InvalidInput("q is required: the words to search for")
    hits = search_memories(
        app.memories,
        q["q"],
        namespace=namespace_param(q),
        limit=int_param(q, "limit", names.DEFAULT_LIMIT, 1, names.MAX_LIMIT),
    )
    return Response.json({"items": [{**m.to_json(), "score": s} for m, s in hits]})


@route("GET", "/v1/context", scope="r", query=("namespace", "budget", "format"))
def context(app: App, call: Call) -> Response:
    q = call.query
    fmt = q.get("format", "md")
    budget = int_param(
        q, "budget", names.DEFAULT_CONTEXT_BUDGET, names.MIN_CONTEXT_BUDGET, names.MAX_CONTEXT_BUDGET
    )
    block = build_context(app.memories, namespace_param(q), budget, fmt)
    if fmt == "json":
        return Response.json(context_json(block))
    media = "text/markdown" if fmt == "md" else "text/plain"
    return Response.text(render_context(block, fmt), content_type=media)


@route("GET", "/v1/export", scope="r", query=("namespace", "before"))
def export(app: App, call: Call) -> Response:
    namespace = namespace_param(call.query)
    body, page_next = app.memories.export_page(
        namespace, before=before_param(app, call.query, namespace)
    )
    response = Response(200, body, {"Content-Type": "application/x-ndjson; charset=utf-8"})
    cursor = next_link(app, page_next, namespace)
    if cursor is not None:
        response.headers["Link"] = f'</v1/export?namespace={namespace}&before={cursor}>; rel="next"'
    return response


@route("POST", "/v1/import", scope="w")
def import_memories(app: App, call: Call) -> Response:
    media = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/x-ndjson", "application/jsonl"):
        raise UnsupportedMediaType(
            "send the export as Content-Type: application/x-ndjson, one memory per line"
        )
    if len(call.request.body) > names.MAX_IMPORT_BODY_BYTES:
        raise PayloadTooLarge(
            f"an import is at most {names.MAX_IMPORT_BODY_BYTES} bytes: split the file"
        )
    return Response.json(app.memories.import_lines(call.request.body))
