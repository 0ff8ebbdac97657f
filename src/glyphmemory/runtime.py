"""Builds the application from configuration: a store URL and the root key."""

from __future__ import annotations

import os

from . import names
from .basic_auth import BasicAuth
from .http import auth_routes, chat_routes, mcp_routes, routes, ui_routes
from .http.app import App
from .keys import Key, Keyring, parse_key
from .model import Clock
from .service import Memories
from .stores import open_store

# The memory API (the memory function on AWS); the remote MCP connector (its own function there,
# since its SDK costs ~0.5 s of a cold start); `glyph serve` runs both.
API_ROUTERS = (routes.ROUTER, auth_routes.ROUTER, chat_routes.ROUTER)
MCP_ROUTERS = (mcp_routes.ROUTER, ui_routes.ROUTER)  # the connector function serves the page too
ALL_ROUTERS = API_ROUTERS + MCP_ROUTERS


def build_app(store_url: str, root: Key, *, key_cache_s: float = 0.0, routers=ALL_ROUTERS) -> App:
    basic = os.environ.get(names.ENV_BASIC_AUTH)
    basic_auth = BasicAuth(basic) if basic else None  # a malformed value stops the start
    store = open_store(store_url)
    return App(
        Memories(store, Clock()),
        Keyring(root, store, cache_s=key_cache_s),
        routers=routers,
        basic_auth=basic_auth,
    )


def key_from_env() -> Key | None:
    raw = os.environ.get(names.ENV_KEY)
    return parse_key(raw) if raw else None
