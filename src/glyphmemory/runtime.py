"""Builds the application from configuration: a store URL and the root key."""

from __future__ import annotations

import os

from . import names
from .basic_auth import BasicAuth
from .http.app import App
from .keys import Key, Keyring, parse_key
from .model import Clock
from .service import Memories
from .stores import open_store


def routers(kind: str = "all") -> tuple:
    """The memory API ("api": the memory function on AWS), or that and the MCP connector with
    the web page ("all": `glyph serve`, and the connector function). Imported only when asked
    for: the memory function's cold start never loads the connector's or the page's modules."""
    from .http import auth_routes, chat_routes, routes

    api = (routes.ROUTER, auth_routes.ROUTER, chat_routes.ROUTER)
    if kind == "api":
        return api
    from .http import mcp_routes, ui_routes

    return (*api, mcp_routes.ROUTER, ui_routes.ROUTER)


def connector_oauth(app: App):
    """The remote connector's OAuth: tokens signed with the root key's OAuth subkey; a grant lives
    while the key that signed in does (revoked: gone from the list, refused at /token and /mcp),
    as every door's grants do (app.auth). Built where a route first needs it (the memory function
    lists and revokes grants, and imports `oauth` only then)."""
    from .keys import SUBKEY_OAUTH
    from .oauth import OAuth

    return OAuth(
        app.memories.store,
        app.keyring.subkey(SUBKEY_OAUTH),
        alive=lambda g: app.auth.alive_key(g["kid"], g.get("key")),
    )


def connector_mcp_server(app: App):
    """The MCP server behind POST /mcp, its tools acting through the App's routes (mcp_http)."""
    from .mcp_http import request_server

    return request_server(app)


def build_app(store_url: str, root: Key, *, key_cache_s: float = 0.0, kind: str = "all") -> App:
    """The App of `kind` (see `routers`) over the store at `store_url`; OAuth always (the API lists
    and revokes connectors' grants), the MCP server only where /mcp is served ("all")."""
    basic = os.environ.get(names.ENV_BASIC_AUTH)
    basic_auth = BasicAuth(basic) if basic else None  # a malformed value stops the start
    store = open_store(store_url)
    return App(
        Memories(store, Clock()),
        Keyring(root, store, cache_s=key_cache_s),
        routers=routers(kind),
        basic_auth=basic_auth,
        oauth=connector_oauth,
        mcp=connector_mcp_server if kind == "all" else None,
    )


def key_from_env() -> Key | None:
    raw = os.environ.get(names.ENV_KEY)
    return parse_key(raw) if raw else None
