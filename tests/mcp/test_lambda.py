"""The remote connector's own Lambda function, driven with API Gateway events, on DynamoDB
(moto over HTTP): the OAuth dance, tools over /mcp, refresh and its reuse, the Origin check."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest

from glyphmemory.aws_lambda import LambdaDoor

from ..support.lambda_events import make_event
from ..support.mcp_requests import initialize_params
from .oauth_flow import authorize_fields, pkce

HOST = "glyph.example.com"
BASE = f"https://{HOST}"
CALLBACK = "https://claude.ai/api/mcp/auth_callback"


@pytest.fixture
def handler(dynamo_table, root_key, monkeypatch):
    monkeypatch.setenv("GLYPH_STORE", "dynamodb://" + dynamo_table)
    monkeypatch.setenv("GLYPH_KEY", f"{root_key.kid}:{root_key.secret_b32}")

    def call(method, path, *, query="", body=None, headers=None):
        hdrs = {"x-glyph-public-host": HOST, **(headers or {})}
        raw = body if body is None or isinstance(body, bytes) else body.encode()
        result = call.door.handle(make_event(method, path, query, hdrs, raw), None)
        return result["statusCode"], result["headers"], result["body"]

    def restart():
        """A new container: it reads the settings again (a door reads them once, at its start)."""
        call.door.close()
        call.door = LambdaDoor("all")

    call.door, call.restart = LambdaDoor("all"), restart
    yield call
    call.door.close()


def _form(fields: dict) -> dict:
    return {"body": urlencode(fields), "headers": {"content-type": "application/x-www-form-urlencoded"}}


def _rpc(call, token, method, params=None, **headers):
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": params or {}})
    hdrs = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
        "authorization": f"Bearer {token}",
        **headers,
    }
    status, headers_out, text = call("POST", "/mcp", body=body, headers=hdrs)
    return status, (json.loads(text) if text and status == 200 else text)


def test_the_connector_function_end_to_end(handler, root_key):
    status, _, text = handler("GET", "/.well-known/oauth-protected-resource/mcp")
    assert status == 200 and json.loads(text)["resource"] == BASE + "/mcp"
    status, headers, _ = handler("POST", "/mcp", body="{}", headers={"content-type": "application/json"})
    assert status == 401
    assert headers["WWW-Authenticate"] == f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource/mcp"'

    status, _, text = handler(
        "POST",
        "/register",
        body=json.dumps({"redirect_uris": [CALLBACK], "client_name": "Claude"}),
        headers={"content-type": "application/json"},
    )
    assert status == 201
    client_id = json.loads(text)["client_id"]
    verifier, challenge = pkce()
    fields = authorize_fields(BASE, client_id, challenge, CALLBACK)
    status, headers, page = handler("GET", "/authorize", query=urlencode(fields))
    assert status == 200 and "Claude" in page and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "form-action 'self' https://claude.ai" in headers["Content-Security-Policy"]
    code = pyotp.TOTP(root_key.secret_b32).now()
    status, headers, _ = handler("POST", "/authorize", **_form({**fields, "code": code}))
    assert status == 302
    location = urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    answer = parse_qs(location.query)
    assert answer["state"] == [fields["state"]] and answer["iss"] == [BASE]
    token_form = {
        "grant_type": "authorization_code",
        "code": answer["code"][0],
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "resource": BASE + "/mcp",
    }
    status, headers, text = handler("POST", "/token", **_form(token_form))
    assert status == 200 and headers["Cache-Control"] == "no-store"
    tokens = json.loads(text)

    status, init = _rpc(
        handler,
        tokens["access_token"],
        "initialize",
        initialize_params(),
    )
    assert status == 200 and init["result"]["serverInfo"]["name"] == "glyphmemory"
    status, saved = _rpc(
        handler, tokens["access_token"], "tools/call", {"name": "save_memory", "arguments": {"text": "From Lambda"}}
    )
    assert status == 200 and saved["result"]["structuredContent"]["memory"]["text"] == "From Lambda"
    status, recent = _rpc(handler, tokens["access_token"], "tools/call", {"name": "recent_memories", "arguments": {}})
    assert [m["text"] for m in recent["result"]["structuredContent"]["items"]] == ["From Lambda"]
    # ChatGPT's search cites each memory by its page behind CloudFront (the host it reports).
    status, found = _rpc(
        handler, tokens["access_token"], "tools/call", {"name": "search", "arguments": {"query": "lambda"}}
    )
    mid = saved["result"]["structuredContent"]["memory"]["id"]
    assert found["result"]["structuredContent"] == {
        "results": [{"id": mid, "title": "From Lambda", "url": f"{BASE}/ui/m/{mid}"}]
    }
    # A GET after a long idle with no token is a 401 that sends the client to refresh, not a 405.
    status, headers, _ = handler("GET", "/mcp", headers={"accept": "text/event-stream"})
    assert status == 401 and "resource_metadata=" in headers["WWW-Authenticate"]

    # The SDK's host and origin check: a page elsewhere cannot drive it from a browser ...
    status, _ = _rpc(handler, tokens["access_token"], "tools/list", origin="https://evil.example")
    assert status == 403
    # ... and with GLYPH_PUBLIC_URL set, a request for another host is refused (DNS rebinding).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLYPH_PUBLIC_URL", BASE)
        handler.restart()
        assert _rpc(handler, tokens["access_token"], "tools/list")[0] == 200
        assert (
            _rpc(handler, tokens["access_token"], "tools/list", **{"x-glyph-public-host": "rebound.example"})[0] == 421
        )
    handler.restart()

    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
    status, _, text = handler("POST", "/token", **_form(refresh))
    assert status == 200
    status, _, text = handler("POST", "/token", **_form(refresh))
    assert status == 400 and json.loads(text)["error"] == "invalid_grant"
    status, _ = _rpc(handler, tokens["access_token"], "tools/list")
    assert status == 401  # the reuse revoked the grant


def test_the_memory_function_never_loads_the_sdk_or_the_template_engine():
    script = (
        "import sys, json\n"
        "sys.path[:0] = ['lambda', 'tests/..']\n"
        "import handler\n"
        "from tests.support.lambda_events import make_event\n"
        "r = handler.lambda_handler(make_event('GET', '/v1/health'), None)\n"
        "m = handler.lambda_handler(make_event('POST', '/mcp', body=b'{}'), None)\n"
        "u = handler.lambda_handler(make_event('GET', '/ui'), None)\n"
        "heavy = ('mcp', 'jinja2', 'pydantic', 'anyio')\n"
        "pages = ('glyphmemory.oauth', 'glyphmemory.http.mcp_routes', 'glyphmemory.http.ui_routes', 'glyphmemory.ui_session')\n"
        "loaded = sorted(k for k in sys.modules if k.split('.')[0] in heavy or k in pages)\n"
        "print(json.dumps([r['statusCode'], m['statusCode'], u['statusCode'], loaded]))\n"
    )
    env = {"GLYPH_STORE": "sqlite:///:memory:", "GLYPH_KEY": "root:" + "A" * 32, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    health, mcp_status, ui_status, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert (health, mcp_status, ui_status, loaded) == (200, 404, 404, [])  # /ui is the connector function's


def test_a_token_for_another_resource_is_refused(handler, root_key):
    """A token this server signed, but for another resource (RFC 8707): 401, not a tool call."""
    from glyphmemory.keys import SUBKEY_OAUTH
    from glyphmemory.oauth import OAuth

    app = handler.door.app()
    oauth = OAuth(app.memories.store, app.keyring.subkey(SUBKEY_OAUTH))
    grant = {"client_id": "c" * 22, "client_name": "t", "kid": root_key.kid, "generation": 1}
    grant.update(created_at=1, used_at=2**40, expires_at=2**40)
    for name, resource in (("h" * 22, BASE + "/mcp"), ("f" * 22, "https://elsewhere.example/mcp")):
        app.memories.store.records_put_if("oauth-grant", name, {**grant, "resource": resource}, expected_version=0)
    here = oauth._tokens("h" * 22, {**grant, "resource": BASE + "/mcp"})["access_token"]
    elsewhere = oauth._tokens("f" * 22, {**grant, "resource": "https://elsewhere.example/mcp"})["access_token"]
    assert _rpc(handler, here, "tools/list")[0] == 200
    status, text = _rpc(handler, elsewhere, "tools/list")
    assert status == 401 and "resource" in text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None])
def test_a_message_not_sent_as_json_is_a_415_problem(handler, root_key, content_type):
    """/mcp answers its errors as problem+json (its 401s too): a body that is not
    application/json is refused so, before the SDK (its transport answered a bare-text 400,
    "Invalid Content-Type header", with no Content-Type at all)."""
    from ..support.lambda_events import connector_tokens

    def form_call(method, path, body="", content_type="application/x-www-form-urlencoded"):
        return handler(method, path, body=body, headers={"content-type": content_type})

    token = connector_tokens(form_call, root_key, HOST)["access_token"]
    status, headers, text = _rpc_raw(handler, token, "tools/list", content_type)
    assert status == 415 and headers["Content-Type"] == "application/problem+json", text
    assert json.loads(text)["type"] == "urn:glyphmemory:problem:unsupported-media-type"
    assert _rpc_raw(handler, token, "tools/list", "application/json; charset=utf-8")[0] == 200


def _rpc_raw(call, token, method, content_type):
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": {}})
    headers = {"accept": "application/json, text/event-stream", "authorization": f"Bearer {token}"}
    return call("POST", "/mcp", body=body, headers=headers | ({"content-type": content_type} if content_type else {}))


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", "x"),  # a type the route refuses (415 with a token)
        (None, "{}"),  # no type at all
        ("application/json", "x" * (2 * 1024 * 1024)),  # over the route's body limit (413 with a token)
    ],
)
def test_a_stranger_is_asked_to_sign_in_before_the_body_is_judged(handler, content_type, body):
    """Without a token every /mcp request is the 401 with the RFC 9728 challenge (a client signs
    in only on that), whatever its body: the credential is checked before the body is read."""
    headers = {"accept": "application/json, text/event-stream"}
    status, answer_headers, text = handler(
        "POST", "/mcp", body=body, headers=headers | ({"content-type": content_type} if content_type else {})
    )
    assert status == 401, text
    assert "resource_metadata=" in answer_headers["WWW-Authenticate"]
