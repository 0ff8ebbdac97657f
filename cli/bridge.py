"""The conversation bridge: `glyph bridge` (the local WebSocket server) and `glyph chat` (a
terminal client; with a MESSAGE it sends that one and prints the reply, for scripts)."""

from __future__ import annotations

import json
import sys

from glyphmemory import names

from . import config
from .base import EXIT_AUTH, EXIT_OK, EXIT_SERVER, EXIT_USAGE, CliError, arg, command, load_key

DEFAULT_BRIDGE_URL = "ws://127.0.0.1:8788"


def anthropic_key() -> str:
    """As the Anthropic SDKs read it (ANTHROPIC_API_KEY), else `anthropic_api_key` in the config
    file (0600). Never printed."""
    key = config.setting("anthropic_api_key")
    if not key:
        raise CliError(
            "no Anthropic API key: set ANTHROPIC_API_KEY, or put anthropic_api_key in " + config.config_path(),
            EXIT_USAGE,
        )
    return key


@command(
    arg("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"),
    arg("--port", type=int, default=8788, help="port (default 8788; 0 picks a free one)"),
)
def cmd_bridge(args) -> int:
    """Run the conversation bridge: Claude over a WebSocket, with your memories in every call.

    Uses the same store and keys as `glyph serve`; the Messages API key from ANTHROPIC_API_KEY
    (ANTHROPIC_BASE_URL and GLYPH_BRIDGE_MODEL are read too). Talk to it with `glyph chat`.
    """
    import asyncio

    from glyphmemory.bridge.claude import Claude
    from glyphmemory.bridge.core import Bridge
    from glyphmemory.bridge.local import serve
    from glyphmemory.errors import GlyphError
    from glyphmemory.http import log
    from glyphmemory.keys import ensure_key_file
    from glyphmemory.runtime import build_app, root_key

    settings = config.settings()
    key = root_key(settings) or ensure_key_file(config.key_path())[0]
    store_url = config.store_url()
    try:
        app = build_app(store_url, key, settings=settings)
    except GlyphError as exc:
        raise CliError(exc.detail, EXIT_USAGE) from None
    claude = Claude.configured(anthropic_key(), settings)
    bridge = Bridge(
        app.memories, claude, app.auth, budget=settings.bridge_budget, ttl_s=settings.bridge_ttl_s, log=log.event
    )

    def ready(address) -> None:
        url = f"ws://{address[0]}:{address[1]}"
        if args.json:
            print(json.dumps({"url": url, "store": store_url, "model": claude.model}), flush=True)
        else:
            print(
                f"GlyphMemory bridge on {url} (model {claude.model}, store {store_url})\n"
                "  talk to it: glyph chat --session work\nStop with Ctrl-C.",
                flush=True,
            )

    try:
        asyncio.run(serve(bridge, app.auth, args.host, args.port, ready))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_SERVER) from None
    finally:
        claude.close()
        app.memories.store.close()
    return EXIT_OK


def bridge_url() -> str:
    return config.setting("bridge_url") or DEFAULT_BRIDGE_URL


@command(
    arg("message", nargs="?", metavar="MESSAGE", help="send this one message, print the reply and exit"),
    arg("--session", default="cli", help="the conversation's name (default cli); the same name continues it"),
    arg("--ns", default=names.DEFAULT_NAMESPACE, help="whose memories go in the context (default default)"),
)
def cmd_chat(args) -> int:
    """Talk to Claude through the bridge; replies stream as they come.

    With MESSAGE, sends it and prints the reply (for scripts, and for Claude Code itself);
    without, reads messages line by line until end of input. GLYPH_BRIDGE_URL (or bridge_url in
    the config) names the bridge; default ws://127.0.0.1:8788.
    """
    import time
    import uuid

    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    from glyphmemory.bridge.conversation import MAX_FRAME_BYTES
    from glyphmemory.tokens import mint_window_token

    key = load_key()
    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 3600)
    url = bridge_url()
    try:
        ws = connect(f"{url.rstrip('/')}/?t={token}", open_timeout=10, max_size=None)
    except InvalidStatus as exc:
        code = EXIT_AUTH if exc.response.status_code in (401, 403) else EXIT_SERVER
        raise CliError(f"the bridge refused the connection ({exc.response.status_code})", code) from None
    except (OSError, WebSocketException, TimeoutError):
        raise CliError(f"cannot reach the bridge at {url}: is `glyph bridge` running?", EXIT_SERVER) from None

    def say(text: str) -> int:
        frame_id = uuid.uuid4().hex
        frame = {"type": "message", "session": args.session, "id": frame_id, "text": text, "namespace": args.ns}
        data = json.dumps(frame, ensure_ascii=False)
        size = len(data.encode("utf-8", "surrogatepass"))
        if size > MAX_FRAME_BYTES:  # the bridge would refuse it: say so without sending
            print(f"glyph: the message is {size} bytes; the bridge takes at most {MAX_FRAME_BYTES}", file=sys.stderr)
            return EXIT_USAGE
        # API Gateway takes frames of at most 32 KB (messages of 128 KB): a longer message goes
        # as fragments of 8,000 characters (at most 32,000 bytes of UTF-8 each).
        ws.send(data if len(data) <= 8000 else [data[i : i + 8000] for i in range(0, len(data), 8000)])
        while True:
            frame = json.loads(ws.recv(timeout=300))
            if frame.get("id") != frame_id:
                continue
            if frame["type"] == "delta":
                sys.stdout.write(frame["text"])
                sys.stdout.flush()
            elif frame["type"] == "done":
                sys.stdout.write("\n")
                if args.json:
                    print(json.dumps({"usage": frame["usage"]}))
                return EXIT_OK
            elif frame["type"] == "error":
                print(f"glyph: the bridge answered {frame['status']}: {frame['detail']}", file=sys.stderr)
                if frame["status"] in (401, 403):
                    return EXIT_AUTH
                return EXIT_SERVER if frame["status"] >= 429 else EXIT_USAGE

    try:
        if args.message is not None:
            return say(args.message)
        code = EXIT_OK
        for line in sys.stdin:
            if line.strip():
                code = say(line.rstrip("\n"))
        return code
    except (WebSocketException, OSError, TimeoutError):
        raise CliError(
            "the connection to the bridge was lost; run the command again to continue", EXIT_SERVER
        ) from None
    finally:
        ws.close()
