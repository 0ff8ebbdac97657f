"""Setting up: init (local or AWS), keys, basic-auth, token, and install-claude (Claude Code's skill and hook)."""

from __future__ import annotations

import json
import os
import sys

from glyphmemory import names

from . import config
from .base import (
    DEFAULT_TTL,
    EXIT_OK,
    EXIT_SERVER,
    EXIT_USAGE,
    NS,
    CliError,
    arg,
    call,
    command,
    emit,
    human_time,
    load_key,
    make_client,
    parse_duration,
    print_qr,
    write_config,
)

HOOK_MATCHER = "startup|resume|clear|compact"

HOOK_BUDGET = 9000  # Claude Code replaces SessionStart output over 10,000 UTF-16 code units


def glyph_path() -> str:
    """This glyph's own command, as another program should start it: the absolute path it runs
    from (not resolved: a pipx or venv link stays what it is), else `glyph` found on PATH."""
    import shutil

    running = os.path.abspath(sys.argv[0])
    return running if os.path.basename(running) in ("glyph", "glyph.exe") else (shutil.which("glyph") or "glyph")


def shell_quote(word: str) -> str:
    """`word` as one word for the shell a hook command runs in: POSIX quoting (shlex), or on
    Windows double quotes, which cmd.exe and Git Bash both read as one word (a Windows path
    holds no `"`; `&`, `|`, spaces and parentheses stay inside)."""
    if sys.platform == "win32":
        import re

        return word if re.fullmatch(r"[\w@+=:,./\\-]+", word) else f'"{word}"'
    import shlex

    return shlex.quote(word)


def hook_command(*args: str) -> str:
    """The shell command line that runs `glyph ARGS`, every word quoted: a hook's `command`."""
    return " ".join(shell_quote(word) for word in (glyph_path(), *args))


