"""glyph context: the block a new assistant session starts from, and the SessionStart hook that
must never start a session empty (a cached block when the server cannot answer in time)."""

from __future__ import annotations

import sys

from glyphmemory import names

from .base import (
    EXIT_OK,
    EXIT_USAGE,
    PROJECT_NS,
    CliError,
    arg,
    call,
    command,
    deliver_spool,
    make_client,
    server_url,
    terminal_safe,
)

# The SessionStart hook's timing, from the measured deployed path (bench/deployed_path.py): a cold
# request to the function takes ~0.5 s at a 512 MB function's CPU share, so one try gets 1.5 s,
# and a second try fits before the deadline, well inside the hook's own 5 s (skills/hooks).
HOOK_TRY_TIMEOUT_S = 1.5
HOOK_DEADLINE_S = 3.0


@command(
    arg(
        "--budget",
        type=int,
        default=names.DEFAULT_CONTEXT_BUDGET,
        help="most UTF-16 code units, as Claude Code counts (an emoji is 2; default 8000)",
    ),
    PROJECT_NS,
    arg("--format", choices=("md", "text"), default="md", help="md (default) or text"),
    arg("--hook", action="store_true", help="for Claude Code's SessionStart hook: fast, never fails"),
    arg("--cached", action="store_true", help="print the last block fetched, without asking the server"),
)
def cmd_context(args) -> int:
    """Print the context block a new assistant session starts from (newest memories first).

    Every block fetched is kept (0600) in the data folder. With --cached: print the kept block,
    marked with its age, without asking the server (for when it cannot be reached).
    With --hook (Claude Code's SessionStart hook): never fails and finishes within ~3 s; when
    the server cannot answer in time it prints the kept block marked with its age and the
    reason, or, when there is none, one line saying no memories were loaded, and exits 0.
    """
    from . import context_cache

    fmt = "json" if args.json else args.format
    query = {"namespace": args.ns, "budget": args.budget, "format": fmt}
    if args.hook:
        return _context_for_hook(query, args.ns)
    if args.cached:
        record = context_cache.load(server_url(), args.ns, fmt)
        if record is None:
            raise CliError(f"no context block is cached for namespace {args.ns} of {server_url()}", EXIT_USAGE)
        print(f"GlyphMemory: {context_cache.describe(record)}.", file=sys.stderr)
        return _print_block(record["block"], fmt, args.budget)
    _, _, data = call(make_client().request, "GET", "/v1/context", scope="r", query=query)
    block = data.decode("utf-8")
    context_cache.save(server_url(), args.ns, fmt, block)
    return _print_block(block, fmt, args.budget)


def _print_block(block: str, fmt: str, budget: int) -> int:
    """The block as the terminal may show it, within `budget` UTF-16 code units (md and text; a
    JSON answer is printed whole)."""
    from . import context_cache

    if fmt == "json":
        sys.stdout.write(block if block.endswith("\n") else block + "\n")
    else:
        sys.stdout.write(context_cache.fit(terminal_safe(block), budget))
    return EXIT_OK


def _one_line_reason(reason: str) -> str:
    """Why the server gave no block, as one short line (a server's detail can be any length)."""
    from glyphmemory import utf16

    from .base import one_line

    return terminal_safe(utf16.prefix(one_line(str(reason), 300), 200))


def _context_for_hook(query: dict, explicit_ns: str | None) -> int:
    """SessionStart: the project's block (from the hook's JSON `cwd`, cli/project.py) then the
    default namespace's, within the one budget; the ids printed are kept for `glyph recall`."""
    import time

    from glyphmemory import utf16
    from glyphmemory.api_client import ApiError, NetworkError

    from . import context_cache, session_ids

    deadline = time.monotonic() + HOOK_DEADLINE_S
    budget = query["budget"]  # UTF-16 code units, on every path below: Claude Code counts them
    event = session_ids.read_event()
    namespaces, preface = _hook_namespaces(event, explicit_ns, query["format"])
    cache_ns = "+".join(namespaces)  # the last block is kept per namespace pair
    try:
        server = server_url()
    except CliError as exc:
        sys.stdout.write(context_cache.fit(f"GlyphMemory: no memories loaded this session ({exc}).\n", budget))
        return EXIT_OK
    try:
        client = make_client(tries=2, deadline_s=HOOK_DEADLINE_S, timeout=HOOK_TRY_TIMEOUT_S)
        block = preface
        for at, namespace in enumerate(namespaces):
            left = budget - utf16.length(block)
            # The project's share leaves the default namespace a third at least; the default's
            # takes what the project's block did not use.
            share = left * 2 // 3 if at == 0 and len(namespaces) > 1 else left
            if share < names.MIN_CONTEXT_BUDGET:
                break
            _, _, data = client.request(
                "GET", "/v1/context", scope="r", query={**query, "namespace": namespace, "budget": share}
            )
            block += data.decode("utf-8", "replace")  # the hook never fails, not even on a broken answer
    except (CliError, NetworkError, ApiError, OSError, ValueError) as exc:
        reason = _one_line_reason(exc.detail if isinstance(exc, ApiError) else str(exc).split(". ")[0])
        record = context_cache.load(server, cache_ns, query["format"])
        if record is None:
            line = f"GlyphMemory: no memories loaded this session ({reason}).\n"
            sys.stdout.write(context_cache.fit(line, budget))
        else:
            # The age line and the block share the budget: Claude Code counts all that is printed.
            notice = (
                f"GlyphMemory: the server did not answer in time ({reason}); these memories were "
                f"{context_cache.describe(record)} and may miss newer ones.\n\n"
            )
            sys.stdout.write(notice)
            _print_block(record["block"], query["format"], budget - utf16.length(notice))
            session_ids.remember(event, record["block"])
        return EXIT_OK
    _print_block(block, query["format"], budget)
    sys.stdout.flush()
    try:
        context_cache.save(server, cache_ns, query["format"], block)
        session_ids.remember(event, block)
    except OSError:
        pass  # a read-only data folder must not fail the session start
    # Writes spooled earlier go after the context, in the time left: the session's start comes first.
    deliver_spool(client, quiet=True, until=deadline)
    return EXIT_OK


def _hook_namespaces(event: dict, explicit_ns: str | None, fmt: str) -> tuple[list[str], str]:
    """The namespaces the session starts from (the project's first) and the line naming the
    project that goes before their blocks ("" without a project)."""
    from .project import BadProjectFile, find

    problem = ""
    if explicit_ns is not None:
        project = (explicit_ns, "--ns")
    else:
        cwd = event.get("cwd")
        try:
            project = find(cwd, git=True) if isinstance(cwd, str) and cwd else None
        except BadProjectFile as exc:  # the session starts without a project, and says why
            project, problem = None, f"GlyphMemory: no project namespace: {exc}.\n\n"
    if project is None or project[0] == names.DEFAULT_NAMESPACE:
        return [explicit_ns or names.DEFAULT_NAMESPACE], "" if fmt == "json" else problem
    if fmt == "json":
        return [project[0]], ""  # one JSON document: the project's only
    name = project[0]
    preface = (
        f"GlyphMemory: this session's project namespace is `{name}`. Save facts about this project "
        f"there (`glyph write --ns {name} …`); the user's preferences and facts that hold in every "
        f"project go to `{names.DEFAULT_NAMESPACE}` (`glyph write --ns {names.DEFAULT_NAMESPACE} …`). "
        "The project's newest memories come first, then the default namespace's.\n\n"
    )
    return [name, names.DEFAULT_NAMESPACE], preface
