"""The trusted-client table: which redirect URIs and metadata documents each client may use,
with each client's documented URIs (REFERENCES.md "Other assistants") and their near misses."""

from __future__ import annotations

import pytest

from glyphmemory.oauth_clients import cimd_row, redirect_allowed, redirect_matches, split_redirects, table
from glyphmemory.settings import Settings

VSCODE = [
    "https://insiders.vscode.dev/redirect",
    "https://vscode.dev/redirect",
    "http://127.0.0.1/",
    "http://127.0.0.1:33418/",
]
VSCODE_OLDER = [*VSCODE, "http://localhost/", "http://localhost:33418/"]
CURSOR = ["cursor://anysphere.cursor-mcp/oauth/callback", "http://localhost:51234/callback"]
CHATGPT = ["https://chatgpt.com/connector_platform_oauth_redirect", "https://chatgpt.com/connector/oauth/OUbdUMlL15Ct"]
CLAUDE = ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"]


@pytest.mark.parametrize("uris", [VSCODE, VSCODE_OLDER, CURSOR, CHATGPT, CLAUDE, ["http://127.0.0.1:1455/callback"]])
def test_every_documented_redirect_registers(uris):
    assert split_redirects(uris) == (uris, [])


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/cb",
        "https://chatgpt.com/connector/oauth/a/b",  # {id} is one segment
        "https://chatgpt.com/connector/oauth/",  # ... and not empty
        "https://chatgpt.com/connector/oauth/x?y=1",
        "https://chatgpt.com.evil.example/connector_platform_oauth_redirect",  # never a wildcard host
        "https://evil.chatgpt.com/connector_platform_oauth_redirect",
        "http://chatgpt.com/connector_platform_oauth_redirect",  # not https
        "https://vscode.dev/redirect/",
        "cursor://anysphere.cursor-mcp/oauth/callback/x",
        "https://127.0.0.1/cb",  # loopback is http
        "http://127.0.0.2/cb",
        "http://user@127.0.0.1/cb",
        "http://127.0.0.1:99999/cb",
        "http://127.0.0.1/cb#frag",
    ],
)
def test_near_misses_are_dropped_and_the_rest_kept(uri):
    assert not redirect_allowed(uri)
    assert split_redirects([CHATGPT[0], uri, CHATGPT[1]]) == (CHATGPT, [uri])


def test_each_metadata_document_has_its_row():
    assert cimd_row("https://chatgpt.com/oauth/client.json").name == "ChatGPT"
    assert cimd_row("https://chatgpt.com/oauth/OUbdUMlL15Ct/client.json").name == "ChatGPT"
    assert cimd_row("https://chatgpt.com/oauth/codex/client.json").name == "Codex"
    assert cimd_row("https://vscode.dev/oauth/client-metadata.json").name == "VS Code"
    assert cimd_row("https://claude.ai/oauth/mcp-oauth-client-metadata").name == "Claude"
    for url in (
        "https://chatgpt.com/other.json",  # chatgpt.com is trusted for its two documents only
        "https://chatgpt.com/oauth/a/b/client.json",
        "https://vscode.dev/evil.json",
        "https://example.org/client.json",
        "https://claude.ai/",
        "https://claude.ai/x?y=1",
        "http://claude.ai/client.json",
        "https://user@claude.ai/client.json",
    ):
        assert cimd_row(url) is None, url


def test_a_row_allows_its_own_redirects_only():
    chatgpt, codex = (
        cimd_row("https://chatgpt.com/oauth/client.json"),
        cimd_row("https://chatgpt.com/oauth/codex/client.json"),
    )
    assert redirect_allowed(CHATGPT[1], chatgpt) and not redirect_allowed("http://127.0.0.1:9/callback", chatgpt)
    assert redirect_allowed("http://127.0.0.1:1455/callback", codex) and not redirect_allowed(CHATGPT[0], codex)
    vscode = cimd_row("https://vscode.dev/oauth/client-metadata.json")
    assert split_redirects(VSCODE_OLDER + CHATGPT, vscode) == (VSCODE_OLDER, CHATGPT)


def test_the_owners_additions(monkeypatch):
    monkeypatch.setenv("GLYPH_OAUTH_REDIRECTS", " https://mine.example/cb ,https://other.example/x")
    monkeypatch.setenv("GLYPH_OAUTH_CIMD_HOSTS", "id.mine.example")
    clients = table(Settings.load())  # as the App builds it, from the settings its door read
    assert redirect_allowed("https://mine.example/cb", None, clients)
    assert redirect_allowed("https://other.example/x", None, clients)
    assert not redirect_allowed("https://mine.example/cb2", None, clients)
    row = cimd_row("https://id.mine.example/client.json", clients)
    assert row is not None and redirect_allowed("https://mine.example/cb", row, clients)
    assert redirect_allowed(CLAUDE[0], row, clients)
    assert cimd_row("https://mine.example/client.json", clients) is None
    assert not redirect_allowed("https://mine.example/cb") and cimd_row("https://id.mine.example/client.json") is None


def test_loopback_redirects_match_whatever_their_port():
    assert redirect_matches("http://127.0.0.1/", "http://127.0.0.1:50123/")
    assert redirect_matches("http://127.0.0.1:33418/", "http://127.0.0.1:50123/")
    assert redirect_matches("http://127.0.0.1:9/callback", "http://127.0.0.1:1455/callback")
    assert redirect_matches("http://[::1]/cb", "http://[::1]:8080/cb")
    assert not redirect_matches("http://127.0.0.1/", "http://127.0.0.1:50123/other")
    assert not redirect_matches("http://127.0.0.1/", "http://localhost:50123/")  # same host only
    assert not redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1:1/cb?x=1")
    assert not redirect_matches(CHATGPT[1], "https://chatgpt.com/connector/oauth/other")
    assert not redirect_matches("https://vscode.dev/redirect", "https://vscode.dev:444/redirect")


@pytest.mark.parametrize(
    "value",
    ["a" * 16, "A-b_" * 16, "x" * 15, "x" * 65, "a" * 20 + ".", "a" * 20 + "=", "a" * 20 + "\n", "é" * 20, ""],
)
def test_a_grant_or_client_id_has_one_rule_the_schema_and_the_check_share(value):
    """The rule is names.OAUTH_ID_PATTERN: the DELETE /v1/connectors/{grant_id} schema states
    it and the OAuth server checks ids with it (it was written twice)."""
    import re

    from glyphmemory import names, oauth
    from glyphmemory.http.params import GRANT_ID

    assert GRANT_ID.schema["pattern"] == f"^{names.OAUTH_ID_PATTERN}$"
    assert bool(oauth._ID.match(value)) == bool(re.fullmatch(names.OAUTH_ID_PATTERN, value))
