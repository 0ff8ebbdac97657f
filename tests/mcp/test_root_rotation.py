"""A rotated root key ends every OAuth token: the connector function re-reads the key from SSM
(at most every root_key_ttl_s, a minute), and the App's OAuth, which signs with a subkey of the root, is
built again for the new key."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import boto3

from glyphmemory.aws_lambda import LambdaDoor
from glyphmemory.keys import Key, new_key

from ..support.lambda_events import connector_tokens, function_caller

HOST = "glyph.example.com"
CALLBACK = "https://claude.ai/api/mcp/auth_callback"
PARAM = "/glyph/rotation-test"


def test_a_rotated_root_key_ends_every_oauth_token(dynamo_table, root_key, monkeypatch):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=PARAM, Value=f"{root_key.kid}:{root_key.secret_b32}", Type="SecureString", Overwrite=True)
    monkeypatch.setenv("GLYPH_STORE", "dynamodb://" + dynamo_table)
    monkeypatch.delenv("GLYPH_KEY", raising=False)
    monkeypatch.setenv("GLYPH_KEY_PARAM", PARAM)
    door = LambdaDoor("all", root_key_ttl_s=0)  # every event reads the key again

    call = function_caller(door, HOST)

    def tools_list(access: str) -> int:
        rpc = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        accept = "application/json, text/event-stream"
        return call("POST", "/mcp", rpc, "application/json", accept=accept, authorization=f"Bearer {access}")[0]

    try:
        tokens = connector_tokens(call, root_key, HOST)
        client_id = tokens["client_id"]
        assert tools_list(tokens["access_token"]) == 200
        before = door.app().oauth()

        rotated = Key(root_key.kid, new_key().secret_b32)  # the same kid, a new secret
        ssm.put_parameter(Name=PARAM, Value=f"{rotated.kid}:{rotated.secret_b32}", Type="SecureString", Overwrite=True)
        assert tools_list(tokens["access_token"]) == 401
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
        status, _, text = call("POST", "/token", urlencode(refresh))
        assert status == 400 and json.loads(text)["error"] == "invalid_grant"
        assert door.app().oauth() is not before and door.app().keyring.root == rotated
    finally:
        door.close()
