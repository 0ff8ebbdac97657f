"""What `glyph install-claude` writes runs as written: the hook from a folder whose path holds a
space, a quote and a `$`, and Claude Desktop's `glyph mcp` on the store this glyph uses."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ..support.processes import GLYPH, clean_env, glyph_served
from .test_cli_commands import hook_command
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e

AWKWARD = ["My Tools", "it's $HOME", 'say "hi" `now`', "a;b & c|d"]


@pytest.fixture
def served(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env):
        yield env


@pytest.mark.parametrize("folder", AWKWARD)
def test_the_installed_hook_runs_from_a_path_the_shell_would_split(served, tmp_path, folder):
    env = served
    glyph(env, "write", "The deploy runs from CI, never from a laptop")
    where = tmp_path / folder / "bin"
    where.mkdir(parents=True)
    (where / "glyph").symlink_to(GLYPH)  # glyph installed under that folder
    claude = tmp_path / "claude"
    env = {**env, "GLYPH_CLAUDE_DIR": str(claude)}
    installed = subprocess.run(
        [str(where / "glyph"), "install-claude"], env=env, capture_output=True, text=True, timeout=30
    )
    assert installed.returncode == 0, installed.stderr
    settings = json.loads((claude / "settings.json").read_text())
    (command,) = [h["command"] for e in settings["hooks"]["SessionStart"] for h in e["hooks"]]
    # Claude Code runs a command hook through the shell, from the project's folder.
    ran = subprocess.run(
        ["sh", "-c", command], cwd=tmp_path / folder, env=env, capture_output=True, text=True, timeout=30
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("# GlyphMemory context") and "never from a laptop" in ran.stdout


def test_the_plugins_hook_runs_from_a_folder_the_shell_would_split(served, tmp_path):
    """The plugin calls `glyph` from PATH: no path in its command to split."""
    env = served
    glyph(env, "write", "Plugins load from their own folder")
    for folder in AWKWARD:
        (tmp_path / folder).mkdir()
        env_path = {**env, "PATH": f"{Path(GLYPH).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        ran = subprocess.run(
            ["sh", "-c", hook_command()], cwd=tmp_path / folder, env=env_path, capture_output=True, text=True
        )
        assert ran.returncode == 0 and "Plugins load from their own folder" in ran.stdout, folder


def test_claude_desktop_opens_the_store_this_glyph_uses_and_mcp_names_it(tmp_path):
    from ..mcp.test_stdio import run

    store = tmp_path / "elsewhere" / "team.db"
    store.parent.mkdir()
    config = tmp_path / "claude_desktop_config.json"
    env = clean_env(
        GLYPH_HOME=str(tmp_path / "home"),
        GLYPH_STORE=f"sqlite://{store}",
        GLYPH_KEY="root:" + "A" * 32,  # a secret: never copied into a config file
        GLYPH_CLAUDE_DESKTOP_CONFIG=str(config),
    )
    glyph(env, "install-claude", "--desktop")
    entry = json.loads(config.read_text())["mcpServers"]["glyphmemory"]
    assert entry["env"] == {"GLYPH_HOME": str(tmp_path / "home"), "GLYPH_STORE": f"sqlite://{store}"}
    assert "A" * 32 not in config.read_text()

    # The app starts the entry with its env alone: the memory lands in the store glyph uses here.
    app_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **entry["env"]}
    saved = run(app_env, lambda s: s.call_tool("save_memory", {"text": "Saved from Claude Desktop"}))
    assert saved.structured_content["memory"]["text"] == "Saved from Claude Desktop"
    import sqlite3

    with sqlite3.connect(store) as db:
        assert db.execute("SELECT text FROM memories").fetchall() == [("Saved from Claude Desktop",)]

    started = subprocess.run(
        [entry["command"], *entry["args"]], env=app_env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    assert f"sqlite://{store}" in started.stderr and "GLYPH_STORE" in started.stderr


def test_glyph_mcp_names_the_server_it_serves_without_its_password(tmp_path):
    env = clean_env(
        GLYPH_HOME=str(tmp_path / "home"),
        GLYPH_URL="https://owner:Pw9xK2mQ7rT4@memory.example",
        GLYPH_KEY="root:" + "A" * 32,
    )
    started = subprocess.run([GLYPH, "mcp"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert "https://memory.example" in started.stderr and "GLYPH_URL" in started.stderr
    assert "Pw9xK2mQ7rT4" not in started.stderr and "A" * 32 not in started.stderr
