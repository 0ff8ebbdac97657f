"""What a page session may do, and for how long (issue 21 §1–2), through `glyph serve` and
through the connector function on DynamoDB (moto over HTTP): a session does what the token that
opened it allows (a write-only one neither lists, shows, searches nor exports), lives no longer
than that token, ends when its device key is revoked, and a sign-in token works once on every
sign-in path."""

from __future__ import annotations

import json
import os
import re
import time

import httpx
import pyotp
import pytest

from glyphmemory.keys import load_key_file, parse_key
from glyphmemory.tokens import mint_window_token

from ..e2e.test_glyph_serve import glyph
from ..support.lambda_events import connector_function, page_caller

SECRET_TEXT = "The alarm code is 2468"


@pytest.fixture
def served(served_home):
    """served_home and the id of the one memory it holds (SECRET_TEXT)."""
    url, home, env = served_home
    memory = json.loads(glyph(env, "write", SECRET_TEXT, "--json").stdout)
    return url, home, env, memory["id"]


def _token(key, scope: str = "rw", ttl_s: int = 600) -> str:
    return mint_window_token(key.kid, key.secret, scope, int(time.time()) + ttl_s)


def _root(home: str):
    return load_key_file(os.path.join(home, "key.json"))


def _device(env: dict):
    added = json.loads(glyph(env, "keys", "add", "tablet", "--json").stdout)
    return parse_key(f"{added['kid']}:{added['secret']}")


def _signed_in(url: str, form: dict) -> httpx.Client:
    browser = httpx.Client(base_url=url)
    r = browser.post("/ui/sign-in", data=form)
    assert r.status_code == 303, r.text
    return browser


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.mark.e2e
def test_a_write_only_session_writes_and_reads_nothing(served):
    url, home, _, memory_id = served
    browser = _signed_in(url, {"token": _token(_root(home), "w")})
    page = browser.get("/ui")
    assert page.status_code == 403 and SECRET_TEXT not in page.text and "scope" in page.text
    for path in (f"/ui/m/{memory_id}", f"/ui/m/{memory_id}/delete", "/ui?q=alarm", "/ui/export"):
        shown = browser.get(path)
        assert shown.status_code == 403 and "2468" not in shown.text, path
    written = browser.post("/ui/new", data={"csrf": _csrf(page.text), "text": "Written from a w page"})
    assert written.status_code == 303  # writing is what w allows
    browser.close()
    recent = httpx.get(url + "/v1/memories", headers={"Authorization": f"Bearer {_token(_root(home), 'r')}"})
    assert "Written from a w page" in recent.text


@pytest.mark.e2e
def test_a_session_ends_when_its_device_key_is_revoked(served):
    url, _, env, memory_id = served
    tablet = _device(env)
    by_code = _signed_in(url, {"kid": tablet.kid, "code": pyotp.TOTP(tablet.secret_b32).now()})
    by_token = _signed_in(url, {"token": _token(tablet)})
    pages = [b.get("/ui") for b in (by_code, by_token)]
    assert all(SECRET_TEXT in p.text for p in pages)
    glyph(env, "keys", "revoke", tablet.kid)
    for browser, page in zip((by_code, by_token), pages, strict=True):
        assert "Sign in" in browser.get("/ui").text and SECRET_TEXT not in browser.get("/ui").text
        assert browser.get(f"/ui/m/{memory_id}", follow_redirects=False).status_code == 303
        refused = browser.post("/ui/new", data={"csrf": _csrf(page.text), "text": "After revocation"})
        assert refused.status_code == 303 and refused.headers["location"] == "/ui"
        browser.close()
    root = _signed_in(url, {"token": _token(_root(served[1]))})
    assert SECRET_TEXT in root.get("/ui").text and "After revocation" not in root.get("/ui").text
    root.close()


