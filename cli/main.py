"""glyph: episodic memory for AI assistants, from the terminal.

Exit codes: 0 success, 1 usage or bad input, 2 authentication, 3 network or server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from glyphmemory import __version__, config, names

EXIT_OK, EXIT_USAGE, EXIT_AUTH, EXIT_SERVER = 0, 1, 2, 3
COMMANDS: dict[str, callable] = {}


class CliError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def command(func):
    """Register a command; its docstring is its --help."""
    COMMANDS[func.__name__.removeprefix("cmd_").replace("_", "-")] = func
    return func


# --- shared plumbing -------------------------------------------------------------------------


def _load_key():
    from glyphmemory.errors import InvalidInput
    from glyphmemory.keys import load_key_file, parse_key

    try:
        raw = os.environ.get(names.ENV_KEY)
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


def _server_url() -> str:
    url = os.environ.get(names.ENV_URL)
    if url:
        return url
    try:
        with open(config.config_path(), encoding="utf-8") as fh:
            return json.load(fh).get("url") or config.DEFAULT_URL
    except FileNotFoundError:
        return config.DEFAULT_URL
    except (OSError, ValueError, AttributeError):
        raise CliError(f"the config file {config.config_path()} is not valid JSON; fix or remove it", EXIT_USAGE) from None


def _client(*, tries: int = 3, deadline_s: float = 30.0, timeout: float = 10.0):
    from glyphmemory.client import Client

    return Client(_server_url(), _load_key(), tries=tries, deadline_s=deadline_s, timeout=timeout)


def _spool():
    from glyphmemory.spool import Spool

    return Spool(config.spool_path())


def _deliver_spool(client, *, quiet: bool = False) -> None:
    """Send what earlier commands could not, in order, before this command's own work."""
    if not os.path.exists(config.spool_path()):
        return  # the common case costs one stat(), no imports
    from glyphmemory.client import ApiError
    from glyphmemory.spool import Undeliverable

    spool = _spool()

    def send(payload: dict) -> None:
        try:
            client.json("POST", "/v1/memories", scope="w", payload=payload, tries=1)
        except ApiError as exc:
            if exc.status in (400, 413, 415):
                raise Undeliverable(exc.detail) from None
            raise

    result = spool.flush(send)
    for problem in result.problems:
        print(f"glyph: {problem}", file=sys.stderr)
    if result.delivered and not quiet:
        print(f"glyph: delivered {len(result.delivered)} spooled memor{'y' if len(result.delivered) == 1 else 'ies'}", file=sys.stderr)
    if result.remaining and not quiet:
        print(f"glyph: {result.remaining} memories still spooled ({spool.path}); the server is not reachable", file=sys.stderr)


def _call(func, *args, **kwargs):
    """Run a client call, turning its failures into messages and exit codes."""
    from glyphmemory.client import ApiError, NetworkError

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
        code = EXIT_SERVER if exc.status >= 500 or exc.status == 429 else EXIT_USAGE
        raise CliError(f"the server answered {exc.status}: {exc.detail}", code) from None


def _emit(args, data, human: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=None))
    else:
        print(human)


def _one_line(text: str, width: int = 100) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.splitlines() if line.strip())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# --- commands --------------------------------------------------------------------------------


