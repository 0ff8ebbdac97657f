"""Which OAuth clients may sign in: a table, not code.

Each row names a client, the client ID metadata documents (CIMD) it signs in with, and the
redirect URIs it may use. A pattern is an exact URI in which `{id}` stands for one opaque path
segment (letters, digits, `-`, `_`; 1 to 64): never a wildcard host. `LOOPBACK` stands for any
loopback redirect URI (`http://127.0.0.1`, `[::1]` or `localhost`, any port and path: RFC 8252
§7.3, native apps pick a free port at sign-in). A CIMD entry without a path (`claude.ai`) trusts
any document on that host.

A registration (RFC 7591, client ids we issue) may use the redirect URIs of any row; a client
named by a metadata document only those of the row its URL matches. The owner adds rows with
`GLYPH_OAUTH_REDIRECTS` (exact redirect URIs) and `GLYPH_OAUTH_CIMD_HOSTS` (hosts whose
documents may use any redirect URI of the table). Sources: REFERENCES.md "Other assistants".
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from .redirect_uris import valid_redirect_uri

LOOPBACK = "loopback"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_ID_SEGMENT = "[A-Za-z0-9_-]{1,64}"


class TrustedClient(NamedTuple):
    name: str
    cimd: tuple[str, ...]  # client id URL patterns, or bare hosts (any document on them)
    redirects: tuple[str, ...]  # redirect URI patterns, or LOOPBACK


CLAUDE_REDIRECTS = ("https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback")

TABLE: tuple[TrustedClient, ...] = (
    # claude.ai and Claude's apps (CIMD on claude.ai / claude.com); Claude Code signs in on loopback.
    TrustedClient("Claude", ("claude.ai", "claude.com"), (*CLAUDE_REDIRECTS, LOOPBACK)),
    # Codex before ChatGPT: its document's URL also fits ChatGPT's {id} pattern.
    TrustedClient("Codex", ("https://chatgpt.com/oauth/codex/client.json",), (LOOPBACK,)),
    TrustedClient(
        "ChatGPT",
        ("https://chatgpt.com/oauth/client.json", "https://chatgpt.com/oauth/{id}/client.json"),
        ("https://chatgpt.com/connector_platform_oauth_redirect", "https://chatgpt.com/connector/oauth/{id}"),
    ),
    TrustedClient(
        "VS Code",
        ("https://vscode.dev/oauth/client-metadata.json",),
        ("https://vscode.dev/redirect", "https://insiders.vscode.dev/redirect", LOOPBACK),
    ),
    TrustedClient("Cursor", (), ("cursor://anysphere.cursor-mcp/oauth/callback", LOOPBACK)),
    TrustedClient("a native app", (), (LOOPBACK,)),
)


@lru_cache(maxsize=8)
def table(settings) -> tuple[TrustedClient, ...]:
    """The built-in rows, then the owner's: GLYPH_OAUTH_REDIRECTS and GLYPH_OAUTH_CIMD_HOSTS
    (Settings.oauth_redirects, .oauth_cimd_hosts, read at the door's start)."""
    owner = (
        TrustedClient("the owner's redirect URIs", (), settings.oauth_redirects),
        TrustedClient("the owner's metadata hosts", settings.oauth_cimd_hosts, ()),  # any URI of the table
    )
    return TABLE + tuple(row for row in owner if row.cimd or row.redirects)


def _fits(pattern: str, value: str) -> bool:
    if "{id}" not in pattern:
        return value == pattern
    head, _, tail = pattern.partition("{id}")
    return re.fullmatch(re.escape(head) + _ID_SEGMENT + re.escape(tail), value) is not None


def is_loopback(uri: str) -> bool:
    """An http loopback URI (RFC 8252 §7.3), without userinfo or fragment."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in _LOOPBACK_HOSTS
        and "@" not in parts.netloc
        and not parts.fragment
        and "#" not in uri
    )


def _row_allows(row: TrustedClient, uri: str) -> bool:
    return any(is_loopback(uri) if p == LOOPBACK else _fits(p, uri) for p in row.redirects)


def redirect_allowed(uri: str, row: TrustedClient | None = None, clients: tuple = TABLE) -> bool:
    """May a client use this redirect URI: a valid one (redirect_uris.valid_redirect_uri) that
    `row`'s client, or (None) any client of the table (`clients`: table(settings)), may use."""
    if not valid_redirect_uri(uri):
        return False
    if row is not None and not row.redirects:  # the owner's CIMD hosts: any URI of the table
        row = None
    return _row_allows(row, uri) if row is not None else any(_row_allows(r, uri) for r in clients)


def split_redirects(
    uris: list[str], row: TrustedClient | None = None, clients: tuple = TABLE
) -> tuple[list[str], list[str]]:
    """(kept, dropped): the URIs a client may use, in their order, and the others."""
    kept = [u for u in uris if redirect_allowed(u, row, clients)]
    return kept, [u for u in uris if u not in kept]


def cimd_row(url: str, clients: tuple = TABLE) -> TrustedClient | None:
    """The row of `clients` (table(settings)) whose metadata documents include this client id
    URL (https only), or None."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.query or parts.fragment or "@" in parts.netloc or not parts.path.strip("/"):
        return None
    for row in clients:
        for pattern in row.cimd:
            if ("/" not in pattern and parts.netloc == pattern) or ("/" in pattern and _fits(pattern, url)):
                return row
    return None


def redirect_matches(registered: str, given: str) -> bool:
    """The redirect URI of an authorization request against a registered one: exactly equal, or
    both loopback and equal but for the port (RFC 8252 §7.3)."""
    if given == registered:
        return True
    if not (is_loopback(given) and is_loopback(registered)):
        return False
    a, b = urlsplit(registered), urlsplit(given)
    return (a.scheme, a.hostname, a.path, a.query) == (b.scheme, b.hostname, b.path, b.query)