@pytest.mark.e2e
def test_a_session_lives_no_longer_than_the_token_that_opened_it(served):
    url, home, _, _ = served
    short = _token(_root(home), ttl_s=3)
    confirm = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    by_link = httpx.post(url + "/ui/link", data={"t": short}, headers=confirm)
    by_form = httpx.post(url + "/ui/sign-in", data={"token": _token(_root(home), "r", ttl_s=3)})
    cookies = []
    for answer in (by_link, by_form):
        assert answer.status_code == 303
        set_cookie = answer.headers["set-cookie"]
        assert int(re.search(r"Max-Age=(\d+)", set_cookie).group(1)) <= 3
        cookies.append(set_cookie.split(";")[0])
    assert all(SECRET_TEXT in httpx.get(url + "/ui", headers={"Cookie": c}).text for c in cookies)
    time.sleep(4)
    for cookie in cookies:  # a browser drops it at Max-Age; a copy sent later is refused too
        assert "Sign in" in httpx.get(url + "/ui", headers={"Cookie": cookie}).text


@pytest.mark.e2e
def test_a_sign_in_token_works_once_on_every_path(served):
    url, home, env, _ = served
    confirm = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    link = json.loads(glyph(env, "ui", "--json").stdout)["url"]
    token = link.split("t=", 1)[1]
    assert httpx.post(url + "/ui/link", data={"t": token}, headers=confirm).status_code == 303
    again = httpx.post(url + "/ui/sign-in", data={"token": token})  # pasted into the form
    assert again.status_code == 401 and "used already" in again.text and "set-cookie" not in again.headers
    other = _token(_root(home), "r")  # the other way round: the form first, then as a link
    assert httpx.post(url + "/ui/sign-in", data={"token": other}).status_code == 303
    assert "used already" in httpx.get(url + "/ui/link", params={"t": other}).text
    refused = httpx.post(url + "/ui/link", data={"t": other}, headers=confirm)
    assert refused.status_code == 401 and "set-cookie" not in refused.headers
    glyph_ui = json.loads(glyph(env, "ui", "--json").stdout)  # a link's session lasts the 12 h
    assert glyph_ui["expires_in"] == 12 * 3600


@pytest.mark.e2e
def test_a_spent_sign_in_link_is_no_token_anywhere_else(served):
    """`glyph ui`'s link (its URL stays in the browser's history) signs in once and is a bearer
    token nowhere: not at /r, the API, /v1/tokens nor the bridge's token check (issue 21 §2)."""
    url, _, env, _ = served
    token = json.loads(glyph(env, "ui", "--json").stdout)["url"].split("t=", 1)[1]
    bearer = {"Authorization": "Bearer " + token}
    for path, params, headers in (
        ("/r", {"t": token}, {}),
        ("/v1/memories", {"t": token}, {}),
        ("/v1/context", {}, bearer),
    ):
        answer = httpx.get(url + path, params=params, headers=headers)
        assert answer.status_code == 401 and SECRET_TEXT not in answer.text, path
    assert httpx.post(url + "/v1/tokens", headers=bearer, json={"scope": "rw"}).status_code == 401
    confirm = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    signed = httpx.post(url + "/ui/link", data={"t": token}, headers=confirm)
    assert signed.status_code == 303 and "set-cookie" in signed.headers
    assert httpx.get(url + "/r", params={"t": token}).status_code == 401


def test_a_session_ends_when_its_device_key_is_revoked_on_dynamodb(dynamo_table, root_key, monkeypatch):
    door = connector_function(monkeypatch, dynamo_table, root_key)
    call = page_caller(door)
    try:
        app = door.app()
        app.memories.write(text=SECRET_TEXT)
        tablet, _ = app.keyring.add_device("tablet", time.time())
        status, headers, _ = call("POST", "/ui/sign-in", form={"token": _token(tablet, ttl_s=3600)})
        assert status == 303
        session = headers["Set-Cookie"].split(";")[0]
        status, _, html = call("GET", "/ui", cookie=session)
        assert status == 200 and SECRET_TEXT in html
        app.keyring.revoke(tablet.kid)  # this container at once; others within the key cache's 30 s
        status, _, html = call("GET", "/ui", cookie=session)
        assert "Sign in" in html and SECRET_TEXT not in html
        again = call("POST", "/ui/sign-in", form={"token": _token(tablet, "r", ttl_s=3600)})
        assert again[0] == 401
    finally:
        door.close()
