"""The real Codex CLI and Gemini CLI (npm devDependencies, run offline) read what `glyph install`
wrote: Codex lists the server as its config holds it; Gemini, in a trusted folder, starts
`glyph mcp` and connects to it. A throwaway HOME whose path holds a space."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ..support.processes import GLYPH, clean_env

pytestmark = pytest.mark.e2e

BIN = Path(__file__).resolve().parents[2] / "node_modules" / ".bin"


def client(name: str) -> str:
    """The client's binary; skipped only where npm did not install it, never in CI."""
    path = BIN / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: `make node_modules/.installed` installs it")
        pytest.skip(f"{path} is missing: run `make node_modules/.installed`")
    return str(path)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "Home Folder"
    home.mkdir()
    return home


def env_for(home: Path) -> dict[str, str]:
    env = clean_env(HOME=str(home), GLYPH_HOME=str(home / "glyph data"), NO_COLOR="1")
    for name in ("XDG_CONFIG_HOME", "CODEX_HOME", "GEMINI_CLI_TRUST_WORKSPACE", "GEMINI_CLI_TRUSTED_FOLDERS_PATH"):
        env.pop(name, None)
    return env


def run(argv, env, cwd, timeout=120):
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_codex_lists_the_server_glyph_install_wrote(home):
    codex = client("codex")
    env = env_for(home)
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('model = "o3"\n\n[mcp_servers.other]\ncommand = "other-mcp"\n')
    run([GLYPH, "install", "codex"], env, home)
    listed = {s["name"]: s for s in json.loads(run([codex, "mcp", "list", "--json"], env, home).stdout)}
    assert set(listed) == {"glyphmemory", "other"}
    ours = listed["glyphmemory"]
    assert ours["enabled"] is True
    assert ours["transport"]["type"] == "stdio"
    assert ours["transport"]["command"] == GLYPH and ours["transport"]["args"] == ["mcp"]
    assert ours["transport"]["env"] == {"GLYPH_HOME": str(home / "glyph data")}


def test_gemini_connects_to_glyph_mcp_in_a_trusted_folder(home):
    gemini = client("gemini")
    env = env_for(home)
    project = home / "my project"
    project.mkdir()
    where = home / "My Tools" / "bin"  # glyph installed under a path a shell would split
    where.mkdir(parents=True)
    (where / "glyph").symlink_to(GLYPH)
    run([str(where / "glyph"), "install", "gemini"], env, project)
    # Gemini starts no MCP server in a folder the user has not trusted: trust this one, as its
    # "Trust folder" dialog does (docs/cli/trusted-folders.md: ~/.gemini/trustedFolders.json).
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({str(project): "TRUST_FOLDER"}))
    connected = f"glyphmemory: {where / 'glyph'} mcp (stdio) - Connected"
    # `gemini mcp list` gives a server 5 s to answer initialize and ping (MCP_LIST_DEFAULT_TIMEOUT_MSEC);
    # glyph mcp answers in ~1.5 s, but 4.2 s measured with the machine's load at 18 on 2 cores: up
    # to 3 tries, each a whole `gemini mcp list`.
    for _ in range(3):
        done = run([gemini, "mcp", "list"], env, project)
        listed = done.stdout + done.stderr  # it reports on stderr
        if connected in listed:
            break
    assert connected in listed, listed
    # The same entry in an untrusted folder is listed but not started: the trust is what mattered.
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    done = run([gemini, "mcp", "list"], env, elsewhere)
    untrusted = done.stdout + done.stderr
    assert "glyphmemory" in untrusted and "Connected" not in untrusted


MEMORY = "The deploy runs from CI, never from a laptop"


def _write_memory(env: dict, home) -> None:
    """MEMORY written with `glyph write` through a glyph serve on env's home, stopped after
    (env itself is left without GLYPH_URL)."""
    from ..support.processes import glyph_served

    served = dict(env)
    with glyph_served(served):
        run([GLYPH, "write", MEMORY], served, home)


