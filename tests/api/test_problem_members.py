"""Problem documents carry what the error holds as RFC 9457 §3.2 extension members, declared in
the OpenAPI document, through the Lambda handler on both stores."""

from __future__ import annotations

import json

from glyphmemory.errors import Conflict, TooManyRequests, Unavailable, Unprocessable
from glyphmemory.http.core import problem

KEY = "AKIAQWERTYUIOPASDFGH"


def test_an_edit_conflict_names_the_other_memory_as_other_id(api):
    a = api.json("POST", "/v1/memories", body={"text": "alpha"})[1]
    b = api.json("POST", "/v1/memories", body={"text": "beta"})[1]
    status, doc = api.json("PATCH", f"/v1/memories/{b['id']}", body={"text": "alpha"})
    assert status == 409 and doc["other_id"] == a["id"] and doc["type"].endswith(":conflict")


def test_a_refused_secret_names_its_kinds_as_redacted(api, monkeypatch):
    monkeypatch.setenv("GLYPH_REDACT", "refuse")
    status, doc = api.json("POST", "/v1/memories", body={"text": f"key {KEY}; password: hunter2"})
    assert status == 422 and doc["redacted"] == ["aws-access-key", "password"]
    assert KEY not in json.dumps(doc) and "hunter2" not in json.dumps(doc)
    # The same refusal reached through an import line keeps its members.
    body = json.dumps({"text": "fine"}).encode() + b"\n" + json.dumps({"text": f"key {KEY}"}).encode() + b"\n"
    result = api.call("POST", "/v1/import", body=body, content_type="application/x-ndjson")
    doc = json.loads(result["body"])
    assert result["statusCode"] == 422 and doc["redacted"] == ["aws-access-key"] and "line 2" in doc["detail"]


def test_a_problem_that_says_when_to_retry_holds_retry_after_s():
    too_many = problem(TooManyRequests("wait", headers={"Retry-After": "7"}))
    assert json.loads(too_many.body)["retry_after_s"] == 7 and too_many.headers["Retry-After"] == "7"
    busy = json.loads(problem(Unavailable("busy", retry_after=5)).body)
    assert busy["retry_after_s"] == 5 and busy["status"] == 503
    plain = json.loads(problem(Unprocessable("no")).body)
    assert set(plain) == {"type", "title", "status", "detail"}  # no member the error does not hold


def test_the_openapi_problem_schema_declares_every_member(api):
    schema = api.json("GET", "/openapi.json", scope=None)[1]["components"]["schemas"]["Problem"]
    members = [
        *json.loads(problem(Conflict("x", other_id="01J")).body),
        *json.loads(problem(Unavailable("x")).body),
        *json.loads(problem(Unprocessable("x", redacted=["password"])).body),
    ]
    assert set(members) <= set(schema["properties"])