def plugin_dir():
    """The Claude Code plugin: inside the installed package, or skills/ in a checkout."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for candidate in (here / "plugin", here.parent / "skills"):
        if (candidate / ".claude-plugin" / "plugin.json").is_file():
            return candidate
    raise CliError("the Claude Code plugin files are missing from this installation", EXIT_USAGE)


@command(
    arg("--dir", help="the Claude Code folder (default ~/.claude, or GLYPH_CLAUDE_DIR)"),
    arg("--desktop", action="store_true", help="add `glyph mcp` to Claude Desktop instead"),
    arg("--desktop-config", help="Claude Desktop's claude_desktop_config.json (default: the app's own)"),
)
def cmd_install_claude(args) -> int:
    """Install the GlyphMemory skill, SessionStart and UserPromptSubmit hooks into Claude Code (~/.claude).

    The same as `glyph install claude-code` (and with --desktop, `glyph install claude-desktop`).
    Copies the skill to DIR/skills/glyphmemory/ and adds one SessionStart hook (`glyph context
    --hook`) and one UserPromptSubmit hook (`glyph recall --hook`) to DIR/settings.json, keeping
    every other setting and hook. Running it again changes nothing.
    Alternatively, load the whole plugin folder (skills/ in the repository) as a plugin.
    """
    args.print = args.project = False
    args.config = args.desktop_config if args.desktop else None
    if args.desktop:
        from .install import install_mcp

        return install_mcp("claude-desktop", args)
    return install_claude_code(args)


def install_claude_code(args) -> int:
    """The skill into DIR/skills/glyphmemory/ and the SessionStart and UserPromptSubmit hooks into DIR/settings.json
    (DIR: --dir, GLYPH_CLAUDE_DIR or ~/.claude; --config names settings.json itself); with
    --print, the settings as they would be written, and nothing copied."""
    import shutil
    from pathlib import Path

    if args.config:
        settings_path = Path(args.config).absolute()
        target = settings_path.parent
    else:
        target = Path(args.dir or config.settings().claude_dir or Path.home() / ".claude")
        settings_path = target / "settings.json"
    skill_src = plugin_dir() / "skills" / "glyphmemory" / "SKILL.md"
    skill_dst = target / "skills" / "glyphmemory" / "SKILL.md"
    settings: dict = {}
    from .install import read_config

    text = read_config(str(settings_path))
    try:
        settings = json.loads(text or "{}")
    except ValueError:
        raise CliError(f"{settings_path} is not valid JSON; fix it, then run this again", EXIT_USAGE) from None
    hooks = settings.setdefault("hooks", {}) if isinstance(settings, dict) else None
    if not isinstance(hooks, dict):
        raise CliError(f"{settings_path}: hooks is not an object; fix it by hand", EXIT_USAGE)
    start = ("context", "--hook")
    added = _add_hook(
        hooks, "SessionStart", start, ("--budget", str(HOOK_BUDGET)), {"matcher": HOOK_MATCHER}, 5, settings_path
    )
    # The prompt hook's own deadline is 1.5 s (cli/recall.py); Claude Code's timeout is a backstop.
    recall_added = _add_hook(hooks, "UserPromptSubmit", ("recall", "--hook"), (), {}, 3, settings_path)
    present = not added
    if added or recall_added:
        text = json.dumps(settings, indent=2) + "\n"
    if args.print:
        data = {"settings": str(settings_path), "hook_added": added, "recall_hook_added": recall_added, "content": text}
        emit(args, data, text.rstrip("\n"))
        return EXIT_OK
    skill_dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(skill_src, skill_dst)
    if added or recall_added:
        from .install import write_atomically

        write_atomically(str(settings_path), text)
    data = {
        "skill": str(skill_dst),
        "settings": str(settings_path),
        "hook_added": not present,
        "recall_hook_added": recall_added,
    }
    emit(
        args,
        data,
        f"skill: {skill_dst}\nhook: {settings_path} ({'added' if not present else 'already there'})\n"
        f"prompt hook: {settings_path} ({'added' if recall_added else 'already there'})",
    )
    return EXIT_OK


def _hook_is_ours(command: object, words: tuple[str, ...]) -> bool:
    """Whether a hook's command line runs a glyph (this one's path, or any `glyph`/`glyph.exe`: an
    older install's, one on PATH) with `words` as its first arguments: another tool's command that
    merely holds the words (`notes context --hook`, an echo) is not ours."""
    import shlex

    try:
        argv = shlex.split(str(command), posix=True)
    except ValueError:  # unbalanced quotes: not a command line of ours
        return False
    if not argv or tuple(argv[1 : 1 + len(words)]) != words:
        return False
    return argv[0] == glyph_path() or os.path.basename(argv[0]).lower() in ("glyph", "glyph.exe")


def _add_hook(hooks: dict, event: str, words: tuple, more: tuple, extra: dict, timeout: int, where) -> bool:
    """Add the command hook `glyph WORDS MORE` for `event` unless one of ours (_hook_is_ours:
    a glyph run with WORDS) is there; True if added."""
    entries = hooks.setdefault(event, [])
    if not isinstance(entries, list):
        raise CliError(f"{where}: hooks.{event} is not a list; fix it by hand", EXIT_USAGE)
    present = any(
        _hook_is_ours(h.get("command", ""), words)
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("hooks"), list)  # others' odd entries stay as they are
        for h in entry["hooks"]
        if isinstance(h, dict)
    )
    if not present:
        command = hook_command(*words, *more)
        entries.append({**extra, "hooks": [{"type": "command", "command": command, "timeout": timeout}]})
    return not present


@command(
    arg("--scope", choices=names.SCOPES, default="rw", help="what it allows (default rw)"),
    arg("--ttl", default=DEFAULT_TTL, help="lifetime: 90s, 15m, 12h (default), 7d, 2w; at most 30d"),
)
def cmd_token(args) -> int:
    """Mint a window token for scripts and curl (sent as Authorization: Bearer TOKEN)."""
    import time

    from glyphmemory.tokens import mint_window_token

    key = load_key()
    if args.scope == "a" and key.kid != names.ROOT_KID:
        raise CliError("admin tokens come from the root key only; a device key mints r, w or rw", EXIT_USAGE)
    ttl = parse_duration(args.ttl)
    exp = int(time.time()) + ttl
    token = mint_window_token(key.kid, key.secret, args.scope, exp)
    emit(args, {"token": token, "expires_at": exp, "scope": args.scope}, token)
    return EXIT_OK


@command(
    arg("--force", action="store_true", help="replace an existing key (old tokens stop working)"),
    arg("--url", help="the server this machine's CLI talks to (saved in config.json)"),
    arg("--aws", action="store_true", help="keep the root key in AWS SSM (needs AWS credentials)"),
    arg(
        "--param",
        default=names.DEFAULT_KEY_PARAM,
        help=f"the SSM parameter name (with --aws; default {names.DEFAULT_KEY_PARAM})",
    ),
    arg("--stack", help="after deploy: read this stack's outputs into the config (with --aws)"),
)
def cmd_init(args) -> int:
    """Create this machine's root key and show it for an authenticator app.

    Prints the otpauth:// URI and a QR code: scan it to unlock GlyphMemory from a phone with
    6-digit codes. An existing key is never replaced without --force. With --aws, the root key
    lives in an SSM SecureString (created before the first deploy, or fetched from there on
    another machine); --aws --stack NAME, after `cdk deploy`, points the CLI at the stack.
    """
    from glyphmemory.keys import Key, load_key_file, new_key, otpauth_uri, write_key_file

    path = config.key_path()
    exists = os.path.exists(path)
    local: Key | None = load_key_file(path) if exists else None
    if args.aws:
        key, created, settings = _init_aws(args, local)
    elif local is not None and not args.force:
        key, created, settings = local, False, {}
    else:
        key, created, settings = new_key(), True, {}
    if created or local is None or (key.kid, key.secret) != (local.kid, local.secret):
        if local is not None and not args.force:
            raise CliError(f"{path} holds another key; --force replaces it (its tokens stop working)", EXIT_USAGE)
        write_key_file(path, key, overwrite=exists)
    if args.url:
        settings["url"] = args.url
    if settings:
        write_config(settings)
    uri = otpauth_uri(key, f"root ({key.kid})")
    if args.json:
        print(json.dumps({"key_file": path, "kid": key.kid, "otpauth_uri": uri, "created": created, **settings}))
        return EXIT_OK
    print(f"{'created' if created else 'using'} the root key (kid {key.kid}); local copy at {path}")
    for name, value in settings.items():
        print(f"  {name}: {value}")
    print_qr(uri)
    print("Scan this with an authenticator app, or enter the URI by hand:\n  " + uri)
    return EXIT_OK


def _init_aws(args, local):
    """The root key from (or into) SSM, and the stack's URL into the config."""
    from glyphmemory.errors import GlyphError

    from .aws_admin import ensure_root_key, stack_outputs

    try:
        key, created = ensure_root_key(args.param, force=args.force)
        settings = {"key_param": args.param}
        if args.stack:
            outputs = stack_outputs(args.stack)
            if "CloudFrontUrl" not in outputs:
                raise CliError(f"stack {args.stack} has no CloudFrontUrl output; is it GlyphMemory's?", EXIT_USAGE)
            settings.update(url=outputs["CloudFrontUrl"], stack=args.stack)
    except GlyphError as exc:
        raise CliError(exc.detail, EXIT_SERVER if exc.status >= 500 else EXIT_USAGE) from None
    return key, created, settings


