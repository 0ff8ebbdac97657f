"""API Gateway HTTP API events (payload format 2.0), as the real service sends them to Lambda."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from urllib.parse import urlencode

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


FORM = "application/x-www-form-urlencoded"


def function_caller(door, host: str = "glyph.example.com"):
    """call(method, path, body="", content_type=FORM, query="", **headers) → (status, headers,
    body): one request to a function's `door` (a LambdaDoor) as API Gateway hands it over, at
    the public `host`; content_type None sends none. `call.door` is the door."""

    def call(method, path, body: str | bytes | None = "", content_type: str | None = FORM, query="", **headers):
        sent = {"x-glyph-public-host": host, **({"content-type": content_type} if content_type else {}), **headers}
        raw = body.encode() if isinstance(body, str) else body
        result = door.handle(make_event(method, path, query, sent, raw), None)
        return result["statusCode"], result["headers"], result["body"]

    call.door = door
    return call


def page_caller(door, host: str = "glyph.example.com"):
    """call(method, path, query="", *, form=None, cookie=None, headers=None) → (status, headers,
    body): a browser's request to the page through `door` (function_caller), `form` posted
    urlencoded, `cookie` the Cookie header."""
    send = function_caller(door, host)

    def call(method, path, query="", *, form=None, cookie=None, headers=None):
        extra = {**(headers or {}), **({"cookie": cookie} if cookie else {})}
        if form is None:
            return send(method, path, None, None, query, **extra)
        return send(method, path, urlencode(form), FORM, query, **extra)

    call.door = door
    return call


def connector_function(monkeypatch, dynamo_table: str, root_key):
    """The connector function (every route, the page and OAuth) on a DynamoDB table, loaded
    afresh by its first event: a new LambdaDoor("all"), whose `handle` takes events (close it
    at the end)."""
    from glyphmemory.aws_lambda import LambdaDoor

    monkeypatch.setenv("GLYPH_STORE", "dynamodb://" + dynamo_table)
    monkeypatch.setenv("GLYPH_KEY", f"{root_key.kid}:{root_key.secret_b32}")
    return LambdaDoor("all")


def connector_tokens(call, key, host: str, callback: str = "https://claude.ai/api/mcp/auth_callback") -> dict:
    """The connector's OAuth dance through a function's `call(method, path, body, content_type)`
    (register, the sign-in page with `key`'s current TOTP code, /token): the token answer."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    import pyotp

    from ..mcp.oauth_flow import authorize_fields, pkce

    registered = json.dumps({"redirect_uris": [callback], "client_name": "Claude"})
    client_id = json.loads(call("POST", "/register", registered, "application/json")[2])["client_id"]
    verifier, challenge = pkce()
    fields = authorize_fields(f"https://{host}", client_id, challenge, callback)
    code = pyotp.TOTP(key.secret_b32).now()
    status, headers, _ = call("POST", "/authorize", urlencode({**fields, "kid": key.kid, "code": code}))
    assert status == 302
    redeem = {
        "grant_type": "authorization_code",
        "code": parse_qs(urlsplit(headers["Location"]).query)["code"][0],
        "client_id": client_id,
        "redirect_uri": callback,
        "code_verifier": verifier,
    }
    status, _, text = call("POST", "/token", urlencode(redeem))
    assert status == 200, text
    return {**json.loads(text), "client_id": client_id}
