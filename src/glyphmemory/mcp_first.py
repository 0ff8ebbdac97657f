"""The connector's first answers without the MCP SDK: `initialize`, `notifications/initialized`
and `ping` on the stateless JSON path, byte for byte what the SDK answers (issue 24 §5).

Importing the SDK costs ~1.4 s of CPU (its protocol types are pydantic models built at import),
and a client's first request after a cold start is always `initialize`. So `POST /mcp` answers
these three messages here, from the standard library, when the request is one the SDK would
accept as it is: every header check passes (Accept, Content-Type, Host, Origin, the protocol
version header), and the message has exactly a shape listed below. Anything else — a tool call,
an unknown field, a shape the SDK would refuse — goes to the SDK, which answers it (and its
errors) itself. tests/mcp/test_first_answer.py checks each answer here against the SDK's live
one, and each constant against the SDK's own.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from . import __version__
from .http.core import Response

# The server's own `initialize` result (mcp_tools.build_server: name, title, instructions, the
# capabilities its tools, resources, prompts and completions give it), in the SDK's key order.
SERVER_NAME = "glyphmemory"
SERVER_TITLE = "GlyphMemory"
INSTRUCTIONS = (
    "GlyphMemory is the user's own long-term memory, shared by their assistants and devices. "
    "Read it when earlier context would help (recent_memories, search_memories, or the context "
    "prompt); save a memory when the user asks you to remember something, or when a decision, "
    "preference or fact is worth keeping for a later session. Keep each memory short and self-contained."
)
CAPABILITIES = {
    "completions": {},
    "prompts": {"listChanged": False},
    "resources": {"listChanged": False, "subscribe": False},
    "tools": {"listChanged": False},
}
# mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS: the revisions `initialize` negotiates; an
# offer outside them gets the newest. A request's MCP-Protocol-Version header outside them is
# routed by the SDK elsewhere (the 2026 per-request envelope): left to it.
HANDSHAKE_PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
# The `initialize` params answered here: each capability a client may declare, with the
# members it may hold (bool, or an empty object); clientInfo's string fields.
CLIENT_CAPABILITIES = {
    "roots": {"listChanged": bool},
    "sampling": {"context": dict, "tools": dict},
    "elicitation": {"form": dict, "url": dict},
}
CLIENT_INFO_FIELDS = ("name", "version", "title")
# JSON-RPC ids answered here (echoed as they came): integers JSON numbers hold exactly, and
# plain strings (nothing the SDK's serializer could escape differently from json.dumps).
_ID_TEXT = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_MAX_ID = 2**53
_JSON = "application/json"


def first_answer(request, base_url: str) -> Response | None:
    """The SDK's answer to an `initialize`, `notifications/initialized` or `ping` request, or
    None when the request is anything else (the SDK answers it). `base_url` is the public URL
    the SDK's Host/Origin checks are given (mcp_http.handle_mcp)."""
    if not _headers_pass(request, base_url):
        return None
    try:
        message = json.loads(request.body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return None
    method, keys = message.get("method"), set(message)
    if method == "notifications/initialized" and keys <= {"jsonrpc", "method", "params"}:
        if message.get("params", {}) == {}:
            return Response(202, b"", {"content-type": _JSON})
        return None
    if not ({"jsonrpc", "id", "method"} <= keys <= {"jsonrpc", "id", "method", "params"}) or not _plain_id(
        message["id"]
    ):
        return None
    if method == "ping" and message.get("params", {}) == {} and _versioned(request):
        return _result(message["id"], {})
    if method == "initialize" and _versioned(request):
        offered = _offered_version(message.get("params"))
        if offered is not None:
            negotiated = offered if offered in HANDSHAKE_PROTOCOL_VERSIONS else HANDSHAKE_PROTOCOL_VERSIONS[-1]
            return _result(message["id"], initialize_result(negotiated))
    return None


def initialize_result(protocol_version: str) -> dict:
    """The `initialize` result the SDK gives this server for a negotiated protocol version."""
    return {
        "capabilities": CAPABILITIES,
        "instructions": INSTRUCTIONS,
        "protocolVersion": protocol_version,
        "serverInfo": {"name": SERVER_NAME, "title": SERVER_TITLE, "version": __version__},
    }


def _result(request_id, result: dict) -> Response:
    body = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return Response(200, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), {"content-type": _JSON})


def _headers_pass(request, base_url: str) -> bool:
    """The SDK's transport checks, all passing (mcp.server.streamable_http, transport_security):
    JSON accepted, JSON sent, Host the public one, Origin absent or the public one; no session."""
    headers = request.headers
    accepted = {part.strip().split(";")[0].strip().lower() for part in headers.get("accept", "").split(",")}
    if not accepted & {_JSON, "application/*", "*/*"}:
        return False
    if headers.get("content-type", "").split(";")[0].strip() != _JSON or "mcp-session-id" in headers:
        return False
    public = urlsplit(base_url)
    host = request.public_host or headers.get("host") or public.netloc
    return host == public.netloc and headers.get("origin", "") in ("", f"{public.scheme}://{public.netloc}")


def _versioned(request) -> bool:
    """No MCP-Protocol-Version header, or one of the handshake revisions (stateless: any of them;
    `initialize` reads the version it negotiates from its params)."""
    version = request.headers.get("mcp-protocol-version")
    return version is None or version in HANDSHAKE_PROTOCOL_VERSIONS


def _plain_id(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_MAX_ID < value < _MAX_ID
    return isinstance(value, str) and _ID_TEXT.fullmatch(value) is not None


def _offered_version(params) -> str | None:
    """The protocolVersion of `initialize` params of a shape answered here, else None."""
    if not isinstance(params, dict) or set(params) != {"protocolVersion", "capabilities", "clientInfo"}:
        return None
    version, capabilities, info = params["protocolVersion"], params["capabilities"], params["clientInfo"]
    if not isinstance(version, str) or not isinstance(capabilities, dict) or not isinstance(info, dict):
        return None
    if not {"name", "version"} <= set(info) <= set(CLIENT_INFO_FIELDS) or not all(
        isinstance(v, str) for v in info.values()
    ):
        return None
    for name, members in capabilities.items():
        allowed = CLIENT_CAPABILITIES.get(name)
        if allowed is None or not isinstance(members, dict):
            return None
        for member, value in members.items():
            kind = allowed.get(member)
            if kind is bool and not isinstance(value, bool) or kind is dict and value != {} or kind is None:
                return None
    return version
