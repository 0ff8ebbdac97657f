"""A 1 GiB gzip bomb and 10 MiB bodies are refused, and the peak RSS of the process answering
them rises less than 50 MB: `glyph serve` (measured from /proc) and the Lambda handler."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from ..support.bounds_probe import gzip_bomb
from ..support.processes import ROOT, clean_env, stop
from ..support.rss import peak_kib, reset_peak
from .conftest import serve

pytestmark = pytest.mark.e2e

LIMIT_KIB = 50 * 1000


def raw_request(url: str, head: str, body: bytes = b"") -> int:
    """Send the request line and headers, read the answer's status, then offer the body
    (a server that refuses by Content-Length answers before reading it, and may close)."""
    target = urlsplit(url)
    with socket.create_connection((target.hostname, target.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n")
        reader = sock.makefile("rb")
        status = int(reader.readline().split()[1])
        try:
            sock.sendall(body)
        except OSError:
            pass  # closed after refusing: expected
        return status


def test_glyph_serve_refuses_bombs_and_huge_bodies_in_bounded_memory(tmp_path):
    server = serve(tmp_path / "home")
    pid = server.proc.pid
    try:
        with server.client() as client:
            assert client.post("/v1/memories", json={"text": "kept"}).status_code == 201
            stored_before = server.all_memories()
            token = server.token()
            big = json.dumps({"text": "a" * (10 << 20)}).encode()
            bomb = gzip_bomb(1 << 30)
            small_bomb = gzip_bomb(4 << 20)  # fits the 8 KiB URL limit: refused by the codec
            host = f"Host: {urlsplit(server.url).netloc}\r\nAuthorization: Bearer {token}\r\n"
            requests = {
                "10 MiB memory": (
                    f"POST /v1/memories HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: {len(big)}\r\n",
                    big,
                ),
                "10 MiB import": (
                    f"POST /v1/import HTTP/1.1\r\n{host}Content-Type: application/x-ndjson\r\nContent-Length: {len(big)}\r\n",
                    big,
                ),
                "1 GiB gzip bomb": (f"GET /w?z={bomb} HTTP/1.1\r\n{host}", b""),
                "4 MiB gzip bomb": (f"GET /w?z={small_bomb} HTTP/1.1\r\n{host}", b""),
            }
            before = reset_peak(pid)
            statuses = {name: raw_request(server.url, head, body) for name, (head, body) in requests.items()}
            growth = peak_kib(pid) - before
            assert statuses == {
                "10 MiB memory": 413,
                "10 MiB import": 413,
                "1 GiB gzip bomb": 414,
                "4 MiB gzip bomb": 400,
            }
            assert growth < LIMIT_KIB, f"peak RSS rose {growth} KiB"
            assert client.get("/v1/health").status_code == 200
        assert server.all_memories() == stored_before  # nothing stored was touched
    finally:
        stop(server.proc)


def test_the_lambda_handler_refuses_them_in_bounded_memory(tmp_path, root_key):
    env = clean_env(GLYPH_STORE=f"sqlite://{tmp_path}/glyph.db", GLYPH_KEY=f"{root_key.kid}:{root_key.secret_b32}")
    probe = subprocess.run(
        [sys.executable, "-m", "tests.support.bounds_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    result = json.loads(probe.stdout)
    assert result["statuses"] == {
        "1 GiB gzip bomb in /w": 414,
        "4 MiB gzip bomb in /w (fits a URL)": 400,
        "10 MiB JSON memory": 413,
        "10 MiB import": 413,
        "10 MiB JSON memory, base64": 413,
        "1 GiB gzip bomb, codec": 400,
    }
    assert result["peak_growth_kib"] < LIMIT_KIB
