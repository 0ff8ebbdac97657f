"""glyph: episodic memory for AI assistants, from the terminal.

Exit codes: 0 success, 1 usage or bad input, 2 authentication, 3 network or server.
"""

from __future__ import annotations

import argparse
import sys

from glyphmemory import __version__, names

from . import admin, memories  # noqa: F401  (they register their commands)
from .base import COMMANDS, EXIT_USAGE, CliError, deliver_spool, make_client

__all__ = ["COMMANDS", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 1, as documented
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"glyph: error: {message}\n")

def _cleandoc(doc: str) -> str:
    """inspect.cleandoc without importing inspect (11 ms at every start)."""
    first, _, rest = doc.strip("\n").partition("\n")
    lines = rest.splitlines()
    indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    return "\n".join([first.strip(), *(l[indent:] for l in lines)]).strip()

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="glyph", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"glyph {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str):
        func = COMMANDS[name]
        doc = _cleandoc(func.__doc__ or "")
        return sub.add_parser(
            name, parents=[common], help=doc.strip().splitlines()[0], description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    ns_help = f"namespace (default {names.DEFAULT_NAMESPACE})"
    p = add("serve")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    p = add("write")
    p.add_argument("text", metavar="TEXT", help="the memory, or - to read standard input")
    p.add_argument("--tags", help="comma-separated tags, e.g. decision,infra")
    p.add_argument("--ns", default=names.DEFAULT_NAMESPACE, help=ns_help)
    p.add_argument("--source", default="cli", help="who wrote it (default cli)")
    p.add_argument("--session", help="an id grouping memories of one session")
    p.add_argument("--ttl-days", type=float, help="forget the memory after this many days")
    p = add("recent")
    p.add_argument("-n", type=int, default=10, help="how many (1-100, default 10)")
    p.add_argument("--ns", default=names.DEFAULT_NAMESPACE, help=ns_help)
    p.add_argument("--tag", help="only memories with this tag")
    p.add_argument("--since", help="ISO date/time, or 30m, 12h, 7d, 2w")
    p = add("context")
    p.add_argument("--budget", type=int, default=names.DEFAULT_CONTEXT_BUDGET, help="most characters (default 8000)")
    p.add_argument("--ns", default=names.DEFAULT_NAMESPACE, help=ns_help)
    p.add_argument("--format", choices=("md", "text"), default="md", help="md (default) or text")
    p.add_argument("--hook", action="store_true", help="for Claude Code's SessionStart hook: fast, never fails")
    p.add_argument("--cached", action="store_true", help="print the last block fetched, without asking the server")
    p = add("search")
    p.add_argument("query", metavar="Q", help="words to search for")
    p.add_argument("-n", type=int, default=10, help="how many (1-100, default 10)")
    p.add_argument("--ns", default=names.DEFAULT_NAMESPACE, help=ns_help)
    p = add("get")
    p.add_argument("id", metavar="ID", help="the memory's id")
    p = add("delete")
    p.add_argument("id", metavar="ID", help="the memory's id")
    p = add("export")
    p.add_argument("--ns", default=names.DEFAULT_NAMESPACE, help=ns_help)
    p.add_argument("--out", metavar="FILE", help="write to FILE (0600) instead of standard output")
    p = add("import")
    p.add_argument("file", metavar="FILE", help="an NDJSON export, or - for standard input")
    add("spool")
    p = add("install-claude")
    p.add_argument("--dir", help="the Claude Code folder (default ~/.claude, or GLYPH_CLAUDE_DIR)")
    p = add("init")
    p.add_argument("--force", action="store_true", help="replace an existing key (old tokens stop working)")
    p.add_argument("--url", help="the server this machine's CLI talks to (saved in config.json)")
    p.add_argument("--aws", action="store_true", help="keep the root key in AWS SSM (needs AWS credentials)")
    p.add_argument("--param", default="/glyphmemory/root-key", help="the SSM parameter name (with --aws)")
    p.add_argument("--stack", help="after deploy: read this stack's outputs into the config (with --aws)")
    p = add("keys")
    p.add_argument("action", choices=("add", "list", "revoke"), help="what to do")
    p.add_argument("arg", nargs="?", metavar="NAME|KID", help="the new key's name, or the kid to revoke")
    p = add("basic-auth")
    p.add_argument("user", metavar="USER", help="the user name for HTTP Basic")
    p = add("url")
    p.add_argument("action", choices=("read", "write"), help="a read link, or a link that saves TEXT")
    p.add_argument("text", nargs="?", metavar="TEXT", help="for write: the memory (- or nothing: stdin)")
    p.add_argument("--ttl", default="12h", help="how long the link works: 15m, 12h (default), 7d; at most 30d")
    p.add_argument("--ns", default=names.DEFAULT_NAMESPACE, help=ns_help)
    p.add_argument("--tags", help="for write: comma-separated tags")
    p = add("token")
    p.add_argument("--scope", choices=("r", "w", "rw", "a"), default="rw", help="what it allows (default rw)")
    p.add_argument("--ttl", default="12h", help="lifetime: 90s, 15m, 12h (default), 7d; at most 30d")
    return parser


# Commands that reach the server deliver the spool before doing their own work.

_DELIVER_FIRST = {"write", "recent", "context", "search", "get", "delete", "export", "import", "keys"}

def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command in _DELIVER_FIRST and not (getattr(args, "hook", False) or getattr(args, "cached", False)):
            deliver_spool(make_client(tries=1))
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"glyph: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130

if __name__ == "__main__":
    raise SystemExit(main())
