"""Builds the application from configuration: a store URL, the root key and the settings."""

from __future__ import annotations

from .basic_auth import BasicAuth
from .http.app import App
from .keys import Key, Keyring, parse_key
from .model import Clock
from .service import Memories
from .settings import Settings
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
    from . import oauth_clients
    from .keys import SUBKEY_OAUTH
    from .oauth import OAuth

    return OAuth(
        app.memories.store,
        app.keyring.subkey(SUBKEY_OAUTH),
        alive=lambda g: app.auth.alive_key(g["kid"], g.get("key")),
        clients=oauth_clients.table(app.settings),
    )


def connector_mcp_server(app: App):
    """The MCP server behind POST /mcp, its tools acting through the App's routes (mcp_http)."""
    from .mcp_http import request_server

    return request_server(app)


def build_app(
    store_url: str, root: Key, *, key_cache_s: float = 0.0, kind: str = "all", settings: Settings | None = None
) -> App:
    """The App of `kind` (see `routers`) over the store at `store_url`, signed by `root`, with the
    settings its door read at its start (None: read them now from the environment, as a test or
    a benchmark wants); OAuth always (the API lists and revokes connectors' grants), the MCP
    server only where /mcp is served ("all"). The log level, basic auth and the secret rule are
    set here, once."""
    from .http import log

    settings = Settings.load() if settings is None else settings
    log.configure(settings.log_level)
    basic_auth = BasicAuth(settings.basic_auth) if settings.basic_auth else None  # a malformed value stops the start
    store = open_store(store_url)
    return App(
        Memories(store, Clock(), refuse_secrets=settings.refuse_secrets),
        Keyring(root, store, cache_s=key_cache_s),
        routers=routers(kind),
        basic_auth=basic_auth,
        oauth=connector_oauth,
        mcp=connector_mcp_server if kind == "all" else None,
        settings=settings,
    )


def root_key(settings: Settings) -> Key | None:
    """The root key GLYPH_KEY gives ("kid:BASE32SECRET"), if it gives one."""
    return parse_key(settings.key) if settings.key else None
