"""A fake Gemini API on 127.0.0.1, enough for the Gemini CLI (GOOGLE_GEMINI_BASE_URL):
`POST /v1beta/models/MODEL:streamGenerateContent?alt=sse` (server-sent `data:` chunks of
GenerateContentResponse), `:generateContent` and `:countTokens`.

Its script: a request that declares the function whose name ends with `tool_suffix` and holds no
`functionResponse` from it is answered with one `functionCall` of it with `arguments`; one that
holds that response, with text quoting it. Any other request (the CLI's own routing and
next-speaker checks) gets a JSON text both accept. Every request is recorded (`requests`)."""

from __future__ import annotations

import json

from .fake_server import LocalServer, QuietHandler, send_body

# The CLI's own checks parse the model's JSON: its routing classifiers (model_choice, or
# complexity_reasoning and complexity_score) and its next-speaker check.
CHECKS = {
    "reasoning": "fake",
    "model_choice": "flash",
    "complexity_reasoning": "fake",
    "complexity_score": 10,
    "next_speaker": "user",
}


class FakeGemini(LocalServer):
    def __init__(self, tool_suffix: str, arguments: dict):
        self.tool_suffix, self.arguments = tool_suffix, arguments
        super().__init__(_Handler)


def declared(body: dict, suffix: str) -> str | None:
    """The declared function whose name ends with `suffix`."""
    for tool in body.get("tools") or []:
        for fn in tool.get("functionDeclarations") or []:
            if fn.get("name", "").endswith(suffix):
                return fn["name"]
    return None


def responses(body: dict, suffix: str) -> list[dict]:
    """The functionResponse parts of the conversation from the function ending with `suffix`."""
    return [
        part["functionResponse"]
        for content in body.get("contents") or []
        for part in content.get("parts") or []
        if isinstance(part, dict) and str(part.get("functionResponse", {}).get("name", "")).endswith(suffix)
    ]


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"
    server: FakeGemini

    def do_GET(self) -> None:
        send_body(self, 200, json.dumps({"models": []}).encode(), "application/json")

    def do_POST(self) -> None:
        body = self.json_body()
        self.server.requests.append({"path": self.path, "body": body})
        path = self.path.split("?")[0]
        if path.endswith(":countTokens"):
            send_body(self, 200, json.dumps({"totalTokens": 10}).encode(), "application/json")
            return
        suffix = self.server.tool_suffix
        answered, tool = responses(body, suffix), declared(body, suffix)
        if answered:
            part = {"text": "From memory: " + json.dumps(answered[-1].get("response"))[:2000]}
        elif tool:
            part = {"functionCall": {"name": tool, "args": self.server.arguments}}
        else:
            part = {"text": json.dumps(CHECKS)}
        reply = {
            "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
            "modelVersion": "gemini-fake",
        }
        if path.endswith(":streamGenerateContent"):
            send_body(self, 200, f"data: {json.dumps(reply)}\r\n\r\n".encode(), "text/event-stream")
        else:
            send_body(self, 200, json.dumps(reply).encode(), "application/json")
