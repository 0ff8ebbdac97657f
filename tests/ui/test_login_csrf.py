"""Login CSRF: a page on another site must not sign the owner's browser into a session of its
own, neither by posting a token or code to /ui/sign-in nor by sending the browser to a /ui/link
(which now asks before it signs in). Through `glyph serve`, and through the connector function
on DynamoDB (moto over HTTP)."""

from __future__ import annotations

import json
import os
import time

import pyotp
import pytest

from glyphmemory.keys import load_key_file
from glyphmemory.tokens import mint_window_token

from ..e2e.test_glyph_serve import glyph
from ..support.lambda_events import connector_function, page_caller

CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another host of the same site is another origin
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
]


def _token(home: str, scope: str = "rw") -> str:
    key = load_key_file(os.path.join(home, "key.json"))
    return mint_window_token(key.kid, key.secret, scope, int(time.time()) + 600)


@pytest.mark.e2e
def test_a_sign_in_posted_from_another_site_is_refused(served_home):
    import httpx

    url, home, _ = served_home
    token = _token(home)
    totp = pyotp.TOTP(load_key_file(os.path.join(home, "key.json")).secret_b32)
    for headers in CROSS_SITE:
        for form in ({"token": token}, {"code": totp.now()}):
            r = httpx.post(url + "/ui/sign-in", data=form, headers=headers)
            assert r.status_code == 403, (headers, r.status_code)
            assert "set-cookie" not in r.headers and "another site" in r.text
            assert r.headers["content-type"].startswith("text/html")
    # From the page itself (a browser says same-origin and sends its origin): signed in. The code
    # refused above was never checked, so it still works once.
    own = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    r = httpx.post(url + "/ui/sign-in", data={"code": totp.now()}, headers=own)
    assert r.status_code == 303 and "glyph_ui=" in r.headers["set-cookie"]
    # A browser without Sec-Fetch-Site sends its page's origin (the page's referrer policy is
    # same-origin, under which a form sends it): allowed.
    assert httpx.post(url + "/ui/sign-in", data={"token": token}, headers={"Origin": url}).status_code == 303
    # A client that is no browser sends neither header: still allowed (curl, scripts). A token
    # signs in once (on every sign-in path), so this one is another.
    assert httpx.post(url + "/ui/sign-in", data={"token": _token(home, "r")}).status_code == 303


@pytest.mark.e2e
def test_the_one_time_link_asks_before_it_signs_in(served_home):
    import httpx

    url, _, env = served_home
    link = json.loads(glyph(env, "ui", "--json").stdout)["url"]
    token = link.split("t=", 1)[1]
    # Another site sends the browser to the link: the page asks, nothing is used or set.
    for _ in range(2):
        page = httpx.get(link, headers={"Sec-Fetch-Site": "cross-site"})
        assert page.status_code == 200 and "set-cookie" not in page.headers
        assert 'action="/ui/link"' in page.text and "Continue" in page.text
    # A form on another site posting the link's token: refused, and the link still works.
    for headers in CROSS_SITE:
        r = httpx.post(url + "/ui/link", data={"t": token}, headers=headers)
        assert r.status_code == 403 and "set-cookie" not in r.headers
    own = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    r = httpx.post(url + "/ui/link", data={"t": token}, headers=own)
    assert r.status_code == 303 and r.headers["location"] == "/ui" and "glyph_ui=" in r.headers["set-cookie"]
    # Used once: continuing again, or opening the link again, says so.
    again = httpx.post(url + "/ui/link", data={"t": token}, headers=own)
    assert again.status_code == 401 and "used already" in again.text and "set-cookie" not in again.headers
    reopened = httpx.get(link)
    assert reopened.status_code == 401 and "used already" in reopened.text
    assert httpx.get(url + "/ui/link?t=nonsense").status_code == 401


@pytest.fixture
def page(dynamo_table, root_key, monkeypatch):
    door = connector_function(monkeypatch, dynamo_table, root_key)
    yield page_caller(door)
    door.close()


def test_login_csrf_through_the_connector_function(page, root_key):
    token = mint_window_token(root_key.kid, root_key.secret, "rw", int(time.time()) + 120)
    for headers in CROSS_SITE:
        status, hdrs, _ = page("POST", "/ui/sign-in", form={"token": token}, headers=headers)
        assert status == 403 and "Set-Cookie" not in hdrs
    status, hdrs, html = page("GET", "/ui/link", f"t={token}", headers={"sec-fetch-site": "cross-site"})
    assert status == 200 and "Set-Cookie" not in hdrs and "Continue" in html
    status, hdrs, _ = page("POST", "/ui/link", form={"t": token}, headers={"origin": "https://evil.example"})
    assert status == 403 and "Set-Cookie" not in hdrs
    own = {"origin": "https://glyph.example.com", "sec-fetch-site": "same-origin"}
    status, hdrs, _ = page("POST", "/ui/link", form={"t": token}, headers=own)
    assert status == 303 and "Secure" in hdrs["Set-Cookie"]
    status, hdrs, _ = page("POST", "/ui/link", form={"t": token}, headers=own)
    assert status == 401 and "Set-Cookie" not in hdrs
