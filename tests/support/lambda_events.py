"""API Gateway HTTP API events (payload format 2.0), as the real service sends them to Lambda."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

EVENT = json.loads((Path(__file__).parents[1] / "events" / "http_api_v2.json").read_text())


def make_event(method, path, query="", headers=None, body=None, b64=False) -> dict:
    event = copy.deepcopy(EVENT)
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    if body is not None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            raw.decode()
        except UnicodeDecodeError:
            b64 = True  # API Gateway base64-encodes bodies that are not text
        event["body"] = base64.b64encode(raw).decode() if b64 else raw.decode()
        event["isBase64Encoded"] = b64
    return event


def connector_function(monkeypatch, dynamo_table: str, root_key):
    """The connector function (every route, the page and OAuth) on a DynamoDB table, loaded
    afresh by its first event: a new LambdaDoor("all"), whose `handle` takes events (close it
    at the end)."""
    from glyphmemory.aws_lambda import LambdaDoor

    monkeypatch.setenv("GLYPH_STORE", "dynamodb://" + dynamo_table)
    monkeypatch.setenv("GLYPH_KEY", f"{root_key.kid}:{root_key.secret_b32}")
    return LambdaDoor("all")
