"""Each assistant's registration and the answers ChatGPT relies on, against `glyph serve`: the
exact redirect URIs of VS Code, Cursor and ChatGPT registered in one call (refused ones dropped,
not the registration), loopback on any port at /authorize, one issuer named everywhere with `iss`
returned (RFC 9207), no `scope` needed, and 401 before 405 on every method of /mcp."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ..support.processes import clean_env, start_glyph_serve, stop
from . import oauth_flow as f

pytestmark = pytest.mark.e2e

VSCODE_OLDER = [
    "https://insiders.vscode.dev/redirect",
    "https://vscode.dev/redirect",
    "http://127.0.0.1/",
    "http://127.0.0.1:33418/",
    "http://localhost/",
    "http://localhost:33418/",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = str(tmp_path_factory.mktemp("clients") / "home")
    proc, url = start_glyph_serve(clean_env(GLYPH_HOME=home))
    # One source of codes for the module: each is single use, so every test takes them from it.
    yield url, f.Codes(url, home), home
    stop(proc)


def _register(url: str, uris: list[str], **more) -> httpx.Response:
    return httpx.post(url + "/register", json={"redirect_uris": uris, "client_name": "Visual Studio Code", **more})


def test_a_registration_keeps_the_uris_it_may_use_and_says_which_it_dropped(served):
    url, _, _ = served
    r = _register(url, VSCODE_OLDER)  # older VS Code: six in one registration, no scope
    assert r.status_code == 201, r.text
    assert r.json()["redirect_uris"] == VSCODE_OLDER and "dropped_redirect_uris" not in r.json()

    r = _register(
        url, ["cursor://anysphere.cursor-mcp/oauth/callback", "https://evil.example/cb", "http://127.0.0.1:7/cb"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["redirect_uris"] == ["cursor://anysphere.cursor-mcp/oauth/callback", "http://127.0.0.1:7/cb"]
    assert r.json()["dropped_redirect_uris"] == ["https://evil.example/cb"]

    none_left = _register(url, ["https://evil.example/cb", "https://chatgpt.com/connector/oauth/a/b"])
    assert none_left.status_code == 400 and none_left.json()["error"] == "invalid_redirect_uri"
    assert "evil.example" in none_left.json()["error_description"]
    eleven = _register(url, [f"http://127.0.0.1:{port}/" for port in range(1000, 1011)])
    assert eleven.status_code == 400 and "1 to 10" in eleven.json()["error_description"]


def test_loopback_matches_on_any_port_and_other_uris_exactly(served):
    url, codes, home = served
    client_id = _register(url, VSCODE_OLDER).json()["client_id"]
    verifier, challenge = f.pkce()
    fields = f.authorize_fields(url, client_id, challenge, redirect="http://127.0.0.1:50123/")
    fields.pop("resource")  # and no scope: ChatGPT reconnects with neither
    assert httpx.get(url + "/authorize", params=fields).status_code == 200
    answer = f.sign_in(url, fields, codes.next())
    assert answer.status_code == 302 and answer.headers["location"].startswith("http://127.0.0.1:50123/?code=")
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = f.exchange(url, client_id, code, verifier, redirect="http://127.0.0.1:50123/")
    assert tokens.status_code == 200, tokens.text
    for refused in (
        "http://127.0.0.1:50123/other",  # another path
        "http://[::1]:50123/",  # another loopback host than registered
        "https://vscode.dev:8443/redirect",  # a port is ignored for loopback only
        "https://vscode.dev/redirect?x=1",
    ):
        page = httpx.get(url + "/authorize", params={**fields, "redirect_uri": refused})
        assert page.status_code == 400 and "cannot be used" in page.text, refused
    page = httpx.get(url + "/authorize", params={**fields, "redirect_uri": "https://vscode.dev/redirect"})
    assert page.status_code == 200


def test_one_issuer_everywhere_and_iss_in_the_redirect(served):
    url, codes, home = served
    resource = httpx.get(url + "/.well-known/oauth-protected-resource/mcp").json()
    server = httpx.get(url + "/.well-known/oauth-authorization-server").json()
    assert resource["authorization_servers"] == [server["issuer"]] == [url]
    assert server["authorization_response_iss_parameter_supported"] is True
    client_id = f.register(url)
    _, challenge = f.pkce()
    answer = f.sign_in(url, f.authorize_fields(url, client_id, challenge), codes.next())
    assert answer.status_code == 302, answer.text
    assert parse_qs(urlsplit(answer.headers["location"]).query)["iss"] == [server["issuer"]]


def _expired(home: str, tokens: dict, url: str) -> str:
    """The same grant's access token as the server would have signed it a day ago."""
    import os
    import time

    from glyphmemory.keys import SUBKEY_OAUTH, derive_subkey, load_key_file
    from glyphmemory.oauth import OAuth

    secret = load_key_file(os.path.join(home, "key.json")).secret
    grant = tokens["access_token"].split(".")[1]
    return OAuth(None, derive_subkey(secret, SUBKEY_OAUTH))._seal(
        "access", grant, str(int(time.time()) - 60), url + "/mcp"
    )


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"])
def test_every_method_of_mcp_asks_for_a_token_first(served, method):
    url, codes, home = served
    challenge = f'Bearer resource_metadata="{url}/.well-known/oauth-protected-resource/mcp"'
    stream = {"Accept": "text/event-stream", "User-Agent": "openai-mcp/1.0.0"}
    missing = httpx.request(method, url + "/mcp", headers=stream, timeout=5)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == challenge
    if method != "HEAD":  # HEAD: the same head, no body
        assert missing.json()["status"] == 401 and "sign in" in missing.json()["detail"]


