"""glyph recall: the saved memories relevant to a prompt, and Claude Code's UserPromptSubmit hook
that adds them to the prompt (glyphmemory.recall; DESIGN §17)."""

from __future__ import annotations

import sys

from glyphmemory import names

from .base import EXIT_OK, EXIT_USAGE, PROJECT_NS, CliError, arg, call, command, make_client, terminal_safe

# The hook waits at most this long for the server (a cold function): then it prints nothing and
# the prompt goes on. Locally an answer takes well under 0.3 s (bench/recall.py).
HOOK_DEADLINE_S = 1.5


@command(
    arg("prompt", nargs="?", metavar="PROMPT", help="the prompt (with --hook: read from the hook's JSON on stdin)"),
    PROJECT_NS,
    arg("--hook", action="store_true", help="for Claude Code's UserPromptSubmit hook: fast, quiet, never fails"),
)
def cmd_recall(args) -> int:
    """Print the saved memories that match PROMPT well (of the project's namespace and the default
    one), best first, within ~1,500 characters; nothing when none does.

    With --hook (Claude Code's UserPromptSubmit hook) the prompt, the session and the working
    directory come as JSON on stdin; memories the session's start block showed are left out; the
    hook gives up after 1.5 s, prints nothing on any problem and always exits 0.
    """
    if args.hook:
        return run_hook(args.ns)
    if not args.prompt or not args.prompt.strip():
        raise CliError("nothing to recall for: the prompt is empty", EXIT_USAGE)
    namespaces = list(dict.fromkeys([args.ns, names.DEFAULT_NAMESPACE]))
    client = make_client()
    sys.stdout.write(_recall(lambda *a, **k: call(client.call, *a, **k), args.prompt, namespaces, set()))
    return EXIT_OK


def run_hook(explicit_ns: str | None) -> int:
    """`glyph recall --hook`: always EXIT_OK, printing nothing on any problem or after
    HOOK_DEADLINE_S (main runs it without argparse when it is the whole command line)."""
    try:
        with _give_up_after(HOOK_DEADLINE_S):
            return _hook(explicit_ns)
    except BaseException:  # noqa: BLE001 - the prompt must go on whatever happens here
        return EXIT_OK


def _recall(get, prompt: str, namespaces: list[str], known: set[str]) -> str:
    from glyphmemory import recall

    query = recall.query_of(prompt)
    if not recall.Prompt(query).terms:
        return ""
    hits = []
    for namespace in namespaces:
        page = get(
            "GET", "/v1/search", scope="r", query={"q": query, "namespace": namespace, "limit": recall.RECALL_HITS}
        )
        hits += page["items"]
    return terminal_safe(recall.render(recall.pick(hits, query, known)))


class _TooLate(Exception):
    pass


class _give_up_after:
    """Raise _TooLate in the main thread after `seconds` (SIGALRM; nothing where there is none)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        import signal

        if hasattr(signal, "setitimer"):
            signal.signal(signal.SIGALRM, self._ring)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    @staticmethod
    def _ring(*_):
        raise _TooLate()

    def __exit__(self, *exc):
        import signal

        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)


def _hook(explicit_ns: str | None) -> int:
    from . import session_ids
    from .project import find

    event = session_ids.read_event()
    prompt = event.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return EXIT_OK
    project = explicit_ns
    if project is None and isinstance(event.get("cwd"), str) and event["cwd"]:
        try:
            found = find(event["cwd"], git=True)
        except ValueError:  # project.BadProjectFile: the start hook names it; recall goes on without
            found = None
        project = found[0] if found else None
    namespaces = list(dict.fromkeys([project or names.DEFAULT_NAMESPACE, names.DEFAULT_NAMESPACE]))
    client = make_client(tries=1, deadline_s=HOOK_DEADLINE_S, timeout=HOOK_DEADLINE_S)
    text = _recall(client.call, prompt, namespaces, session_ids.known(event))
    sys.stdout.write(text)  # all at once, at the end: a hook cut short prints nothing
    return EXIT_OK
