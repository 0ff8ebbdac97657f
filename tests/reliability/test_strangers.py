"""Issue 21 §3–5 through the real doors: what a stranger who knows the address can do to
`glyph serve` and the Lambda door — header bytes the server would emit, malformed header lines,
trickled requests, one source taking every slot, and wrong authenticator codes."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from glyphmemory.aws_lambda import LambdaDoor

from ..support.lambda_events import make_event
from ..support.processes import read_log, stop
from .conftest import serve

pytestmark = pytest.mark.e2e


def raw(url: str, data: bytes, timeout: float = 10, source: str = "127.0.0.1") -> bytes:
    target = urlsplit(url)
    with socket.create_connection((target.hostname, target.port), timeout=timeout, source_address=(source, 0)) as s:
        s.sendall(data)
        return s.makefile("rb").read()


def head_of(answer: bytes) -> list[bytes]:
    return answer.split(b"\r\n\r\n")[0].split(b"\r\n")


# --- §3: no header value the server emits may split the answer or fail mid-write ----------------

UNSENDABLE = {
    "CR LF": "http://127.0.0.1:9\r\nSet-Cookie: glyph_ui=X",
    "LF": "http://127.0.0.1:9\nSet-Cookie: glyph_ui=X",
    "a control character": "http://127.0.0.1:9/\x1b[2J",
    "beyond Latin-1": "http://\u8a18\u61b6.example",
}


@pytest.mark.parametrize("kind", list(UNSENDABLE))
def test_an_unsendable_header_value_is_a_logged_500_through_glyph_serve(tmp_path, kind):
    # An owner's GLYPH_PUBLIC_URL goes into the WWW-Authenticate of an unauthenticated /mcp call.
    server = serve(tmp_path / "home", GLYPH_PUBLIC_URL=UNSENDABLE[kind])
    try:
        answer = raw(
            server.url,
            b"POST /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        )
        lines = head_of(answer)
        assert lines[0].split()[1] == b"500", answer[:300]
        assert not [line for line in lines if line.lower().startswith(b"set-cookie")]
        assert b"application/problem+json" in answer and b"\xe8" not in answer
        assert httpx.get(server.url + "/v1/health", timeout=10).status_code == 200
    finally:
        stop(server.proc)
    log = read_log(server.proc)
    assert not [line for line in log if "Traceback" in line], "\n".join(log)[-3000:]
    (logged,) = [json.loads(line) for line in log if '"unsafe_header"' in line]
    assert logged["header"] == "WWW-Authenticate" and logged["reason"]
    assert "glyph_ui" not in json.dumps(logged) and "127.0.0.1:9" not in json.dumps(logged)


@pytest.mark.parametrize("kind", list(UNSENDABLE))
def test_an_unsendable_header_value_is_a_500_through_the_lambda_door(lambda_env, monkeypatch, kind):
    monkeypatch.setenv("GLYPH_PUBLIC_URL", UNSENDABLE[kind])
    door = LambdaDoor("all")
    result = door.handle(make_event("POST", "/mcp", headers={"content-type": "application/json"}, body=b"{}"))
    assert result["statusCode"] == 500
    for name, value in result["headers"].items():
        assert "\r" not in value and "\n" not in value and "\0" not in value and value.isascii(), (name, value)
    assert json.loads(result["body"])["status"] == 500
    door.close()


# --- §5: whitespace between a field name and its colon is a 400 (RFC 9112 §5.1) -----------------


@pytest.mark.parametrize(
    "header",
    [
        "Transfer-Encoding : chunked\r\n",
        "Transfer-Encoding\t: chunked\r\n",
        "Content-Length : 5\r\n",
        "Authorization : Bearer x\r\n",
        "X-Anything : 1\r\n",
        "no colon at all\r\n",
        "X-Folded: 1\r\n folded on\r\n",  # obsolete line folding (§5.2): refused too
    ],
)
def test_a_malformed_header_line_is_a_400(tmp_path, header):
    server = serve(tmp_path / "home")
    try:
        request = f"POST /v1/memories HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{header}Content-Type: application/json\r\n\r\nhello"
        answer = raw(server.url, request.encode("latin-1"))
        assert answer.split(b"\r\n")[0].split()[1] == b"400", answer[:200]
        assert b"application/problem+json" in answer
    finally:
        stop(server.proc)


# --- §4: deadlines on the head and the body, and a cap per source -------------------------------


def test_trickled_heads_from_one_source_neither_fill_the_server_nor_outlast_the_deadline(tmp_path):
    """A slow-loris from 127.0.0.2 (one header byte every 2 s on every connection it can open):
    the owner on 127.0.0.1 is answered throughout, and every trickling connection is closed
    within the head's deadline although no single read ever waits 15 s."""
    from glyphmemory.server import HEAD_DEADLINE_S, MAX_CONNECTIONS, MAX_PER_SOURCE

    server = serve(tmp_path / "home")
    target = urlsplit(server.url)
    attackers: list[socket.socket] = []
    opened: dict[int, float] = {}
    closed: dict[int, float] = {}
    try:
        for _ in range(MAX_CONNECTIONS):
            sock = socket.create_connection((target.hostname, target.port), timeout=5, source_address=("127.0.0.2", 0))
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            attackers.append(sock)
            opened[id(sock)] = time.monotonic()
        for sock in attackers:
            sock.setblocking(False)
        owner_statuses = []
        started = time.monotonic()
        while time.monotonic() - started < HEAD_DEADLINE_S + 8 and len(closed) < len(attackers):  # bounded
            for sock in attackers:
                if id(sock) in closed:
                    continue
                try:
                    got = sock.recv(64)
                    if got.startswith(b"HTTP/1.1 503"):  # past the per-source cap: a 503 at once
                        closed[id(sock)] = 0.0
                    elif got == b"":  # closed by the server
                        closed[id(sock)] = time.monotonic() - opened[id(sock)]
                    continue
                except BlockingIOError:
                    pass
                except OSError:  # reset: closed by the server
                    closed[id(sock)] = time.monotonic() - opened[id(sock)]
                    continue
                try:
                    sock.send(b"a")
                except BlockingIOError:
                    pass
                except OSError:
                    closed[id(sock)] = time.monotonic() - opened[id(sock)]
            owner_statuses.append(httpx.get(server.url + "/v1/health", timeout=10).status_code)
            time.sleep(2)
    finally:
        for sock in attackers:
            sock.close()
        stop(server.proc)
    # Refused at once (a 503, or reset before it was read) or closed at the head's deadline.
    assert owner_statuses and set(owner_statuses) == {200}, owner_statuses
    busy = [t for t in closed.values() if t < 3]
    lasted = [t for t in closed.values() if t >= 3]
    assert len(closed) == MAX_CONNECTIONS, f"{MAX_CONNECTIONS - len(closed)} still open after {HEAD_DEADLINE_S + 8} s"
    assert len(busy) == MAX_CONNECTIONS - MAX_PER_SOURCE and len(lasted) == MAX_PER_SOURCE, (busy, lasted)
    assert max(lasted) < HEAD_DEADLINE_S + 4, lasted


