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


def build_app(store_url: str, root: Key, *, key_cache_s: float = 0.0, kind: str = "all") -> App:
    basic = os.environ.get(names.ENV_BASIC_AUTH)
    basic_auth = BasicAuth(basic) if basic else None  # a malformed value stops the start
    store = open_store(store_url)
    return App(
        Memories(store, Clock()),
        Keyring(root, store, cache_s=key_cache_s),
        routers=routers(kind),
        basic_auth=basic_auth,
    )


def key_from_env() -> Key | None:
    raw = os.environ.get(names.ENV_KEY)
    return parse_key(raw) if raw else None