@command
def cmd_serve(args) -> int:
    """Run the local GlyphMemory server (SQLite in your data folder, no cloud needed).

    Creates the root key on first run, so the other glyph commands work at once.
    """
    import signal

    from glyphmemory.errors import GlyphError
    from glyphmemory.keys import ensure_key_file
    from glyphmemory.runtime import build_app, key_from_env
    from glyphmemory.server import make_server

    key, created = key_from_env(), False
    if key is None:
        key, created = ensure_key_file(config.key_path())
    store_url = os.environ.get(names.ENV_STORE) or config.default_store_url()
    try:
        app = build_app(store_url, key)
    except GlyphError as exc:
        raise CliError(exc.detail, EXIT_USAGE) from None
    try:
        server = make_server(app, args.host, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_SERVER) from None
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    info = {"url": url, "store": store_url, "key_file": None if os.environ.get(names.ENV_KEY) else config.key_path(), "key_created": created}
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(
            f"GlyphMemory {__version__} serving {url}\n"
            f"  store: {store_url}\n"
            f"  key:   {info['key_file'] or names.ENV_KEY} ({'created now' if created else 'kid ' + key.kid})\n"
            + ("  basic auth: on (JSON API needs credentials and a token)\n" if app.basic_auth else "")
            +
            "Next, in another terminal:\n"
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


@command
def cmd_write(args) -> int:
    """Save a memory. TEXT is the memory; use - to read it from standard input.

    Writing the same text to the same namespace again returns the memory already saved.
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
    from glyphmemory.client import ApiError, NetworkError

    try:
        _, memory = _client().json("POST", "/v1/memories", scope="w", payload=payload)
    except (NetworkError, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status < 500 and exc.status != 429:
            return _call(_raise, exc)
        _spool().append(payload)
        why = "server unreachable" if isinstance(exc, NetworkError) else f"server answered {exc.status}"
        _emit(args, {"spooled": True, "reason": why}, f"spooled ({why}): it will be sent by the next glyph command")
        return EXIT_OK
    word = "already saved" if memory["duplicate"] else "saved"
    _emit(args, memory, f"{word} {memory['id']}")
    return EXIT_OK


def _raise(exc: Exception):
    raise exc


@command
def cmd_recent(args) -> int:
    """Show the most recent memories, newest first."""
    query = {"namespace": args.ns, "limit": args.n, "tag": args.tag, "since": args.since}
    _, page = _call(_client().json, "GET", "/v1/memories", scope="r", query=query)
    lines = []
    for m in page["items"]:
        tags = f"  [{', '.join(m['tags'])}]" if m["tags"] else ""
        lines.append(f"{m['created_at'][:16].replace('T', ' ')}  {m['id']}{tags}\n  {_one_line(m['text'])}")
    _emit(args, page, "\n".join(lines) if lines else f"no memories in namespace {args.ns}")
    return EXIT_OK


@command
def cmd_context(args) -> int:
    """Print the context block a new assistant session starts from (newest memories first).

    With --hook (Claude Code's SessionStart hook): finishes within 2 s and never fails; when
    the server cannot be reached it prints one line saying so and exits 0.
    """
    fmt = "json" if args.json else args.format
    query = {"namespace": args.ns, "budget": args.budget, "format": fmt}
    if args.hook:
        return _context_for_hook(query)
    _, _, data = _call(_client().request, "GET", "/v1/context", scope="r", query=query)
    sys.stdout.write(data.decode("utf-8"))
    if args.json:
        sys.stdout.write("\n")
    return EXIT_OK


def _context_for_hook(query: dict) -> int:
    from glyphmemory.client import ApiError, NetworkError

    try:
        client = _client(tries=2, deadline_s=1.0, timeout=0.6)
        _deliver_spool(client, quiet=True)
        _, _, data = client.request("GET", "/v1/context", scope="r", query=query)
        sys.stdout.write(data.decode("utf-8"))
    except (CliError, NetworkError, ApiError, OSError, ValueError) as exc:
        reason = exc.detail if isinstance(exc, ApiError) else str(exc).split(". ")[0]
        print(f"GlyphMemory: no memories loaded this session ({reason}).")
    return EXIT_OK


@command
def cmd_search(args) -> int:
    """Search memories by keywords, best match first."""
    query = {"q": args.query, "namespace": args.ns, "limit": args.n}
    _, hits = _call(_client().json, "GET", "/v1/search", scope="r", query=query)
    lines = [
        f"{m['score']:>7.3f}  {m['created_at'][:10]}  {m['id']}\n         {_one_line(m['text'], 90)}"
        for m in hits["items"]
    ]
    _emit(args, hits, "\n".join(lines) if lines else f"nothing matches {args.query!r}")
    return EXIT_OK


@command
def cmd_get(args) -> int:
    """Show one memory in full, by its id."""
    _, m = _call(_client().json, "GET", f"/v1/memories/{args.id}", scope="r")
    tags = f"  [{', '.join(m['tags'])}]" if m["tags"] else ""
    _emit(args, m, f"{m['id']}  {m['created_at']}  {m['namespace']}  {m['source']}{tags}\n\n{m['text']}")
    return EXIT_OK


@command
def cmd_delete(args) -> int:
    """Delete one memory, by its id."""
    _call(_client().request, "DELETE", f"/v1/memories/{args.id}", scope="w")
    _emit(args, {"deleted": args.id}, f"deleted {args.id}")
    return EXIT_OK


@command
def cmd_export(args) -> int:
    """Export a namespace as NDJSON (one memory per line, newest first), to stdout or --out."""
    client = _client()
    out = sys.stdout.buffer
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        out = os.fdopen(fd, "wb")
    count, query = 0, {"namespace": args.ns}
    try:
        while True:
            _, headers, data = _call(client.request, "GET", "/v1/export", scope="r", query=query)
            out.write(data)
            count += data.count(b"\n")
            cursor = _next_cursor(headers.get("link", ""))
            if cursor is None:
                break
            query = {"namespace": args.ns, "before": cursor}
    finally:
        if args.out:
            out.close()
        else:
            out.flush()
    if args.out:
        _emit(args, {"exported": count, "file": args.out}, f"exported {count} memories to {args.out}")
    return EXIT_OK


def _next_cursor(link: str) -> str | None:
    from urllib.parse import parse_qs, urlsplit

    if 'rel="next"' not in link:
        return None
    target = link.split(";")[0].strip().strip("<>")
    return parse_qs(urlsplit(target).query).get("before", [None])[0]


@command
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
    client = _client()
    totals = {"imported": 0, "duplicates": 0, "expired": 0}
    for chunk in _chunks(raw, limit=4 * 1024 * 1024):
        _, _, data = _call(
            client.request, "POST", "/v1/import", scope="w", body=chunk, content_type="application/x-ndjson"
        )
        for name, value in json.loads(data).items():
            totals[name] += value
    _emit(
        args, totals,
        f"imported {totals['imported']}, {totals['duplicates']} already there, {totals['expired']} expired",
    )
    return EXIT_OK


def _chunks(raw: bytes, *, limit: int):
    """Whole lines, at most `limit` bytes a request (a single longer line goes alone)."""
    chunk = bytearray()
    for line in raw.splitlines(keepends=True):
        if chunk and len(chunk) + len(line) > limit:
            yield bytes(chunk)
            chunk.clear()
        chunk += line
    if chunk.strip():
        yield bytes(chunk)


@command
def cmd_spool(args) -> int:
    """Show memories waiting to be delivered, and try to deliver them now."""
    spool = _spool()
    waiting = spool.entries()
    if waiting:
        _deliver_spool(_client(tries=1), quiet=True)
    left = spool.entries()
    data = {"waiting": len(waiting), "delivered": len(waiting) - len(left), "remaining": [e["payload"] for e in left]}
    lines = [f"{len(waiting) - len(left)} delivered, {len(left)} still waiting"]
    lines += [f"  {e['payload'].get('namespace', 'default')}: {_one_line(e['payload'].get('text', ''), 80)}" for e in left]
    _emit(args, data, "\n".join(lines) if waiting else "the spool is empty")
    return EXIT_OK


HOOK_MATCHER = "startup|resume|clear|compact"
HOOK_BUDGET = 9000  # Claude Code replaces SessionStart output over 10,000 characters


def plugin_dir():
    """The Claude Code plugin: inside the installed package, or skills/ in a checkout."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for candidate in (here / "plugin", here.parent / "skills"):
        if (candidate / ".claude-plugin" / "plugin.json").is_file():
            return candidate
    raise CliError("the Claude Code plugin files are missing from this installation", EXIT_USAGE)


@command
def cmd_install_claude(args) -> int:
    """Install the GlyphMemory skill and SessionStart hook into Claude Code (~/.claude).

    Copies the skill to DIR/skills/glyphmemory/ and adds one SessionStart hook to
    DIR/settings.json, keeping every other setting and hook. Running it again changes nothing.
    Alternatively, load the whole plugin folder (skills/ in the repository) as a plugin.
    """
    import shutil
    from pathlib import Path

    target = Path(args.dir or os.environ.get("GLYPH_CLAUDE_DIR") or Path.home() / ".claude")
    skill_src = plugin_dir() / "skills" / "glyphmemory" / "SKILL.md"
    skill_dst = target / "skills" / "glyphmemory" / "SKILL.md"
    skill_dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(skill_src, skill_dst)

    settings_path = target / "settings.json"
    settings: dict = {}
    if settings_path.exists():
        try:
            settings = json.loads(settings_path.read_text(encoding="utf-8") or "{}")
        except ValueError:
            raise CliError(f"{settings_path} is not valid JSON; fix it, then run this again", EXIT_USAGE) from None
    hooks = settings.setdefault("hooks", {})
    session = hooks.setdefault("SessionStart", []) if isinstance(hooks, dict) else None
    if not isinstance(session, list):
        raise CliError(f"{settings_path}: hooks.SessionStart is not a list; fix it by hand", EXIT_USAGE)
    present = any(
        "context --hook" in str(h.get("command", ""))
        for entry in session if isinstance(entry, dict)
        for h in entry.get("hooks", []) if isinstance(h, dict)
    )
    if not present:
        running = os.path.abspath(sys.argv[0])
        glyph = running if os.path.basename(running) == "glyph" else (shutil.which("glyph") or "glyph")
        session.append({
            "matcher": HOOK_MATCHER,
            "hooks": [{"type": "command", "command": f"{glyph} context --hook --budget {HOOK_BUDGET}", "timeout": 5}],
        })
        tmp = settings_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, settings_path)
    data = {"skill": str(skill_dst), "settings": str(settings_path), "hook_added": not present}
    _emit(args, data, f"skill: {skill_dst}\nhook: {settings_path} ({'added' if not present else 'already there'})")
    return EXIT_OK


@command
def cmd_token(args) -> int:
    """Mint a window token for scripts and curl (sent as Authorization: Bearer TOKEN)."""
    import time

    from glyphmemory.tokens import mint_window_token

    key = _load_key()
    ttl = _parse_duration(args.ttl)
    exp = int(time.time()) + ttl
    token = mint_window_token(key.kid, key.secret, args.scope, exp)
    _emit(args, {"token": token, "expires_at": exp, "scope": args.scope}, token)
    return EXIT_OK


@command
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
        _write_config(settings)
    uri = otpauth_uri(key, f"root ({key.kid})")
    if args.json:
        print(json.dumps({"key_file": path, "kid": key.kid, "otpauth_uri": uri, "created": created, **settings}))
        return EXIT_OK
    print(f"{'created' if created else 'using'} the root key (kid {key.kid}); local copy at {path}")
    for name, value in settings.items():
        print(f"  {name}: {value}")
    _print_qr(uri)
    print("Scan this with an authenticator app, or enter the URI by hand:\n  " + uri)
    return EXIT_OK


def _init_aws(args, local):
    """The root key from (or into) SSM, and the stack's URL into the config."""
    from glyphmemory.aws_admin import ensure_root_key, stack_outputs
    from glyphmemory.errors import GlyphError

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


def _write_config(values: dict) -> None:
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


def _print_qr(uri: str) -> None:
    import segno  # only here: QR codes are for people at a terminal

    segno.make(uri, error="m").terminal(compact=True)


@command
def cmd_keys(args) -> int:
    """Manage device keys (root key only): add NAME, list, revoke KID.

    Each device or assistant gets its own key, revocable on its own. `add` shows the new
    secret and its QR code once: it is never shown again.
    """
    client = _client()
    if args.action == "list":
        _, data = _call(client.json, "GET", "/v1/keys", scope="a")
        lines = [f"{k['kid']:<10} {k['name']}{'  (root)' if k['root'] else ''}" for k in data["items"]]
        _emit(args, data, "\n".join(lines))
    elif args.action == "add":
        if not args.arg:
            raise CliError("keys add needs a NAME, e.g. glyph keys add phone", EXIT_USAGE)
        _, data = _call(client.json, "POST", "/v1/keys", scope="a", payload={"name": args.arg})
        if args.json:
            _emit(args, data, "")
        else:
            print(f"added key {data['kid']} ({data['name']}). Its secret, shown only now:")
            print(f"  GLYPH_KEY={data['kid']}:{data['secret']}")
            _print_qr(data["otpauth_uri"])
            print("  " + data["otpauth_uri"])
    else:
        if not args.arg:
            raise CliError("keys revoke needs a KID (see glyph keys list)", EXIT_USAGE)
        _call(client.request, "DELETE", f"/v1/keys/{args.arg}", scope="a")
        _emit(args, {"revoked": args.arg}, f"revoked {args.arg}")
    return EXIT_OK


@command
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
    _emit(args, {"GLYPH_BASIC_AUTH": value}, f"GLYPH_BASIC_AUTH='{value}'")
    return EXIT_OK


@command
def cmd_url(args) -> int:
    """Print a URL for a chat that can only fetch URLs: `url read` or `url write TEXT`.

    `url read` gives a link to paste into a chat: it answers with your recent memories and tells
    the assistant how to save new ones. `url write TEXT` gives the shortest link that saves TEXT
    (compressed z= or plain m=, whichever is shorter), or says why none fits 8,192 bytes.
    """
    import time
    from urllib.parse import quote, urlencode

    from glyphmemory.codec import encode
    from glyphmemory.tokens import mint_window_token

    client = _client()  # for the server URL without any basic-auth userinfo
    key = client.key
    exp = int(time.time()) + _parse_duration(args.ttl)
    extra = {} if args.ns == names.DEFAULT_NAMESPACE else {"ns": args.ns}
    if args.action == "read":
        token = mint_window_token(key.kid, key.secret, "rw", exp)
        url = f"{client.base_url}/r?" + urlencode({"t": token, **extra})
        _emit(args, {"url": url, "expires_at": exp}, url)
        return EXIT_OK
    text = sys.stdin.read() if args.text in (None, "-") else args.text
    if not text or not text.strip():
        raise CliError("url write needs the TEXT to save", EXIT_USAGE)
    token = mint_window_token(key.kid, key.secret, "w", exp)
    if args.tags:
        extra["tags"] = args.tags
    base = f"{client.base_url}/w?" + urlencode({"t": token, **extra}, safe=",")
    forms = {"z": f"{base}&z={encode(text)}", "m": f"{base}&m={quote(text, safe='')}"}
    form, url = min(forms.items(), key=lambda item: len(item[1]))
    size = len(url.encode())
    if size > names.MAX_URL_BYTES:
        raise CliError(
            f"too long for a URL: even compressed it is {size} bytes, over the {names.MAX_URL_BYTES}-byte "
            "limit of CloudFront; save it with `glyph write` instead, or split it",
            EXIT_USAGE,
        )
    _emit(args, {"url": url, "form": form, "bytes": size, "expires_at": exp}, url)
    return EXIT_OK


def _parse_duration(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise CliError(f"{text!r} is not a duration like 90s, 15m, 12h or 7d", EXIT_USAGE)
    seconds = int(number) * units[unit]
    if not 0 < seconds <= names.MAX_TOKEN_TTL_S:
        raise CliError("a token lives from 1 second to 30 days", EXIT_USAGE)
    return seconds


# --- argument parsing ------------------------------------------------------------------------


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
        if args.command in _DELIVER_FIRST and not getattr(args, "hook", False):
            _deliver_spool(_client(tries=1))
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"glyph: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
