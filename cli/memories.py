"""The memory commands: serve, write, recent, search, get, edit, delete, export, import and
spool (context: context.py; chat URLs: chat_url.py)."""

from __future__ import annotations

import json
import os
import sys

from glyphmemory import __version__, names

from . import config
from .base import (
    EXIT_OK,
    EXIT_SERVER,
    EXIT_USAGE,
    NS,
    PROJECT_NS,
    CliError,
    arg,
    call,
    command,
    deliver_spool,
    emit,
    human_time,
    make_client,
    one_line,
    open_spool,
    reraise,
    warn_redacted,
)


@command(
    arg("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"),
    arg("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)"),
)
def cmd_serve(args) -> int:
    """Run the local GlyphMemory server (SQLite in your data folder, no cloud needed).

    Creates the root key on first run, so the other glyph commands work at once.
    """
    import signal

    from glyphmemory.errors import GlyphError
    from glyphmemory.keys import ensure_key_file
    from glyphmemory.runtime import build_app, root_key
    from glyphmemory.server import make_server

    settings = config.settings()
    key, created = root_key(settings), False
    if key is None:
        key, created = ensure_key_file(config.key_path())
    store_url = config.store_url()
    try:
        app = build_app(store_url, key, settings=settings)
    except GlyphError as exc:
        raise CliError(exc.detail, EXIT_USAGE) from None
    try:
        server = make_server(app, args.host, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_SERVER) from None
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    info = {
        "url": url,
        "store": store_url,
        "key_file": None if settings.key else config.key_path(),
        "key_created": created,
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(
            f"GlyphMemory {__version__} serving {url}\n"
            f"  store: {store_url}\n"
            f"  key:   {info['key_file'] or names.ENV_KEY} ({'created now' if created else 'kid ' + key.kid})\n"
            + ("  basic auth: on (JSON API needs credentials and a token)\n" if app.basic_auth else "")
            + f"  web page: {url}/ui (glyph ui signs this browser in); MCP: {url}/mcp\n"
            + "Next, in another terminal:\n"
            '  glyph write "We use pytest, not unittest" --tags preference\n'
            "  glyph recent\n"
            "  glyph context\n"
            "Stop with Ctrl-C.",
            flush=True,
        )

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.memories.store.close()
    return EXIT_OK


@command(
    arg("text", metavar="TEXT", help="the memory, or - to read standard input"),
    arg("--tags", help="comma-separated tags, e.g. decision,infra"),
    PROJECT_NS,
    arg("--source", default="cli", help="who wrote it (default cli)"),
    arg("--session", help="an id grouping memories of one session"),
    arg("--ttl-days", type=float, help="forget the memory after this many days"),
)
def cmd_write(args) -> int:
    """Save a memory. TEXT is the memory; use - to read it from standard input.

    Writing the same text to the same namespace again returns the memory already saved (the
    later expiry wins, no expiry beats any; new tags are added; a missing session is set).
    """
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise CliError("nothing to save: the text is empty", EXIT_USAGE)
    payload = {"text": text, "source": args.source, "namespace": args.ns}
    if args.tags:
        payload["tags"] = [t.strip() for t in args.tags.split(",") if t.strip()]
    if args.session:
        payload["session"] = args.session
    if args.ttl_days is not None:
        payload["ttl_days"] = args.ttl_days
    memory = _or_spooled(args, "POST", "/v1/memories", payload, lambda spool: spool.append(payload), "saved")
    if memory is None:
        return EXIT_OK
    warn_redacted(memory.get("redacted"))
    if memory["duplicate"]:
        from glyphmemory.repeat import summary

        emit(args, memory, f"already saved {memory['id']}{summary(memory)}")
    else:
        from glyphmemory.similar import lines

        emit(args, memory, f"saved {memory['id']}\n{lines(memory.get('similar') or [])}".rstrip("\n"))
    return EXIT_OK


@command(
    arg("-n", type=int, default=10, help="how many (1-100, default 10)"),
    PROJECT_NS,
    arg("--tag", help="only memories with this tag"),
    arg("--since", help="ISO date/time, or 30m, 12h, 7d, 2w"),
)
def cmd_recent(args) -> int:
    """Show the most recent memories, newest first."""
    query = {"namespace": args.ns, "limit": args.n, "tag": args.tag, "since": args.since}
    page = call(make_client().call, "GET", "/v1/memories", scope="r", query=query)
    lines = []
    for m in page["items"]:
        tags = f"  [{', '.join(m['tags'])}]" if m["tags"] else ""
        lines.append(f"{human_time(m['created_at'])}  {m['id']}{tags}\n  {one_line(m['text'])}")
    emit(args, page, "\n".join(lines) if lines else f"no memories in namespace {args.ns}")
    return EXIT_OK


@command(
    arg("query", metavar="Q", help="words to search for"),
    arg("-n", type=int, default=10, help="how many (1-100, default 10)"),
    NS,
)
def cmd_search(args) -> int:
    """Search memories by keywords, best match first."""
    query = {"q": args.query, "namespace": args.ns, "limit": args.n}
    hits = call(make_client().call, "GET", "/v1/search", scope="r", query=query)
    lines = [
        f"{m['score']:>7.3f}  {human_time(m['created_at'])}  {m['id']}  "
        + (f"matched: {', '.join(m['matched'])}" if m.get("matched") else "follows a match (same session)")
        + f"\n         {one_line(m['text'], 90)}"
        for m in hits["items"]
    ]
    emit(args, hits, "\n".join(lines) if lines else f"nothing matches {args.query!r}")
    return EXIT_OK


def _or_spooled(args, method: str, path: str, payload: dict, keep, done: str) -> dict | None:
    """The API's answer to a write or an edit, or None when it was spooled (said on stdout): one
    that cannot land within a few seconds (no answer, 408, 429, 5xx) is kept by `keep(spool)`,
    not waited for, so nothing is lost. One the server would refuse is refused now (exit 1)."""
    from glyphmemory.api_client import ApiError, NetworkError, retryable

    try:  # rw: a write answers similar memories, an edit the memory
        return make_client(deadline_s=5.0).call(method, path, scope="rw", payload=payload)
    except (NetworkError, ApiError) as exc:
        if not retryable(exc):
            return call(reraise, exc)
        from glyphmemory.errors import InvalidInput

        try:
            kinds = keep(open_spool())
        except InvalidInput as refused:
            raise CliError(
                f"not {done} (the server is not reachable, and would refuse it): {refused}", EXIT_USAGE
            ) from None
        warn_redacted(kinds, before="spooling")
        why = "server unreachable" if isinstance(exc, NetworkError) else f"server answered {exc.status}"
        emit(
            args,
            {"spooled": True, "reason": why, "redacted": sorted(set(kinds))},
            f"spooled ({why}): it will be sent by the next glyph command",
        )
        return None


@command(
    arg("id", metavar="ID", help="the memory's id"),
)
def cmd_get(args) -> int:
    """Show one memory in full, by its id."""
    m = call(make_client().call, "GET", f"/v1/memories/{args.id}", scope="r")
    tags = f"  [{', '.join(m['tags'])}]" if m["tags"] else ""
    edited = f" (edited {human_time(m['updated_at'])})" if m.get("updated_at") else ""
    when = human_time(m["created_at"]) + edited
    emit(args, m, f"{m['id']}  {when}  {m['namespace']}  {m['source']}{tags}\n\n{m['text']}")
    return EXIT_OK


@command(
    arg("id", metavar="ID", help="the memory's id"),
    arg("text", nargs="?", metavar="TEXT", help="the corrected text, or - to read standard input"),
    arg("--tags", help="the new comma-separated tags (an empty string clears them)"),
)
def cmd_edit(args) -> int:
    """Correct a memory in place: new TEXT and/or --tags; it keeps its id and its place in time.

    Fails (exit 1) when another memory of the namespace already holds the new text. When the
    server cannot take it now, the edit is spooled (like a write) and sent by the next command.
    """
    payload: dict = {}
    if args.text is not None:
        payload["text"] = sys.stdin.read() if args.text == "-" else args.text
    if args.tags is not None:
        payload["tags"] = [t.strip() for t in args.tags.split(",") if t.strip()]
    if not payload:
        raise CliError("give the corrected TEXT, --tags, or both", EXIT_USAGE)
    path = f"/v1/memories/{args.id}"
    memory = _or_spooled(args, "PATCH", path, payload, lambda spool: spool.append_edit(args.id, payload), "edited")
    if memory is None:
        return EXIT_OK
    warn_redacted(memory.get("redacted"))
    emit(args, memory, f"edited {memory['id']}")
    return EXIT_OK


@command(
    arg("id", metavar="ID", help="the memory's id"),
)
def cmd_delete(args) -> int:
    """Delete one memory, by its id."""
    call(make_client().request, "DELETE", f"/v1/memories/{args.id}", scope="w")
    emit(args, {"deleted": args.id}, f"deleted {args.id}")
    return EXIT_OK


@command(
    NS,
    arg("--out", metavar="FILE", help="write to FILE (0600) instead of standard output"),
)
def cmd_export(args) -> int:
    """Export a namespace as NDJSON (one memory per line, newest first), to stdout or --out."""
    client = make_client()
    out = sys.stdout.buffer
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        out = os.fdopen(fd, "wb")
    count, query = 0, {"namespace": args.ns}
    try:
        while True:
            answer = call(client.request, "GET", "/v1/export", scope="r", query=query)
            out.write(answer.body)
            count += answer.body.count(b"\n")
            cursor = answer.next_cursor
            if cursor is None:
                break
            query = {"namespace": args.ns, "before": cursor}
    finally:
        if args.out:
            out.close()
        else:
            out.flush()
    if args.out:
        emit(args, {"exported": count, "file": args.out}, f"exported {count} memories to {args.out}")
    return EXIT_OK


@command(
    arg("file", metavar="FILE", help="an NDJSON export, or - for standard input"),
)
def cmd_import(args) -> int:
    """Import NDJSON memories (a glyph export) from FILE or -; importing twice adds nothing."""
    try:
        if args.file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as fh:
                raw = fh.read()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}", EXIT_USAGE) from None
    client = make_client()
    totals = {"imported": 0, "duplicates": 0, "expired": 0}
    redacted: set[str] = set()
    for chunk in _chunks(raw, limit=4 * 1024 * 1024):
        answer = call(client.call, "POST", "/v1/import", scope="w", body=chunk, content_type="application/x-ndjson")
        redacted.update(answer.pop("redacted", []))
        for name, value in answer.items():
            totals[name] += value
    totals["redacted"] = sorted(redacted)
    warn_redacted(redacted)
    emit(
        args,
        totals,
        f"imported {totals['imported']}, {totals['duplicates']} already there, {totals['expired']} expired",
    )
    return EXIT_OK


