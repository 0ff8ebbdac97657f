"""The README's copy-paste examples (blocks marked <!-- doctest -->) run as written."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ..support.processes import GLYPH, clean_env, glyph_served

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"<!-- doctest -->\n```sh\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_examples_for_each_way_in():
    joined = "\n".join(BLOCKS)
    for command in ("glyph write", "curl", "glyph install claude-code", "glyph install cursor", "glyph url read"):
        assert command in joined


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    env = clean_env(GLYPH_HOME=str(home), GLYPH_CLAUDE_DIR=str(home / "claude"))
    with glyph_served(dict(env)) as url:  # env stays without GLYPH_URL
        yield env, url


@pytest.mark.parametrize("block", BLOCKS, ids=[b.split()[0] + str(i) for i, b in enumerate(BLOCKS)])
def test_readme_block_runs(block, served, tmp_path):
    env, url = served
    env = {**env, "GLYPH_URL": url, "PATH": f"{Path(GLYPH).parent}:{env['PATH']}"}
    script = block.replace("http://127.0.0.1:8787", url)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    assert "urn:glyphmemory:problem" not in result.stdout  # no request answered with an error
