"""glyph: episodic memory for AI assistants, from the terminal.

Exit codes: 0 success, 1 usage or bad input, 2 authentication, 3 network or server,
141 the reader of the output went away (as SIGPIPE would).
"""

from __future__ import annotations

import sys

__all__ = ["build_parser", "main"]  # and COMMANDS (module __getattr__: imports every command)

# Claude Code runs this command line before every prompt: it skips argparse and the other
# commands' modules (about 60 ms of imports on a loaded machine; bench/recall.py).
_PROMPT_HOOK = ["recall", "--hook"]


def _commands() -> dict:
    """The command registry, every command module imported (importing one registers its commands)."""
    from . import admin, bridge, chat_url, connect, context, install, mcp, memories, recall, ui  # noqa: F401
    from .base import COMMANDS

    return COMMANDS


def __getattr__(name: str):
    if name == "COMMANDS":
        return _commands()
    raise AttributeError(name)


def _cleandoc(doc: str) -> str:
    """inspect.cleandoc without importing inspect (11 ms at every start)."""
    first, _, rest = doc.strip("\n").partition("\n")
    lines = rest.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join([first.strip(), *(line[indent:] for line in lines)]).strip()


def build_parser():
    """The argparse parser of every command (argparse.ArgumentParser)."""
    import argparse

    from glyphmemory import __version__

    from .base import EXIT_USAGE

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str):  # usage errors exit 1, as documented
            self.print_usage(sys.stderr)
            self.exit(EXIT_USAGE, f"glyph: error: {message}\n")

    parser = _Parser(prog="glyph", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"glyph {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    commands = _commands()

    def add(name: str):
        func = commands[name]
        doc = _cleandoc(func.__doc__ or "")
        return sub.add_parser(
            name,
            parents=[common],
            help=doc.strip().splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    for name, func in commands.items():
        p = add(name)
        for flags, options in func.arguments:
            p.add_argument(*flags, **options)
    return parser


# Commands that reach the server deliver the spool before doing their own work.

_DELIVER_FIRST = {
    "write",
    "recent",
    "context",
    "search",
    "get",
    "edit",
    "delete",
    "export",
    "import",
    "keys",
    "connectors",
}


EXIT_NO_READER = 141  # what a shell shows for a command stopped by SIGPIPE (128 + 13)


def main(argv: list[str] | None = None) -> int:
    """Run one command; when the reader of standard output goes away (`glyph recent | head -1`),
    stop quietly, whatever the command was doing."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # inside the try: a buffered tail (or --help's) meets the closed pipe too
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        # Point stdout at /dev/null, so that the interpreter's own flush at exit is quiet too.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_NO_READER


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader closed it (not another broken socket)."""
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows): assume it was stdout
        return True


# Arguments that name files: bytes the locale cannot decode still name one (os.fsencode gives them back).
_FILE_NAMES = {"file", "out", "dir", "config", "desktop_config"}


def _undecodable_argument(arguments, args) -> str | None:
    """The first of a command's arguments (its `arguments`: (flags, options) pairs) whose value holds
    bytes the locale's encoding could not decode (Python's argv keeps them as lone surrogates,
    PEP 383), as its usage names it (`--tag`, `TEXT`); file names excepted. None when all are text."""
    for flags, options in arguments:
        dest = options.get("dest") or (
            max(flags, key=len).lstrip("-").replace("-", "_") if flags[0][0] == "-" else flags[0]
        )
        value = getattr(args, dest, None)
        if dest in _FILE_NAMES or value is None:
            continue
        for word in value if isinstance(value, list) else [value]:
            try:
                word.encode("utf-8") if isinstance(word, str) else None
            except UnicodeEncodeError:
                return max(flags, key=len) if flags[0][0] == "-" else options.get("metavar") or dest.upper()
    return None


def _run(argv: list[str] | None) -> int:
    if (sys.argv[1:] if argv is None else argv) == _PROMPT_HOOK:
        from .recall import run_hook

        return run_hook(None)
    from glyphmemory import names

    from .base import COMMANDS, EXIT_USAGE, CliError, deliver_spool, make_client

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    undecodable = _undecodable_argument(COMMANDS[args.command].arguments, args)
    if undecodable:
        encoding = "UTF-8" if sys.getfilesystemencoding() == "utf-8" else sys.getfilesystemencoding()
        print(
            f"glyph: {undecodable} holds bytes that are not {encoding} text (this locale's encoding)", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        if getattr(args, "ns", "") is None and not getattr(args, "hook", False):
            from .project import opted_in  # --ns not given: a .glyph file here or above may name one

            args.ns = opted_in() or names.DEFAULT_NAMESPACE
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
