"""The bridge's asset runs its route function on the runtime's Python with nothing but the asset
on its path, from shipped bytecode, against moto: no AWS SDK, and no httpx (only the worker, which
calls Claude, imports it)."""

from __future__ import annotations

import json
import time

import httpx

from glyphmemory.keys import fingerprint, new_key
from infra.bundling import build_lambda_asset, host_platform

from .test_lambda_asset import run_asset


def test_the_bridge_route_runs_from_its_asset(tmp_path, dynamo_table, moto_url):
    asset = build_lambda_asset(tmp_path / "asset", kind="bridge", platform=host_platform())
    key = new_key()
    event = {
        "requestContext": {
            "routeKey": "$default",
            "connectionId": "asset-1",
            "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "stage": "prod",
            # What the $connect authorizer puts in the context: the connection's grant.
            "authorizer": {
                "kid": key.kid,
                "scope": "rw",
                "exp": int(time.time()) + 600,
                "key": fingerprint(key.secret),
            },
        },
        "body": json.dumps({"type": "history", "session": "nothing-here"}),
    }
    env = {
        "PATH": "/usr/bin:/bin",
        "GLYPH_STORE": f"dynamodb://{dynamo_table}",
        "GLYPH_KEY": f"{key.kid}:{key.secret_b32}",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    (answer,), loaded, _ = run_asset(asset, [event], env, entry="route")
    assert answer == {"statusCode": 200}
    (frame,) = httpx.get(moto_url + "/_glyph/connections/asset-1").json()
    assert json.loads(frame)["status"] == 404  # posted back through the signed management API
    assert not {"boto3", "botocore", "httpx", "httpcore"} & set(loaded["modules"])
    assert loaded["compiled"] == []