def test_a_trickled_body_gets_a_408_by_its_deadline(tmp_path):
    from glyphmemory.server import BODY_DEADLINE_S, MIN_BODY_RATE

    server = serve(tmp_path / "home")
    target = urlsplit(server.url)
    length = 2000
    try:
        with socket.create_connection((target.hostname, target.port), timeout=5) as sock:
            head = (
                f"POST /v1/memories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token()}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
            )
            sock.sendall(head.encode() + b'{"text": "')
            started, answer = time.monotonic(), b""
            sock.setblocking(False)
            while time.monotonic() - started < BODY_DEADLINE_S + 10:  # bounded: one byte every 2 s
                try:
                    sock.send(b"a")
                except OSError:
                    break
                time.sleep(2)
                try:
                    answer += sock.recv(4096)
                except BlockingIOError:
                    continue
                if answer:
                    break
            took = time.monotonic() - started
        assert answer, f"no answer after {took:.0f} s of a trickled body"
        assert answer.split(b"\r\n")[0].split()[1] == b"408", answer[:200]
        assert took < BODY_DEADLINE_S + length / MIN_BODY_RATE + 4, took
        assert httpx.get(server.url + "/v1/health", timeout=10).status_code == 200
    finally:
        stop(server.proc)
    assert not [line for line in read_log(server.proc) if "Traceback" in line]


