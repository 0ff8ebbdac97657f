"""A fake OpenAI Responses API on 127.0.0.1 (`POST …/responses`, `stream: true`), enough for the
Codex CLI: named server-sent events `response.created`, `response.output_item.done` and
`response.completed`.

Its script: a request that offers the tool whose name ends with `tool_suffix` (a function, or one
inside a `namespace` tool, as Codex offers an MCP server's tools) is answered with one call of it
with `arguments`; a request carrying that call's output, with a message quoting it. Until the
tool is offered (Codex starts MCP servers beside the first turn) it waits 1 s and calls Codex's
`list_mcp_resources`, so the turn goes on. Every request body is recorded (`requests`), so a test
reads what reached the model."""

from __future__ import annotations

import json
import time

from .fake_server import LocalServer, QuietHandler, send_body


class FakeOpenAI(LocalServer):
    def __init__(self, tool_suffix: str, arguments: dict):
        self.tool_suffix, self.arguments = tool_suffix, arguments
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return super().url + "/v1"


def find_tool(body: dict, suffix: str) -> tuple[str | None, str | None]:
    """(namespace or None, name) of the offered tool whose name ends with `suffix`, else (None, None)."""
    for tool in body.get("tools") or []:
        name = tool.get("name") or tool.get("function", {}).get("name") or ""
        if name.endswith(suffix):
            return None, name
        for inner in tool.get("tools") or []:
            if inner.get("name", "").endswith(suffix):
                return tool.get("name"), inner["name"]
    return None, None


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"
    server: FakeOpenAI

    def do_GET(self) -> None:  # /models and the like: nothing to offer
        send_body(self, 200, json.dumps({"object": "list", "data": [], "models": []}).encode(), "application/json")

    def _event(self, name: str, data: dict) -> None:
        data = {"type": name, **data}
        self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def do_POST(self) -> None:
        body = self.json_body()
        self.server.requests.append({"path": self.path, "body": body})
        if not self.path.rstrip("/").endswith("/responses"):
            send_body(self, 404, b"")
            return
        n = len(self.server.requests)
        items = body.get("input") or []
        namespace, tool = find_tool(body, self.server.tool_suffix)
        calls = {i.get("call_id"): i for i in items if isinstance(i, dict) and i.get("type") == "function_call"}
        ours = [
            i
            for i in items
            if isinstance(i, dict)
            and i.get("type") == "function_call_output"
            and str(calls.get(i.get("call_id"), {}).get("name", "")).endswith(self.server.tool_suffix)
        ]
        if ours:  # the tool answered: say what it said
            text = ours[-1].get("output")
            text = text if isinstance(text, str) else json.dumps(text)
            item = {
                "type": "message",
                "id": f"msg_{n}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "From memory: " + text[:2000], "annotations": []}],
            }
        elif tool:  # offered: call it
            item = {
                "type": "function_call",
                "id": f"fc_{n}",
                "call_id": f"call_{n}",
                "name": tool,
                "arguments": json.dumps(self.server.arguments),
                "status": "completed",
            }
            if namespace:
                item["namespace"] = namespace
        else:  # not offered yet (the client's MCP servers still start): wait a little, ask again
            time.sleep(1)
            item = {
                "type": "function_call",
                "id": f"fc_{n}",
                "call_id": f"call_{n}",
                "name": "list_mcp_resources",
                "arguments": "{}",
                "status": "completed",
            }
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        response = {"id": f"resp_{n}", "object": "response", "status": "in_progress", "output": []}
        self._event("response.created", {"response": response})
        self._event("response.output_item.added", {"output_index": 0, "item": item})
        self._event("response.output_item.done", {"output_index": 0, "item": item})
        usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        done = {**response, "status": "completed", "output": [item], "usage": usage}
        self._event("response.completed", {"response": done})
        self.close_connection = True
