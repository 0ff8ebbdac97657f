"""`glyph bridge`: the bridge as a WebSocket server on 127.0.0.1 (library `websockets`), over the
same store and keys as `glyph serve`. A window token of scope `rw` in the query string (`?t=`,
since browsers cannot set WebSocket headers) is checked before the upgrade, and its grant again
for every frame; a grant that ended (key revoked, token expired) closes the connection with 1008,
an idle one too (at its token's expiry, or within WATCH_S of its key's revocation). Each message
is answered in a worker thread, frames posted back to the event loop. What a connection needs
(its grant) lives on the connection object, so a request that never upgrades leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from ..errors import GlyphError, InvalidInput
from ..http import log
from ..http.core import parse_query
from .core import Closed, Gone

# The transport's own cap, far above the message limit (conversation.MAX_FRAME_BYTES) so that an
# oversize message is read and answered with an error frame; a frame over this one is no message
# of ours and closes the connection (1009, as API Gateway does over its 128 KB quota).
TRANSPORT_MAX_BYTES = 1024 * 1024
WATCH_S = 30.0  # how often an idle connection's grant is checked (every frame checks it too)


async def serve(bridge, auth, host: str, port: int, ready=None) -> None:
    """Serve until cancelled; `auth` is the App's auth component (bridge.core checks each frame
    with it too), `ready((host, port))` is called once listening."""
    from websockets.asyncio.server import serve as ws_serve
    from websockets.datastructures import Headers
    from websockets.exceptions import ConnectionClosed
    from websockets.http11 import Response

    loop = asyncio.get_running_loop()

    def refuse(status: int, reason: str, detail: str) -> Response:
        body = json.dumps({"status": status, "detail": detail}).encode()
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Response(status, reason, headers, body)

    def process_request(connection, request):
        try:  # the App's query rules: percent-encoded UTF-8 only, t at most once; other names ignored
            token = parse_query(urlsplit(request.path).query, frozenset({"t"}), ignore_unknown=True).get("t")
        except InvalidInput as error:
            log.event("bridge_connect", level=30, status=400)
            return refuse(400, "Bad Request", error.detail)
        if token is None:
            return refuse(
                401, "Unauthorized", "connect with ?t=TOKEN: a window token of scope rw (glyph token --scope rw)"
            )
        try:
            grant = auth.token(token, "rw")  # a message reads memories and writes turns
        except GlyphError as error:
            log.event("bridge_connect", level=30, status=error.status)
            return refuse(error.status, "Unauthorized" if error.status == 401 else "Forbidden", error.detail)
        connection.glyph_grant = grant  # on the connection: gone with it, upgraded or not
        return None

    async def watch(connection, grant) -> None:
        """An idle connection ends too: when its token expires, or (checked every WATCH_S) when
        its key was revoked; a frame would find either at once."""
        from ..errors import Forbidden, Unauthorized

        while True:
            await asyncio.sleep(max(0.0, min(WATCH_S, grant.exp - auth.clock.now_s())))
            try:
                await asyncio.to_thread(auth.check, grant)
            except (Unauthorized, Forbidden) as ended:
                log.event("bridge_closed", status=401)
                await connection.close(1008, ended.detail[:120])
                return

    async def handler(connection) -> None:
        grant = connection.glyph_grant
        watcher = asyncio.ensure_future(watch(connection, grant))

        def post(frame: dict) -> None:
            future = asyncio.run_coroutine_threadsafe(connection.send(json.dumps(frame, ensure_ascii=False)), loop)
            try:
                future.result(timeout=30)
            except (ConnectionClosed, TimeoutError):
                raise Gone() from None

        try:
            async for raw in connection:
                await asyncio.to_thread(bridge.handle, grant, raw, post)
        except ConnectionClosed:
            pass
        except Closed as closed:
            await connection.close(1008, closed.detail[:120])
        finally:
            watcher.cancel()

    async with ws_serve(handler, host, port, process_request=process_request, max_size=TRANSPORT_MAX_BYTES) as server:
        if ready is not None:
            ready(server.sockets[0].getsockname()[:2])
        await asyncio.Future()  # until cancelled
