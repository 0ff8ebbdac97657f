"""`glyph connect CLIENT`: the remote MCP connector's URL (GLYPH_PUBLIC_URL, else the configured
server, + /mcp) and that client's steps to add it and sign in (README "MCP" has the table of
who signs in how)."""

from __future__ import annotations

import json

from glyphmemory import names

from . import config
from .base import EXIT_OK, arg, command, emit, server_url

_SIGN_IN = "the sign-in page asks for the 6-digit code of your authenticator app (glyph init)"


def _json(obj: dict) -> str:
    return json.dumps(obj, indent=2)


def steps(client: str, url: str) -> list[str]:
    """What to do in `client` to add the connector at `url`, one step a line."""
    name = "glyphmemory"
    table = {
        "claude.ai": [
            "claude.ai (web, desktop and phone apps): Settings → Connectors → Add custom connector",
            f"Name: GlyphMemory; URL: {url}; Add, then Connect: {_SIGN_IN}",
        ],
        "chatgpt": [
            "ChatGPT: Settings → Apps & Connectors → Advanced settings: turn on Developer mode",
            f"then Create (a connector/app): Name GlyphMemory, MCP server URL {url}, Authentication OAuth",
            f"Create, then Connect: {_SIGN_IN}; deep research and company knowledge use its search and fetch",
        ],
        "claude-code": [
            f"claude mcp add --transport http --scope user {name} {url}",
            f"then /mcp in Claude Code → {name} → Authenticate: {_SIGN_IN}",
        ],
        "vscode": [
            f"code --add-mcp '{json.dumps({'name': name, 'type': 'http', 'url': url})}'",
            "or in mcp.json (the user's, or .vscode/mcp.json):",
            _json({"servers": {name: {"type": "http", "url": url}}}),
            f"then Start on the server and Allow the sign-in: {_SIGN_IN}",
        ],
        "cursor": [
            "in ~/.cursor/mcp.json (or .cursor/mcp.json):",
            _json({"mcpServers": {name: {"url": url}}}),
            f"then Settings → MCP → {name} → Connect: {_SIGN_IN}",
        ],
        "codex": [
            f"codex mcp add {name} --url {url}",
            f"codex mcp login {name}     # {_SIGN_IN}",
        ],
        "gemini": [
            f"gemini mcp add --scope user --transport http {name} {url}",
            f"then /mcp auth {name} inside gemini: {_SIGN_IN}",
        ],
        "windsurf": [
            "in ~/.codeium/windsurf/mcp_config.json:",
            _json({"mcpServers": {name: {"serverUrl": url}}}),
            "Windsurf's OAuth sign-in is not documented: if it does not open the sign-in page, use the "
            "local server instead (glyph install windsurf)",
        ],
        "zed": [
            "in Zed's settings.json:",
            _json({"context_servers": {name: {"url": url}}}),
            "Zed's OAuth sign-in is not documented: if it does not open the sign-in page, use the local "
            "server instead (glyph install zed)",
        ],
    }
    return table[client]


CLIENTS = ("claude.ai", "chatgpt", "claude-code", "vscode", "cursor", "codex", "gemini", "windsurf", "zed")


def connector_url() -> str:
    """GLYPH_PUBLIC_URL, else the configured server (GLYPH_URL or the config's url), + /mcp."""
    base = config.settings().public_url or server_url()
    return base.rstrip("/") + "/mcp"


def _reachable_warning(client: str, url: str) -> str | None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if client in ("claude.ai", "chatgpt") and (
        parts.scheme != "https" or host in ("localhost", "::1") or host.startswith("127.")
    ):
        return (
            f"note: {client} connects from the internet and only over HTTPS; {url} is not such an address. "
            f"Deploy (README: Deploy to AWS) and set {names.ENV_PUBLIC_URL} or GLYPH_URL to the stack's address"
        )
    return None


@command(arg("client", choices=CLIENTS, help="the assistant: " + ", ".join(CLIENTS)))
def cmd_connect(args) -> int:
    """Print the remote MCP connector's URL and how to add it to an assistant.

    The URL is GLYPH_PUBLIC_URL (else GLYPH_URL or the config's url) followed by /mcp; the client
    signs in with OAuth on the server's page. For a client on this machine, `glyph install CLIENT`
    (stdio) needs no server at all.
    """
    url = connector_url()
    lines = steps(args.client, url)
    warning = _reachable_warning(args.client, url)
    human = "\n".join([f"URL: {url}", *lines, *([warning] if warning else [])])
    emit(args, {"client": args.client, "url": url, "steps": lines, "warning": warning}, human)
    return EXIT_OK