# --- §4: wrong codes from strangers bound guessing but do not lock the owner out -----------------


def bound(source: str, url: str) -> httpx.Client:
    """A client whose connections leave from `source` (any 127.0.0.0/8 address is loopback)."""
    return httpx.Client(base_url=url, timeout=10, transport=httpx.HTTPTransport(local_address=source))


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_strangers_wrong_codes_do_not_lock_the_owner_out_and_the_owner_can_unlock(tmp_path):
    from glyphmemory import totp as totp_rules

    from ..e2e.test_glyph_serve import glyph
    from ..mcp.oauth_flow import fresh_code, owner_totp

    server = serve(tmp_path / "home")
    codes, used = owner_totp(str(server.home)), set()

    def sign_in(client: httpx.Client, code: str, **headers) -> int:
        return client.post("/v1/tokens", json={"scope": "r", "code": code}, headers=headers).status_code

    try:
        owner = bound("127.0.0.1", server.url)
        assert sign_in(owner, fresh_code(codes, used)) == 201  # the owner's address is known now
        statuses = []
        for n in range(3):  # 30 wrong codes from three addresses, each claiming to forward another
            with bound(f"127.0.0.{2 + n}", server.url) as stranger:
                for i in range(totp_rules.SHORT_MAX + 2):
                    statuses.append(sign_in(stranger, _wrong(codes.now()), **{"X-Forwarded-For": f"203.0.113.{i}"}))
        # X-Forwarded-For is not trusted here: each address is one bucket (10, then 429).
        assert statuses.count(401) == totp_rules.DAY_MAX and statuses.count(429) == 6, statuses
        assert sign_in(owner, fresh_code(codes, used)) == 201  # before: 429 for 24 h
        with bound("127.0.0.5", server.url) as newcomer:  # an unknown address waits for the day...
            assert sign_in(newcomer, fresh_code(codes, used)) == 429
            env = {**server.env, "GLYPH_URL": server.url}
            out = glyph(env, "keys", "unlock")  # ...unless the owner, with the key file, unlocks
            assert "unlocked" in out.stdout
            assert sign_in(newcomer, fresh_code(codes, used)) == 201
            assert sign_in(newcomer, "000000" if codes.now() != "000000" else "111111") == 401  # counted again
        owner.close()
    finally:
        stop(server.proc)


def test_behind_a_tunnel_each_forwarded_address_and_each_oauth_client_has_its_own_budget(tmp_path):
    from ..mcp.oauth_flow import authorize_fields, code_from, fresh_code, owner_totp, pkce, register, sign_in

    server = serve(tmp_path / "home", GLYPH_TRUST_FORWARDED="1")  # every client arrives from 127.0.0.1
    codes, used = owner_totp(str(server.home)), set()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as tunnel:
            stranger = {"X-Forwarded-For": "198.51.100.20, 203.0.113.9"}  # the tunnel appended the last
            refused = [tunnel.get(f"/r?code={_wrong(codes.now())}", headers=stranger).status_code for _ in range(12)]
            assert refused[:10] == [401] * 10 and refused[10:] == [429, 429]
            owner = {"X-Forwarded-For": "192.0.2.7"}
            got = tunnel.post("/v1/tokens", json={"scope": "r", "code": fresh_code(codes, used)}, headers=owner)
            assert got.status_code == 201  # before: 429, the stranger's failures were the tunnel's
        # At /authorize, behind one address, a client's failures are its own budget.
        server_plain = serve(tmp_path / "plain")
        try:
            codes, used = owner_totp(str(server_plain.home)), set()
            theirs = authorize_fields(server_plain.url, register(server_plain.url), pkce()[1])
            statuses = [sign_in(server_plain.url, theirs, _wrong(codes.now())).status_code for _ in range(11)]
            assert statuses[:10] == [401] * 10 and statuses[10] == 429
            mine = authorize_fields(server_plain.url, register(server_plain.url), pkce()[1])
            assert code_from(sign_in(server_plain.url, mine, fresh_code(codes, used)))  # a 302 with a code
        finally:
            stop(server_plain.proc)
    finally:
        stop(server.proc)
