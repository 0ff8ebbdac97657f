"""What the glyph command prints for people: it stops quietly when its reader goes away, and every
time it shows carries its zone."""

from __future__ import annotations

import json
import subprocess

import pytest

from ..support.processes import GLYPH, clean_env, glyph_served
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env) as url:
        yield {**env, "GLYPH_URL": url}


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


def local(iso_or_seconds, zone: str) -> str:
    """What a person in `zone` reads for a time: its local clock and the offset."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    if isinstance(iso_or_seconds, str):
        moment = datetime.fromisoformat(iso_or_seconds.replace("Z", "+00:00"))
    else:
        moment = datetime.fromtimestamp(iso_or_seconds, UTC)
    there = moment.astimezone(ZoneInfo(zone))
    offset = there.strftime("%z")
    return f"{there:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "UTC", "America/St_Johns"])
def test_every_time_shown_to_people_is_local_with_its_offset(served, tmp_path, zone):
    env = {**served, "TZ": zone}
    memory = json.loads(glyph(env, "write", "The release train leaves on Tuesdays", "--json").stdout)
    when = local(memory["created_at"], zone)
    assert when.endswith({"Asia/Tokyo": "+09:00", "UTC": "+00:00", "America/St_Johns": "-03:30"}[zone])
    assert glyph(env, "recent").stdout.startswith(when)
    assert when in glyph(env, "search", "release train").stdout
    assert when in glyph(env, "get", memory["id"]).stdout
    edited = json.loads(glyph(env, "edit", memory["id"], "The release train leaves on Wednesdays", "--json").stdout)
    assert f"edited {local(edited['updated_at'], zone)}" in glyph(env, "get", memory["id"]).stdout

    added = json.loads(glyph(env, "keys", "add", "phone", "--json").stdout)
    listed = {k["kid"]: k for k in json.loads(glyph(env, "keys", "list", "--json").stdout)["items"]}
    assert local(listed[added["kid"]]["created_at"], zone) in glyph(env, "keys", "list").stdout

    glyph(env, "context")  # keeps the block; its age line names the time it was fetched
    (cached,) = (tmp_path / "home" / "context-cache").iterdir()
    fetched = json.loads(cached.read_text())["fetched_at"]
    assert local(fetched, zone) in glyph(env, "context", "--cached").stderr

    offline = {**env, "GLYPH_URL": "http://127.0.0.1:9"}  # the spool, listed while the server is away
    (tmp_path / "home" / "spool.ndjson").write_text(
        json.dumps({"spooled_at": 1_764_505_980, "payload": {"text": "written on the train"}}) + "\n"
    )
    listing = glyph(offline, "spool").stdout
    assert f"{local(1_764_505_980, zone)}  default: written on the train" in listing
