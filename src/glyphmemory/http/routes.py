"""The /v1 memory routes: each declares its input, then calls one domain function."""

from __future__ import annotations

from .. import __version__, names
from ..context import build_context, context_json, render_context
from ..cursor import decode_cursor, encode_cursor
from ..model import FIELDS, Cursor
from ..search import search_hits
from . import params as p
from .core import Call, Response, Router

ROUTER = Router()
route = ROUTER.add

MEMORY_INPUT = p.JsonBody(
    "MemoryInput",
    "a memory",
    {
        "text": FIELDS["text"].json_schema(),
        "tags": FIELDS["tags"].json_schema(),
        "namespace": FIELDS["namespace"].json_schema(nullable=True, description="Absent or null: default."),
        "source": FIELDS["source"].json_schema(nullable=True, description="Absent or null: api."),
        "session": FIELDS["session"].json_schema(nullable=True),
        "ttl_days": FIELDS["ttl_days"].json_schema(),
    },
    required=("text",),
)
MEMORY_EDIT = p.JsonBody(
    "MemoryEdit",
    "an edit",
    {"text": MEMORY_INPUT.fields["text"], "tags": MEMORY_INPUT.fields["tags"]},
    min_fields=1,
)
NDJSON = p.RawBody(
    "application/x-ndjson",
    "One memory per line, as /v1/export writes them.",
    limit=names.MAX_IMPORT_BODY_BYTES,
    accept=("application/x-ndjson", "application/jsonl"),
    media_error="send the export as Content-Type: application/x-ndjson, one memory per line",
    limit_error=f"an import is at most {names.MAX_IMPORT_BODY_BYTES} bytes: split the file",
)
_CONTEXT_ANSWER = {
    "text/markdown": {"type": "string"},
    "text/plain": {"type": "string"},
    "application/json": {"$ref": "#/components/schemas/Context"},
}
_NAMESPACES_ANSWER = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "string"}}},
    "required": ["items"],
}


def before(app, call: Call, namespace: str) -> Cursor | None:
    raw = call.args["before"]
    return None if raw is None else decode_cursor(raw, namespace, app.cursor_key)


def next_cursor(app, page_next: Cursor | None, namespace: str) -> str | None:
    return None if page_next is None else encode_cursor(page_next, namespace, app.cursor_key)


@route(
    "GET",
    "/v1/health",
    scope=None,
    summary="Liveness and version",
    answers={
        200: (
            {
                "application/json": {
                    "type": "object",
                    "required": ["status", "version"],
                    "properties": {"status": {"const": "ok"}, "version": {"type": "string"}},
                }
            },
            "Up",
        ),
    },
)
def health(app, call: Call) -> Response:
    return Response.json({"status": "ok", "version": __version__})


@route(
    "GET",
    "/openapi.json",
    scope=None,
    summary="This document",
    answers={200: ({"application/json": {"type": "object"}}, "OpenAPI 3.1")},
)
def openapi(app, call: Call) -> Response:
    from .core import public_base_url
    from .openapi import openapi_document  # only this route pays for building it

    document = openapi_document([r for r in app.router.routes if r.doc[0]], public_base_url(call.request))
    return Response.json(document, **{"Cache-Control": "public, max-age=300"})


@route(
    "POST",
    "/v1/memories",
    scope="w",
    body=MEMORY_INPUT,
    errors=(413, 415, 422, 503),
    summary="Write a memory (the same text in a namespace is stored once)",
    description="A repeat (the same text up to whitespace and invisible characters) stores nothing new: "
    "the later expiry wins (no expiry beats any), new tags are added (16 at most), a missing session "
    "is filled in; `extended`, `tags_added` and `session_set` say what changed.",
    answers={201: ("WrittenMemory", "Stored"), 200: ("WrittenMemory", "Already stored: the existing memory")},
)
def write_memory(app, call: Call) -> Response:
    written = app.memories.write(**call.body, similar=call.grant.allows("r"))
    memory, duplicate = written
    return Response.json(written.to_json(), 200 if duplicate else 201)


@route(
    "GET",
    "/v1/memories",
    scope="r",
    params=(p.NAMESPACE, p.LIMIT, p.BEFORE, p.TAG, p.SINCE),
    errors=(503,),
    summary="Recent memories, newest first",
    answers={200: ("MemoryPage", "A page")},
)
def recent_memories(app, call: Call) -> Response:
    a = call.args
    page = app.memories.recent(
        a["namespace"], limit=a["limit"], before=before(app, call, a["namespace"]), tag=a["tag"], since_us=a["since"]
    )
    return Response.json(
        {"items": [m.to_json() for m in page.items], "next": next_cursor(app, page.next, a["namespace"])}
    )


@route(
    "GET",
    "/v1/memories/{memory_id}",
    scope="r",
    params=(p.MEMORY_ID,),
    errors=(404, 503),
    summary="One memory",
    answers={200: ("Memory", "The memory")},
)
def get_memory(app, call: Call) -> Response:
    return Response.json(app.memories.get(call.args["memory_id"]).to_json())