@command(
    arg("action", choices=("add", "list", "revoke", "unlock"), help="what to do"),
    arg("arg", nargs="?", metavar="NAME|KID", help="the new key's name, or the kid to revoke or unlock"),
)
def cmd_keys(args) -> int:
    """Manage device keys (root key only): add NAME, list, revoke KID, unlock [KID].

    Each device or assistant gets its own key, revocable on its own. `add` shows the new
    secret and its QR code once: it is never shown again. `unlock` ends the waits that wrong
    authenticator codes put on a key's code sign-in (default: the root key).
    """
    client = make_client()
    if args.action == "list":
        data = call(client.call, "GET", "/v1/keys", scope="a")
        lines = [
            f"{k['kid']:<10} {k['name']}{'  (root)' if k['root'] else ''}"
            + (f"  added {human_time(k['created_at'])}" if k.get("created_at") else "")
            for k in data["items"]
        ]
        emit(args, data, "\n".join(lines))
    elif args.action == "add":
        if not args.arg:
            raise CliError("keys add needs a NAME, e.g. glyph keys add phone", EXIT_USAGE)
        data = call(client.call, "POST", "/v1/keys", scope="a", payload={"name": args.arg})
        if args.json:
            emit(args, data, "")
        else:
            print(f"added key {data['kid']} ({data['name']}). Its secret, shown only now:")
            print(f"  GLYPH_KEY={data['kid']}:{data['secret']}")
            print_qr(data["otpauth_uri"])
            print("  " + data["otpauth_uri"])
    elif args.action == "unlock":
        kid = args.arg or load_key().kid
        call(client.request, "DELETE", f"/v1/keys/{kid}/lockout", scope="a")
        emit(args, {"unlocked": kid}, f"code sign-in unlocked for {kid}")
    else:
        if not args.arg:
            raise CliError("keys revoke needs a KID (see glyph keys list)", EXIT_USAGE)
        call(client.request, "DELETE", f"/v1/keys/{args.arg}", scope="a")
        emit(args, {"revoked": args.arg}, f"revoked {args.arg}")
    return EXIT_OK


@command(NS)
def cmd_reindex(args) -> int:
    """Rebuild a namespace's search index from its memories (admin scope).

    Search keeps its index up to date by itself; this is for an index that was lost or damaged.
    Safe to run at any time: searches go on meanwhile.
    """
    client = make_client()
    indexed, restart = 0, "1"
    while True:
        data = call(client.call, "POST", "/v1/reindex", scope="a", query={"namespace": args.ns, "restart": restart})
        indexed += data["indexed"]
        if data["done"]:
            break
        restart = "0"
    emit(args, {**data, "indexed": indexed}, f"reindexed namespace {args.ns}: {indexed} memories")
    return EXIT_OK


@command(
    arg("user", metavar="USER", help="the user name for HTTP Basic"),
)
def cmd_basic_auth(args) -> int:
    """Print a GLYPH_BASIC_AUTH value (user and salted scrypt hash) for the server.

    With it set, every JSON API request needs these credentials as well as a token; clients
    put them in the URL: GLYPH_URL=https://USER:PASSWORD@host. Reads the password from
    standard input when it is not a terminal.
    """
    from glyphmemory.basic_auth import hash_password

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the passwords differ", EXIT_USAGE)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise CliError("use a password of at least 12 characters", EXIT_USAGE)
    if ":" in args.user or not args.user:
        raise CliError("the user name may not be empty or contain ':'", EXIT_USAGE)
    value = f"{args.user}:{hash_password(password)}"
    emit(args, {names.ENV_BASIC_AUTH: value}, f"{names.ENV_BASIC_AUTH}='{value}'")
    return EXIT_OK
