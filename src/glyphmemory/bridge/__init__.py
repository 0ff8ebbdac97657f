"""The conversation bridge: Claude over a WebSocket, with GlyphMemory injected into every call."""
