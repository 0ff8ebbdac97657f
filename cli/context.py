"""glyph context: the block a new assistant session starts from, and the SessionStart hook that
must never start a session empty (a cached block when the server cannot answer in time)."""

from __future__ import annotations

import sys

from glyphmemory import names

from .base import (
    EXIT_OK,
    EXIT_USAGE,
    NS,
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
    NS,
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
        return _context_for_hook(query)
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


def _context_for_hook(query: dict) -> int:
    import time

    from glyphmemory import utf16

    from . import context_cache
    from .client import ApiError, NetworkError

    deadline = time.monotonic() + HOOK_DEADLINE_S
    budget = query["budget"]  # UTF-16 code units, on every path below: Claude Code counts them
    try:
        server = server_url()
    except CliError as exc:
        sys.stdout.write(context_cache.fit(f"GlyphMemory: no memories loaded this session ({exc}).\n", budget))
        return EXIT_OK
    try:
        client = make_client(tries=2, deadline_s=HOOK_DEADLINE_S, timeout=HOOK_TRY_TIMEOUT_S)
        _, _, data = client.request("GET", "/v1/context", scope="r", query=query)
    except (CliError, NetworkError, ApiError, OSError, ValueError) as exc:
        reason = _one_line_reason(exc.detail if isinstance(exc, ApiError) else str(exc).split(". ")[0])
        record = context_cache.load(server, query["namespace"], query["format"])
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
        return EXIT_OK
    block = data.decode("utf-8", "replace")  # the hook never fails, not even on a broken answer
    _print_block(block, query["format"], budget)
    sys.stdout.flush()
    try:
        context_cache.save(server, query["namespace"], query["format"], block)
    except OSError:
        pass  # a read-only data folder must not fail the session start
    # Writes spooled earlier go after the context, in the time left: the session's start comes first.
    deliver_spool(client, quiet=True, until=deadline)
    return EXIT_OK
