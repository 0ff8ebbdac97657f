"""Every route through the Lambda handler, on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ..support.lambda_events import make_event


def test_health_and_openapi_need_no_token(api):
    status, body = api.json("GET", "/v1/health", scope=None)
    assert status == 200 and body["status"] == "ok" and body["version"]
    status, doc = api.json("GET", "/openapi.json", scope=None)
    assert status == 200 and doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    routed = {(r.method, r.template) for r in api.door.app().router.routes}
    assert documented == routed


def test_namespaces_lists_where_memories_are(api):
    assert api.json("GET", "/v1/namespaces", scope="r") == (200, {"items": []})
    for ns in ("work", "default", "work"):
        api.json("POST", "/v1/memories", body={"text": f"a note for {ns}", "namespace": ns})
    assert api.json("GET", "/v1/namespaces", scope="r") == (200, {"items": ["default", "work"]})
    assert api.json("GET", "/v1/namespaces", scope=None)[0] == 401
    assert api.json("GET", "/v1/namespaces", "limit=1", scope="r")[0] == 400  # it takes no parameters


def test_openapi_names_every_operation_and_its_server(api):
    """GPT Actions and client generators need an operationId per operation and a servers entry."""
    headers = {"x-glyph-public-host": "memory.example.net"}  # as CloudFront reports its host
    status, doc = api.json("GET", "/openapi.json", scope=None, headers=headers)
    assert status == 200 and doc["servers"] == [{"url": "https://memory.example.net"}]
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == sum(len(ops) for ops in doc["paths"].values())
    assert all(i.isidentifier() and i[0].islower() for i in ids)
    assert doc["paths"]["/v1/memories"]["post"]["operationId"] == "writeMemory"
    assert doc["paths"]["/v1/memories/{memory_id}"]["get"]["operationId"] == "getMemory"


def test_write_read_get_delete(api):
    status, m = api.json(
        "POST",
        "/v1/memories",
        body={"text": "Use by-epoch GSI", "tags": ["infra"], "source": "test", "session": "s1", "ttl_days": 30},
    )
    assert status == 201 and m["duplicate"] is False and m["tags"] == ["infra"] and m["expires_at"]
    status, again = api.json("POST", "/v1/memories", body={"text": "Use by-epoch GSI  "})
    assert status == 200 and again["duplicate"] is True and again["id"] == m["id"]
    # The repeat carried no TTL: the memory is kept for good now (issue 22: the repeat rule).
    assert again["extended"] is True and again["expires_at"] is None
    status, got = api.json("GET", f"/v1/memories/{m['id']}", scope="r")
    answer_only = ("duplicate", "redacted", "extended", "tags_added", "session_set", "similar")
    assert status == 200 and got == {k: v for k, v in m.items() if k not in answer_only} | {"expires_at": None}
    status, page = api.json("GET", "/v1/memories", "limit=5", scope="r")
    assert status == 200 and [i["id"] for i in page["items"]] == [m["id"]] and page["next"] is None
    assert api.call("DELETE", f"/v1/memories/{m['id']}", scope="w")["statusCode"] == 204
    assert api.json("GET", f"/v1/memories/{m['id']}", scope="r")[0] == 404
    assert api.json("DELETE", f"/v1/memories/{m['id']}", scope="w")[0] == 404


def test_paging_through_next_cursors(api):
    ids = [api.json("POST", "/v1/memories", body={"text": f"n{i}", "namespace": "pg"})[1]["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        query = "namespace=pg&limit=3" + (f"&before={quote(cursor)}" if cursor else "")
        status, page = api.json("GET", "/v1/memories", query, scope="r")
        assert status == 200
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_tag_and_since_query(api):
    api.json("POST", "/v1/memories", body={"text": "tagged", "tags": ["x"]})
    api.json("POST", "/v1/memories", body={"text": "plain"})
    _, page = api.json("GET", "/v1/memories", "tag=x", scope="r")
    assert [i["text"] for i in page["items"]] == ["tagged"]
    _, page = api.json("GET", "/v1/memories", "since=1h", scope="r")
    assert len(page["items"]) == 2
    _, page = api.json("GET", "/v1/memories", "since=2999-01-01", scope="r")
    assert page["items"] == []


def test_search_context_export_import(api):
    for text in ("We deploy with CDK", "pytest over unittest, always pytest", "Coffee at 9"):
        api.json("POST", "/v1/memories", body={"text": text})
    status, hits = api.json("GET", "/v1/search", "q=pytest", scope="r")
    assert status == 200 and hits["items"][0]["text"].startswith("pytest") and hits["items"][0]["score"] > 0
    md = api.call("GET", "/v1/context", "budget=1000", scope="r")
    assert md["statusCode"] == 200 and md["headers"]["Content-Type"].startswith("text/markdown")
    assert md["body"].index("Coffee at 9") < md["body"].index("We deploy with CDK")
    txt = api.call("GET", "/v1/context", "format=text", scope="r")
    assert txt["headers"]["Content-Type"].startswith("text/plain") and "Coffee at 9" in txt["body"]
    status, ctx = api.json("GET", "/v1/context", "format=json", scope="r")
    assert status == 200 and len(ctx["items"]) == 3 and ctx["older"] == 0
    export = api.call("GET", "/v1/export", scope="r")
    assert export["statusCode"] == 200 and export["body"].count("\n") == 3
    status, counts = api.json("POST", "/v1/import", body=export["body"].encode(), content_type="application/x-ndjson")
    assert status == 200 and counts == {"imported": 0, "duplicates": 3, "expired": 0, "redacted": []}
    status, counts = api.json(
        "POST", "/v1/import", "", body=export["body"].encode(), content_type="application/x-ndjson", headers={}
    )
    assert counts["duplicates"] == 3


def test_token_in_header_or_query(api):
    token = api.token("r")
    assert api.call("GET", "/v1/memories", scope=None, headers={"x-glyph-token": token})["statusCode"] == 200
    assert api.call("GET", "/v1/memories", f"t={token}", scope=None)["statusCode"] == 200


# --- auth failures ---------------------------------------------------------------------------


def test_missing_expired_tampered_tokens_are_401(api):
    result = api.call("GET", "/v1/memories", scope=None)
    assert result["statusCode"] == 401 and "WWW-Authenticate" in result["headers"]
    expired = api.token("r", ttl=-10)
    good = api.token("r")
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    for token in (expired, tampered, "garbage", "x" * 10_000):
        result = api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {token}"})
        assert result["statusCode"] == 401
        assert token not in result["body"]


def test_a_read_token_cannot_write_or_delete(api):
    assert api.json("POST", "/v1/memories", body={"text": "x"}, scope="r")[0] == 403
    assert api.json("DELETE", "/v1/memories/01M7YSECJGJP6V29PGWMX1NE6V", scope="r")[0] == 403
    assert api.json("GET", "/v1/memories", scope="w")[0] == 403


# --- bad input: a 4xx problem that says what to fix, and nothing stored changes -------------------

BAD_WRITES = [
    ({"text": ""}, 400),
    ({"text": "   \n\t "}, 400),
    ({"text": "a" * (32 * 1024 + 1)}, 400),
    ({"text": "x", "namespace": "../x"}, 400),
    ({"text": "x", "namespace": "Upper"}, 400),
    ({"text": "x", "namespace": "a" * 65}, 400),
    ({"text": "x", "colour": "red"}, 400),
    ({"text": 5}, 400),
    ({"tags": ["a"]}, 400),
    ({"text": "x", "tags": "a,b"}, 400),
    ({"text": "x", "tags": [f"t{i}" for i in range(17)]}, 400),
    ({"text": "x", "tags": [1]}, 400),
    ({"text": "x", "ttl_days": "7"}, 400),
    ({"text": "x", "source": ""}, 400),
    ({"text": "x", "session": 7}, 400),
]


def assert_problem(result: dict, status: int) -> dict:
    assert result["statusCode"] == status, result["body"]
    assert result["headers"]["Content-Type"] == "application/problem+json"
    problem = json.loads(result["body"])
    assert {"type", "title", "status", "detail"} <= set(problem) and problem["status"] == status
    assert len(problem["detail"]) > 10 and "Traceback" not in result["body"]
    return problem


@pytest.fixture
def seeded(api):
    for i in range(3):
        api.json("POST", "/v1/memories", body={"text": f"kept {i}"})
    before = api.call("GET", "/v1/export", scope="r")["body"]
    yield api
    assert api.call("GET", "/v1/export", scope="r")["body"] == before


@pytest.mark.parametrize("body,status", BAD_WRITES)
def test_bad_writes(seeded, body, status):
    assert_problem(seeded.call("POST", "/v1/memories", body=body), status)


@pytest.mark.parametrize(
    "raw,content_type,status",
    [
        (b"not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b'{"text": "x"}', None, 415),
        (b'{"text": "x"}', "text/plain", 415),
        (b'{"text": "x"}', "application/x-www-form-urlencoded", 415),
    ],
)
def test_bad_bodies(seeded, raw, content_type, status):
    assert_problem(seeded.call("POST", "/v1/memories", body=raw, content_type=content_type), status)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "limit=",
        "namespace=../x",
        "namespace=UP",
        "before=garbage",
        "before=MTc5NTI1NTkwNzA5MDQyMDowMU03WVNFQ1JKMVlDNjRHWlhONVRLMjdUUg.kQL_qO4KvBwTz7tw",
        "since=yesterday",
        "tag=",
        "unknown=1",
        "limit=1&limit=2",
    ],
)
def test_bad_list_queries(seeded, query):
    assert_problem(seeded.call("GET", "/v1/memories", query, scope="r"), 400)


@pytest.mark.parametrize(
    "path,query",
    [
        ("/v1/search", ""),
        ("/v1/search", "q="),
        ("/v1/search", "q=x&limit=0"),
        ("/v1/context", "budget=10"),
        ("/v1/context", "format=html"),
        ("/v1/context", "budget=abc"),
        ("/v1/export", "before=nope"),
    ],
)
def test_bad_other_queries(seeded, path, query):
    assert_problem(seeded.call("GET", path, query, scope="r"), 400)


def test_a_cursor_from_another_namespace_is_refused(seeded):
    for i in range(3):
        seeded.json("POST", "/v1/memories", body={"text": f"other {i}", "namespace": "other"})
    _, page = seeded.json("GET", "/v1/memories", "namespace=other&limit=1", scope="r")
    assert_problem(seeded.call("GET", "/v1/memories", f"before={page['next']}", scope="r"), 400)


def test_unknown_id_route_and_method(seeded):
    assert_problem(seeded.call("GET", "/v1/memories/01M7YSECJGJP6V29PGWMX1NE6V", scope="r"), 404)
    assert_problem(seeded.call("GET", "/v1/memories/..%2Fetc", scope="r"), 404)
    assert_problem(seeded.call("GET", "/v1/nothing", scope="r"), 404)
    result = seeded.call("PUT", "/v1/memories", body={"text": "x"})
    assert_problem(result, 405)
    assert set(result["headers"]["Allow"].split(", ")) == {"GET", "POST"}
    assert_problem(seeded.call("PATCH", "/v1/health", scope=None), 405)


def test_bad_imports(seeded):
    assert_problem(seeded.call("POST", "/v1/import", body=b'{"text":"x"}\n', content_type="application/json"), 415)
    assert_problem(
        seeded.call("POST", "/v1/import", body=b'{"text":"ok"}\n{"text":""}\n', content_type="application/x-ndjson"),
        400,
    )
    assert_problem(seeded.call("POST", "/v1/import", body=b"\xff\n", content_type="application/x-ndjson"), 400)


def test_an_overlong_url_is_414(seeded):
    assert_problem(seeded.call("GET", "/v1/search", "q=" + "a" * 9000, scope="r"), 414)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"version": "1.0", "httpMethod": "GET", "path": "/v1/health"},
        {"version": "2.0", "rawPath": "/v1/health"},
        "not even a dict",
        make_event("POST", "/v1/memories", headers={"content-type": "application/json"})
        | {"body": "@@not base64@@", "isBase64Encoded": True},
        # Members of another type than the payload format's: a 400 too, never a 500 or an exception
        # out of the handler (a path that is no string broke the error's own rendering).
        make_event("GET", "/v1/health") | {"rawPath": 5},
        make_event("GET", "/v1/health") | {"rawQueryString": ["q"]},
    ],
)
def test_malformed_events_get_400(api, event):
    result = api.door.handle(event, None)
    assert_problem(result, 400)


def test_a_base64_body_is_decoded(api):
    result = api.call("POST", "/v1/memories", body={"text": "sent base64"}, b64=True)
    assert result["statusCode"] == 201


def test_lambda_log_lines_are_structured_and_hold_no_token(api, capsys):
    token = api.token("rw")
    api.call("GET", "/v1/memories", f"t={token}", scope=None)
    api.call("GET", "/v1/memories", scope=None, headers={"x-glyph-token": token})
    api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {token}x"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["status"] for line in lines] == [200, 200, 401]
    assert lines[0]["cold_start"] is True and lines[1]["cold_start"] is False
    assert all(line["request_id"] == "CkqHXjFkIAMEVxQ=" and "ms" in line for line in lines)
    assert token not in json.dumps(lines)


def test_patch_corrects_a_memory_in_place(api):
    a = api.json("POST", "/v1/memories", body={"text": "The deploy runs on Fridays", "tags": ["ops"]})[1]
    b = api.json("POST", "/v1/memories", body={"text": "The user prefers tea"})[1]
    status, edited = api.json("PATCH", f"/v1/memories/{a['id']}", body={"text": "The deploy runs on Thursdays"})
    assert status == 200 and edited["id"] == a["id"] and edited["created_at"] == a["created_at"]
    assert edited["tags"] == ["ops"] and edited["updated_at"] and edited["redacted"] == []
    status, conflict = api.json("PATCH", f"/v1/memories/{b['id']}", body={"text": "The deploy runs on Thursdays"})
    assert status == 409 and a["id"] in conflict["detail"]
    assert api.json("PATCH", "/v1/memories/01M7YSECJGJP6V29PGWMX1NE6V", body={"text": "x"})[0] == 404
    assert api.json("PATCH", f"/v1/memories/{a['id']}", body={})[0] == 400
    assert api.json("PATCH", f"/v1/memories/{a['id']}", body={"text": "x", "namespace": "other"})[0] == 400
    assert api.call("PATCH", f"/v1/memories/{a['id']}", body={"text": "x"}, scope="r")["statusCode"] == 403
    page = api.json("GET", "/v1/memories", scope="r")[1]["items"]
    assert [m["text"] for m in page] == ["The user prefers tea", "The deploy runs on Thursdays"]
