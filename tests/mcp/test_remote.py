"""The remote connector against `glyph serve`: the official SDK's client through the whole OAuth
dance, with the sign-in page filled in by headless Chromium and a real TOTP code; then each
refusal the issue names, step by step over plain HTTP."""

from __future__ import annotations

import json
import os
import shutil
import time
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from ..support.mcp_requests import sdk_session
from ..support.processes import clean_env, read_log, start_glyph_serve, stop
from . import oauth_flow as f

pytestmark = pytest.mark.e2e
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def served(tmp_path):
    home = str(tmp_path / "home")
    proc, url = start_glyph_serve(clean_env(GLYPH_HOME=home))
    yield url, home, proc
    stop(proc)


def _sign_in_with_chromium(auth_url: str, next_code, shots: str) -> str:
    """Open the authorize page, type the code, submit; return the URL the page redirected to."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(auth_url)
        assert "test connector" in page.inner_text("h1")  # the page names the client
        scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert scroll <= 0, "the sign-in page scrolls sideways on a phone"
        assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"  # styled: the CSP hash matches
        page.screenshot(path=os.path.join(shots, "authorize-390.png"))
        page.fill("#code", next_code())  # the code of this moment, as a person types it
        # The browser follows the redirect to the client's loopback callback (nothing listens
        # there): the request it makes carries the code.
        with page.expect_request(lambda r: r.url.startswith(f.CALLBACK), timeout=15_000) as callback:
            page.click("button[type=submit]")
        landed = callback.value.url
        browser.close()
    return landed


def test_sdk_client_signs_in_with_chromium_and_uses_every_tool(served, tmp_path):
    from mcp.client.auth import OAuthClientProvider, TokenStorage
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    url, home, proc = served
    totp, used = f.owner_totp(home), set()
    shots = os.environ.get("GLYPH_TEST_ARTIFACTS") or str(tmp_path)

    class Storage(TokenStorage):
        tokens = client = None

        async def get_tokens(self):
            return self.tokens

        async def set_tokens(self, tokens):
            self.tokens = tokens

        async def get_client_info(self):
            return self.client

        async def set_client_info(self, info):
            self.client = info

    storage, redirected = Storage(), {}

    async def redirect_handler(auth_url: str) -> None:
        redirected["url"] = await anyio.to_thread.run_sync(
            _sign_in_with_chromium, auth_url, lambda: f.fresh_code(totp, used, slow=True), shots
        )

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(redirected["url"]).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query["iss"][0])

    auth = OAuthClientProvider(
        server_url=url + "/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="test connector",
            redirect_uris=[f.CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )

    async def session_calls():
        async with sdk_session(url, auth=auth) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            saved = await s.call_tool("save_memory", {"text": "The user deploys on Fridays", "tags": ["ops"]})
            again = await s.call_tool("save_memory", {"text": "The user deploys on Fridays"})
            secret = await s.call_tool("save_memory", {"text": "token ghp_" + "a1B2" * 9})
            mid = saved.structured_content["memory"]["id"]
            recent = await s.call_tool("recent_memories", {"limit": 5})
            found = await s.call_tool("search_memories", {"query": "fridays"})
            got = await s.call_tool("get_memory", {"id": mid})
            edited = await s.call_tool("update_memory", {"id": mid, "text": "The user deploys on Thursdays"})
            conflict = await s.call_tool(
                "update_memory", {"id": mid, "text": secret.structured_content["memory"]["text"]}
            )
            block = await s.read_resource("glyph://context/default")
            prompt = await s.get_prompt("context", {})
            deleted = await s.call_tool("delete_memory", {"id": mid})
            gone = await s.call_tool("get_memory", {"id": mid})
            return locals()

    r = anyio.run(session_calls)
    assert r["names"] == {
        "save_memory",
        "recent_memories",
        "search_memories",
        "get_memory",
        "update_memory",
        "delete_memory",
        "search",  # ChatGPT's pair (tests/mcp/test_clients.py)
        "fetch",
    }
    assert not r["saved"].is_error and r["saved"].structured_content["duplicate"] is False
    assert r["again"].structured_content["duplicate"] is True
    assert r["again"].structured_content["memory"]["id"] == r["mid"]
    assert r["secret"].structured_content["redacted"] == ["github-token"]
    assert "ghp_" not in r["secret"].structured_content["memory"]["text"]
    assert [m["id"] for m in r["recent"].structured_content["items"]][1] == r["mid"]
    assert r["found"].structured_content["items"][0]["id"] == r["mid"]
    assert r["found"].structured_content["items"][0]["matched"] == ["fridays"]
    assert r["got"].structured_content["tags"] == ["ops"]
    assert r["edited"].structured_content["memory"]["text"] == "The user deploys on Thursdays"
    assert r["conflict"].is_error and "409" in r["conflict"].content[0].text
    assert "Thursdays" in r["block"].contents[0].text and "Thursdays" in r["prompt"].messages[0].content.text
    assert r["deleted"].structured_content == {"id": r["mid"], "deleted": True}
    assert r["gone"].is_error and "404" in r["gone"].content[0].text

    # A refresh, by the SDK's own client: its access token has run out (as it would after 24 h),
    # so it refreshes before its next request, and the old refresh token is spent.
    old = storage.tokens
    auth.context.token_expiry_time = time.time() - 1

    async def after_expiry():
        async with sdk_session(url, auth=auth) as s:
            return await s.call_tool("recent_memories", {"limit": 1})

    assert not anyio.run(after_expiry).is_error
    # The refresh token rotated. The access token is the grant's, signed with its expiry in
    # seconds: minted again within the same second it is the same bytes, so only the call above
    # (made with what the refresh returned) says it works.
    assert storage.tokens.refresh_token != old.refresh_token and storage.tokens.access_token
    spent = f.refresh(url, storage.client.client_id, old.refresh_token)
    assert spent.status_code == 400  # reused: and that revoked the grant
    # Nothing secret in the server's log: no code, token or TOTP code.
    log = "\n".join(read_log(proc))
    codes = [u.split(":")[1] for u in used]
    for secret in (old.access_token, old.refresh_token, storage.tokens.access_token, *codes):
        assert secret not in log


def test_metadata_and_the_unauthenticated_answers(served):
    url, _, _ = served
    resource = httpx.get(url + "/.well-known/oauth-protected-resource/mcp").json()
    assert resource["resource"] == url + "/mcp" and resource["authorization_servers"] == [url]
    assert httpx.get(url + "/.well-known/oauth-protected-resource").json() == resource
    server = httpx.get(url + "/.well-known/oauth-authorization-server").json()
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["client_id_metadata_document_supported"] is True
    assert "none" in server["token_endpoint_auth_methods_supported"]
    assert server["registration_endpoint"] == url + "/register"
    r = f.mcp_call(url, None)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == f'Bearer resource_metadata="{url}/.well-known/oauth-protected-resource/mcp"'
    started = time.monotonic()  # GET and DELETE: 401 first (a 405 with a token), at once, never a hanging stream
    assert httpx.get(url + "/mcp", timeout=5).status_code == 401
    assert httpx.delete(url + "/mcp", timeout=5).status_code == 401
    assert time.monotonic() - started < 2


def test_every_refusal(served):
    url, home, _ = served
    totp, used = f.owner_totp(home), set()
    client_id = f.register(url)

    # A redirect URI that is not claude.ai's, claude.com's or loopback cannot even register.
    r = httpx.post(url + "/register", json={"redirect_uris": ["https://evil.example/cb"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_redirect_uri"
    # A registered client asking for another redirect URI gets the error page, not a redirect.
    verifier, challenge = f.pkce()
    fields = f.authorize_fields(url, client_id, challenge)
    page = httpx.get(url + "/authorize", params={**fields, "redirect_uri": "http://127.0.0.1:9/other"})
    assert page.status_code == 400 and "cannot be used" in page.text
    # PKCE is S256 only.
    page = httpx.get(url + "/authorize", params={**fields, "code_challenge_method": "plain"})
    assert page.status_code == 400

    # A wrong code, then a replayed one: the page again, no redirect.
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    r = f.sign_in(url, fields, wrong)
    assert r.status_code == 401 and "location" not in r.headers
    good = f.fresh_code(totp, used)
    code = f.code_from(f.sign_in(url, fields, good))
    replay = f.sign_in(url, fields, good)
    assert replay.status_code == 401 and "location" not in replay.headers

    # PKCE mismatch; then the code is spent (it was deleted at the first redemption).
    r = f.exchange(url, client_id, code, f.pkce()[0])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert f.exchange(url, client_id, code, verifier).json()["error"] == "invalid_grant"

    # A wrong redirect URI at the token endpoint.
    code = f.code_from(f.sign_in(url, fields, f.fresh_code(totp, used)))
    r = f.exchange(url, client_id, code, verifier, redirect="http://127.0.0.1:9/other")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"

    # A good exchange; reusing its code is refused.
    code = f.code_from(f.sign_in(url, fields, f.fresh_code(totp, used)))
    tokens = f.exchange(url, client_id, code, verifier).json()
    assert f.exchange(url, client_id, code, verifier).json()["error"] == "invalid_grant"
    assert f.mcp_call(url, tokens["access_token"]).status_code == 200

    # A token for another resource, a forged one and an expired one: 401 with the challenge.
    kind, grant, exp, sig = tokens["access_token"].split(".")
    for bad in (f"{kind}.{grant}.{int(exp) - 86_401}.{sig}", tokens["access_token"][:-2] + "AA", "a1.x.1.y"):
        r = f.mcp_call(url, bad)
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]

    # Refresh rotates; presenting the old refresh token again revokes the whole grant.
    first = f.refresh(url, client_id, tokens["refresh_token"]).json()
    reused = f.refresh(url, client_id, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert f.mcp_call(url, first["access_token"]).status_code == 401
    assert f.refresh(url, client_id, first["refresh_token"]).status_code == 400


def test_an_expired_access_token_is_refused(tmp_path):
    """Tokens are checked against their own expiry: a server whose clock is a day ahead refuses."""
    from glyphmemory.oauth import ACCESS_TTL_S, OAuth, OAuthError
    from glyphmemory.stores.sqlite import SqliteStore

    store = SqliteStore(str(tmp_path / "g.db"))
    oauth = OAuth(store, b"k" * 32)
    oauth.store.records_put_if("oauth-grant", "g" * 22, {"resource": "r", "expires_at": 2**40}, expected_version=0)
    token = oauth._seal("access", "g" * 22, str(int(time.time()) - 1), "r")
    with pytest.raises(OAuthError, match="expired"):
        oauth.verify_access(token, "r")
    assert ACCESS_TTL_S == 86_400


def test_glyph_connectors_lists_and_revokes_grants(served):
    from ..e2e.test_glyph_serve import glyph

    url, home, _ = served
    totp, used = f.owner_totp(home), set()
    client_id, tokens = f.tokens(url, totp, used)
    env = clean_env(GLYPH_HOME=home, GLYPH_URL=url)
    listed = json.loads(glyph(env, "connectors", "list", "--json").stdout)["items"]
    assert [(g["client_id"], g["client_name"], g["resource"]) for g in listed] == [
        (client_id, "test connector", url + "/mcp")
    ]
    assert "test connector" in glyph(env, "connectors", "list").stdout
    glyph(env, "connectors", "revoke", listed[0]["id"])
    assert json.loads(glyph(env, "connectors", "list", "--json").stdout)["items"] == []
    assert f.mcp_call(url, tokens["access_token"]).status_code == 401
    assert f.refresh(url, client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    missing = glyph(env, "connectors", "revoke", listed[0]["id"], check=False)
    assert missing.returncode == 1 and "no connector grant" in missing.stderr


def test_client_id_metadata_documents_from_trusted_hosts_only(tmp_path):
    """claude.ai names itself by a URL (CIMD): the document is fetched over verified HTTPS, only
    from claude.ai, claude.com and GLYPH_OAUTH_CIMD_HOSTS, and must name itself."""
    from ..support.stand_in_hosts import StandInHosts

    hosts = StandInHosts(("127.0.0.1",), tmp_path)
    host = f"127.0.0.1:{hosts.port}"
    good = f"https://{host}/client.json"
    hosts.publish(good, {"client_id": good, "client_name": "Metadata client", "redirect_uris": [f.CALLBACK]})
    hosts.publish(f"https://{host}/liar.json", {"client_id": "https://elsewhere/x", "redirect_uris": [f.CALLBACK]})
    home = str(tmp_path / "home")
    env = clean_env(GLYPH_HOME=home, GLYPH_OAUTH_CIMD_HOSTS=host, SSL_CERT_FILE=str(hosts.ca_file))
    proc, url = start_glyph_serve(env)
    try:
        totp, used = f.owner_totp(home), set()
        verifier, challenge = f.pkce()
        fields = f.authorize_fields(url, good, challenge)
        page = httpx.get(url + "/authorize", params=fields)
        assert page.status_code == 200 and "Metadata client" in page.text
        code = f.code_from(f.sign_in(url, fields, f.fresh_code(totp, used)))
        assert f.exchange(url, good, code, verifier).status_code == 200
        liar = httpx.get(url + "/authorize", params={**fields, "client_id": f"https://{host}/liar.json"})
        assert liar.status_code == 401 and "name itself" in liar.text
        untrusted = httpx.get(url + "/authorize", params={**fields, "client_id": "https://example.org/client.json"})
        assert untrusted.status_code == 401 and "trusted hosts" in untrusted.text
    finally:
        stop(proc)
        hosts.close()