def test_an_expired_token_on_get_is_a_401_and_a_valid_one_a_405(served):
    url, codes, home = served
    _, tokens = f.tokens(url, codes)
    stream = {"Accept": "text/event-stream", "User-Agent": "openai-mcp/1.0.0"}
    expired = httpx.get(url + "/mcp", headers={**stream, "Authorization": f"Bearer {_expired(home, tokens, url)}"})
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert "expired" in expired.headers["www-authenticate"]
    assert 'resource_metadata="' in expired.headers["www-authenticate"]
    # Allow names what the endpoint takes: POST alone (not the methods that answer this 405).
    for method in ("GET", "DELETE", "HEAD", "OPTIONS"):
        valid = httpx.request(
            method, url + "/mcp", headers={**stream, "Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert valid.status_code == 405 and valid.headers["allow"] == "POST"


def _tool(url: str, token: str, name: str, arguments: dict) -> dict:
    r = f.mcp_call(url, token, "tools/call", {"name": name, "arguments": arguments})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_chatgpts_search_and_fetch_shapes_field_by_field(served):
    import json

    url, codes, home = served
    _, tokens = f.tokens(url, codes)
    token = tokens["access_token"]
    long_line = "The team picked Postgres for billing" + " because of row locks" * 6
    first = _tool(url, token, "save_memory", {"text": long_line + "\nSecond line with details.", "tags": ["db"]})
    second = _tool(url, token, "save_memory", {"text": "Postgres backups run nightly"})
    ids = [first["structuredContent"]["memory"]["id"], second["structuredContent"]["memory"]["id"]]

    found = _tool(url, token, "search", {"query": "postgres"})
    assert found.get("isError") is not True
    assert len(found["content"]) == 1 and found["content"][0]["type"] == "text"
    results = json.loads(found["content"][0]["text"])
    assert results == found["structuredContent"]
    assert list(results) == ["results"] and sorted(r["id"] for r in results["results"]) == sorted(ids)
    for hit in results["results"]:
        assert list(hit) == ["id", "title", "url"]
        assert hit["url"] == f"{url}/ui/m/{hit['id']}"  # absolute, on this server
    titles = {r["id"]: r["title"] for r in results["results"]}
    assert titles[ids[1]] == "Postgres backups run nightly"
    assert titles[ids[0]].startswith("The team picked Postgres") and len(titles[ids[0]]) <= 80
    assert titles[ids[0]].endswith("…") and "Second line" not in titles[ids[0]]
    assert _tool(url, token, "search", {"query": "nothing-like-this"})["structuredContent"] == {"results": []}

    fetched = _tool(url, token, "fetch", {"id": ids[0]})
    assert len(fetched["content"]) == 1 and fetched["content"][0]["type"] == "text"
    document = json.loads(fetched["content"][0]["text"])
    assert document == fetched["structuredContent"]
    assert list(document) == ["id", "title", "text", "url", "metadata"]
    assert document["id"] == ids[0] and document["title"] == titles[ids[0]]
    assert document["text"] == long_line + "\nSecond line with details."
    assert document["url"] == f"{url}/ui/m/{ids[0]}"
    assert document["metadata"]["namespace"] == "default" and document["metadata"]["tags"] == ["db"]
    assert document["metadata"]["source"] == "mcp" and document["metadata"]["created_at"].endswith("Z")
    missing = _tool(url, token, "fetch", {"id": "0" * 26})
    assert missing["isError"] is True and "404" in missing["content"][0]["text"]

    # The URL answers the memory's page to the signed-in owner, and sends anyone else to sign in,
    # then back to that memory (a cited link lands where it points).
    path = f"/ui/m/{ids[0]}"
    anonymous = httpx.get(url + path)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/ui?next=%2Fui%2Fm%2F{ids[0]}"
    form = httpx.get(url + anonymous.headers["location"])
    assert form.status_code == 200 and f'name="next" value="{path}"' in form.text
    with httpx.Client(timeout=30) as browser:
        kid, code = codes.next()
        wrong = browser.post(url + "/ui/sign-in", data={"kid": kid, "code": "000000", "next": path})
        assert wrong.status_code == 401 and f'name="next" value="{path}"' in wrong.text  # kept for the retry
        signed = browser.post(url + "/ui/sign-in", data={"kid": kid, "code": code, "next": path})
        assert signed.status_code == 303 and signed.headers["location"] == path
        shown = browser.get(url + path)
        assert shown.status_code == 200 and "Second line with details." in shown.text
    # Anywhere else is not a place a sign-in leads: the list instead (no open redirect).
    for elsewhere in ("https://evil.example/", "//evil.example/ui/m/" + ids[0], "/ui/export", path + "/delete"):
        assert f'value="{elsewhere}"' not in httpx.get(url + "/ui", params={"next": elsewhere}).text
        with httpx.Client(timeout=30) as browser:
            kid, code = codes.next()
            signed = browser.post(url + "/ui/sign-in", data={"kid": kid, "code": code, "next": elsewhere})
            assert signed.status_code == 303 and signed.headers["location"] == "/ui", elsewhere


def test_every_tool_carries_its_hints(served):
    url, codes, home = served
    _, tokens = f.tokens(url, codes)
    tools = {t["name"]: t for t in f.mcp_call(url, tokens["access_token"]).json()["result"]["tools"]}
    read_only = {"search", "fetch", "recent_memories", "search_memories", "get_memory"}
    assert set(tools) == read_only | {"save_memory", "update_memory", "delete_memory"}
    for name, t in tools.items():
        hints = t["annotations"]
        assert hints["readOnlyHint"] is (name in read_only), name
        assert hints["destructiveHint"] is (name in {"update_memory", "delete_memory"}), name
        assert hints["openWorldHint"] is False, name
        assert t["title"] and t["description"] and t["outputSchema"]["type"] == "object"
    assert list(tools["search"]["inputSchema"]["properties"]) == ["query"]
    assert list(tools["fetch"]["inputSchema"]["properties"]) == ["id"]
