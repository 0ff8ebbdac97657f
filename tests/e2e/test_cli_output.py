"""What the glyph command prints for people: it stops quietly when its reader goes away, and every
time it shows carries its zone."""

from __future__ import annotations

import json
import subprocess

import pytest

from ..support.processes import GLYPH, clean_env, start_glyph_serve, stop
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    proc, url = start_glyph_serve(env)
    yield {**env, "GLYPH_URL": url}
    stop(proc)


def run_without_reader(env: dict, *args: str) -> tuple[int, str]:
    """`glyph ARGS` whose standard output is a pipe nobody reads: closed before it prints."""
    proc = subprocess.Popen([GLYPH, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    return proc.wait(timeout=30), stderr


def test_every_command_exits_quietly_when_its_reader_goes_away(served):
    env = served
    first = json.loads(glyph(env, "write", "The release train leaves on Tuesdays", "--json").stdout)
    for i in range(30):
        glyph(env, "write", f"memory {i} about the release train and its many carriages " * 3)
    commands = [
        ["recent", "-n", "50"],
        ["recent", "--json"],
        ["search", "release train"],
        ["get", first["id"]],
        ["context"],
        ["export"],
        ["keys", "list"],
        ["spool"],
        ["--help"],
        ["recent", "--help"],
    ]
    for args in commands:
        code, stderr = run_without_reader(env, *args)
        assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "Exception" not in stderr, args
        # As a command stopped by SIGPIPE (argparse's --help drops a failed write by itself: 0).
        assert code == (0 if "--help" in args else 141), (args, code, stderr)

    # The shell's own pipe: head reads one line and leaves.
    piped = subprocess.run(
        f"{GLYPH} recent -n 50 | head -1", shell=True, env=env, capture_output=True, text=True, timeout=30
    )
    assert piped.returncode == 0 and piped.stderr == "" and len(piped.stdout.splitlines()) == 1
