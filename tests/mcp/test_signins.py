"""ChatGPT, Codex, VS Code and Cursor sign in to `glyph serve` end to end, each with its own
documented redirect URIs and client ID metadata documents (REFERENCES.md "Other assistants"),
then call `search` and `fetch` through the official SDK's client with the token they got.

chatgpt.com and vscode.dev are played by a local TLS server (tests/support/stand_in_hosts.py):
the server fetches their documents by their real URLs and trusts them through its table."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from ..support.mcp_requests import sdk_session
from ..support.processes import clean_env, start_glyph_serve, stop
from ..support.stand_in_hosts import StandInHosts
from . import oauth_flow as f

pytestmark = pytest.mark.e2e

CHATGPT_CIMD = "https://chatgpt.com/oauth/client.json"
CHATGPT_CONNECTOR_CIMD = "https://chatgpt.com/oauth/OUbdUMlL15Ct/client.json"
CODEX_CIMD = "https://chatgpt.com/oauth/codex/client.json"
VSCODE_CIMD = "https://vscode.dev/oauth/client-metadata.json"
CHATGPT_REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect"
CHATGPT_CONNECTOR_REDIRECT = "https://chatgpt.com/connector/oauth/OUbdUMlL15Ct"
VSCODE_REDIRECTS = [
    "https://insiders.vscode.dev/redirect",
    "https://vscode.dev/redirect",
    "http://127.0.0.1/",
    "http://127.0.0.1:33418/",
]
CURSOR_REDIRECT = "cursor://anysphere.cursor-mcp/oauth/callback"


def _chatgpt_document(client_id: str, redirects: list[str], **more) -> dict:
    """As chatgpt.com serves it: private_key_jwt beside none, and a jwks_uri."""
    return {
        "client_id": client_id,
        "client_name": "ChatGPT",
        "redirect_uris": redirects,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "jwks_uri": "https://chatgpt.com/oauth/jwks.json",
        **more,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signins")
    hosts = StandInHosts(("chatgpt.com", "vscode.dev"), folder)
    hosts.publish(CHATGPT_CIMD, _chatgpt_document(CHATGPT_CIMD, [CHATGPT_REDIRECT]))
    hosts.publish(
        CHATGPT_CONNECTOR_CIMD,
        _chatgpt_document(
            CHATGPT_CONNECTOR_CIMD,
            [CHATGPT_CONNECTOR_REDIRECT, "https://evil.example/cb"],  # the table keeps only the first
            token_endpoint_auth_method="private_key_jwt",
        ),
    )
    hosts.publish(
        CODEX_CIMD,
        {"client_id": CODEX_CIMD, "client_name": "Codex", "redirect_uris": ["http://127.0.0.1:1455/callback"]},
    )
    hosts.publish(
        VSCODE_CIMD,
        {
            "client_id": VSCODE_CIMD,
            "client_name": "Visual Studio Code",
            "redirect_uris": VSCODE_REDIRECTS,
            "token_endpoint_auth_method": "none",
        },
    )
    home = str(folder / "home")
    env = clean_env(GLYPH_HOME=home, **hosts.env())
    proc, url = start_glyph_serve(env)
    state = {"url": url, "home": home, "env": env, "proc": proc, "hosts": hosts, "codes": f.Codes(url, home)}
    yield state
    stop(state["proc"])
    hosts.close()


def _sign_in(world, client_id: str, redirect: str, *, client_name: str) -> dict:
    """The authorization code flow as the client runs it: the page, the owner's code, the
    redirect (code, state, iss), the token request. No scope and no resource, as ChatGPT sends."""
    url = world["url"]
    verifier, challenge = f.pkce()
    fields = f.authorize_fields(url, client_id, challenge, redirect=redirect)
    del fields["resource"]
    page = httpx.get(url + "/authorize", params=fields)
    assert page.status_code == 200, page.text
    assert client_name in page.text
    kid, code = world["codes"].next()
    answer = httpx.post(url + "/authorize", data={**fields, "kid": kid, "code": code})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect + "?")  # exactly the redirect URI asked for
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [fields["state"]] and query["iss"] == [url]
    tokens = f.exchange(url, client_id, query["code"][0], verifier, redirect=redirect)
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def _search_and_fetch(url: str, access_token: str, text: str) -> tuple:
    """save_memory, then search and fetch as ChatGPT calls them, through the SDK's client."""

    async def calls():
        async with sdk_session(url, headers={"Authorization": f"Bearer {access_token}"}) as s:
            saved = await s.call_tool("save_memory", {"text": text})
            found = await s.call_tool("search", {"query": text.split()[-1]})
            first = found.structured_content["results"][0]
            fetched = await s.call_tool("fetch", {"id": first["id"]})
            return saved, found, fetched

    return anyio.run(calls)


