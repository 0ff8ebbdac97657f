"""End to end: `glyph serve` as a real process, driven with httpx and the `glyph` command."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from glyphmemory.keys import load_key_file
from glyphmemory.tokens import mint_window_token

from ..support.processes import GLYPH, clean_env, glyph_served

pytestmark = pytest.mark.e2e


@pytest.fixture
def home(tmp_path):
    return tmp_path / "glyph-home"


@pytest.fixture
def served(home):
    """glyph serve on the embedded default: SQLite under GLYPH_HOME, key created on first run."""
    env = clean_env(GLYPH_HOME=str(home))
    with glyph_served(dict(env)) as url:  # env stays without GLYPH_URL
        yield url, env


def glyph(env, *args, stdin=None, check=True):
    result = subprocess.run([GLYPH, *args], env=env, input=stdin, capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise AssertionError(f"glyph {args} exited {result.returncode}: {result.stderr}")
    return result


def bearer(home, scope="rw"):
    import time

    key = load_key_file(str(home / "key.json"))
    return {"Authorization": "Bearer " + mint_window_token(key.kid, key.secret, scope, int(time.time()) + 300)}


def test_first_run_creates_a_private_key_and_database(served, home):
    url, _ = served
    for name in ("key.json", "glyph.db"):
        mode = stat.S_IMODE((home / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"
    assert httpx.get(url + "/v1/health").json()["status"] == "ok"


def test_cli_writes_and_reads_through_the_server(served):
    url, env = served
    env = {**env, "GLYPH_URL": url}
    assert glyph(env, "write", "We use pytest, not unittest", "--tags", "preference,testing").stdout.startswith(
        "saved "
    )
    assert glyph(env, "write", "We use pytest, not unittest").stdout.startswith("already saved ")
    glyph(env, "write", "-", "--ns", "proj", stdin="Deploy with CDK\n")
    out = json.loads(glyph(env, "write", "Third memory", "--json").stdout)
    assert out["duplicate"] is False and out["source"] == "cli"

    recent = glyph(env, "recent").stdout
    assert recent.index("Third memory") < recent.index("We use pytest") and "[preference, testing]" in recent
    page = json.loads(glyph(env, "recent", "-n", "1", "--json").stdout)
    assert [i["text"] for i in page["items"]] == ["Third memory"] and page["next"]
    assert "Deploy with CDK" in glyph(env, "recent", "--ns", "proj").stdout

    context = glyph(env, "context", "--budget", "1000").stdout
    assert context.startswith("# GlyphMemory context") and len(context) <= 1000
    data = json.loads(glyph(env, "context", "--json").stdout)
    assert [i["text"] for i in data["items"]] == ["Third memory", "We use pytest, not unittest"]


def test_curl_style_access_with_a_minted_token(served):
    url, env = served
    token = glyph(env, "token", "--scope", "rw", "--ttl", "15m").stdout.strip()
    assert len(token) <= 64
    r = httpx.post(url + "/v1/memories", json={"text": "from a script"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    r = httpx.get(url + "/v1/memories", headers={"Authorization": f"Bearer {token}"})
    assert [i["text"] for i in r.json()["items"]] == ["from a script"]


def test_http_errors_are_problems_and_the_server_survives_them(served, home):
    url, _ = served
    auth = bearer(home)
    bad = [
        httpx.post(url + "/v1/memories", content=b"{", headers={**auth, "Content-Type": "application/json"}),
        httpx.post(url + "/v1/memories", content=b'{"text":"x"}', headers=auth),
        httpx.get(url + "/v1/memories?limit=0", headers=auth),
        httpx.get(url + "/v1/unknown", headers=auth),
        httpx.delete(url + "/v1/health"),
        httpx.get(url + "/v1/memories"),
        httpx.get(url + "/v1/search?q=" + "a" * 9000, headers=auth),
        httpx.post(
            url + "/v1/memories",
            content=b"x" * 10,
            headers={**auth, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        ),
    ]
    assert [r.status_code for r in bad] == [400, 415, 400, 404, 405, 401, 414, 400]
    for r in bad:
        assert r.headers["content-type"] == "application/problem+json" and r.json()["detail"]
    assert httpx.get(url + "/v1/memories", headers=auth).json()["items"] == []


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /w?z=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),  # over http.server's 64 KiB line
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431),  # over its 100 headers
    ],
)
def test_what_http_server_refuses_itself_is_a_problem_too(served, raw, status):
    import socket
    from urllib.parse import urlsplit

    target = urlsplit(served[0])
    with socket.create_connection((target.hostname, target.port), timeout=10) as sock:
        sock.sendall(raw)
        head, _, body = sock.makefile("rb").read().partition(b"\r\n\r\n")
    assert head.split()[1] == str(status).encode() and b"application/problem+json" in head
    assert json.loads(body)["status"] == status


def test_the_local_server_ignores_a_clients_host_headers_in_its_links(served, home):
    url, _ = served
    forged = {"X-Forwarded-Host": "attacker.example", "X-Glyph-Public-Host": "attacker.example"}
    token = bearer(home)["Authorization"].split()[1]
    body = httpx.get(url + "/r", params={"t": token}, headers=forged).text
    assert "attacker.example" not in body and f"{url}/w?t=" in body


def test_a_doors_own_refusal_carries_the_security_headers(served):
    response = httpx.post(served[0] + "/v1/memories", headers={"Transfer-Encoding": "chunked"}, content=b"0\r\n\r\n")
    assert response.status_code == 400
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["cache-control"] == "no-store"


def test_concurrent_http_writers(served, home):
    url, _ = served
    auth = bearer(home)
    with httpx.Client(headers=auth) as client, ThreadPoolExecutor(8) as pool:
        distinct = list(
            pool.map(lambda i: client.post(url + "/v1/memories", json={"text": f"c{i}"}).status_code, range(40))
        )
        same = list(pool.map(lambda i: client.post(url + "/v1/memories", json={"text": "same"}).status_code, range(20)))
    assert distinct == [201] * 40 and sorted(same) == [200] * 19 + [201]
    items = httpx.get(url + "/v1/memories?limit=100", headers=auth).json()["items"]
    assert len(items) == 41


def test_cli_exit_codes(home, served):
    url, env = served
    assert glyph(env, "bogus", check=False).returncode == 1
    assert glyph(env, "recent", "--nope", check=False).returncode == 1
    assert glyph({**env, "GLYPH_URL": url}, "write", "", check=False).returncode == 1
    down = glyph({**env, "GLYPH_URL": "http://127.0.0.1:9"}, "recent", check=False)
    assert down.returncode == 3 and "glyph serve" in down.stderr
    nokey = glyph(clean_env(GLYPH_HOME=str(home / "empty"), GLYPH_URL=url), "recent", check=False)
    assert nokey.returncode == 2 and "glyph serve" in nokey.stderr
    other = clean_env(GLYPH_URL=url, GLYPH_KEY="root:" + "A" * 32)
    assert glyph(other, "recent", check=False).returncode == 2


def test_every_command_has_help(home):
    env = clean_env(GLYPH_HOME=str(home))
    from glyph_cli.main import COMMANDS

    for name, func in COMMANDS.items():
        assert func.__doc__ and func.__doc__.strip(), name
        out = glyph(env, name, "--help").stdout
        assert func.__doc__.strip().splitlines()[0] in out and "--json" in out
    assert subprocess.run([sys.executable, "-m", "glyph_cli", "--help"], capture_output=True, text=True).returncode == 0


def test_serve_on_dynamodb_runs_the_same_code(dynamo_table, tmp_path):
    env = clean_env(
        GLYPH_HOME=str(tmp_path / "h"),
        GLYPH_STORE=f"dynamodb://{dynamo_table}",
        AWS_ENDPOINT_URL_DYNAMODB=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
    )
    with glyph_served(env):
        glyph(env, "write", "stored in DynamoDB")
        glyph(env, "write", "stored in DynamoDB")
        page = json.loads(glyph(env, "recent", "--json").stdout)
        assert [i["text"] for i in page["items"]] == ["stored in DynamoDB"]
