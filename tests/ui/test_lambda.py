"""The web page through the Lambda handler (the connector function, which serves /ui on AWS)
with API Gateway events, on DynamoDB (moto over HTTP): sign in, list, delete."""

from __future__ import annotations

import re

import pyotp
import pytest

from ..support.lambda_events import connector_function, page_caller

HOST = "glyph.example.com"


@pytest.fixture
def page(dynamo_table, root_key, monkeypatch):
    door = connector_function(monkeypatch, dynamo_table, root_key)
    yield page_caller(door, HOST)
    door.close()


def test_sign_in_list_and_delete_through_the_function(page, root_key):
    app = page.door.app()
    memory, _ = app.memories.write(text="Written on DynamoDB <b>bold?</b>", tags=["aws"])
    status, _, html = page("GET", "/ui")
    assert status == 200 and "Sign in" in html
    status, headers, _ = page("POST", "/ui/sign-in", form={"code": pyotp.TOTP(root_key.secret_b32).now()})
    assert status == 303 and headers["Location"] == "/ui"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie  # https through CloudFront
    session = cookie.split(";")[0]
    status, headers, html = page("GET", "/ui", cookie=session)
    assert status == 200 and "Written on DynamoDB &lt;b&gt;bold?&lt;/b&gt;" in html
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    status, _, _ = page("POST", f"/ui/m/{memory.id}/delete", form={"ns": "default"}, cookie=session)
    assert status == 403  # no CSRF token, nothing deleted
    assert app.memories.store.get(memory.id, now_s=app.clock.now_s()) is not None
    status, headers, _ = page("POST", f"/ui/m/{memory.id}/delete", form={"csrf": csrf, "ns": "default"}, cookie=session)
    assert status == 303 and "note=deleted" in headers["Location"]
    assert app.memories.store.get(memory.id, now_s=app.clock.now_s()) is None
    status, _, html = page("GET", "/ui", cookie=session)
    assert "Written on DynamoDB" not in html and "Nothing here" in html