def _assert_chatgpt_shapes(url: str, saved, found, fetched, text: str) -> None:
    mid = saved.structured_content["memory"]["id"]
    assert not found.is_error and len(found.content) == 1 and found.content[0].type == "text"
    assert json.loads(found.content[0].text) == found.structured_content
    assert found.structured_content["results"][0] == {"id": mid, "title": text, "url": f"{url}/ui/m/{mid}"}
    assert not fetched.is_error and len(fetched.content) == 1
    document = json.loads(fetched.content[0].text)
    assert document == fetched.structured_content
    assert {k: document[k] for k in ("id", "title", "text", "url")} == {
        "id": mid,
        "title": text,
        "text": text,
        "url": f"{url}/ui/m/{mid}",
    }
    assert document["metadata"]["namespace"] == "default" and document["metadata"]["source"] == "mcp"


def test_chatgpt_signs_in_with_its_stable_document_and_redirect(world):
    tokens = _sign_in(world, CHATGPT_CIMD, CHATGPT_REDIRECT, client_name="ChatGPT")
    text = "ChatGPT reads the release checklist"
    _assert_chatgpt_shapes(world["url"], *_search_and_fetch(world["url"], tokens["access_token"], text), text)


def test_chatgpt_per_connector_document_declaring_private_key_jwt(world):
    url = world["url"]
    tokens = _sign_in(world, CHATGPT_CONNECTOR_CIMD, CHATGPT_CONNECTOR_REDIRECT, client_name="ChatGPT")
    text = "ChatGPT connector remembers the deploy window rotation"
    _assert_chatgpt_shapes(url, *_search_and_fetch(url, tokens["access_token"], text), text)
    # The document listed a URI the table does not allow for ChatGPT: it is never redirected to.
    _, challenge = f.pkce()
    fields = f.authorize_fields(url, CHATGPT_CONNECTOR_CIMD, challenge, redirect="https://evil.example/cb")
    assert httpx.get(url + "/authorize", params=fields).status_code == 400


def test_codex_signs_in_on_a_loopback_port_of_its_choosing(world):
    url = world["url"]
    tokens = _sign_in(world, CODEX_CIMD, "http://127.0.0.1:43117/callback", client_name="Codex")
    text = "Codex runs the migrations with alembic"
    _assert_chatgpt_shapes(url, *_search_and_fetch(url, tokens["access_token"], text), text)
    # Codex's row allows loopback only: ChatGPT's redirect is not Codex's.
    _, challenge = f.pkce()
    fields = f.authorize_fields(url, CODEX_CIMD, challenge, redirect=CHATGPT_REDIRECT)
    assert httpx.get(url + "/authorize", params=fields).status_code == 400


def test_vscode_signs_in_by_registration_and_by_its_document(world):
    url = world["url"]
    r = httpx.post(url + "/register", json={"client_name": "Visual Studio Code", "redirect_uris": VSCODE_REDIRECTS})
    assert r.status_code == 201 and r.json()["redirect_uris"] == VSCODE_REDIRECTS
    registered = r.json()["client_id"]
    tokens = _sign_in(world, registered, "http://127.0.0.1:50231/", client_name="Visual Studio Code")
    text = "VS Code keeps the lint rules strict"
    _assert_chatgpt_shapes(url, *_search_and_fetch(url, tokens["access_token"], text), text)
    tokens = _sign_in(world, VSCODE_CIMD, "https://vscode.dev/redirect", client_name="Visual Studio Code")
    text = "VS Code web signs in through its document"
    _assert_chatgpt_shapes(url, *_search_and_fetch(url, tokens["access_token"], text), text)


def test_cursor_signs_in_with_its_custom_scheme_beside_loopback(world):
    url = world["url"]
    uris = [CURSOR_REDIRECT, "http://localhost:51234/callback"]
    r = httpx.post(url + "/register", json={"client_name": "Cursor", "redirect_uris": uris})
    assert r.status_code == 201 and r.json()["redirect_uris"] == uris
    tokens = _sign_in(world, r.json()["client_id"], CURSOR_REDIRECT, client_name="Cursor")
    text = "Cursor users prefer tabs in Makefiles"
    _assert_chatgpt_shapes(url, *_search_and_fetch(url, tokens["access_token"], text), text)


