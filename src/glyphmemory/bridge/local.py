"""`glyph bridge`: the bridge as a WebSocket server on 127.0.0.1 (library `websockets`), over the
same store and keys as `glyph serve`. A window token of scope `w` in the query string (`?t=`,
since browsers cannot set WebSocket headers) is checked before the upgrade; each message is then
answered in a worker thread, frames posted back to the event loop."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

from ..errors import GlyphError
from ..http import log
from ..tokens import require_scope
from .core import Gone

MAX_FRAME_BYTES = 64 * 1024


async def serve(bridge, keyring, clock, host: str, port: int, ready=None) -> None:
    from websockets.asyncio.server import serve as ws_serve
    from websockets.datastructures import Headers
    from websockets.exceptions import ConnectionClosed
    from websockets.http11 import Response

    kids: dict[int, str] = {}
    loop = asyncio.get_running_loop()

    def refuse(status: int, reason: str, detail: str) -> Response:
        body = json.dumps({"status": status, "detail": detail}).encode()
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Response(status, reason, headers, body)

    def process_request(connection, request):
        token = parse_qs(urlsplit(request.path).query).get("t", [None])[0]
        if token is None:
            return refuse(
                401, "Unauthorized", "connect with ?t=TOKEN: a window token of scope w (glyph token --scope w)"
            )
        try:
            grant = keyring.verify(token, clock.now_s())
            require_scope(grant, "w")
        except GlyphError as error:
            log.event("bridge_connect", level=30, status=error.status)
            return refuse(error.status, "Unauthorized" if error.status == 401 else "Forbidden", error.detail)
        kids[id(connection)] = grant.kid
        return None

    async def handler(connection) -> None:
        kid = kids.pop(id(connection))

        def post(frame: dict) -> None:
            future = asyncio.run_coroutine_threadsafe(connection.send(json.dumps(frame, ensure_ascii=False)), loop)
            try:
                future.result(timeout=30)
            except (ConnectionClosed, TimeoutError):
                raise Gone() from None

        try:
            async for raw in connection:
                try:
                    frame = json.loads(raw)
                except (ValueError, TypeError):
                    frame = None
                await asyncio.to_thread(bridge.handle, kid, frame, post)
        except ConnectionClosed:
            pass

    async with ws_serve(handler, host, port, process_request=process_request, max_size=MAX_FRAME_BYTES) as server:
        if ready is not None:
            ready(server.sockets[0].getsockname()[:2])
        await asyncio.Future()  # until cancelled