def test_codex_on_a_fake_model_calls_our_search_and_the_memory_reaches_the_model(home):
    """Codex's own turn loop, on a loopback Responses API: the model asks for search_memories,
    Codex calls it through the `glyph mcp` that `glyph install codex` configured, and the memory
    comes back in the next request's input."""
    from ..support.fake_openai import FakeOpenAI, find_tool

    codex = client("codex")
    env = env_for(home)
    _write_memory(env, home)  # and stop: glyph mcp opens the same SQLite file itself
    run([GLYPH, "install", "codex"], env, home)
    fake = FakeOpenAI("search_memories", {"query": "deploy"})
    try:
        config = home / ".codex" / "config.toml"
        provider = (
            f'model = "gpt-5"\nmodel_provider = "fake"\napproval_policy = "never"\n\n'
            f'[model_providers.fake]\nname = "fake"\nbase_url = "{fake.url}"\nwire_api = "responses"\n'
            f'env_key = "OPENAI_API_KEY"\n\n'
        )
        config.write_text(provider + config.read_text())
        prompt = "What do you remember about deploys?"
        done = run(
            [codex, "exec", "--skip-git-repo-check", "--trust", prompt],
            {**env, "OPENAI_API_KEY": "sk-test-not-a-secret"},
            home,
            timeout=180,
        )
    finally:
        fake.close()
    bodies = [r["body"] for r in fake.requests if r["path"].endswith("/responses")]
    assert find_tool(bodies[-1], "search_memories") == ("mcp__glyphmemory", "search_memories")
    calls = {i["call_id"]: i for i in bodies[-1]["input"] if i.get("type") == "function_call"}
    ours = [
        i
        for i in bodies[-1]["input"]
        if i.get("type") == "function_call_output" and calls[i["call_id"]]["name"] == "search_memories"
    ]
    assert len(ours) == 1 and MEMORY in str(ours[0]["output"])  # the tool's answer reached the model
    assert json.loads(calls[ours[0]["call_id"]]["arguments"]) == {"query": "deploy"}
    assert "From memory:" in done.stdout and MEMORY in done.stdout


def test_gemini_on_a_fake_model_calls_our_search_and_the_memory_reaches_the_model(home):
    """Gemini CLI's own turn loop on a loopback Gemini API (GOOGLE_GEMINI_BASE_URL, API-key
    sign-in), in a trusted folder: the model asks for search_memories, Gemini calls it through
    the `glyph mcp` that `glyph install gemini` configured (--approval-mode yolo: no one is there
    to approve), and the memory comes back in the next request's contents."""
    from ..support.fake_gemini import FakeGemini, declared, responses

    gemini = client("gemini")
    env = env_for(home)
    _write_memory(env, home)
    project = home / "my project"
    project.mkdir()
    run([GLYPH, "install", "gemini"], env, project)
    settings_path = home / ".gemini" / "settings.json"
    settings = json.loads(settings_path.read_text())
    settings_path.write_text(json.dumps({**settings, "security": {"auth": {"selectedType": "gemini-api-key"}}}))
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({str(project): "TRUST_FOLDER"}))
    fake = FakeGemini("search_memories", {"query": "deploy"})
    try:
        done = run(
            [gemini, "--approval-mode", "yolo", "-p", "What do you remember about deploys?"],
            {**env, "GEMINI_API_KEY": "test-key-not-a-secret", "GOOGLE_GEMINI_BASE_URL": fake.url},
            project,
            timeout=180,
        )
    finally:
        fake.close()
    last = fake.requests[-1]["body"]
    assert declared(last, "search_memories") == "mcp_glyphmemory_search_memories"
    (answer,) = responses(last, "search_memories")  # the tool's answer reached the model
    assert MEMORY in json.dumps(answer["response"])
    calls = [
        (part["functionCall"]["name"], part["functionCall"]["args"])
        for content in last["contents"]
        for part in content.get("parts") or []
        if "functionCall" in part
    ]
    assert calls == [("mcp_glyphmemory_search_memories", {"query": "deploy"})]
    assert "From memory:" in done.stdout and MEMORY in done.stdout
