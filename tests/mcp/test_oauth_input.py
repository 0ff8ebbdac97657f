"""What a stranger can send the OAuth doors of `glyph serve`, and what comes back: redirect URIs
checked as sent (nothing unchecked reaches a Location or a CSP), any JSON shape at /register a
4xx in RFC 7591's terms, unknown authorization parameters ignored (RFC 6749 §3.1), pages that
answer pages, and the MCP prompt and resource answering a bad argument with the API's detail
while the SDK's loggers write one JSON line and nothing of the request."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from ..support.processes import read_log
from . import oauth_flow as f

pytestmark = pytest.mark.e2e

# Each of a kind the issue names: a split header, a character outside ASCII, userinfo that would
# write CSP directives, an empty fragment; and more of each kind.
BAD_REDIRECTS = [
    "http://127.0.0.1:9/cb\r\nSet-Cookie: glyph_ui=X",
    "http://127.0.0.1:9/cb\nX: y",
    "http://127.0.0.1:9/cb\x00",
    "http://127.0.0.1:9/c\tb",
    "http://127.0.0.1:9/c b",
    "http://127.0.0.1:9/€",
    "http://127.0.0.1:9/é",
    'http://127.0.0.1:9/"onload',
    "http://127.0.0.1:9/<b>",
    "http://127.0.0.1:9/a\\b",
    "http://127.0.0.1:9/a{b}|^`",
    "http://:pw;script-src *@127.0.0.1/cb",
    "http://user@127.0.0.1:9/cb",
    "http://127.0.0.1/cb#",
    "http://127.0.0.1/cb#frag",
    "http://127.0.0.1:9x/cb",
    "http://127.0.0.1:9/%zz",
    "http://[::1/cb",
    "http://127.0.0.1:9/[x]",
    "//127.0.0.1:9/cb",
    "http://127.0.0.1:9/" + "a" * 1990,  # 2,009 characters
]
GOOD_REDIRECTS = [
    "http://[::1]:9/cb",
    "http://127.0.0.1:9/cb%0D%0ASet-Cookie:%20x",  # percent-encoded bytes are URI characters
    "http://localhost:9/cb?tenant=a&x=1",
    "http://127.0.0.1:9/" + "a" * 1981,  # 2,000 characters
]


def _raw_register(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url + "/register", content=body, headers={"Content-Type": "application/json"})


def test_redirect_uris_are_checked_as_sent(served_db):
    url, home, proc, db = served_db
    for uri in BAD_REDIRECTS:
        r = _raw_register(url, json.dumps({"redirect_uris": [uri]}).encode())
        assert r.status_code == 400, (uri, r.status_code, r.text)
        assert r.json()["error"] == "invalid_redirect_uri", uri
        assert r.headers["content-type"] == "application/json"
        # error_description holds only the characters RFC 6749 §5.2 allows: no echo of the URI.
        assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in r.json()["error_description"])

    totp, used = f.owner_totp(home), set()
    for n, uri in enumerate(GOOD_REDIRECTS):
        client_id = f.register(url, redirect=uri)
        verifier, challenge = f.pkce()
        fields = f.authorize_fields(url, client_id, challenge, redirect=uri)
        page = httpx.get(url + "/authorize", params=fields)
        assert page.status_code == 200, (uri, page.text)
        csp = page.headers["content-security-policy"]
        origin = "http:" if "[" in uri else "http://" + urlsplit(uri).netloc
        assert f"form-action 'self' {origin};" in csp, (uri, csp)
        if n >= 3:
            continue  # three sign-ins fit in one TOTP step: enough
        location = f.sign_in(url, fields, f.fresh_code(totp, used)).headers["location"]
        assert location.startswith(uri + ("&" if "?" in uri else "?") + "code="), location
        # Compared by exact string: the same URI spelled another way is another URI.
        other = uri.replace("cb", "CB") if "cb" in uri else uri + "/"
        page = httpx.get(url + "/authorize", params={**fields, "redirect_uri": other})
        assert page.status_code == 400 and "location" not in page.headers


def test_a_bad_redirect_uri_already_stored_never_reaches_a_header(served_db):
    """A registration stored before these checks (or written by any other path) is checked again
    where its URI would be used: the page refuses it, so no 302 and no CSP carry it."""
    from glyphmemory.stores.sqlite import SqliteStore

    url, home, proc, db = served_db
    store = SqliteStore(db)
    totp = f.owner_totp(home)
    for n, uri in enumerate(BAD_REDIRECTS[:7] + BAD_REDIRECTS[11:15]):
        client_id = f"stored-client-{n:04d}"
        record = {"client_name": "old", "redirect_uris": [uri], "created_at": 1, "expires_at": int(time.time()) + 600}
        store.records_put_if("oauth-client", client_id, record, expected_version=0, expires_at=record["expires_at"])
        verifier, challenge = f.pkce()
        fields = f.authorize_fields(url, client_id, challenge, redirect=uri)
        page = httpx.get(url + "/authorize", params=fields)
        assert page.status_code == 400, (uri, page.status_code)
        assert (
            "pw" not in page.headers["content-security-policy"]
            and "127.0.0.1" not in page.headers["content-security-policy"]
        )
        answer = httpx.post(url + "/authorize", data={**fields, "code": totp.now()})
        assert answer.status_code == 400 and "location" not in answer.headers and "set-cookie" not in answer.headers
    store.close()
    assert httpx.get(url + "/v1/health").status_code in (200, 401)  # still serving
    assert not [line for line in read_log(proc) if '"status":500' in line or "Traceback" in line]


def test_register_answers_every_json_shape_in_rfc7591_terms(served_db):
    url, _, proc, _ = served_db
    good = {"redirect_uris": [f.CALLBACK]}
    shapes = [
        *[{**good, "grant_types": v} for v in ([["x"]], [{}], [1], [None], "authorization_code", {}, 3, None)],
        *[{**good, "response_types": v} for v in ([["code"]], [{}], "code", 1)],
        *[{**good, "token_endpoint_auth_method": v} for v in ([], {}, 1, "client_secret_basic")],
        *[{**good, "client_name": v} for v in ([], {}, 1, True, "", "x" * 101, "a\u0000b")],
        *[
            {"redirect_uris": v}
            for v in ([[f.CALLBACK]], [{}], [1], [None], f.CALLBACK, {}, [], [f"{f.CALLBACK}{i}" for i in range(11)])
        ],
        {"redirect_uris": None},
        {},
        {**good, "grant_types": ["x"] * 3000},
        {**good, "redirect_uris": [f.CALLBACK] * 400},
    ]
    for shape in shapes:
        r = _raw_register(url, json.dumps(shape).encode())
        assert r.status_code == 400, (shape, r.status_code, r.text)
        assert r.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri"), shape
    deep = "[" * 5000 + "]" * 5000
    bodies = [
        deep.encode(),
        b'{"redirect_uris": ' + deep.encode() + b"}",
        b'{"redirect_uris": ["' + f.CALLBACK.encode() + b'"], "grant_types": ' + deep.encode() + b"}",
        b'{"x": ' + b'{"a":' * 2500 + b"1" + b"}" * 2500 + b"}",
        b"[]",
        b"null",
        b"1",
        b'"s"',
        b"\xff\xfe",
        b"{",
    ]
    for body in bodies:
        r = _raw_register(url, body)
        assert r.status_code == 400, (body[:40], r.status_code, r.text)
        assert r.json()["error"] == "invalid_client_metadata"
    # Over the endpoint's body limit: 413, still in the endpoint's own terms.
    big = _raw_register(url, json.dumps({**good, "grant_types": ["authorization_code"] * 1000}).encode())
    assert big.status_code == 413 and big.json()["error"] == "invalid_client_metadata"
    # Another method: 405 with Allow, still an OAuth error object.
    other = httpx.get(url + "/register")
    assert other.status_code == 405 and other.json()["error"] == "invalid_request" and other.headers["allow"] == "POST"
    # A repeated grant is still one grant (a JSON array of the allowed strings).
    assert _raw_register(url, json.dumps({**good, "grant_types": ["refresh_token"] * 3}).encode()).status_code == 201
    assert not [line for line in read_log(proc) if '"status":500' in line]


def test_authorize_ignores_unknown_parameters(served_db):
    url, home, _, _ = served_db
    client_id = f.register(url)
    verifier, challenge = f.pkce()
    fields = f.authorize_fields(url, client_id, challenge)
    extras = {"prompt": "consent", "nonce": "", "utm_source": "mail", "max_age": "0", "ui_locales": "de"}
    page = httpx.get(url + "/authorize", params={**fields, **extras})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "test connector" in page.text
    totp, used = f.owner_totp(home), set()
    code = f.code_from(f.sign_in(url, {**fields, **extras}, f.fresh_code(totp, used)))
    assert f.exchange(url, client_id, code, verifier).status_code == 200
    # A parameter given twice stays an error (RFC 6749 §3.1), shown as a page.
    twice = httpx.get(url + "/authorize", params=[*fields.items(), ("state", "again")])
    assert twice.status_code == 400 and twice.headers["content-type"].startswith("text/html")
    assert "more than once" in twice.text


@pytest.mark.parametrize(
    "path",
    [
        "/ui?utm_source=mail",
        "/ui?utm_source=mail&fbclid=x&ns=default",
        "/ui/m/01JD0000000000000000000000?utm_campaign=x",
        "/ui/export?ref=mail",
        "/ui/link?t=x&utm_source=mail",
        "/ui/static/app.js?v=2",
    ],
)
def test_pages_ignore_unknown_query_parameters(served_db, path):
    url = served_db[0]
    r = httpx.get(url + path)
    assert r.status_code in (200, 303, 401), (path, r.status_code, r.text)
    assert not r.headers.get("content-type", "").startswith(("application/json", "application/problem+json")), path


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/ui?ns=a&ns=b", 400),
        ("GET", "/ui?q=%FF", 400),
        ("GET", "/ui/no-such-page", 404),
        ("PUT", "/ui", 405),
        ("GET", "/authorize?client_id=%FF", 400),
    ],
)
def test_pages_answer_their_refusals_as_pages(served_db, method, path, status):
    url = served_db[0]
    r = httpx.request(method, url + path)
    assert r.status_code == status, (path, r.text)
    assert r.headers["content-type"].startswith("text/html"), (path, r.headers["content-type"])
    assert "default-src 'none'" in r.headers["content-security-policy"]
    # The API itself keeps answering problem+json.
    assert httpx.get(url + "/v1/nope").headers["content-type"] == "application/problem+json"


def test_a_bad_prompt_or_resource_argument_gets_the_apis_detail_and_one_log_line(served_db):
    url, home, proc, _ = served_db
    totp, used = f.owner_totp(home), set()
    _, tokens = f.tokens(url, totp, used)
    access = tokens["access_token"]
    marker = "Bad Namespace!! secret-marker-7f3a"
    prompt = f.mcp_call(url, access, "prompts/get", {"name": "context", "arguments": {"namespace": marker}})
    resource = f.mcp_call(url, access, "resources/read", {"uri": "glyph://context/" + marker.replace(" ", "%20")})
    for r in (prompt, resource):
        assert r.status_code == 200, r.text
        error = r.json()["error"]
        assert "namespace" in error["message"] and "400" in error["message"], error
        assert error["code"] == -32602  # invalid params
    ok = f.mcp_call(url, access, "prompts/get", {"name": "context", "arguments": {"namespace": "default"}})
    assert "result" in ok.json()
    time.sleep(0.2)
    lines = read_log(proc)
    for line in lines:
        json.loads(line)  # every line of the log is one JSON object
        assert "secret-marker" not in line and "Bad Namespace" not in line
    assert len(lines) < 40


def test_the_same_answers_through_the_connector_function(dynamo_table, root_key, monkeypatch):
    """The connector function on DynamoDB (moto over HTTP): bad redirect URIs and JSON shapes at
    /register, unknown parameters at /authorize, and a page's refusal as a page."""
    from glyphmemory.tokens import mint_window_token

    from ..support.lambda_events import connector_function, make_event

    function = connector_function(monkeypatch, dynamo_table, root_key)

    def call(method, path, query="", body=None, content_type="application/json"):
        headers = {"x-glyph-public-host": "glyph.example.com", "content-type": content_type}
        result = function.handle(make_event(method, path, query, headers, body), None)
        return result["statusCode"], result["headers"], result["body"]

    for uri in (*BAD_REDIRECTS[:3], BAD_REDIRECTS[5], BAD_REDIRECTS[11], BAD_REDIRECTS[13]):
        status, headers, text = call("POST", "/register", body=json.dumps({"redirect_uris": [uri]}).encode())
        assert status == 400 and json.loads(text)["error"] == "invalid_redirect_uri", uri
    for shape in ({"redirect_uris": [f.CALLBACK], "grant_types": [["x"]]}, {"redirect_uris": [{}]}, []):
        status, _, text = call("POST", "/register", body=json.dumps(shape).encode())
        assert status == 400 and json.loads(text)["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    status, _, text = call("POST", "/register", body=b"[" * 5000 + b"]" * 5000)
    assert status == 400 and json.loads(text)["error"] == "invalid_client_metadata"
    callback = "https://claude.ai/api/mcp/auth_callback"
    status, _, text = call("POST", "/register", body=json.dumps({"redirect_uris": [callback]}).encode())
    client_id = json.loads(text)["client_id"]
    _, challenge = f.pkce()
    fields = f.authorize_fields("https://glyph.example.com", client_id, challenge, redirect=callback)
    query = urlencode({**fields, "prompt": "consent", "nonce": ""})
    status, headers, page = call("GET", "/authorize", query)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "form-action 'self' https://claude.ai;" in headers["Content-Security-Policy"]
    status, headers, _ = call("GET", "/ui", "utm_source=mail")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    status, headers, _ = call("GET", "/ui", "ns=a&ns=b")
    assert status == 400 and headers["Content-Type"].startswith("text/html")
    token = mint_window_token(root_key.kid, root_key.secret, "rw", int(time.time()) + 60)
    status, _, _ = call("GET", "/ui/link", f"t={token}&utm_source=mail")
    assert status == 200
