"""MCP: `glyph mcp` (a stdio MCP server) and `glyph connectors` (the remote connector's grants);
clients' config files are cli/install.py's. The `mcp` SDK is imported only when `glyph mcp` runs."""

from __future__ import annotations

import sys

from glyphmemory import names

from . import config
from .base import EXIT_OK, EXIT_USAGE, CliError, arg, call, command, emit, human_time, make_client, server_url

SERVER_NAME = "glyphmemory"


def server_configured() -> bool:
    """A server is configured when GLYPH_URL is set or the config file names one."""
    return bool(config.setting("url"))


class SpoolingClient:
    """The API over HTTP (glyphmemory.api_client's interface) for the MCP tools, with the CLI's
    short tokens; a write or an edit the server cannot take now is spooled as `glyph write` and
    `glyph edit` spool them (and delivered first next time), answering `{"spooled": true,
    "redacted": [...]}`."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, *, scope: str, query: dict | None = None, payload=None):
        from glyphmemory.api_client import ApiError, NetworkError, retryable

        from .base import deliver_spool, open_spool

        write = method == "POST" and path == "/v1/memories"
        edit = method == "PATCH" and path.startswith("/v1/memories/")
        try:
            if write or edit:
                deliver_spool(self.client, quiet=True)
            return self.client.call(method, path, scope=scope, query=query, payload=payload)
        except (ApiError, NetworkError) as exc:
            if not ((write or edit) and retryable(exc)):
                raise
            from glyphmemory.errors import InvalidInput

            spool = open_spool()
            try:
                kinds = spool.append(payload) if write else spool.append_edit(path.rsplit("/", 1)[1], payload)
            except InvalidInput as refused:  # what the server would answer with a 400
                raise ApiError(400, str(refused)) from None
            return {"spooled": True, "redacted": sorted(set(kinds))}


def _backend():
    """A client of the configured server, else the store opened in this process; and, in words,
    what it serves and what chose it (a URL without its userinfo, a store URL: never a secret)."""
    if server_configured():
        client = make_client(tries=2, deadline_s=10.0)
        chosen = config.settings().source["url"]  # GLYPH_URL or the config file's path
        return SpoolingClient(client), f"the server {client.base_url} (from {chosen})"
    from glyphmemory.api_client import InProcess
    from glyphmemory.keys import ensure_key_file
    from glyphmemory.runtime import build_app, root_key
    from glyphmemory.tokens import Grant

    settings = config.settings()
    key = root_key(settings) or ensure_key_file(config.key_path())[0]
    store_url = config.store_url()
    app = build_app(store_url, key, settings=settings)
    chosen = names.ENV_STORE if settings.store else "the data folder"
    return InProcess(app, Grant(key.kid, "rw", 2**62)), f"the store {store_url} (from {chosen})"


@command()
def cmd_mcp(args) -> int:
    """Run GlyphMemory as an MCP server on standard input and output (for Claude Desktop, Claude Code).

    With no server configured it opens the local SQLite store directly (nothing else needs to
    run); with GLYPH_URL (or a url in the config) it is a client of that server.
    """
    from glyphmemory.mcp_tools import build_server

    from .project import opted_in

    namespace = opted_in() or names.DEFAULT_NAMESPACE  # a bad .glyph file stops it before it serves
    backend, where = _backend()
    print(f"glyph mcp: serving {where} over stdio", file=sys.stderr, flush=True)
    # Memories' pages (search and fetch give their URLs): the server's, or glyph serve's default.
    pages = config.settings().public_url or server_url()
    import anyio

    from glyphmemory.mcp_stdio import serve

    anyio.run(serve, build_server(backend, pages, namespace))
    return EXIT_OK


@command(
    arg("action", choices=("list", "revoke"), help="list the grants, or revoke one"),
    arg("grant", nargs="?", help="the grant id to revoke (from list)"),
)
def cmd_connectors(args) -> int:
    """Show or end the grants of remote MCP connectors (claude.ai and other OAuth clients).

    Revoking a grant ends its access and refresh tokens at once; the client must sign in again.
    """
    client = make_client()
    if args.action == "list":
        data = call(client.call, "GET", "/v1/connectors", scope="a")
        rows = data["items"]
        human = "\n".join(
            f"{g['id']}  {g['client_name'] or g['client_id']}  since {human_time(g['created_at'])}"
            f"  last used {human_time(g['used_at'])}"
            for g in rows
        )
        emit(args, data, human or "no connector has a grant")
        return EXIT_OK
    if not args.grant:
        raise CliError(
            "name the grant to revoke: glyph connectors revoke GRANT_ID (see glyph connectors list)", EXIT_USAGE
        )
    call(client.request, "DELETE", f"/v1/connectors/{args.grant}", scope="a")
    emit(args, {"revoked": args.grant}, f"revoked {args.grant}")
    return EXIT_OK
