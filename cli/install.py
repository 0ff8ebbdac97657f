"""`glyph install CLIENT`: add `glyph mcp` to an assistant's own config file, in its own shape
(REFERENCES "Other assistants"), keeping everything else in the file; `glyph connect CLIENT`
(cli/connect.py) is the remote way. Only `json` and `os` at import: a format's parser loads when
that client is installed."""

from __future__ import annotations

import json
import os
import sys

from glyphmemory import names

from . import config
from .base import EXIT_OK, EXIT_USAGE, CliError, arg, command, emit

SERVER_NAME = "glyphmemory"


def _home(*parts: str) -> str:
    return os.path.join(os.path.expanduser("~"), *parts)


def _xdg(*parts: str) -> str:
    return os.path.join(os.environ.get("XDG_CONFIG_HOME") or _home(".config"), *parts)


def _app_dir(*parts: str) -> str:
    """An Electron app's per-user folder: macOS Application Support, Windows APPDATA, else XDG."""
    if sys.platform == "darwin":
        return _home("Library", "Application Support", *parts)
    if sys.platform == "win32":
        return os.path.join(os.environ.get("APPDATA") or _home(), *parts)
    return _xdg(*parts)


def desktop_config_path() -> str:
    """Claude Desktop's config file (GLYPH_CLAUDE_DESKTOP_CONFIG overrides it)."""
    return config.settings().claude_desktop_config or _app_dir("Claude", "claude_desktop_config.json")


def _zed_user() -> str:
    if sys.platform == "win32":
        return os.path.join(os.environ.get("APPDATA") or _home(), "Zed", "settings.json")
    return _xdg("zed", "settings.json")  # macOS too: ~/.config/zed


class Client:
    """One client's config file: where (user, and project when it has one: relative to the
    current folder), its format, the object that holds MCP servers, and the entry's extra keys.
    A plain class: dataclasses would import inspect at every glyph start."""

    def __init__(self, title, user, project, table, fmt="json", extra=(), always_env=False):
        self.title = title
        self.user = user  # () -> the user's file
        self.project = project  # the project's file, relative to its folder, or None
        self.table = table
        self.fmt = fmt  # "json", "jsonc" (comments before the object kept), "toml"
        self.extra = extra  # (key, value) pairs every entry carries
        self.always_env = always_env  # the shape lists "env" even when empty


CLIENTS: dict[str, Client] = {
    "claude-desktop": Client("Claude Desktop", desktop_config_path, None, "mcpServers"),
    "cursor": Client("Cursor", lambda: _home(".cursor", "mcp.json"), os.path.join(".cursor", "mcp.json"), "mcpServers"),
    "vscode": Client(
        "VS Code",
        lambda: _app_dir("Code", "User", "mcp.json"),
        os.path.join(".vscode", "mcp.json"),
        "servers",
        fmt="jsonc",
        extra=(("type", "stdio"),),
    ),
    "codex": Client(
        "Codex CLI",
        lambda: os.path.join(os.environ.get("CODEX_HOME") or _home(".codex"), "config.toml"),
        None,
        "mcp_servers",
        fmt="toml",
    ),
    "gemini": Client(
        "Gemini CLI", lambda: _home(".gemini", "settings.json"), os.path.join(".gemini", "settings.json"), "mcpServers"
    ),
    "windsurf": Client("Windsurf", lambda: _home(".codeium", "windsurf", "mcp_config.json"), None, "mcpServers"),
    "zed": Client("Zed", _zed_user, os.path.join(".zed", "settings.json"), "context_servers", "jsonc", always_env=True),
}
CHOICES = ("claude-code", *CLIENTS)


# What decides the store a `glyph mcp` started by another program serves (its config, key file and
# data under GLYPH_HOME; a server; an embedded store) and, for a DynamoDB store, where AWS is.
# Never a secret: not GLYPH_KEY (the key file under GLYPH_HOME serves), not AWS credentials.
STORE_SETTINGS = ("home", "url", "store")  # GLYPH_HOME, GLYPH_URL, GLYPH_STORE
AWS_PLACE_ENV = ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


def store_env() -> dict[str, str]:
    """The variables of this shell that decide the store (STORE_SETTINGS, as config.settings() read
    them from the environment: a url from the config file is the client's to read there too),
    and AWS's own where the store is DynamoDB, for a client's config entry: GLYPH_HOME made
    absolute (the app starts elsewhere)."""
    settings = config.settings()
    env = {}
    for attribute in STORE_SETTINGS:
        name = settings.env_name(attribute)
        if settings.source.get(attribute) == name:
            env[name] = getattr(settings, attribute)
    if (settings.store or "").startswith("dynamodb://"):
        env.update({name: os.environ[name] for name in AWS_PLACE_ENV if os.environ.get(name)})
    if names.ENV_HOME in env:
        env[names.ENV_HOME] = os.path.abspath(env[names.ENV_HOME])
    return env


