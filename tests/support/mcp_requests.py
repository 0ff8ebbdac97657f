"""What a connector client sends to `/mcp`: its `initialize` request, the headers of a
Streamable HTTP POST, a bearer token of a grant written straight into the store, and the MCP
SDK's own client session."""

from __future__ import annotations

from contextlib import asynccontextmanager

PROTOCOL_VERSION = "2025-06-18"
TEST_CLIENT = {"name": "t", "version": "1"}


def initialize_params(
    client: dict | None = None, *, version: str = PROTOCOL_VERSION, capabilities: dict | None = None
) -> dict:
    """`initialize`'s params (MCP lifecycle): protocolVersion, capabilities, clientInfo."""
    return {"protocolVersion": version, "capabilities": capabilities or {}, "clientInfo": client or TEST_CLIENT}


def initialize_request(request_id: int = 1, **params) -> dict:
    """The JSON-RPC 2.0 `initialize` request; `params` as initialize_params takes them."""
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": initialize_params(**params)}


def mcp_headers(host: str, access_token: str) -> dict[str, str]:
    """A POST /mcp's headers: the public host, the bearer token, JSON in, JSON or SSE out."""
    return {
        "x-glyph-public-host": host,
        "authorization": f"Bearer {access_token}",
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
    }


def granted_access_token(store, key, host: str, client_name: str = "test") -> str:
    """The access token of a connector grant (id "g" * 22, never expiring, for `key` and
    https://{host}/mcp) written straight into `store`, as the OAuth server issues it at /token:
    for what a signed-in connector gets, without the sign-in."""
    from glyphmemory.keys import SUBKEY_OAUTH, derive_subkey
    from glyphmemory.oauth import OAuth

    grant = {
        "client_id": "c" * 22,
        "client_name": client_name,
        "kid": key.kid,
        "resource": f"https://{host}/mcp",
        "generation": 1,
        "created_at": 1,
        "used_at": 2**40,
        "expires_at": 2**40,
    }
    store.records_put_if("oauth-grant", "g" * 22, grant, expected_version=0)
    return OAuth(store, derive_subkey(key.secret, SUBKEY_OAUTH))._tokens("g" * 22, grant)["access_token"]


@asynccontextmanager
async def sdk_session(url: str, **http_options):
    """The MCP SDK's ClientSession with glyph serve's `url`/mcp over Streamable HTTP, initialized;
    `http_options` go to its httpx2.AsyncClient (auth=, headers=)."""
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(timeout=30, **http_options) as http,
        streamable_http_client(url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session