@route(
    "PATCH",
    "/v1/memories/{memory_id}",
    scope="rw",  # it answers the memory: reading (issue 21 §1)
    params=(p.MEMORY_ID,),
    body=MEMORY_EDIT,
    errors=(404, 409, 413, 415, 422, 503),
    summary="Correct a memory's text and/or tags in place (same id, time and place in the order)",
    description="The new text is redacted and deduplicated like a write: 409 when another memory "
    "of the namespace holds it (the detail names that memory).",
    answers={200: ("WrittenMemory", "The memory as it now is")},
)
def edit_memory(app, call: Call) -> Response:
    body = call.body
    written = app.memories.edit(call.args["memory_id"], text=body.get("text"), tags=body.get("tags"))
    return Response.json(written.to_json())


@route(
    "DELETE",
    "/v1/memories/{memory_id}",
    scope="w",
    params=(p.MEMORY_ID,),
    errors=(404, 503),
    summary="Delete a memory",
    answers={204: (None, "Deleted")},
)
def delete_memory(app, call: Call) -> Response:
    app.memories.delete(call.args["memory_id"])
    return Response(204)


@route(
    "GET",
    "/v1/search",
    scope="r",
    params=(p.SEARCH_QUERY, p.NAMESPACE, p.LIMIT),
    errors=(503,),
    summary="Keyword search, best match first",
    answers={200: ("SearchHits", "Hits")},
)
def search(app, call: Call) -> Response:
    a = call.args
    hits = search_hits(app.memories, a["q"], namespace=a["namespace"], limit=a["limit"])
    return Response.json({"items": [{**m.to_json(), "score": s, "matched": w} for m, s, w in hits]})


_REINDEX_ANSWER = {
    "application/json": {
        "type": "object",
        "required": ["namespace", "indexed", "done"],
        "properties": {
            "namespace": {"type": "string"},
            "indexed": {"type": "integer", "description": "Memories indexed by this call"},
            "done": {"type": "boolean", "description": "False: call again (restart=0) to go on"},
        },
    }
}
REINDEX_STEP_S = 20.0  # one call's share of a rebuild: well inside API Gateway's 30 s


@route(
    "POST",
    "/v1/reindex",
    scope="a",
    params=(p.NAMESPACE, p.one_of("restart", ("0", "1"), "1", "1: start afresh; 0: go on where the last call stopped")),
    errors=(503,),
    summary="Rebuild a namespace's search index from its memories (admin scope); repeat until done",
    answers={200: (_REINDEX_ANSWER, "Progress")},
)
def reindex(app, call: Call) -> Response:
    import time

    a = call.args
    result = app.memories.store.reindex(
        a["namespace"], restart=a["restart"] == "1", deadline_s=time.monotonic() + REINDEX_STEP_S
    )
    return Response.json(result)


@route(
    "GET",
    "/v1/namespaces",
    scope="r",
    errors=(503,),
    summary="The namespaces that hold memories, in name order (at most 1,000)",
    answers={200: ({"application/json": _NAMESPACES_ANSWER}, "Namespaces")},
)
def list_namespaces(app, call: Call) -> Response:
    return Response.json({"items": app.memories.namespaces()})


@route(
    "GET",
    "/v1/context",
    scope="r",
    params=(p.NAMESPACE, p.BUDGET, p.FORMAT),
    errors=(503,),
    summary="Context block for a new session",
    answers={200: (_CONTEXT_ANSWER, "The block")},
)
def context(app, call: Call) -> Response:
    a = call.args
    block = build_context(app.memories, a["namespace"], a["budget"], a["format"])
    if a["format"] == "json":
        return Response.json(context_json(block))
    media = "text/markdown" if a["format"] == "md" else "text/plain"
    return Response.text(render_context(block, a["format"]), content_type=media)


@route(
    "GET",
    "/v1/export",
    scope="r",
    params=(p.NAMESPACE, p.BEFORE),
    errors=(503,),
    summary="Export a namespace as NDJSON, newest first (Link rel=next pages on)",
    answers={200: ({"application/x-ndjson": {"type": "string"}}, "One memory per line")},
)
def export(app, call: Call) -> Response:
    namespace = call.args["namespace"]
    body, page_next = app.memories.export_page(namespace, before=before(app, call, namespace))
    response = Response(200, body, {"Content-Type": "application/x-ndjson; charset=utf-8"})
    cursor = next_cursor(app, page_next, namespace)
    if cursor is not None:
        response.headers["Link"] = f'</v1/export?namespace={namespace}&before={cursor}>; rel="next"'
    return response


@route(
    "POST",
    "/v1/import",
    scope="w",
    body=NDJSON,
    errors=(413, 415, 422, 503),
    summary="Import NDJSON memories (idempotent: duplicates are skipped)",
    answers={200: ("ImportResult", "Counts")},
)
def import_memories(app, call: Call) -> Response:
    return Response.json(app.memories.import_lines(call.body))
