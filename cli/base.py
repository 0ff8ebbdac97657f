"""What every glyph command shares: exit codes, the command registry, the key and the API client,
the spool, and how errors and answers are printed."""

from __future__ import annotations

import json
import os
import sys

from glyphmemory import names

from . import config

# --- exit codes, the command registry, shared arguments ---------------------------------------

EXIT_OK, EXIT_USAGE, EXIT_AUTH, EXIT_SERVER = 0, 1, 2, 3

COMMANDS: dict[str, callable] = {}


class CliError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def command(*arguments):
    """Register a command: its docstring is its --help, and its arguments (`arg(...)`) stand
    beside it, so adding a command touches one place."""

    def register(func):
        func.arguments = arguments
        COMMANDS[func.__name__.removeprefix("cmd_").replace("_", "-")] = func
        return func

    return register


def arg(*flags, **options) -> tuple:
    """One argparse argument of a command: arg("--ns", default=…, help=…)."""
    return flags, options


NS = arg("--ns", default=names.DEFAULT_NAMESPACE, help=f"namespace (default {names.DEFAULT_NAMESPACE})")
# The commands a project opts into with a .glyph file (cli/project.py): None until main resolves it.
PROJECT_NS = arg(
    "--ns",
    default=None,
    help=f"namespace (default: the one a .glyph file names here or above, else {names.DEFAULT_NAMESPACE})",
)
DEFAULT_TTL = f"{names.CHAT_TOKEN_TTL_S // 3600}h"


def parse_duration(text: str) -> int:
    """A token's lifetime: 90s, 15m, 12h, 7d or 2w (the API's units), at most 30 days."""
    from glyphmemory.durations import parse_duration as seconds_of
    from glyphmemory.errors import InvalidInput

    try:
        seconds = seconds_of(text, limit_s=names.MAX_TOKEN_TTL_S)
    except InvalidInput:
        raise CliError("a token lives from 1 second to 30 days", EXIT_USAGE) from None
    if seconds is None:
        raise CliError(f"{text!r} is not a duration like 90s, 15m, 12h, 7d or 2w", EXIT_USAGE)
    return seconds


# --- the key, the server and the client -------------------------------------------------------


def load_key():
    from glyphmemory.errors import InvalidInput
    from glyphmemory.keys import load_key_file, parse_key

    try:
        raw = config.settings().key
        if raw:
            return parse_key(raw)
        path = config.key_path()
        if not os.path.exists(path):
            raise CliError(
                f"no key at {path}: run `glyph serve` once (it creates one), or set {names.ENV_KEY}",
                EXIT_AUTH,
            )
        return load_key_file(path)
    except InvalidInput as exc:
        raise CliError(exc.detail, EXIT_AUTH) from None


def server_url() -> str:
    """GLYPH_URL, else the config file's url, else glyph serve's default (config.settings())."""
    return config.setting("url") or config.DEFAULT_URL


def write_config(values: dict) -> None:
    path = config.config_path()
    data = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    data.update(values)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)


def make_client(*, tries: int = 3, deadline_s: float = 15.0, timeout: float = 10.0):
    from glyphmemory.api_client import OverHttp

    return OverHttp(server_url(), load_key(), tries=tries, deadline_s=deadline_s, timeout=timeout)


# --- the spool: writes that wait for the server -----------------------------------------------


def open_spool():
    from .spool import Spool

    return Spool(config.spool_path())


