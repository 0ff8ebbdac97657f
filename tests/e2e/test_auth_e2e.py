"""Auth end to end on a real `glyph serve`: basic auth, codes, device keys, and clean logs."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pyotp
import pytest

from glyphmemory.basic_auth import hash_password
from glyphmemory.keys import load_key_file
from glyphmemory.tokens import mint_window_token

from ..support.processes import clean_env, glyph_served, read_log, start_glyph_serve, stop
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e
PASSWORD = "a long basic-auth password"


@pytest.fixture
def guarded(tmp_path):
    """glyph serve with the basic-auth layer on; yields url, env, key and the server's stderr."""
    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_BASIC_AUTH="owner:" + hash_password(PASSWORD))
    with glyph_served(dict(env)) as url:  # env stays without GLYPH_URL
        key = load_key_file(str(home / "key.json"))
        yield url, env, key


def basic(user="owner", password=PASSWORD):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token(key, scope="rw"):
    return mint_window_token(key.kid, key.secret, scope, int(time.time()) + 300)


def test_basic_auth_and_a_token_are_both_required(guarded):
    url, _, key = guarded
    t = token(key)
    cases = [
        ({}, 401),  # neither
        ({"Authorization": f"Bearer {t}"}, 401),  # token only
        ({"Authorization": basic()}, 401),  # basic only
        ({"Authorization": basic(password="wrong password"), "X-Glyph-Token": t}, 401),
        ({"Authorization": "Basic !!!", "X-Glyph-Token": t}, 401),
        ({"Authorization": "Basic " + base64.b64encode(b"nocolon").decode(), "X-Glyph-Token": t}, 401),
        ({"Authorization": basic(), "X-Glyph-Token": t}, 200),
    ]
    for headers, status in cases:
        r = httpx.get(url + "/v1/memories", headers=headers)
        assert r.status_code == status, (headers, r.text)
    r = httpx.get(url + "/v1/memories", params={"t": t}, headers={"Authorization": basic()})
    assert r.status_code == 200
    assert httpx.get(url + "/v1/health").status_code == 401
    assert httpx.get(url + "/v1/health").headers["www-authenticate"].startswith("Basic")


def test_the_cli_works_through_basic_auth(guarded):
    url, env, _ = guarded
    scheme, rest = url.split("://")
    env = {**env, "GLYPH_URL": f"{scheme}://owner:{PASSWORD.replace(' ', '%20')}@{rest}"}
    assert glyph(env, "write", "behind basic auth").stdout.startswith("saved ")
    assert "behind basic auth" in glyph(env, "recent").stdout
    bad = {**env, "GLYPH_URL": f"{scheme}://owner:nope@{rest}"}
    result = glyph(bad, "recent", check=False)
    assert result.returncode == 2 and "nope" not in result.stderr


def test_cli_init_and_keys(tmp_path):
    home = tmp_path / "h"
    env = clean_env(GLYPH_HOME=str(home))
    first = json.loads(glyph(env, "init", "--json").stdout)
    assert first["otpauth_uri"].startswith("otpauth://totp/") and first["created"]
    again = json.loads(glyph(env, "init", "--json").stdout)
    assert again["otpauth_uri"] == first["otpauth_uri"] and not again["created"]  # never overwritten
    human = glyph(env, "init").stdout
    assert "using the root key" in human and ("█" in human or "▀" in human)  # a terminal QR code
    assert json.loads(glyph(env, "init", "--force", "--json").stdout)["otpauth_uri"] != first["otpauth_uri"]
    with glyph_served(env):
        added = glyph(env, "keys", "add", "phone").stdout
        assert "GLYPH_KEY=d" in added and "otpauth://" in added
        kid = added.split("added key ")[1].split()[0]
        assert kid in glyph(env, "keys", "list").stdout
        device = {**env, "GLYPH_KEY": added.split("GLYPH_KEY=")[1].split()[0]}
        assert glyph(device, "write", "from the phone key").returncode == 0
        assert glyph(env, "keys", "revoke", kid).returncode == 0
        refused = glyph(device, "recent", check=False)
        assert refused.returncode == 2 and "token" in refused.stderr
        assert glyph(env, "keys", "add", check=False).returncode == 1


def test_no_secret_reaches_a_log_line_or_an_error_body(tmp_path):
    home = tmp_path / "home"
    env = clean_env(GLYPH_HOME=str(home), GLYPH_BASIC_AUTH="owner:" + hash_password(PASSWORD))
    proc, url = start_glyph_serve(env)
    key = load_key_file(str(home / "key.json"))
    secrets_used = {PASSWORD, key.secret_b32}
    auth = {"Authorization": basic()}
    bodies = []

    def call(method, path, **kwargs):
        r = httpx.request(method, url + path, **kwargs)
        if r.status_code >= 400:
            bodies.append(r.text)
        return r

    try:
        t_rw, t_r = token(key), token(key, "r")
        secrets_used |= {t_rw, t_r}
        call("POST", "/v1/memories", json={"text": "logged run"}, headers={**auth, "X-Glyph-Token": t_rw})
        call("GET", "/v1/memories", params={"t": t_r}, headers=auth)
        call("GET", "/v1/memories", params={"t": t_r[:-1] + "x"}, headers=auth)  # tampered: 401
        call("GET", "/v1/memories", params={"code": "123456", "t": t_r}, headers=auth)  # unknown param
        call("POST", "/v1/memories", json={"text": "x"}, headers={**auth, "X-Glyph-Token": t_r})  # 403
        call("GET", "/v1/memories", headers={"Authorization": basic(password="guess " + PASSWORD)})
        call("GET", "/v1/memories", headers={"Authorization": f"Bearer {t_rw}"})  # no basic: 401
        code = pyotp.TOTP(key.secret_b32).now()
        secrets_used.add(code)
        grant = call("POST", "/v1/tokens", json={"code": code, "scope": "rw"}, headers=auth).json()
        secrets_used.add(grant["token"])
        call("POST", "/v1/tokens", json={"code": code, "scope": "rw"}, headers=auth)  # replay: 401
        call("POST", "/v1/tokens", json={"code": "12345", "scope": "rw"}, headers=auth)  # malformed: 400
        added = call(
            "POST", "/v1/keys", json={"name": "laptop"}, headers={**auth, "X-Glyph-Token": token(key, "a")}
        ).json()
        secrets_used |= {added["secret"], added["otpauth_uri"]}
        call("GET", "/v1/memories", headers={**auth, "X-Glyph-Token": "root.rw.1.AAAAAAAAAAAAAAAAAAAAAA"})
    finally:
        stop(proc)
    logs = read_log(proc)
    requests = [json.loads(line) for line in logs if line.startswith("{")]
    assert len(requests) >= 12 and all({"request_id", "route", "status", "ms"} <= set(r) for r in requests)
    assert {r["status"] for r in requests} >= {200, 201, 400, 401, 403}
    assert len(bodies) >= 7
    for secret in secrets_used:
        assert secret not in "\n".join(logs), "a secret reached the logs"
        assert all(secret not in body for body in bodies), "an error body echoed a secret"