def test_a_stored_copy_serves_while_chatgpt_com_is_down(world):
    """chatgpt.com answered 404 for 30 minutes once: a document fetched earlier (and at most a
    day old) still signs ChatGPT in, even after the server restarted (a new Lambda instance)."""
    hosts, url = world["hosts"], world["url"]
    _sign_in(world, CHATGPT_CIMD, CHATGPT_REDIRECT, client_name="ChatGPT")  # fetched and stored
    stop(world["proc"])
    world["proc"], world["url"] = start_glyph_serve(world["env"], int(urlsplit(url).port))
    world["codes"].url = world["url"]
    hosts.down = True
    try:
        before = len(hosts.fetched)
        _sign_in(world, CHATGPT_CIMD, CHATGPT_REDIRECT, client_name="ChatGPT")
        assert len(hosts.fetched) > before  # it did try the host first
        never_fetched = "https://chatgpt.com/oauth/Zz9FreshOne/client.json"
        _, challenge = f.pkce()
        fields = f.authorize_fields(url, never_fetched, challenge, redirect=CHATGPT_REDIRECT)
        page = httpx.get(url + "/authorize", params=fields)
        assert page.status_code == 401 and "could not be read" in page.text
    finally:
        hosts.down = False


def test_a_confidential_client_document_is_refused(world):
    hosts, url = world["hosts"], world["url"]
    secret = "client_secret_basic"
    refused_id, turning_id = (
        "https://chatgpt.com/oauth/Secret42/client.json",
        "https://chatgpt.com/oauth/Turns7/client.json",
    )
    hosts.publish(refused_id, _chatgpt_document(refused_id, [CHATGPT_REDIRECT], token_endpoint_auth_method=secret))
    _, challenge = f.pkce()
    fields = f.authorize_fields(url, refused_id, challenge, CHATGPT_REDIRECT)
    refused = httpx.get(url + "/authorize", params=fields)
    assert refused.status_code == 401 and "only public clients" in refused.text
    # A document that turns confidential is refused even though a public copy of it was kept.
    hosts.publish(turning_id, _chatgpt_document(turning_id, [CHATGPT_REDIRECT]))
    fields["client_id"] = turning_id
    assert httpx.get(url + "/authorize", params=fields).status_code == 200
    hosts.publish(turning_id, _chatgpt_document(turning_id, [CHATGPT_REDIRECT], token_endpoint_auth_method=secret))
    stop(world["proc"])  # its in-memory copy would serve 5 minutes: a new process fetches again
    world["proc"], world["url"] = start_glyph_serve(world["env"], int(urlsplit(url).port))
    page = httpx.get(url + "/authorize", params=fields)
    assert page.status_code == 401 and "only public clients" in page.text


def test_a_stored_copy_older_than_a_day_is_not_used(tmp_path, monkeypatch):
    """The kept copy serves only while it is at most CIMD_STALE_S old (a real SQLite store; the
    document's host refuses connections)."""
    import time

    from glyphmemory import oauth
    from glyphmemory.stores.sqlite import SqliteStore

    monkeypatch.setenv("GLYPH_OAUTH_CIMD_HOSTS", "127.0.0.1:1")  # nothing listens on port 1
    url = "https://127.0.0.1:1/client.json"
    store = SqliteStore(str(tmp_path / "g.db"))
    from glyphmemory.oauth_clients import table
    from glyphmemory.settings import Settings

    server = oauth.OAuth(store, b"k" * 32, clients=table(Settings.load()))
    client = {"client_name": "Kept", "redirect_uris": [f.CALLBACK]}
    for age, served in ((oauth.CIMD_STALE_S - 60, True), (oauth.CIMD_STALE_S + 60, False)):
        oauth._cimd_cache.clear()
        name = oauth._hash(url)
        version = store.records_get(oauth.CIMD, name)[1]
        record = {"url": url, "client": client, "fetched_at": int(time.time()) - age}
        assert store.records_put_if(oauth.CIMD, name, record, expected_version=version)
        if served:
            assert server.client(url) == client
        else:
            with pytest.raises(oauth.OAuthError, match="could not be read"):
                server.client(url)