def server_entry(client: Client) -> dict:
    """The client's entry for `glyph mcp`: this glyph's absolute path (the client starts it without
    a shell: no quoting), `["mcp"]`, and the store's variables."""
    from .admin import glyph_path

    entry = {**dict(client.extra), "command": glyph_path(), "args": ["mcp"]}
    env = store_env()
    if env or client.always_env:
        entry["env"] = env
    return entry


def _warn_key(path: str) -> None:
    if config.settings().key and not os.path.exists(config.key_path()):
        print(
            f"glyph: warning: {names.ENV_KEY} is not copied into {path} (a secret in a plain file); the "
            f"client's glyph mcp reads the key file {config.key_path()}, which does not exist yet",
            file=sys.stderr,
        )


# --- JSON (and JSON with a leading comment, as Zed's and VS Code's files start) ---------------


def _leading_comments(text: str) -> int:
    """Where the JSON value starts after whitespace and `//` or `/* */` comments."""
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n\ufeff":
            i += 1
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end + 1
        elif text.startswith("/*", i) and text.find("*/", i + 2) >= 0:
            i = text.find("*/", i + 2) + 2
        else:
            return i


def json_with_entry(text: str, path: str, client: Client, entry: dict) -> tuple[str, bool]:
    """(`text` with `entry` under client.table.glyphmemory, every other key kept; whether another
    entry of that name was replaced). `text` unchanged when it already holds that entry. CliError
    on a file that is not a JSON object."""
    start = _leading_comments(text) if client.fmt == "jsonc" else int(text.startswith("\ufeff"))  # a BOM kept
    head, body = text[:start], text[start:]
    try:
        settings = json.loads(body) if body.strip() else {}
    except ValueError:
        extra = " (comments are kept only before the opening brace)" if client.fmt == "jsonc" else ""
        raise CliError(f"{path} is not valid JSON{extra}; fix it, then run this again", EXIT_USAGE) from None
    if not isinstance(settings, dict) or not isinstance(settings.setdefault(client.table, {}), dict):
        raise CliError(f"{path}: {client.table} is not an object; fix it by hand", EXIT_USAGE)
    old = settings[client.table].get(SERVER_NAME)
    if old == entry:
        return text, False
    settings[client.table][SERVER_NAME] = entry
    return head + json.dumps(settings, indent=2, ensure_ascii=False) + "\n", old is not None


# --- TOML (Codex): the table written by hand, the result checked by parsing it ---------------


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML also escapes DEL and has
    no surrogate escapes (so non-ASCII stays as written)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_table(client: Client, entry: dict) -> str:
    lines = [f"[{client.table}.{SERVER_NAME}]"]
    for key, value in entry.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} = {toml_string(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}" if inner else f"{key} = {{}}")
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(toml_string(v) for v in value)}]")
        else:
            lines.append(f"{key} = {toml_string(value)}")
    return "\n".join(lines) + "\n"


def toml_with_entry(text: str, path: str, client: Client, entry: dict) -> tuple[str, bool]:
    """(as json_with_entry) `text` with the table [mcp_servers.glyphmemory] replaced in place (or appended), every other
    line and comment kept. The result must parse (tomllib) to the old document with only that
    entry changed; where the entry is written another way (an inline table), CliError says so."""
    import copy
    import re
    import tomllib

    try:
        old = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{path} is not valid TOML ({exc}); fix it, then run this again", EXIT_USAGE) from None
    servers = old.get(client.table, {})
    if not isinstance(servers, dict):
        raise CliError(f"{path}: {client.table} is not a table; fix it by hand", EXIT_USAGE)
    if servers.get(SERVER_NAME) == entry:
        return text, False
    ours = re.compile(rf'^\s*\[\s*{client.table}\s*\.\s*"?{SERVER_NAME}"?\s*(\.[^\]]*)?\]\s*(#.*)?$')
    header = re.compile(r"^\s*\[")
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    at = None
    skipping = False
    tail: list[str] = []  # comment lines ending a skipped table: the next table's (or the file's)
    for line in lines:
        if header.match(line):
            if skipping and not ours.match(line):
                kept += tail
            skipping, tail = bool(ours.match(line)), []
            if skipping and at is None:
                at = len(kept)
        if not skipping:
            kept.append(line)
        elif line.lstrip().startswith("#"):
            tail.append(line)
        elif line.strip() and not header.match(line):
            tail = []
    kept += tail
    block = toml_table(client, entry)
    if at is None:
        body = "".join(kept)
        if body and not body.endswith("\n"):
            body += "\n"
        new = body + ("\n" if body.strip() else "") + block
    else:
        new = "".join(kept[:at]) + block + ("\n" if at < len(kept) else "") + "".join(kept[at:])
    expected = copy.deepcopy(old)
    expected.setdefault(client.table, {})[SERVER_NAME] = entry
    try:
        done = tomllib.loads(new) == expected
    except tomllib.TOMLDecodeError:
        done = False
    if not done:
        raise CliError(
            f"{path} defines {client.table}.{SERVER_NAME} in a way this cannot edit safely; replace it by "
            f"hand with:\n{block}",
            EXIT_USAGE,
        )
    return new, SERVER_NAME in servers


