"""The connector function's asset, built for this machine's platform (the deployed one targets
arm64), answers OAuth metadata, an authenticated MCP `initialize` (without loading the SDK) and
`tools/list` (with it) on the runtime's Python with nothing but the asset on its path, from
shipped bytecode."""

from __future__ import annotations

import json

from glyphmemory.keys import new_key
from glyphmemory.stores.sqlite import SqliteStore
from infra.bundling import build_lambda_asset, host_platform

from ..support.lambda_events import make_event
from ..support.mcp_requests import granted_access_token, initialize_request, mcp_headers
from .test_lambda_asset import run_asset

HOST = "glyph.example.com"


def test_the_connector_asset_answers_initialize(tmp_path):
    asset = build_lambda_asset(tmp_path / "asset", kind="mcp", platform=host_platform())
    key = new_key()
    db = tmp_path / "g.db"
    store = SqliteStore(str(db))
    access = granted_access_token(store, key, HOST)
    store.close()
    host = {"x-glyph-public-host": HOST}
    headers = mcp_headers(HOST, access)
    events = [
        make_event("POST", "/mcp", headers=headers, body=initialize_request()),
        make_event("GET", "/.well-known/oauth-protected-resource/mcp", headers=host),
        make_event("GET", "/authorize", "client_id=nobody", headers=host),
    ]
    env = {"PATH": "/usr/bin:/bin", "GLYPH_STORE": f"sqlite:///{db}", "GLYPH_KEY": f"{key.kid}:{key.secret_b32}"}
    answers, loaded, stderr = run_asset(asset, events, env)
    assert [a["statusCode"] for a in answers] == [200, 200, 401], stderr[-2000:]
    assert json.loads(answers[0]["body"])["result"]["serverInfo"]["name"] == "glyphmemory"
    assert "sign-in link cannot be used" in answers[2]["body"]  # the page, rendered by Jinja2
    # The first answer without the SDK (issue 24 §5): it is imported by the first call needing it.
    assert "jinja2" in loaded["modules"] and not {"mcp", "mcp_types", "pydantic"} & set(loaded["modules"])
    tools_list = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    answers, loaded, stderr = run_asset(asset, [make_event("POST", "/mcp", headers=headers, body=tools_list)], env)
    assert answers[0]["statusCode"] == 200, stderr[-2000:]
    assert "save_memory" in {tool["name"] for tool in json.loads(answers[0]["body"])["result"]["tools"]}
    assert {"mcp", "pydantic_core"} <= set(loaded["modules"])
    assert loaded["compiled"] == []  # the SDK and its dependencies came from shipped bytecode too
