"""The whole `glyph` command set as a user runs it: on SQLite and on the API over DynamoDB (moto),
nothing lost when the server is down, and the Claude Code hook."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ..support.processes import GLYPH, clean_env, glyph_served, start_glyph_serve, stop
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["sqlite", "dynamodb"])
def server(request, tmp_path):
    """glyph serve on its SQLite default, or on DynamoDB through moto: the same commands pass."""
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    if request.param == "dynamodb":
        env.update(
            GLYPH_STORE="dynamodb://" + request.getfixturevalue("dynamo_table"),
            AWS_ENDPOINT_URL_DYNAMODB=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
        )
    with glyph_served(env) as url:
        yield {**env, "GLYPH_URL": url}


def test_every_command_works(server, tmp_path):
    env = server
    a = json.loads(glyph(env, "write", "We deploy with CDK, never with Docker", "--tags", "infra", "--json").stdout)
    b = json.loads(glyph(env, "write", "The user prefers pytest fixtures", "--json").stdout)
    hits = json.loads(glyph(env, "search", "pytest", "--json").stdout)
    assert [h["id"] for h in hits["items"]] == [b["id"]]
    assert "pytest fixtures" in glyph(env, "search", "pytest").stdout
    got = glyph(env, "get", a["id"]).stdout
    assert a["id"] in got and "We deploy with CDK" in got and "[infra]" in got
    assert json.loads(glyph(env, "get", a["id"], "--json").stdout)["text"] == a["text"]

    # export to stdout and to a file, delete, import twice: back, and only once.
    ndjson = glyph(env, "export").stdout
    assert [json.loads(line)["id"] for line in ndjson.splitlines()] == [b["id"], a["id"]]
    dump = tmp_path / "dump.ndjson"
    assert "exported 2" in glyph(env, "export", "--out", str(dump)).stdout
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert glyph(env, "delete", a["id"]).stdout.strip() == f"deleted {a['id']}"
    gone = glyph(env, "get", a["id"], check=False)
    assert gone.returncode == 1 and "no memory has that id" in gone.stderr
    assert json.loads(glyph(env, "import", str(dump), "--json").stdout) == {
        "imported": 1,
        "duplicates": 1,
        "expired": 0,
        "redacted": [],
    }
    assert json.loads(glyph(env, "import", "-", "--json", stdin=dump.read_text()).stdout)["imported"] == 0
    assert len(json.loads(glyph(env, "recent", "--json").stdout)["items"]) == 2

    assert glyph(env, "context", "--budget", "600").stdout.startswith("# GlyphMemory context")
    assert glyph(env, "url", "read").stdout.startswith(env["GLYPH_URL"] + "/r?t=")
    token = json.loads(glyph(env, "token", "--scope", "r", "--json").stdout)
    assert token["scope"] == "r" and len(token["token"]) <= 64
    assert json.loads(glyph(env, "keys", "list", "--json").stdout)["items"][0]["kid"] == "root"
    assert json.loads(glyph(env, "spool", "--json").stdout)["waiting"] == 0


def test_nothing_is_lost_while_the_server_is_down(tmp_path):
    port = free_port()
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    proc, url = start_glyph_serve(env, port=port)
    env["GLYPH_URL"] = url
    glyph(env, "write", "written while up")
    stop(proc)
    for i in range(5):
        result = glyph(env, "write", f"written while down {i}")
        assert result.returncode == 0 and result.stdout.startswith("spooled (server unreachable)")
    spool_file = tmp_path / "home" / "spool.ndjson"
    assert oct(spool_file.stat().st_mode & 0o777) == "0o600" and len(spool_file.read_text().splitlines()) == 5
    assert glyph(env, "recent", check=False).returncode == 3  # reads cannot be spooled: exit 3
    proc, _ = start_glyph_serve(env, port=port)
    try:
        recent = glyph(env, "recent", "--json")
        texts = [i["text"] for i in json.loads(recent.stdout)["items"]]
        assert texts == [f"written while down {i}" for i in range(4, -1, -1)] + ["written while up"]
        assert "delivered 5 spooled memories" in recent.stderr
        assert not spool_file.exists()
        again = [i["text"] for i in json.loads(glyph(env, "recent", "--json").stdout)["items"]]
        assert again == texts  # exactly once
    finally:
        stop(proc)


def test_a_corrupt_spool_line_is_set_aside_and_the_rest_delivered(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        spool = tmp_path / "home" / "spool.ndjson"
        spool.write_text(
            json.dumps({"payload": {"text": "first spooled"}})
            + "\n{not json\n"
            + json.dumps({"payload": {"text": "second spooled"}})
            + "\n"
        )
        result = glyph(env, "recent", "--json")
        assert "spool.ndjson" in result.stderr and "spool.rejected.ndjson" in result.stderr
        texts = [i["text"] for i in json.loads(result.stdout)["items"]]
        assert texts == ["second spooled", "first spooled"]
        assert (tmp_path / "home" / "spool.rejected.ndjson").read_text() == "{not json\n"


def test_a_corrupt_config_file_is_named(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text("{oops")
    result = glyph(clean_env(GLYPH_HOME=str(home), GLYPH_KEY="root:" + "A" * 32), "recent", check=False)
    assert result.returncode == 1 and str(home / "config.json") in result.stderr
    (home / "key.json").write_text("not a key")
    result = glyph(clean_env(GLYPH_HOME=str(home), GLYPH_URL="http://127.0.0.1:9"), "recent", check=False)
    assert result.returncode == 2 and str(home / "key.json") in result.stderr


def test_empty_stdin_is_a_usage_error(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path), GLYPH_URL="http://127.0.0.1:9", GLYPH_KEY="root:" + "A" * 32)
    result = glyph(env, "write", "-", stdin="", check=False)
    assert result.returncode == 1 and "empty" in result.stderr


# --- Claude Code plugin ------------------------------------------------------------------------


def hook_command() -> str:
    hooks = json.loads((ROOT / "skills" / "hooks" / "hooks.json").read_text())
    (entry,) = hooks["hooks"]["SessionStart"]
    assert entry["matcher"] == "startup|resume|clear|compact"
    (hook,) = entry["hooks"]
    assert hook["type"] == "command"
    return hook["command"]


def run_hook(env: dict) -> tuple[subprocess.CompletedProcess, float]:
    env = {**env, "PATH": f"{Path(GLYPH).parent}:{env.get('PATH', '/usr/bin:/bin')}"}
    started = time.monotonic()
    result = subprocess.run(hook_command(), shell=True, env=env, capture_output=True, text=True, timeout=10)
    return result, time.monotonic() - started


def test_the_session_start_hook_loads_context_under_the_cap(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        for i in range(40):
            glyph(env, "write", f"memory {i}: " + "a fairly long sentence about the project " * 25)
        result, seconds = run_hook(env)
        assert result.returncode == 0 and seconds < 2.0
        assert result.stdout.startswith("# GlyphMemory context") and "memory 39:" in result.stdout
        assert len(result.stdout) < 10_000 and "older memories not shown" in result.stdout


def test_the_hook_with_the_server_down_prints_one_line_and_exits_0(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"), GLYPH_URL="http://127.0.0.1:9", GLYPH_KEY="root:" + "A" * 32)
    result, seconds = run_hook(env)
    assert result.returncode == 0 and seconds < 2.0
    assert len(result.stdout.strip().splitlines()) == 1 and "no memories loaded" in result.stdout
    nokey = clean_env(GLYPH_HOME=str(tmp_path / "empty"), GLYPH_URL="http://127.0.0.1:9")
    result, _ = run_hook(nokey)
    assert result.returncode == 0 and len(result.stdout.strip().splitlines()) == 1


def test_the_hook_prints_the_cached_block_with_its_age_when_the_server_is_gone(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        glyph(env, "write", "The deploy runs from CI, never from a laptop", "--tags", "decision")
        fresh, _ = run_hook(env)
    assert fresh.stdout.startswith("# GlyphMemory context")
    cached = list((tmp_path / "home" / "context-cache").iterdir())
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o777 == 0o600

    result, seconds = run_hook(env)  # the server is down now
    assert result.returncode == 0 and seconds < 2.0
    first, _, rest = result.stdout.partition("\n")
    assert first.startswith("GlyphMemory: the server did not answer in time (cannot reach")
    assert "were cached less than a minute ago" in first
    assert rest.lstrip("\n") == fresh.stdout  # the very block the last session got
    assert len(result.stdout) < 10_000

    offline = glyph(env, "context", "--cached")  # the same cache, asked for directly
    assert offline.stdout == fresh.stdout and "cached less than a minute ago" in offline.stderr


def test_the_hook_gives_up_on_a_server_that_never_answers_within_its_deadline(tmp_path):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        env = clean_env(
            GLYPH_HOME=str(tmp_path / "home"),
            GLYPH_URL=f"http://127.0.0.1:{silent.getsockname()[1]}",
            GLYPH_KEY="root:" + "A" * 32,
        )
        result, seconds = run_hook(env)
    finally:
        silent.close()
    assert result.returncode == 0 and seconds < 4.5  # inside the hook's own 5 s timeout
    assert "no memories loaded" in result.stdout and "TimeoutError" in result.stdout


def test_context_cached_without_a_cache_says_so(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path), GLYPH_URL="http://127.0.0.1:9", GLYPH_KEY="root:" + "A" * 32)
    result = glyph(env, "context", "--cached", check=False)
    assert result.returncode == 1 and "no context block is cached" in result.stderr


def test_install_claude_is_idempotent_and_keeps_other_settings(tmp_path):
    target = tmp_path / "claude"
    target.mkdir()
    theirs = {
        "model": "x",
        "hooks": {
            "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo mine"}]}],
            "Stop": [{"hooks": []}],
        },
    }
    (target / "settings.json").write_text(json.dumps(theirs))
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"), GLYPH_CLAUDE_DIR=str(target))
    first = json.loads(glyph(env, "install-claude", "--json").stdout)
    second = json.loads(glyph(env, "install-claude", "--json").stdout)
    assert first["hook_added"] is True and second["hook_added"] is False
    settings = json.loads((target / "settings.json").read_text())
    assert settings["model"] == "x" and settings["hooks"]["Stop"] == [{"hooks": []}]
    commands = [h["command"] for e in settings["hooks"]["SessionStart"] for h in e["hooks"]]
    assert commands[0] == "echo mine" and len(commands) == 2
    assert commands[1].endswith("glyph context --hook --budget 9000") and os.path.isabs(commands[1].split()[0])
    assert first["recall_hook_added"] is True and second["recall_hook_added"] is False
    (prompt_hook,) = [h for e in settings["hooks"]["UserPromptSubmit"] for h in e["hooks"]]
    assert prompt_hook["command"].endswith("glyph recall --hook") and os.path.isabs(prompt_hook["command"].split()[0])
    skill = (target / "skills" / "glyphmemory" / "SKILL.md").read_text()
    assert skill == (ROOT / "skills" / "skills" / "glyphmemory" / "SKILL.md").read_text()
    (target / "settings.json").write_text("{broken")
    broken = glyph(env, "install-claude", check=False)
    assert broken.returncode == 1 and "settings.json" in broken.stderr
    assert (target / "settings.json").read_text() == "{broken"  # never clobbered


def test_glyph_context_imports_only_what_it_needs(tmp_path):
    import sys

    code = (
        "import sys; from glyph_cli.main import main; main(['context', '--hook']);"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    env = clean_env(GLYPH_HOME=str(tmp_path), GLYPH_URL="http://127.0.0.1:9", GLYPH_KEY="root:" + "A" * 32)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1].replace("'", '"')))
    assert not loaded & {"boto3", "botocore", "sqlite3", "pyotp", "segno", "httpx", "platformdirs", "urllib3"}
    # The MCP SDK (~1.4 s), its pydantic and anyio, and the pages' Jinja2: only `glyph mcp` pays.
    assert not loaded & {"mcp", "pydantic", "anyio", "jinja2", "websockets"}


def test_the_cli_shows_control_characters_of_old_memories_as_escapes(tmp_path):
    """A memory stored before the server refused control characters cannot drive the terminal
    that prints it (ESC ] 52 sets the clipboard)."""
    import sqlite3
    import time

    from glyphmemory.model import content_hash, new_ulid

    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        glyph(env, "write", "an ordinary memory")
        text = "evil \x1b]52;c;ZXZpbA==\x07 memory"
        db = sqlite3.connect(tmp_path / "home" / "glyph.db")
        epoch_us = int(time.time() * 1_000_000)
        memory_id = new_ulid(epoch_us // 1000)
        db.execute(
            "INSERT INTO memories (id, namespace, epoch_us, text, tags, source, session, expires_at, content_hash) "
            "VALUES (?, 'default', ?, ?, '[]', 'old', NULL, NULL, ?)",
            (memory_id, epoch_us, text, content_hash("default", text)),
        )
        db.commit()
        db.close()
        for args in (["recent"], ["get", memory_id], ["context"], ["search", "evil"]):
            out = glyph(env, *args).stdout
            assert "\x1b" not in out and "\x07" not in out and "\\x1b]52" in out, args


def test_glyph_write_warns_when_secrets_were_removed(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        result = glyph(env, "write", "the staging DB is postgres://app:Pw9xK2mQ7rT4@db.internal/main")
        assert (
            result.stdout.startswith("saved ")
            and "secrets were removed before saving (url-credentials)" in result.stderr
        )
        assert "Pw9xK2mQ7rT4" not in glyph(env, "recent").stdout


def test_glyph_edit_corrects_text_and_tags(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        m = json.loads(glyph(env, "write", "we ship on Fridays", "--json").stdout)
        other = json.loads(glyph(env, "write", "tea, not coffee", "--json").stdout)
        assert (
            glyph(env, "edit", m["id"], "we ship on Thursdays", "--tags", "ops").stdout.strip() == f"edited {m['id']}"
        )
        got = json.loads(glyph(env, "get", m["id"], "--json").stdout)
        assert (got["text"], got["tags"], got["created_at"]) == ("we ship on Thursdays", ["ops"], m["created_at"])
        clash = glyph(env, "edit", other["id"], "we ship on Thursdays", check=False)
        assert clash.returncode == 1 and m["id"] in clash.stderr
        assert glyph(env, "edit", m["id"], check=False).returncode == 1


def test_arguments_the_locale_cannot_decode_are_a_usage_error_naming_them(tmp_path):
    """Bytes in an argument that the locale's encoding (UTF-8 here) cannot decode reach Python as
    lone surrogates; every command that sends an argument refuses it on one stderr line naming
    the argument, exit 1 (usage), no traceback. File names are the file system's bytes: kept."""
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"), LC_ALL="C.UTF-8")
    bad = b"pytest \xff"
    with glyph_served(env):
        for args, name in [
            ([b"write", bad], b"TEXT"),
            ([b"write", b"fine words", b"--tags", bad], b"--tags"),
            ([b"write", b"fine words", b"--ns", bad], b"--ns"),
            ([b"search", bad], b"Q"),
            ([b"search", b"fine", b"--ns=" + bad], b"--ns"),
            ([b"recent", b"--tag", bad], b"--tag"),
            ([b"recall", bad], b"PROMPT"),
            ([b"edit", b"0000", bad], b"TEXT"),
            ([b"get", bad], b"ID"),
            ([b"keys", b"add", bad], b"NAME|KID"),
        ]:
            result = subprocess.run([os.fsencode(GLYPH), *args], env=env, capture_output=True, timeout=30)
            assert (result.returncode, result.stdout) == (1, b""), (args, result.stderr)
            assert len(result.stderr.splitlines()) == 1 and b"Traceback" not in result.stderr, (args, result.stderr)
            assert name in result.stderr and b"UTF-8" in result.stderr, (args, result.stderr)
        assert json.loads(glyph(env, "recent", "--json").stdout)["items"] == []  # nothing was written
        glyph(env, "write", "kept across a file name in bytes")
        out = os.fsencode(tmp_path) + b"/export-\xff.ndjson"
        exported = subprocess.run([os.fsencode(GLYPH), b"export", b"--out", out], env=env, capture_output=True)
        assert exported.returncode == 0 and os.path.getsize(out) > 0, exported.stderr
        imported = subprocess.run([os.fsencode(GLYPH), b"import", out], env=env, capture_output=True)
        assert imported.returncode == 0, imported.stderr


def test_an_argument_no_url_can_hold_is_the_servers_refusal_not_a_traceback(tmp_path):
    """An id holding a letter beyond ASCII, a space or a "?": exit 1 with the server's sentence
    (the client %-encodes what a URL cannot hold as it is: it was a traceback, or a query)."""
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        for args in (["get", "é"], ["delete", "a b"], ["get", "a?limit=1"]):
            result = glyph(env, *args, check=False)
            assert result.returncode == 1 and "Traceback" not in result.stderr, (args, result.stderr)
            assert "the server answered 404: no memory has that id" in result.stderr, (args, result.stderr)
