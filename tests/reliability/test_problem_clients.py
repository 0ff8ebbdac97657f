"""The one API client (glyphmemory.api_client): its two implementations, over HTTP to a real
`glyph serve` (OverHttp: the CLI's) and in-process on the same store (InProcess: the page, the MCP
tools), answer the same request with the same problem error: status, slug, detail and the
problem's extension members (RFC 9457 §3.2), read from the document, never from its sentence."""

from __future__ import annotations

import os
import time

import pytest

from glyphmemory.api_client import ApiError, InProcess, NetworkError, OverHttp, checked
from glyphmemory.runtime import build_app
from glyphmemory.tokens import Grant
from glyphmemory.totp import match_step

from ..support.processes import stop
from .conftest import serve

KEY = "AKIAQWERTYUIOPASDFGH"


@pytest.fixture(params=["sqlite", "dynamodb"])
def both(request, tmp_path, monkeypatch):
    """(HTTP client of a glyph serve that refuses secrets, in-process client on the same store)."""
    extra = {"GLYPH_REDACT": "refuse"}
    if request.param == "dynamodb":
        table = request.getfixturevalue("dynamo_table")
        extra |= {
            "GLYPH_STORE": f"dynamodb://{table}",
            "AWS_ENDPOINT_URL_DYNAMODB": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
        }
        store_url = f"dynamodb://{table}"
    else:
        store_url = f"sqlite://{tmp_path}/home/glyph.db"
    monkeypatch.setenv("GLYPH_REDACT", "refuse")
    server = serve(tmp_path / "home", **extra)
    key = server.key
    app = build_app(store_url, key)
    yield OverHttp(server.url, key, tries=1), InProcess(app, Grant(key.kid, "rw", 2**62))
    app.memories.store.close()
    stop(server.proc)


def problems(both, method: str, path: str, **options) -> tuple[ApiError, ApiError]:
    """The error each implementation raises for the same request."""
    found = []
    for api in both:
        with pytest.raises(ApiError) as info:
            api.call(method, path, **options)
        found.append(info.value)
    return found[0], found[1]


def same(http: ApiError, inside: ApiError) -> None:
    assert (http.status, http.slug, http.detail) == (inside.status, inside.slug, inside.detail)
    assert http.message == inside.message == f"{http.status}: {http.detail}"


def test_a_conflict_carries_other_id_through_both(both):
    http, inside = both
    a = http.call("POST", "/v1/memories", scope="w", payload={"text": "alpha"})
    b = inside.call("POST", "/v1/memories", scope="w", payload={"text": "beta"})
    over_http, in_process = problems(both, "PATCH", f"/v1/memories/{b['id']}", scope="rw", payload={"text": "alpha"})
    same(over_http, in_process)
    assert over_http.status == 409 and over_http.slug == "conflict"
    assert over_http.extensions == in_process.extensions == {"other_id": a["id"]}


def test_a_refused_secret_carries_its_kinds_as_redacted_through_both(both):
    payload = {"text": f"key {KEY}; password: hunter2"}
    over_http, in_process = problems(both, "POST", "/v1/memories", scope="w", payload=payload)
    same(over_http, in_process)
    assert over_http.status == 422 and over_http.slug == "unprocessable"
    assert over_http.extensions == in_process.extensions == {"redacted": ["aws-access-key", "password"]}
    assert KEY not in over_http.detail and "hunter2" not in str(over_http.problem)
    # An import's refused line: the same members, on a body that is not JSON.
    line = f'{{"text": "key {KEY}"}}\n'.encode()
    options = {"scope": "w", "body": line, "content_type": "application/x-ndjson"}
    over_http, in_process = problems(both, "POST", "/v1/import", **options)
    same(over_http, in_process)
    assert over_http.extensions == in_process.extensions == {"redacted": ["aws-access-key"]}


def test_too_many_wrong_codes_carry_retry_after_s_through_both(both):
    key = both[0].key
    code = next(c for c in ("000000", "111111", "222222") if match_step(key.secret_b32, c, time.time()) is None)
    wrong = {"code": code, "kid": key.kid, "scope": "r"}
    seen = []
    for api in both:  # each implementation is a source of its own: each has its 10 attempts
        for _ in range(20):
            try:
                api.call("POST", "/v1/tokens", payload=wrong)
            except ApiError as error:
                if error.status == 429:
                    seen.append(error)
                    break
                assert error.status == 401
    over_http, in_process = seen
    same(over_http, in_process)
    assert over_http.slug == "too-many-requests" and set(over_http.extensions) == {"retry_after_s"}
    assert abs(over_http.extensions["retry_after_s"] - in_process.extensions["retry_after_s"]) <= 1
    assert str(over_http.extensions["retry_after_s"]) == over_http.headers["retry-after"]


@pytest.mark.parametrize(
    "method,path,options,status,slug",
    [
        ("GET", "/v1/memories/" + "0" * 26, {"scope": "r"}, 404, "not-found"),
        ("GET", "/v1/memories", {"scope": "r", "query": {"tag": ""}}, 400, "invalid-input"),  # "" is sent
        ("POST", "/v1/memories", {"scope": "w", "payload": {"text": "x", "ttl_days": -1}}, 400, "invalid-input"),
        ("PUT", "/v1/memories", {"scope": "w", "payload": {}}, 405, "method-not-allowed"),
    ],
)
def test_a_problem_without_members_holds_none_through_both(both, method, path, options, status, slug):
    over_http, in_process = problems(both, method, path, **options)
    same(over_http, in_process)
    assert (over_http.status, over_http.slug) == (status, slug)
    assert over_http.extensions == in_process.extensions == {}


def test_an_answer_that_is_no_problem_document_gives_its_text():
    with pytest.raises(ApiError) as info:  # a proxy's page: the start of its text, no members
        checked(502, {"content-type": "text/html"}, b"<html>bad gateway</html>", "Bad Gateway")
    assert info.value.detail == "<html>bad gateway</html>" and info.value.extensions == {} and info.value.slug == ""
    with pytest.raises(ApiError) as info:  # nothing at all: the status's reason
        checked(503, {}, b"", "Service Unavailable")
    assert info.value.message == "503: Service Unavailable"


def test_no_server_is_a_network_error():
    from glyphmemory.keys import new_key

    with pytest.raises(NetworkError):
        OverHttp("http://127.0.0.1:9", new_key(), tries=1).call("GET", "/v1/health")


@pytest.mark.parametrize(
    "path, query",
    [
        ("/v1/search", {"q": "\ud800"}),  # a lone surrogate, as JSON's "\ud800" decodes (an MCP tool's argument)
        ("/v1/memories", {"namespace": "\udcff"}),  # a command-line argument that was not UTF-8 (byte 0xFF)
        ("/v1/memories/é", None),  # an id no URL can hold as it is
        ("/v1/memories/a b", None),
        ("/v1/memories/a?limit=1", None),  # an id is a path segment, never the start of a query
        ("/v1/memories/a#b", None),
    ],
)
def test_a_value_a_url_cannot_hold_is_the_apis_refusal_through_both(both, path, query):
    """Not a client's own exception (UnicodeEncodeError, InvalidURL: a traceback from `glyph get é`,
    an MCP tool's unexpected error): the value is sent %-encoded and the API refuses it, alike."""
    over_http, in_process = problems(both, "GET", path, scope="r", query=query)
    same(over_http, in_process)
    assert over_http.status in (400, 404)