def _chunks(raw: bytes, *, limit: int):
    """Whole lines, at most `limit` bytes a request (a single longer line goes alone)."""
    from glyphmemory.ndjson import split_lines  # lines end at \n only, as the server reads them

    chunk = bytearray()
    for line in split_lines(raw):
        if chunk and len(chunk) + len(line) > limit:
            yield bytes(chunk)
            chunk.clear()
        chunk += line
    if chunk.strip():
        yield bytes(chunk)


@command()
def cmd_spool(args) -> int:
    """Show memories waiting to be delivered, and try to deliver them now.

    Each waits with its secrets already removed (the server's redaction rules, applied before
    anything is written to disk). What the server refuses for good (a 4xx about the memory itself)
    is set aside in spool.rejected.ndjson with the answer's status and detail.
    """
    from .base import why_spooled

    spool = open_spool()
    waiting = spool.entries()
    result = deliver_spool(make_client(tries=1), quiet=True) if waiting else None
    left = spool.entries()
    delivered = len(result.delivered) if result else 0
    refused = result.rejected if result else 0
    reason = why_spooled(result.held_by) if left and result else None
    data = {
        "waiting": len(waiting),
        "delivered": delivered,
        "rejected": refused,
        "remaining": [e.get("payload") or {"edit": e["edit"], **e["changes"]} for e in left],
        "reason": reason,
    }
    lines = [
        f"{delivered} delivered, {refused} set aside, {len(left)} still waiting" + (f": {reason}" if reason else "")
    ]
    lines += [f"  {human_time(e.get('spooled_at'))}  {_waiting(e)}" for e in left]
    emit(args, data, "\n".join(lines) if waiting else "the spool is empty")
    return EXIT_OK


def _waiting(entry: dict) -> str:
    """A spooled entry in one line: `NAMESPACE: text` (a write) or `edit ID: text [tags]`."""
    if "edit" in entry:
        changes = entry["changes"]
        tags = f" [{', '.join(map(str, changes['tags']))}]" if "tags" in changes else ""
        return f"edit {entry['edit']}: {one_line(str(changes.get('text', '')), 60)}{tags}"
    payload = entry["payload"]
    return f"{payload.get('namespace', names.DEFAULT_NAMESPACE)}: {one_line(str(payload.get('text', '')), 80)}"
