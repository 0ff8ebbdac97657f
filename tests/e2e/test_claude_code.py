"""The real Claude Code CLI runs the hooks (DESIGN §17) against the fake Messages API: its request
holds the project's block from SessionStart and, after the prompt, the relevant memory from
UserPromptSubmit. Claude Code is a native binary (npm @anthropic-ai/claude-code and its
platform package, pinned in package.json); the test runs the one under node_modules, or the one
GLYPH_CLAUDE_CODE names, and is skipped only outside CI when neither is there."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ..support.fake_claude import API_KEY, FakeClaude
from ..support.processes import GLYPH, ROOT, clean_env, start_glyph_serve, stop
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e
BINARY = os.environ.get("GLYPH_CLAUDE_CODE") or str(
    ROOT / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
)


@pytest.mark.skipif(
    not os.access(BINARY, os.X_OK) and not os.environ.get("CI"),
    reason="Claude Code is not installed (npm ci, or set GLYPH_CLAUDE_CODE)",
)
def test_claude_code_gets_the_project_block_and_the_relevant_memory(tmp_path):
    fake = FakeClaude(min_cache_tokens=1024)
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    proc, url = start_glyph_serve(env)
    env["GLYPH_URL"] = url
    try:
        project = tmp_path / "proj"
        (project / ".git").mkdir(parents=True)
        glyph(env, "write", "Proj deploys with make ship", "--ns", "proj")
        glyph(env, "write", "The staging database password rotates every 90 days via Vault")
        for i in range(40):  # newer memories fill the start block: the Vault one is not in it
            glyph(env, "write", f"Note {i}: the weekly report lists open incidents and owners " * 3)
        settings = tmp_path / "claude" / "settings.json"
        settings.parent.mkdir()
        hooks = {
            "SessionStart": [
                {"hooks": [{"type": "command", "command": f"{GLYPH} context --hook --budget 2000", "timeout": 5}]}
            ],
            "UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"{GLYPH} recall --hook", "timeout": 3}]}],
        }
        settings.write_text(json.dumps({"hooks": hooks}))
        run = subprocess.run(
            [BINARY, "-p", "How often does the staging database password rotate?", "--settings", str(settings)],
            env={
                **env,
                "ANTHROPIC_BASE_URL": fake.url,
                "ANTHROPIC_API_KEY": API_KEY,
                "CLAUDE_CONFIG_DIR": str(settings.parent),
                "HOME": str(tmp_path),
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            },
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        sent = json.dumps([r["body"] for r in fake.replies()])
        assert "this session's project namespace is `proj`" in sent and "Proj deploys with make ship" in sent
        assert "rotates every 90 days via Vault" in sent  # from the prompt hook, not the start block
    finally:
        stop(proc)
        fake.close()
