"""Issue 13's attacks on `glyph serve` itself: wrong basic-auth passwords, stalled and half-sent
requests, bodies sent without credentials, and malformed framing headers."""

from __future__ import annotations

import base64
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest

from glyphmemory.basic_auth import hash_password
from glyphmemory.server import MAX_CONNECTIONS

from ..support.processes import read_log, stop
from ..support.rss import peak_kib, reset_peak
from .conftest import serve

pytestmark = pytest.mark.e2e


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def raw(url: str, data: bytes, timeout: float = 10) -> bytes:
    target = urlsplit(url)
    with socket.create_connection((target.hostname, target.port), timeout=timeout) as sock:
        sock.sendall(data)
        return sock.makefile("rb").read()


# --- 4: wrong basic-auth passwords do not stall the owner's clients ---------------------------------


def test_wrong_passwords_neither_stall_a_known_client_nor_run_unbounded(tmp_path):
    server = serve(tmp_path / "home", GLYPH_BASIC_AUTH="owner:" + hash_password("right horse battery"))
    stop_flag = threading.Event()
    answers: list[int] = []

    def attacker(n: int) -> None:
        local = httpx.HTTPTransport(local_address=f"127.0.0.{2 + n % 4}")  # 8 a source: under its cap
        with httpx.Client(base_url=server.url, timeout=30, transport=local) as client:
            while not stop_flag.is_set():
                answers.append(
                    client.get("/v1/health", headers={"Authorization": basic("owner", f"guess{n}")}).status_code
                )

    try:
        owner = httpx.Client(
            base_url=server.url, headers={"Authorization": basic("owner", "right horse battery")}, timeout=30
        )
        assert owner.get("/v1/health").status_code == 200  # remembered from now on
        threads = [threading.Thread(target=attacker, args=(n,)) for n in range(32)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            assert owner.get("/v1/health").status_code == 200
            latencies.append(time.perf_counter() - started)
        deadline = time.monotonic() + 15  # the throttle answers once ten failures are in
        while 429 not in answers and time.monotonic() < deadline:
            time.sleep(0.1)
        stop_flag.set()
        for t in threads:
            t.join(30)
    finally:
        stop(server.proc)
    # Before: 32 wrong-password clients held the app lock with scrypt, 1.5 s per request.
    assert statistics.median(latencies) < 0.2, latencies
    assert set(answers) <= {401, 429} and 429 in answers  # throttled without a scrypt each


# --- 5: timeouts, bounded connections, no body read before the route and credentials allow it ------


def test_an_idle_or_stalled_connection_is_dropped(tmp_path, monkeypatch):
    server = serve(tmp_path / "home")
    try:
        target = urlsplit(server.url)
        with socket.create_connection((target.hostname, target.port), timeout=40) as sock:
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
            started = time.monotonic()
            assert sock.recv(1024) == b""  # closed by the server
            assert 10 < time.monotonic() - started < 30
    finally:
        stop(server.proc)


def test_connections_are_bounded_and_unauthenticated_bodies_are_not_read(tmp_path):
    server = serve(tmp_path / "home")
    pid = server.proc.pid
    target = urlsplit(server.url)
    sockets = []
    try:
        reset_peak(pid)
        before = peak_kib(pid)
        # Unauthenticated 5 MiB POSTs that send their headers and then stall: refused at once.
        head = b"POST /v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 5242880\r\n\r\n"
        for i in range(MAX_CONNECTIONS + 40):  # from seven sources: one may hold only a quarter of the slots
            source = (f"127.0.0.{1 + i % 7}", 0)
            sock = socket.create_connection((target.hostname, target.port), timeout=10, source_address=source)
            sock.sendall(head + b"x" * 1000)
            sockets.append(sock)
        statuses = [int(s.makefile("rb").readline().split()[1]) for s in sockets]
        assert set(statuses) <= {401, 503} and statuses.count(401) >= MAX_CONNECTIONS - 4
        assert peak_kib(pid) - before < 50 * 1000  # no 5 MiB buffer per connection
        # Past the bound, new connections get a 503 at once rather than a thread each.
        with open(f"/proc/{pid}/status") as status:
            threads = int(status.read().split("Threads:")[1].split()[0])
        assert threads <= MAX_CONNECTIONS + 8
    finally:
        for sock in sockets:
            sock.close()
    try:
        assert httpx.get(server.url + "/v1/health", timeout=10).status_code == 200
    finally:
        stop(server.proc)


# --- 9: framing headers a server behind a proxy must refuse -----------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: \u00b2\r\n",  # '²' passes str.isdigit()
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: 5\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: \r\n",
        "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
        "Content-Length: +5\r\n",
    ],
)
def test_ambiguous_framing_is_a_400_and_the_server_lives_on(tmp_path, headers):
    server = serve(tmp_path / "home")
    try:
        answer = raw(server.url, f"POST /v1/memories HTTP/1.1\r\nHost: x\r\n{headers}\r\nhello".encode("latin-1"))
        assert answer.split(b"\r\n")[0].split()[1] == b"400", answer[:200]
        assert b"application/problem+json" in answer
        assert httpx.get(server.url + "/v1/health", timeout=10).status_code == 200
    finally:
        stop(server.proc)
    log = read_log(server.proc)
    assert not [line for line in log if "Traceback" in line], "\n".join(log)[-3000:]


# --- 1, 7, 8, 10 through this door too (the Lambda door: tests/api/test_hardening.py) --------------


def test_the_same_refusals_through_glyph_serve(tmp_path):
    import json as json_

    from glyphmemory.tokens import mint_window_token

    server = serve(tmp_path / "home")
    try:
        with server.client() as client:
            ndjson = {"Content-Type": "application/x-ndjson"}
            future = json_.dumps({"text": "from the far future", "epoch_us": 4611686018427387904})
            assert (
                client.post("/v1/import", content=b'{"text": "fine"}\n' + future.encode(), headers=ndjson).status_code
                == 400
            )
            assert client.post("/v1/memories", json={"text": "esc \x1b]52;c;eA==\x07"}).status_code == 400
            deep = b"[" * 100_000 + b"]" * 100_000
            assert (
                client.post("/v1/tokens", content=deep, headers={"Content-Type": "application/json"}).status_code == 400
            )
            assert client.get("/v1/memories").json()["items"] == []
            key, exp = server.key, int(time.time()) + 600
            kid, scope, _, sig = mint_window_token(key.kid, key.secret, "r", exp).split(".")
            padded = httpx.get(
                server.url + "/v1/memories", headers={"Authorization": f"Bearer {kid}.{scope}.0{exp}.{sig}"}
            )
            assert padded.status_code == 401
    finally:
        stop(server.proc)
