"""A bug (a store method raising RuntimeError) reached through each door: that door's own 500
(problem+json, the page, OAuth's error object, an MCP tool error, a bridge error frame), never a
traceback nor the exception's text, and one JSON log line with the request id (issue 23 §3)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import anyio
import pytest

from glyphmemory.bridge.core import Bridge
from glyphmemory.http import log
from glyphmemory.runtime import build_app
from glyphmemory.tokens import Grant, mint_window_token

from ..support.lambda_events import connector_function, connector_tokens, function_caller

HOST = "glyph.example.com"
SECRET = "boom: the store's internals, with a token glyph_tok_123"  # must never be shown or logged


def boom(*args, **kwargs):
    raise RuntimeError(SECRET)


def error_lines(stderr: str) -> list[dict]:
    """The log's lines of a bug, checked for what must never be in any line."""
    assert "Traceback" not in stderr and SECRET not in stderr and "glyph_tok_123" not in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line["msg"] == "error"]


@pytest.fixture
def function(dynamo_table, root_key, monkeypatch):
    """The connector function (every route) on a DynamoDB table (moto over HTTP)."""
    monkeypatch.setattr(log, "_threshold", None)
    door = connector_function(monkeypatch, dynamo_table, root_key)
    yield function_caller(door, HOST)
    door.close()


def test_the_api_answers_a_bug_with_its_problem(function, root_key, monkeypatch, capsys):
    token = mint_window_token(root_key.kid, root_key.secret, "r", int(time.time()) + 600)
    monkeypatch.setattr(function.door.app().memories.store, "recent", boom)
    capsys.readouterr()
    status, headers, text = function("GET", "/v1/memories", authorization=f"Bearer {token}")
    assert status == 500 and headers["Content-Type"] == "application/problem+json"
    problem = json.loads(text)
    assert problem["type"] == "urn:glyphmemory:problem:internal" and SECRET not in text
    (line,) = error_lines(capsys.readouterr().err)
    assert line["request_id"] == problem["request_id"] and line["error"] == "RuntimeError"
    assert line["route"] == "/v1/memories"


def test_the_page_answers_a_bug_with_a_page(function, monkeypatch, capsys):
    monkeypatch.setattr(function.door.app().memories.store, "records_get", boom)
    capsys.readouterr()
    status, headers, html = function("POST", "/ui/sign-in", urlencode({"code": "123456"}))
    assert status == 500 and headers["Content-Type"].startswith("text/html")
    assert "Internal error" in html and SECRET not in html and "Traceback" not in html
    (line,) = error_lines(capsys.readouterr().err)
    assert line["request_id"] and line["route"] == "/ui/sign-in"


def test_the_token_endpoint_answers_a_bug_as_oauth_does(function, monkeypatch, capsys):
    monkeypatch.setattr(function.door.app().memories.store, "records_get", boom)
    capsys.readouterr()
    form = {"grant_type": "authorization_code", "code": "c" * 43, "client_id": "x", "redirect_uri": "y"}
    status, headers, text = function("POST", "/token", urlencode(form))
    assert status == 500 and headers["Content-Type"] == "application/json"
    answer = json.loads(text)
    assert answer["error"] == "server_error" and SECRET not in text and headers["Cache-Control"] == "no-store"
    (line,) = error_lines(capsys.readouterr().err)
    assert line["request_id"] and line["route"] == "/token"


def test_a_remote_mcp_tool_answers_a_bug_as_a_tool_error(function, root_key, monkeypatch, capsys):
    tokens = connector_tokens(function, root_key, HOST)
    monkeypatch.setattr(function.door.app().memories.store, "recent", boom)
    capsys.readouterr()
    rpc = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "recent_memories", "arguments": {}}}
    status, _, text = function(
        "POST",
        "/mcp",
        json.dumps(rpc),
        "application/json",
        accept="application/json, text/event-stream",
        authorization=f"Bearer {tokens['access_token']}",
    )
    assert status == 200 and SECRET not in text
    result = json.loads(text)["result"]
    assert result["isError"] is True and "500" in result["content"][0]["text"]
    stderr = capsys.readouterr().err
    (line,) = error_lines(stderr)
    (mcp,) = [json.loads(s) for s in stderr.splitlines() if '"msg":"request"' in s]
    assert line["request_id"] == mcp["request_id"] and line["route"] == "/v1/memories"  # the /mcp request's id


def test_an_in_process_mcp_tool_answers_a_bug_as_a_tool_error(tmp_path, root_key, monkeypatch, capsys):
    from mcp.server.mcpserver.exceptions import ToolError

    from glyphmemory.api_client import InProcess
    from glyphmemory.mcp_tools import build_server

    monkeypatch.setattr(log, "_threshold", None)
    app = build_app(f"sqlite://{tmp_path}/glyph.db", root_key)  # as glyph mcp opens it
    server = build_server(InProcess(app, Grant(root_key.kid, "rw", 2**62)))
    monkeypatch.setattr(app.memories.store, "recent", boom)
    capsys.readouterr()
    with pytest.raises(ToolError) as raised:
        anyio.run(server.call_tool, "recent_memories", {})
    assert "500" in str(raised.value) and SECRET not in str(raised.value)
    (line,) = error_lines(capsys.readouterr().err)
    assert line["request_id"] and line["route"] == "/v1/memories"
    app.memories.store.close()


def test_the_bridge_answers_a_bug_with_an_error_frame(tmp_path, root_key, monkeypatch, capsys):
    monkeypatch.setattr(log, "_threshold", None)
    app = build_app(f"sqlite://{tmp_path}/glyph.db", root_key)
    bridge = Bridge(app.memories, None, app.auth, log=log.event)
    monkeypatch.setattr(app.memories.store, "records_get", boom)
    posted: list[dict] = []
    capsys.readouterr()
    frame = json.dumps({"type": "message", "session": "s", "id": "m1", "text": "Hello"})
    assert bridge.prepare(Grant(root_key.kid, "rw", 2**40, None), frame, posted.append) is None
    assert posted == [{"type": "error", "id": "m1", "status": 500, "detail": posted[0]["detail"]}]
    assert "internal error" in posted[0]["detail"] and SECRET not in json.dumps(posted)
    (line,) = error_lines(capsys.readouterr().err)
    assert line["request_id"] and line["route"] == "bridge prepare"
    app.memories.store.close()
