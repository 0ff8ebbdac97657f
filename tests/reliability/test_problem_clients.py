"""The clients read a problem's extension members (RFC 9457 §3.2) from the document, not from its
sentence: the CLI's HTTP client against a real `glyph serve`, the MCP tools' in-process answer."""

from __future__ import annotations

import json

import pytest

from cli.client import ApiError, Client
from glyphmemory.mcp_tools import BackendError, answer


def test_the_cli_client_reads_other_id_from_a_conflict(served):
    client = Client(served.url, served.key)
    a = client.json("POST", "/v1/memories", scope="w", payload={"text": "alpha"})[1]
    b = client.json("POST", "/v1/memories", scope="w", payload={"text": "beta"})[1]
    with pytest.raises(ApiError) as info:
        client.json("PATCH", f"/v1/memories/{b['id']}", scope="rw", payload={"text": "alpha"})
    assert info.value.status == 409 and info.value.problem["other_id"] == a["id"]
    assert info.value.detail == info.value.problem["detail"]
    with pytest.raises(ApiError) as info:  # a problem without members holds none
        client.json("GET", "/v1/memories/" + "0" * 26, scope="r")
    assert info.value.status == 404 and "other_id" not in info.value.problem


def test_an_mcp_backend_error_carries_the_problems_members():
    body = {"type": "urn:glyphmemory:problem:conflict", "title": "Conflict", "status": 409, "detail": "taken"}
    with pytest.raises(BackendError) as info:
        answer(409, "application/problem+json", json.dumps({**body, "other_id": "01J", "request_id": "r"}).encode())
    assert str(info.value) == "409: taken" and info.value.status == 409 and info.value.extensions == {"other_id": "01J"}
    with pytest.raises(BackendError) as info:  # not a problem document: the status alone
        answer(502, "text/html", b"<html>bad gateway</html>")
    assert str(info.value) == "502: the request failed" and info.value.extensions == {}
