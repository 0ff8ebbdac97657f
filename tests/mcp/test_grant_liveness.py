"""A connector grant lives no longer than the key that signed it in (issue 21 §2): when that
device key is revoked, the grant leaves `glyph connectors list` and /v1/connectors, /token
refuses to refresh it and /mcp refuses what it minted, while the other grants go on. Through
`glyph serve`, and through the connector function on DynamoDB (moto over HTTP)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pyotp
import pytest

from ..e2e.test_glyph_serve import glyph
from ..support.lambda_events import connector_function, connector_tokens, function_caller
from . import oauth_flow as f


def _sign_in_as(url: str, kid: str, code: str) -> tuple[str, dict]:
    client_id = f.register(url)
    verifier, challenge = f.pkce()
    code = f.code_from(f.sign_in(url, f.authorize_fields(url, client_id, challenge), (kid, code)))
    answer = f.exchange(url, client_id, code, verifier)
    assert answer.status_code == 200, answer.text
    return client_id, answer.json()


@pytest.mark.e2e
def test_a_grant_ends_with_the_device_key_that_signed_it_in(served_home):
    url, home, env = served_home
    added = json.loads(glyph(env, "keys", "add", "laptop", "--json").stdout)
    laptop_client, laptop = _sign_in_as(url, added["kid"], pyotp.TOTP(added["secret"]).now())
    owner_client, owner = _sign_in_as(url, "root", f.owner_totp(home).now())
    listed = json.loads(glyph(env, "connectors", "list", "--json").stdout)["items"]
    assert sorted(g["client_id"] for g in listed) == sorted([laptop_client, owner_client])
    assert f.mcp_call(url, laptop["access_token"]).status_code == 200

    glyph(env, "keys", "revoke", added["kid"])
    listed = json.loads(glyph(env, "connectors", "list", "--json").stdout)["items"]
    assert [g["client_id"] for g in listed] == [owner_client]
    refused = f.refresh(url, laptop_client, laptop["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert f.mcp_call(url, laptop["access_token"]).status_code == 401
    # The owner's own grant goes on: it is served and refreshed.
    assert f.mcp_call(url, owner["access_token"]).status_code == 200
    assert f.refresh(url, owner_client, owner["refresh_token"]).status_code == 200


def test_a_grant_ends_with_its_device_key_on_dynamodb(dynamo_table, root_key, monkeypatch):
    door = connector_function(monkeypatch, dynamo_table, root_key)
    host, callback = "glyph.example.com", "https://claude.ai/api/mcp/auth_callback"

    call = function_caller(door, host)
    try:
        app = door.app()
        laptop, _ = app.keyring.add_device("laptop", time.time())
        tokens = connector_tokens(call, laptop, host, callback)
        client_id = tokens["client_id"]
        assert [g["client_id"] for g in app.oauth().grants()] == [client_id]
        app.keyring.revoke(laptop.kid)  # this container at once; others within the key cache's 30 s
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
        status, _, text = call("POST", "/token", urlencode(refresh))
        assert status == 400 and json.loads(text)["error"] == "invalid_grant"
        rpc = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        status, _, _ = call(
            "POST",
            "/mcp",
            rpc,
            "application/json",
            accept="application/json, text/event-stream",
            authorization=f"Bearer {tokens['access_token']}",
        )
        assert status == 401 and app.oauth().grants() == []
    finally:
        door.close()
