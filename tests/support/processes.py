"""Start real processes for tests: the moto server and `glyph serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
GLYPH = str(Path(sys.executable).with_name("glyph"))


def start_moto() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_serial.py"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    port = proc.stdout.readline().strip()
    if not port.isdigit():
        proc.kill()
        raise RuntimeError("moto server did not start")
    return proc, f"http://127.0.0.1:{port}"


def set_throttle(table: str, on: bool, code: str = "ThrottlingException") -> None:
    """Make the moto server started by start_moto answer `code` for every request on `table`."""
    params = {"table": table, "on": int(on), "code": code}
    httpx.post(os.environ["AWS_ENDPOINT_URL_DYNAMODB"] + "/_glyph/throttle", params=params).raise_for_status()


def set_conflicts(count: int) -> None:
    """Make the moto server started by start_moto cancel the next `count` TransactWriteItems that
    name a search index's stats item, with TransactionConflict on it (as DynamoDB does to
    transactions that write one item at once)."""
    httpx.post(
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] + "/_glyph/conflicts", params={"count": count}
    ).raise_for_status()


def _start_glyph(command: str, *args: str, env: dict[str, str], glyph: str = GLYPH) -> tuple[subprocess.Popen, dict]:
    """`glyph COMMAND ARGS --json`; returns the process and the JSON line it prints when ready.

    Its stderr (the structured logs) goes to a file, `proc.log_path`: a pipe nobody drains
    would block a busy server.
    """
    import tempfile

    log = tempfile.NamedTemporaryFile("w", prefix=f"glyph-{command}-", suffix=".log", delete=False)  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen([glyph, command, *args, "--json"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    proc.log_path = log.name
    log.close()
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"glyph {command} did not start: " + Path(proc.log_path).read_text())
    return proc, json.loads(line)


def start_glyph_serve(env: dict[str, str], port: int = 0, *, glyph: str = GLYPH) -> tuple[subprocess.Popen, str]:
    """`glyph serve` on a free port (the `glyph` given: another install's); returns the process
    and its URL once it answers."""
    proc, ready = _start_glyph("serve", "--port", str(port), env=env, glyph=glyph)
    url = ready["url"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/v1/health", timeout=1)  # any answer (even 401) means it is up
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("glyph serve did not answer")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def glyph_served(env: dict[str, str], **options) -> Iterator[str]:
    """`glyph serve` (start_glyph_serve with `env` and its options: port, glyph) while the block
    runs, stopped after it however it ends: its URL, also set in `env` as the CLI's GLYPH_URL."""
    proc, url = start_glyph_serve(env, **options)
    env["GLYPH_URL"] = url
    try:
        yield url
    finally:
        stop(proc)


def read_log(proc: subprocess.Popen) -> list[str]:
    return Path(proc.log_path).read_text().splitlines()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
    env.update(extra)
    return env


def start_glyph_bridge(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`glyph bridge` on a free port; returns the process and its ws:// URL (it listens once it prints)."""
    proc, ready = _start_glyph("bridge", "--port", "0", env=env)
    return proc, ready["url"]
