"""DynamoDB throttled, then gone, under `glyph serve`: 503 with Retry-After (never 500), the CLI
spools what it could not send, and delivers all of it once DynamoDB is back."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest

from ..support.processes import GLYPH, read_log, set_throttle, stop
from ..support.proxy import TcpProxy
from .conftest import serve

pytestmark = pytest.mark.e2e


def glyph(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([GLYPH, *args], env=env, capture_output=True, text=True, timeout=60)


def assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text and response.json()["detail"]


@pytest.fixture
def proxy(moto_url):
    proxy = TcpProxy(urlsplit(moto_url).port).start()
    yield proxy
    proxy.stop()


def test_throttling_and_an_outage_are_503_and_the_spool_delivers_afterwards(dynamo_table, proxy, tmp_path):
    server = serve(tmp_path / "home", GLYPH_STORE=f"dynamodb://{dynamo_table}", AWS_ENDPOINT_URL_DYNAMODB=proxy.url)
    env = server.env | {"GLYPH_URL": server.url}
    expected = ["before the outage"]
    try:
        assert glyph(env, "write", expected[0]).returncode == 0
        with server.client() as client:
            for fault, start, end in (
                ("throttled", lambda: set_throttle(dynamo_table, True), lambda: set_throttle(dynamo_table, False)),
                ("stopped", proxy.stop, proxy.start),
            ):
                start()
                try:
                    assert_503(client.post("/v1/memories", json={"text": f"refused while {fault}"}))
                    assert_503(client.get("/v1/memories"))
                    assert_503(client.get("/v1/context"))
                    for i in range(2):  # each takes seconds: the CLI retries before it spools
                        text = f"written while DynamoDB is {fault} {i}"
                        result = glyph(env, "write", text)
                        assert result.returncode == 0 and "spooled (server answered 503)" in result.stdout
                        expected.append(text)
                    if fault == "stopped":
                        assert glyph(env, "recent").returncode == 3  # a read cannot be spooled: exit 3
                finally:
                    end()
        recent = glyph(env, "recent", "--json", "-n", "50")
        assert recent.returncode == 0 and "delivered 4 spooled memories" in recent.stderr
        assert [m["text"] for m in json.loads(recent.stdout)["items"]] == expected[::-1]
        assert json.loads(glyph(env, "spool", "--json").stdout)["waiting"] == 0
    finally:
        stop(server.proc)
    statuses = [json.loads(line).get("status") for line in read_log(server.proc) if line.startswith("{")]
    assert 503 in statuses and not any(s and s >= 500 and s != 503 for s in statuses)
