"""One form-body rule (params.FormBody) at every door that takes a form, each refusal in its
door's own terms: an OAuth error object at /token (RFC 6749 §5.2), a page at /authorize and the
page's forms. The form is read by the App before the route runs, so none of them sees it."""

from __future__ import annotations

import httpx
import pytest

from ..support.processes import clean_env, read_log, start_glyph_serve, stop

pytestmark = pytest.mark.e2e

FORM = "application/x-www-form-urlencoded"
# (what is wrong, body, Content-Type, words of the refusal): each kind the rule refuses, more than
# one member of each (RFC 6749 §3.1/§3.2: no parameter twice; WHATWG URL: UTF-8, raw or %-encoded).
BAD_FORMS = [
    ("a name twice", b"grant_type=refresh_token&grant_type=authorization_code", FORM, "more than once"),
    ("a name twice, once blank", b"code=123456&kid=root&code=", FORM, "more than once"),
    ("a name twice, as + and %20", b"a+b=1&a%20b=2", FORM, "more than once"),
    ("raw bytes not UTF-8", b"grant_type=\xff\xfe", FORM, "not valid UTF-8"),
    ("a value %-encoded, not UTF-8", b"grant_type=%FF", FORM, "not valid UTF-8"),
    ("a name %-encoded, not UTF-8", b"%C3%28=x", FORM, "not valid UTF-8"),
    ("plain text", b"grant_type=refresh_token", "text/plain", "send the form as " + FORM),
    ("JSON", b'{"grant_type": "refresh_token"}', "application/json", "send the form as " + FORM),
    ("no Content-Type", b"grant_type=refresh_token", None, "send the form as " + FORM),
]
PAGE_FORMS = [
    "/authorize",
    "/ui/sign-in",
    "/ui/link",
    "/ui/sign-out",
    "/ui/new",
    "/ui/m/01JD0000000000000000000000/edit",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forms")
    env = clean_env(GLYPH_HOME=str(tmp / "home"), GLYPH_STORE="sqlite:///" + str(tmp / "glyph.db").lstrip("/"))
    proc, url = start_glyph_serve(env)
    yield url, proc
    stop(proc)


def _post(url: str, path: str, body: bytes, content_type: str | None) -> httpx.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return httpx.post(url + path, content=body, headers=headers)


@pytest.mark.parametrize(("why", "body", "media", "words"), BAD_FORMS, ids=[f[0] for f in BAD_FORMS])
def test_the_token_endpoint_refuses_a_bad_form_as_an_oauth_error(served, why, body, media, words):
    url, _ = served
    r = _post(url, "/token", body, media)
    assert r.status_code == 400, (why, r.text)
    assert r.headers["content-type"] == "application/json" and r.headers["cache-control"] == "no-store"
    error = r.json()
    assert error["error"] == "invalid_request" and words in error["error_description"], (why, error)


@pytest.mark.parametrize(("why", "body", "media", "words"), BAD_FORMS, ids=[f[0] for f in BAD_FORMS])
def test_the_pages_refuse_a_bad_form_as_a_page(served, why, body, media, words):
    url, proc = served
    for path in PAGE_FORMS:
        r = _post(url, path, body, media)
        assert r.status_code == 400, (why, path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), (why, path)
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert words.replace("'", "&#39;") in r.text, (why, path)
    assert not [line for line in read_log(proc) if '"status":500' in line]


def test_a_good_form_still_reaches_its_route(served):
    url, _ = served
    # Blank values and a name nobody declared are a form's own business (the route reads what it takes).
    r = _post(url, "/token", b"grant_type=password&extra=&note=%E2%9C%93", FORM)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    signin = _post(url, "/ui/sign-in", b"kid=root&code=000000&next=", FORM)
    assert signin.status_code == 401 and signin.headers["content-type"].startswith("text/html")