def write_atomically(path: str, text: str) -> None:
    """Replace the file at `path` (through a symbolic link: a dotfiles repository's link stays)
    with `text`, keeping the old file's permission bits (it may hold other servers' secrets).
    CliError when it cannot be written (a read-only folder, a file system that refuses)."""
    path = os.path.realpath(path)
    tmp = path + ".tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = None
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            if mode is not None:
                os.chmod(tmp, mode)
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}; nothing was changed", EXIT_USAGE) from None


def read_config(path: str) -> str:
    """A config file's text as written ("" when there is none). CliError for a folder, a file
    that cannot be read or one that is not UTF-8 (UTF-16, as Windows PowerShell's `>` writes)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}", EXIT_USAGE) from None


def config_file(name: str, args) -> str:
    """The file to edit: --config, else the project's (--project) or the user's."""
    client = CLIENTS[name]
    if args.config:
        return os.path.abspath(args.config)
    if args.project:
        if client.project is None:
            raise CliError(f"{client.title} has no per-project config file; leave out --project", EXIT_USAGE)
        return os.path.abspath(client.project)
    return client.user()


def install_mcp(name: str, args) -> int:
    """Write (or with --print show) the client's config file with `glyph mcp` in it."""
    client = CLIENTS[name]
    path = config_file(name, args)
    text = read_config(path)
    entry = server_entry(client)
    edit = toml_with_entry if client.fmt == "toml" else json_with_entry
    new, replaced = edit(text, path, client, entry)
    changed = new != text
    if args.print:
        emit(args, {"config": path, "server": SERVER_NAME, "changed": changed, "content": new}, new.rstrip("\n"))
        return EXIT_OK
    _warn_key(path)
    if changed:
        write_atomically(path, new)
    done = (
        "already there" if not changed else f"replaced its {SERVER_NAME} entry" if replaced else f"added {SERVER_NAME}"
    )
    after = "restart it" if name in ("claude-desktop", "cursor", "windsurf") else "it starts glyph mcp"
    emit(
        args,
        {"config": path, "server": SERVER_NAME, "changed": changed},
        f"{client.title}: {path} ({done}); {after}",
    )
    return EXIT_OK


@command(
    arg("client", choices=CHOICES, help="the assistant: " + ", ".join(CHOICES)),
    arg("--print", action="store_true", help="show the file as it would be written; write nothing"),
    arg("--config", help="the config file to edit (default: the client's own, see --project)"),
    arg("--project", action="store_true", help="the current project's file (cursor, vscode, gemini, zed)"),
    arg("--dir", help="claude-code: the Claude Code folder (default ~/.claude, or GLYPH_CLAUDE_DIR)"),
)
def cmd_install(args) -> int:
    """Add GlyphMemory to an assistant: its own config file, in its own shape, every other entry kept.

    claude-code: the skill and a SessionStart hook (as install-claude). The others get the
    `glyph mcp` server (this glyph's absolute path, and GLYPH_HOME, GLYPH_URL or GLYPH_STORE as set
    here): claude-desktop, cursor, vscode, codex (TOML), gemini, windsurf, zed. User scope by
    default; --project writes the project's file where the client has one. Running it again
    changes nothing. A file that is not valid JSON or TOML is left alone (exit 1).
    """
    if args.client == "claude-code":
        if args.project:
            raise CliError("claude-code: name a project's Claude Code folder with --dir PROJECT/.claude", EXIT_USAGE)
        from .admin import install_claude_code

        return install_claude_code(args)
    if args.dir:
        raise CliError(f"--dir is claude-code's; for {args.client} name the file with --config", EXIT_USAGE)
    return install_mcp(args.client, args)
