"""The connector's first answers without the SDK (glyphmemory.mcp_first, issue 24 §5): each is
byte for byte the SDK's live answer to the same request (status, headers, body), every request
of another shape is left to the SDK, and the constants copied from the SDK are its own."""

from __future__ import annotations

import json
import types

import pytest

from glyphmemory.http.core import Request
from glyphmemory.mcp_first import HANDSHAKE_PROTOCOL_VERSIONS, first_answer
from glyphmemory.mcp_http import handle_mcp, request_server
from glyphmemory.tokens import Grant

from ..support.mcp_requests import PROTOCOL_VERSION, initialize_request

HOST = "glyph.example.com"
BASE = f"https://{HOST}"
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
CLIENT = {"name": "claude-ai", "version": "0.1.0"}


def _initialize(version=PROTOCOL_VERSION, capabilities=None, client=None, request_id=1):
    return initialize_request(request_id, client=client or CLIENT, version=version, capabilities=capabilities)


def _request(message, headers=None, *, public_host=HOST, raw=None) -> Request:
    body = raw if raw is not None else json.dumps(message).encode()
    return Request("POST", "/mcp", headers={**HEADERS, **(headers or {})}, body=body, public_host=public_host)


def _sdk(request: Request):
    app = types.SimpleNamespace()  # initialize and ping reach no route of the App
    server = request_server(app)
    app.mcp_server = lambda: server
    return handle_mcp(app, request, BASE, Grant("kid", "memories", 2**40, None))


ANSWERED_HERE = {
    **{f"initialize {v}": (_initialize(v), {}) for v in HANDSHAKE_PROTOCOL_VERSIONS},
    "initialize, an unknown version offered (the newest is answered)": (_initialize("2099-01-01"), {}),
    "initialize, the 2026 revision offered": (_initialize("2026-07-28"), {}),
    "initialize with a protocol header": (_initialize(), {"mcp-protocol-version": "2025-06-18"}),
    "initialize, a string id": (_initialize(request_id="req-1:a.b_c"), {}),
    "initialize, id 0": (_initialize(request_id=0), {}),
    "initialize, a negative id": (_initialize(request_id=-7), {}),
    "initialize, a large id": (_initialize(request_id=2**53 - 1), {}),
    "initialize, roots": (_initialize(capabilities={"roots": {"listChanged": True}}), {}),
    "initialize, empty roots": (_initialize(capabilities={"roots": {}}), {}),
    "initialize, sampling and elicitation": (
        _initialize(capabilities={"sampling": {"context": {}, "tools": {}}, "elicitation": {"form": {}, "url": {}}}),
        {},
    ),
    "initialize, a client title": (_initialize(client={**CLIENT, "title": "Claude"}), {}),
    "initialize, any JSON Accept": (_initialize(), {"accept": "*/*"}),
    "initialize, Accept application/*": (_initialize(), {"accept": "application/*;q=0.9"}),
    "initialize, a charset": (_initialize(), {"content-type": "application/json; charset=utf-8"}),
    "initialize, its own Origin": (_initialize(), {"origin": BASE}),
    "ping": ({"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"mcp-protocol-version": "2025-06-18"}),
    "ping, empty params": ({"jsonrpc": "2.0", "id": "p", "method": "ping", "params": {}}, {}),
    "ping, each handshake header": (
        {"jsonrpc": "2.0", "id": 3, "method": "ping"},
        {"mcp-protocol-version": "2024-11-05"},
    ),
    "initialized": ({"jsonrpc": "2.0", "method": "notifications/initialized"}, {"mcp-protocol-version": "2025-06-18"}),
    "initialized, empty params": ({"jsonrpc": "2.0", "method": "notifications/initialized", "params": {}}, {}),
}


@pytest.mark.parametrize("case", ANSWERED_HERE)
def test_a_first_answer_is_the_sdks_byte_for_byte(case):
    message, headers = ANSWERED_HERE[case]
    fast = first_answer(_request(message, headers), BASE)
    assert fast is not None, "answered here, without the SDK"
    live = _sdk(_request(message, headers))
    assert (fast.status, fast.headers, fast.body) == (live.status, live.headers, live.body)


LEFT_TO_THE_SDK = {
    "tools/list": ({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, {}),
    "initialize, no clientInfo": ({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, {}),
    "initialize, a wrong capability": (_initialize(capabilities={"roots": 5}), {}),
    "initialize, a wrong capability member": (_initialize(capabilities={"sampling": {"tools": True}}), {}),
    "initialize, an unlisted capability": (_initialize(capabilities={"tasks": {}}), {}),
    "initialize, a numeric version": (_initialize(version=20250618), {}),
    "initialize, a numeric client name": (_initialize(client={"name": 1, "version": "1"}), {}),
    "initialize, _meta": (
        {**_initialize(), "params": {**_initialize()["params"], "_meta": {"progressToken": 1}}},
        {},
    ),
    "initialize, a bool id": (_initialize(request_id=True), {}),
    "initialize, a null id": (_initialize(request_id=None), {}),
    "initialize, a float id": (_initialize(request_id=1.5), {}),
    "initialize, a string id to escape": (_initialize(request_id='a"é\n'), {}),
    "initialize, an extra member": ({**_initialize(), "extra": 1}, {}),
    "initialize, JSON-RPC 1.0": ({**_initialize(), "jsonrpc": "1.0"}, {}),
    "initialize, the 2026 protocol header": (_initialize(), {"mcp-protocol-version": "2026-07-28"}),
    "initialize, a session id": (_initialize(), {"mcp-session-id": "abc"}),
    "initialize, another Origin": (_initialize(), {"origin": "https://evil.example"}),
    "initialize, another Host": (_initialize(), {"x": "y"}),
    "initialize, Accept text/event-stream only": (_initialize(), {"accept": "text/event-stream"}),
    "initialize, form content": (_initialize(), {"content-type": "text/plain"}),
    "ping, params": ({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"x": 1}}, {}),
    "ping, an unknown protocol header": ({"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"mcp-protocol-version": "1"}),
    "initialized, params": ({"jsonrpc": "2.0", "method": "notifications/initialized", "params": {"x": 1}}, {}),
    "a batch": ([_initialize()], {}),
}


@pytest.mark.parametrize("case", LEFT_TO_THE_SDK)
def test_any_other_request_is_left_to_the_sdk(case):
    message, headers = LEFT_TO_THE_SDK[case]
    public_host = "other.example.com" if case.endswith("another Host") else HOST
    assert first_answer(_request(message, headers, public_host=public_host), BASE) is None


@pytest.mark.parametrize("raw", [b"{", b'{"jsonrpc": "2.0", "id": 1, "method": "ping"', b"\xff\xfe", b"[]", b"null"])
def test_a_body_that_is_not_one_json_object_is_left_to_the_sdk(raw):
    assert first_answer(_request(None, raw=raw), BASE) is None


def test_the_constants_are_the_sdks():
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS as sdk_versions

    assert sdk_versions == HANDSHAKE_PROTOCOL_VERSIONS


def test_the_sdk_refuses_what_is_left_to_it_for_its_shape():
    # The allow-list is narrow for a reason: these shapes are ones the SDK answers with errors.
    for message in (_initialize(capabilities={"roots": 5}), _initialize(capabilities={"sampling": {"tools": True}})):
        body = json.loads(_sdk(_request(message)).body)
        assert body["error"]["code"] == -32602, body
