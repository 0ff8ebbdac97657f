"""`glyph mcp`'s stdio transport: the MCP SDK's stdio_server, with an answer for each line it
cannot read. The SDK turns such a line into an exception on its read stream, which its session
drops without a reply (the client waits for ever). Here each is answered as JSON-RPC 2.0 §5.1
says: a line that is not JSON, -32700 (Parse error) with id null; JSON that is not a JSON-RPC
message, -32600 (Invalid Request) with id null; a request whose params hold a string with no
UTF-8 form (a lone surrogate escape, `"\\ud800"`), -32602 (Invalid params) with its id. Each
refusal is one log line (http.log.event) with the code, never the line's content."""

from __future__ import annotations

import json

PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602


def _has_lone_surrogate(value) -> bool:
    """Whether a parsed JSON value holds a string (or a key) with no UTF-8 form."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def refusal(exc: Exception) -> tuple[int, str, str | int | None, bool]:
    """(code, message, id, answer) for a line the SDK could not read (its exception): answer is
    False for a notification, which JSON-RPC never answers."""
    from pydantic import ValidationError

    errors = exc.errors() if isinstance(exc, ValidationError) else []
    raw = next((e["input"] for e in errors if e["type"] == "json_invalid" and isinstance(e["input"], str)), None)
    if raw is None:  # JSON, but not a JSON-RPC message
        return INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message", None, True
    try:
        obj = json.loads(raw)  # Python's reader takes a lone surrogate escape; the SDK's does not
    except ValueError:
        return PARSE_ERROR, "Parse error: the line is not JSON", None, True
    if not (isinstance(obj, dict) and _has_lone_surrogate(obj)):
        return PARSE_ERROR, "Parse error: the line is not JSON the server can read", None, True
    rid = obj.get("id")
    good_id = isinstance(rid, (str, int)) and not isinstance(rid, bool) and not _has_lone_surrogate(rid)
    method = obj.get("method")
    if (
        obj.get("jsonrpc") == "2.0"
        and isinstance(method, str)
        and not _has_lone_surrogate(method)
        and not _has_lone_surrogate(rid)
    ):
        message = "Invalid params: a string has no UTF-8 form (a lone surrogate escape)"
        return INVALID_PARAMS, message, rid if good_id else None, "id" in obj
    return INVALID_REQUEST, "Invalid Request: a string has no UTF-8 form (a lone surrogate escape)", None, True


async def serve(server) -> None:
    """Run an MCPServer (mcp.server.mcpserver) on stdin and stdout until stdin ends."""
    import anyio
    import mcp_types as types
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    from .http.log import event

    lowlevel = server._lowlevel_server  # what MCPServer.run_stdio_async runs
    async with stdio_server() as (sdk_read, write):
        forward, read = anyio.create_memory_object_stream(0)

        async def pump() -> None:
            async with forward, sdk_read:
                async for item in sdk_read:
                    if not isinstance(item, Exception):
                        await forward.send(item)
                        continue
                    code, message, rid, answer = refusal(item)
                    event("mcp.stdio.refused", level=30, code=code, answered=answer)
                    if answer:
                        error = types.JSONRPCError(
                            jsonrpc="2.0", id=rid, error=types.ErrorData(code=code, message=message)
                        )
                        await write.send(SessionMessage(error))

        async with anyio.create_task_group() as tg:
            tg.start_soon(pump)
            await lowlevel.run(read, write, lowlevel.create_initialization_options())
