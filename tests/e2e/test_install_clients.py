"""`glyph install CLIENT` through the real command, in a throwaway HOME whose path holds a space:
each client's own file in its own shape, other entries kept, a second run byte-identical,
--print writes nothing, a broken file is left alone; `glyph connect CLIENT` prints the URL."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from ..support.processes import GLYPH, clean_env

pytestmark = pytest.mark.e2e

# client → (its user file under HOME on Linux, format, the object holding servers, the entry's extra keys)
CLIENTS = {
    "claude-desktop": (".config/Claude/claude_desktop_config.json", "json", "mcpServers", {}),
    "cursor": (".cursor/mcp.json", "json", "mcpServers", {}),
    "vscode": (".config/Code/User/mcp.json", "json", "servers", {"type": "stdio"}),
    "codex": (".codex/config.toml", "toml", "mcp_servers", {}),
    "gemini": (".gemini/settings.json", "json", "mcpServers", {}),
    "windsurf": (".codeium/windsurf/mcp_config.json", "json", "mcpServers", {}),
    "zed": (".config/zed/settings.json", "json", "context_servers", {}),
}
PROJECT = {"cursor": ".cursor/mcp.json", "vscode": ".vscode/mcp.json", "gemini": ".gemini/settings.json"}
PROJECT["zed"] = ".zed/settings.json"

OTHER_JSON = {"theme": "dark", "servers_note": [1, 2]}
OTHER_TOML = '# my Codex settings\nmodel = "o3"  # the default\n\n[mcp_servers.other]\ncommand = "other-mcp"\n'


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "Home Folder"
    home.mkdir()
    return home


def env_for(home: Path, **extra) -> dict[str, str]:
    env = clean_env(**{"HOME": str(home), "GLYPH_HOME": str(home / "glyph data"), **extra})
    for name in ("XDG_CONFIG_HOME", "CODEX_HOME", "APPDATA", "GLYPH_CLAUDE_DESKTOP_CONFIG", "GLYPH_CLAUDE_DIR"):
        env.pop(name, None)
    return env


def install(env, *args, cwd=None, check=True):
    result = subprocess.run([GLYPH, "install", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=30)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def parse(path: Path, fmt: str) -> dict:
    return tomllib.loads(path.read_text()) if fmt == "toml" else json.loads(path.read_text())


def seed(path: Path, fmt: str, table: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "toml":
        path.write_text(OTHER_TOML)
    else:
        path.write_text(json.dumps({**OTHER_JSON, table: {"other": {"command": "other-mcp", "args": []}}}))


@pytest.mark.parametrize("client", CLIENTS)
def test_install_writes_the_clients_own_file_keeps_the_rest_and_runs_twice(home, client):
    rel, fmt, table, extra = CLIENTS[client]
    path = home / rel
    seed(path, fmt, table)
    env = env_for(home)
    first = json.loads(install(env, client, "--json").stdout)
    assert first == {"config": str(path), "server": "glyphmemory", "changed": True}
    settings = parse(path, fmt)
    entry = settings[table]["glyphmemory"]
    assert entry == {**extra, "command": GLYPH, "args": ["mcp"], "env": {"GLYPH_HOME": str(home / "glyph data")}}
    assert os.path.isabs(entry["command"]) and entry["command"] == GLYPH  # no shell reads it: unquoted
    assert settings[table]["other"]["command"] == "other-mcp"
    if fmt == "toml":
        assert path.read_text().startswith(OTHER_TOML)  # comments and layout kept, byte for byte
        assert settings["model"] == "o3"
    else:
        assert {k: settings[k] for k in OTHER_JSON} == OTHER_JSON
    written = path.read_bytes()
    second = json.loads(install(env, client, "--json").stdout)
    assert second["changed"] is False and path.read_bytes() == written


@pytest.mark.parametrize("client", CLIENTS)
def test_print_shows_what_install_would_write_and_writes_nothing(home, client):
    rel, fmt, table, _ = CLIENTS[client]
    env = env_for(home)
    shown = install(env, client, "--print").stdout
    assert not (home / rel).exists()
    install(env, client)
    assert shown == (home / rel).read_text()
    assert parse(home / rel, fmt)[table]["glyphmemory"]["args"] == ["mcp"]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_file_that_does_not_parse_is_refused_and_left_alone(home, client):
    rel, fmt, _, _ = CLIENTS[client]
    path = home / rel
    path.parent.mkdir(parents=True)
    broken = '[mcp_servers.other\ncommand = "x"\n' if fmt == "toml" else '{"mcpServers": {"other": '
    path.write_text(broken)
    result = install(env_for(home), client, check=False)
    assert result.returncode == 1
    assert f"{path} is not valid {fmt.upper()}" in result.stderr and "Traceback" not in result.stderr
    assert path.read_text() == broken


@pytest.mark.parametrize("client", PROJECT)
def test_project_scope_writes_the_projects_file(home, tmp_path, client):
    _, fmt, table, _ = CLIENTS[client]
    project = tmp_path / "my project"
    project.mkdir()
    install(env_for(home), client, "--project", cwd=project)
    assert parse(project / PROJECT[client], fmt)[table]["glyphmemory"]["command"] == GLYPH
    assert not (home / CLIENTS[client][0]).exists()


def test_project_scope_is_refused_where_the_client_has_none(home, tmp_path):
    tmp_path = tmp_path / "project"
    tmp_path.mkdir()
    for client in ("codex", "windsurf", "claude-desktop"):
        result = install(env_for(home), client, "--project", cwd=tmp_path, check=False)
        assert result.returncode == 1 and "no per-project config file" in result.stderr
    result = install(env_for(home), "claude-code", "--project", cwd=tmp_path, check=False)
    assert result.returncode == 1 and "--dir PROJECT/.claude" in result.stderr
    result = install(env_for(home), "cursor", "--dir", str(tmp_path), cwd=tmp_path, check=False)
    assert result.returncode == 1 and "name the file with --config" in result.stderr
    assert not any(tmp_path.iterdir()) and not (home / ".claude").exists()


def test_config_names_the_file_even_in_a_folder_with_a_space(home, tmp_path):
    target = tmp_path / "odd place" / "config.toml"
    install(env_for(home), "codex", "--config", str(target))
    assert tomllib.loads(target.read_text())["mcp_servers"]["glyphmemory"]["command"] == GLYPH


def test_codex_table_is_replaced_where_it_stands_when_the_store_moves(home):
    path = home / ".codex" / "config.toml"
    path.parent.mkdir()
    path.write_text(OTHER_TOML)
    install(env_for(home), "codex")
    path.write_text(path.read_text() + '\n[profiles.fast]\nmodel = "o4-mini" # after ours\n')
    install({**env_for(home), "GLYPH_URL": "https://memory.example"}, "codex")
    text = path.read_text()
    assert text.startswith(OTHER_TOML) and text.endswith('[profiles.fast]\nmodel = "o4-mini" # after ours\n')
    doc = tomllib.loads(text)
    assert doc["mcp_servers"]["glyphmemory"]["env"]["GLYPH_URL"] == "https://memory.example"
    assert doc["profiles"]["fast"]["model"] == "o4-mini" and text.count("[mcp_servers.glyphmemory]") == 1


def test_codex_comments_after_the_replaced_table_are_kept(home):
    """A comment that introduces the next table (or ends the file) is not part of the old entry:
    replacing the entry keeps it where it was."""
    path = home / ".codex" / "config.toml"
    path.parent.mkdir()
    ours = '[mcp_servers.glyphmemory]\ncommand = "old-glyph"  # an older install\n'
    path.write_text(
        "# Codex settings\n\n" + ours + '\n# fast profile: for quick edits\n[profiles.fast]\nmodel = "o4-mini"\n'
    )
    install(env_for(home), "codex")
    text = path.read_text()
    assert "# fast profile: for quick edits\n[profiles.fast]\n" in text and "old-glyph" not in text
    assert tomllib.loads(text)["profiles"]["fast"]["model"] == "o4-mini"

    path.write_text(ours + '\n# [mcp_servers.retired]\n# command = "retired-mcp"\n')  # a table kept for later
    install(env_for(home), "codex")
    text = path.read_text()
    assert text.endswith('\n# [mcp_servers.retired]\n# command = "retired-mcp"\n') and "old-glyph" not in text
    assert tomllib.loads(text)["mcp_servers"]["glyphmemory"]["command"] == GLYPH


def test_codex_entry_written_as_an_inline_table_is_not_touched(home):
    path = home / ".codex" / "config.toml"
    path.parent.mkdir()
    inline = '[mcp_servers]\nglyphmemory = { command = "old-glyph", args = ["mcp"] }\n'
    path.write_text(inline)
    result = install(env_for(home), "codex", check=False)
    assert (
        result.returncode == 1
        and "replace it by hand" in result.stderr
        and "[mcp_servers.glyphmemory]" in result.stderr
    )
    assert path.read_text() == inline


def test_codex_strings_that_toml_escapes_round_trip(home, tmp_path):
    odd = tmp_path / 'data "q" \\ é \x7f'
    install(env_for(home, GLYPH_HOME=str(odd)), "codex")
    doc = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert doc["mcp_servers"]["glyphmemory"]["env"]["GLYPH_HOME"] == str(odd)


def test_zed_keeps_the_comment_its_settings_file_starts_with(home):
    path = home / ".config" / "zed" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        '// Zed settings\n//\n// For information on how to configure Zed, see the docs.\n{\n  "theme": "One Dark"\n}\n'
    )
    install(env_for(home), "zed")
    text = path.read_text()
    assert text.startswith("// Zed settings\n//\n// For information")
    settings = json.loads(text[text.index("{") :])
    assert settings["theme"] == "One Dark" and settings["context_servers"]["glyphmemory"]["args"] == ["mcp"]


def test_zed_entry_lists_env_even_when_nothing_decides_the_store(home):
    env = env_for(home)
    env.pop("GLYPH_HOME")
    install(env, "zed")
    assert json.loads((home / ".config/zed/settings.json").read_text())["context_servers"]["glyphmemory"]["env"] == {}


def test_install_claude_code_is_install_claude(home):
    env = env_for(home)
    shown = install(env, "claude-code", "--print").stdout
    assert not (home / ".claude").exists()
    install(env, "claude-code")
    settings = home / ".claude" / "settings.json"
    assert shown == settings.read_text() and (home / ".claude/skills/glyphmemory/SKILL.md").is_file()
    written = settings.read_bytes()
    again = subprocess.run([GLYPH, "install-claude"], env=env, capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "already there" in again.stdout and settings.read_bytes() == written


def test_connect_prints_the_public_url_and_each_clients_steps(home):
    env = env_for(home, GLYPH_PUBLIC_URL="https://memory.example.org/")
    for client in ("claude.ai", "chatgpt", "claude-code", "vscode", "cursor", "codex", "gemini", "windsurf", "zed"):
        result = subprocess.run([GLYPH, "connect", client, "--json"], env=env, capture_output=True, text=True)
        data = json.loads(result.stdout)
        assert data["url"] == "https://memory.example.org/mcp" and data["warning"] is None, client
        assert any("https://memory.example.org/mcp" in step for step in data["steps"]), client
    codex = subprocess.run([GLYPH, "connect", "codex"], env=env, capture_output=True, text=True).stdout
    assert "codex mcp add glyphmemory --url https://memory.example.org/mcp" in codex
    assert "codex mcp login glyphmemory" in codex


def test_connect_says_when_a_web_client_cannot_reach_the_url(home):
    env = env_for(home, GLYPH_URL="http://127.0.0.1:8787")
    data = json.loads(subprocess.run([GLYPH, "connect", "chatgpt", "--json"], env=env, capture_output=True).stdout)
    assert data["url"] == "http://127.0.0.1:8787/mcp" and "only over HTTPS" in data["warning"]
    local = json.loads(subprocess.run([GLYPH, "connect", "codex", "--json"], env=env, capture_output=True).stdout)
    assert local["warning"] is None  # Codex runs on this machine: loopback reaches it


@pytest.mark.parametrize("client", ["codex", "cursor", "zed"])
def test_a_symlinked_private_file_is_edited_through_its_link_and_stays_private(home, tmp_path, client):
    """Dotfiles kept in a repository are links into it, and a client's file may hold its other
    servers' secrets (mode 0600): the link's target is edited, the link stays, the mode too."""
    rel, fmt, table, _ = CLIENTS[client]
    target = tmp_path / "dotfiles" / Path(rel).name
    seed(target, fmt, table)
    target.chmod(0o600)
    link = home / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    install(env_for(home), client)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert "glyphmemory" in parse(target, fmt)[table]
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no .tmp left behind


@pytest.mark.parametrize("client", ["claude-desktop", "cursor", "gemini", "windsurf", "vscode"])
def test_a_json_file_starting_with_a_byte_order_mark_is_edited_and_keeps_it(home, client):
    """Windows editors save UTF-8 with a BOM; the file is still the client's valid JSON."""
    rel, fmt, table, _ = CLIENTS[client]
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"theme": "dark", table: {}}).encode())
    install(env_for(home), client)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf{")
    settings = json.loads(raw.decode("utf-8-sig"))
    assert settings["theme"] == "dark" and "glyphmemory" in settings[table]


@pytest.mark.parametrize("client", ["codex", "gemini"])
def test_a_file_that_cannot_be_written_is_said_and_left_alone(home, client):
    """A clear exit 1 naming the file, never a traceback (here the place of the temporary copy is
    taken by a folder: what a read-only folder does for a user who is not root)."""
    rel, fmt, table, _ = CLIENTS[client]
    path = home / rel
    seed(path, fmt, table)
    before = path.read_bytes()
    (path.parent / (path.name + ".tmp")).mkdir()
    result = install(env_for(home), client, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"cannot write {path}" in result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("client", ["claude-code", "cursor", "codex"])
def test_a_file_that_cannot_be_read_is_said_and_left_alone(home, tmp_path, client):
    """UTF-16 (what Windows PowerShell's `>` writes) or a folder where the file should be: exit 1
    naming it, never a traceback."""
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes('{"theme": "dark"}'.encode("utf-16"))
    folder = tmp_path / "a folder"
    folder.mkdir()
    for path in (utf16, folder):
        result = install(env_for(home), client, "--config", str(path), check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"cannot read {path}" in result.stderr
    assert utf16.read_bytes() == '{"theme": "dark"}'.encode("utf-16") and not any(folder.iterdir())


@pytest.mark.parametrize("client", ["cursor", "codex"])
def test_an_entry_of_the_same_name_is_replaced_and_said_so(home, client):
    """A glyphmemory entry that is not this one (the remote connector's, as glyph connect prints
    it) is replaced, and the answer says so rather than 'added'."""
    rel, fmt, table, _ = CLIENTS[client]
    path = home / rel
    path.parent.mkdir(parents=True)
    if fmt == "toml":
        path.write_text('[mcp_servers.glyphmemory]\nurl = "https://memory.example/mcp"\n')
    else:
        path.write_text(json.dumps({table: {"glyphmemory": {"url": "https://memory.example/mcp"}}}))
    result = install(env_for(home), client)
    assert "replaced its glyphmemory entry" in result.stdout and "added" not in result.stdout
    assert parse(path, fmt)[table]["glyphmemory"]["command"] == GLYPH
    assert "added glyphmemory" in install(env_for(home), "zed").stdout  # none before: added


def test_claude_codes_odd_hook_entries_are_kept_and_ours_added(home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    theirs = {"hooks": {"SessionStart": [{"hooks": 5}, "x"], "UserPromptSubmit": [{"hooks": {"command": "y"}}]}}
    settings.write_text(json.dumps(theirs))
    result = install(env_for(home), "claude-code", check=False)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    hooks = json.loads(settings.read_text())["hooks"]
    assert hooks["SessionStart"][:2] == [{"hooks": 5}, "x"] and "context --hook" in str(hooks["SessionStart"][2])
    assert hooks["UserPromptSubmit"][0] == {"hooks": {"command": "y"}} and "recall --hook" in str(
        hooks["UserPromptSubmit"][1]
    )


def test_another_tools_hook_naming_ours_does_not_stop_ours_being_added(home):
    """Ours is a hook whose command runs a glyph with ours' words (`context --hook`, `recall
    --hook`); before, any command holding those words counted, so another tool's kept ours out."""
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    theirs = {
        "SessionStart": [{"hooks": [{"type": "command", "command": "/opt/other/bin/notes context --hook"}]}],
        "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "echo 'glyph recall --hook is not run'"}]}],
    }
    settings.write_text(json.dumps({"hooks": theirs}))
    env = env_for(home)
    shown = json.loads(install(env, "claude-code", "--print", "--json").stdout)
    assert (shown["hook_added"], shown["recall_hook_added"]) == (True, True)
    first = json.loads(install(env, "claude-code", "--json").stdout)
    assert (first["hook_added"], first["recall_hook_added"]) == (True, True)
    hooks = json.loads(settings.read_text())["hooks"]
    for event, words in (("SessionStart", "context --hook"), ("UserPromptSubmit", "recall --hook")):
        commands = [h["command"] for entry in hooks[event] for h in entry["hooks"]]
        assert commands[0] == theirs[event][0]["hooks"][0]["command"]  # theirs kept, first
        assert commands[1].startswith(GLYPH + " " + words), commands
    again = json.loads(install(env, "claude-code", "--print", "--json").stdout)
    assert (again["hook_added"], again["recall_hook_added"]) == (False, False)  # ours now there
    # one from a bare `glyph` on PATH (a hand-written hook) counts as ours too
    bare = {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": "glyph recall --hook"}]}]}}
    settings.write_text(json.dumps(bare))
    assert json.loads(install(env, "claude-code", "--print", "--json").stdout)["recall_hook_added"] is False