def deliver_spool(client, *, quiet: bool = False, until: float | None = None):
    """Send what earlier commands could not, in order, before this command's own work
    (or, with `until`, a time.monotonic() deadline, what can be sent before it).

    An entry the server refuses for good (api_client.refused_for_good) is set aside with its status
    and the rest go on; a network error, 408, 429, 5xx or a refused key keeps it and those behind
    it for the next command. Returns the spool's FlushResult (None when there is no spool)."""
    if not os.path.exists(config.spool_path()):
        return None  # the common case costs one stat(), no imports
    import time

    from glyphmemory.api_client import ApiError, refused_for_good

    from .spool import Undeliverable

    spool = open_spool()

    def send(entry: dict) -> None:
        if until is not None and time.monotonic() >= until:
            raise TimeoutError("no time left before the session starts")
        try:
            if "edit" in entry:  # rw: an edit answers the memory (it reads)
                client.call("PATCH", f"/v1/memories/{entry['edit']}", scope="rw", payload=entry["changes"], tries=1)
            else:
                client.call("POST", "/v1/memories", scope="w", payload=entry["payload"], tries=1)
        except ApiError as exc:
            if refused_for_good(exc):
                raise Undeliverable(exc.status, exc.detail) from None
            raise

    result = spool.flush(send)
    for problem in result.problems:
        print(f"glyph: {problem}", file=sys.stderr)
    if result.delivered and not quiet:
        print(
            f"glyph: delivered {len(result.delivered)} spooled memor{'y' if len(result.delivered) == 1 else 'ies'}",
            file=sys.stderr,
        )
    if result.remaining and not quiet:
        print(
            f"glyph: {result.remaining} memor{'y' if result.remaining == 1 else 'ies'} still spooled ({spool.path}); "
            + why_spooled(result.held_by),
            file=sys.stderr,
        )
    return result


def why_spooled(exc: Exception | None) -> str:
    """Why spooled writes still wait, in words: the real answer, never a guess."""
    from glyphmemory.api_client import ApiError, NetworkError

    if isinstance(exc, ApiError) and exc.status in (401, 403):
        return (
            f"the server refused this key ({exc.status}: {exc.detail}); they are kept until a valid key is set "
            f"({names.ENV_KEY}, or a new device key from `glyph keys add`)"
        )
    if isinstance(exc, ApiError):
        return f"the server answered {exc.status} ({exc.detail}); they are sent again by the next command"
    if isinstance(exc, NetworkError) or exc is None:
        return "the server is not reachable"
    return str(exc)


# --- failures as messages and exit codes; what is printed -------------------------------------


def call(func, *args, **kwargs):
    """Run a client call, turning its failures into messages and exit codes."""
    from glyphmemory.api_client import ApiError, NetworkError, retryable

    try:
        return func(*args, **kwargs)
    except NetworkError as exc:
        raise CliError(f"{exc}. Is the server running? Start it with `glyph serve`.", EXIT_SERVER) from None
    except ApiError as exc:
        if exc.status in (401, 403):
            raise CliError(
                f"not authorised ({exc.status}): {exc.detail}. If this key was revoked or rotated, "
                "get a new one: `glyph init --aws` (or a new device key from `glyph keys add`)",
                EXIT_AUTH,
            ) from None
        code = EXIT_SERVER if retryable(exc) else EXIT_USAGE
        raise CliError(f"the server answered {exc.status}: {exc.detail}", code) from None


def reraise(exc: Exception):
    raise exc


def terminal_safe(text: str) -> str:
    """Control characters (but line feed and tab) shown as \\xNN: a memory stored before the
    server refused them must not drive the terminal that prints it (ESC sequences)."""
    import re

    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def warn_redacted(kinds, before: str = "saving") -> None:
    """Secrets were removed (by the server before saving, or here before spooling): say which kinds, on stderr."""
    if kinds:
        print(
            f"glyph: warning: secrets were removed before {before} ({', '.join(sorted(set(kinds)))})", file=sys.stderr
        )


def emit(args, data, human: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=None))  # JSON escapes controls itself
    else:
        print(terminal_safe(human))


def human_time(value: str | float | None) -> str:
    """A time for people, in the local zone (TZ respected) with its offset: `2026-11-30 21:13 +09:00`.
    `value`: an API time (RFC 3339, e.g. `2026-11-30T12:13:45.123456Z`) or Unix seconds; None → `-`."""
    if value is None:
        return "-"
    from datetime import UTC, datetime

    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:  # the API's times are UTC
            moment = moment.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(value, UTC)
    local = moment.astimezone()
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:5]}"


def one_line(text: str, width: int = 100) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.splitlines() if line.strip())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def print_qr(uri: str) -> None:
    import segno  # only here: QR codes are for people at a terminal

    segno.make(uri, error="m").terminal(compact=True)
