"""Fetching client ID metadata documents: a client that names itself by an https URL (claude.ai,
ChatGPT) is described by the JSON document at that URL (draft-ietf-oauth-client-id-metadata-
document). Which URLs may be fetched is the trusted-client table's (oauth_clients.cimd_row);
what a document grants is oauth.py's.

Anyone can name such a URL at /authorize, so a fetch is bounded as a whole (CIMD_DEADLINE_S
from connect to last byte, MAX_CIMD_BYTES), its document kept CIMD_TTL_S and its failure
CIMD_FAILURE_TTL_S (at most MAX_CACHED URLs), and the /authorize routes run it (`prefetch`)
before the server's one-at-a-time section: a slow host stalls no one else.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from .oauth import OAuthError

MAX_CIMD_BYTES = 5 * 1024
CIMD_DEADLINE_S = 5.0
CIMD_TTL_S = 300
CIMD_FAILURE_TTL_S = 30
MAX_CACHED = 256

_cache: OrderedDict[str, tuple[float, dict | OAuthError]] = OrderedDict()
_cache_lock = threading.Lock()


def fetch_document(url: str) -> dict:
    """The document at url (trusted by the caller): a JSON object naming itself as client_id,
    with a redirect_uris array. OAuthError 401 when it cannot be read in time, is too large,
    is not JSON, is nested too deeply or does not name itself; a failure is remembered for
    CIMD_FAILURE_TTL_S, so repeated requests naming a slow host do not each wait for it."""
    with _cache_lock:
        cached = _cache.get(url)
    if cached is None or cached[0] <= time.monotonic():
        try:
            found: dict | OAuthError = _document(url, _fetch(url))
        except OAuthError as error:
            found = error
        ttl = CIMD_FAILURE_TTL_S if isinstance(found, OAuthError) else CIMD_TTL_S
        cached = (time.monotonic() + ttl, found)
        with _cache_lock:
            _cache[url] = cached
            _cache.move_to_end(url)
            while len(_cache) > MAX_CACHED:
                _cache.popitem(last=False)
    if isinstance(cached[1], OAuthError):
        raise cached[1]
    return cached[1]


def prefetch(client_id: object, clients: tuple) -> None:
    """Fetch a trusted URL client_id's document into the cache, outside the server's
    one-at-a-time section; the route finds it there (errors are the route's to report).
    `clients`: the trusted-client table (oauth_clients.table(settings))."""
    from .oauth_clients import cimd_row
    from .redirect_uris import valid_redirect_uri

    if not (isinstance(client_id, str) and client_id.startswith("https://") and valid_redirect_uri(client_id)):
        return
    if cimd_row(client_id, clients) is not None:
        try:
            fetch_document(client_id)
        except OAuthError:
            pass


def _document(url: str, raw: bytes | None) -> dict:
    try:
        doc = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):  # RecursionError: [[[…]]] thousands deep
        doc = None
    if not isinstance(doc, dict) or doc.get("client_id") != url or not isinstance(doc.get("redirect_uris"), list):
        raise OAuthError(
            "invalid_client", "the client ID metadata document could not be read or does not name itself", 401
        )
    return doc


def _fetch(url: str) -> bytes | None:
    """The body of a 200 answer over verified HTTPS within the deadline and size, else None.
    Redirects are not followed. A timer shuts the socket at the deadline: per-read timeouts
    alone would let a host that sends a byte at a time hold the fetch as long as it likes."""
    import http.client
    import socket
    import ssl

    parts = urlsplit(url)
    started = time.monotonic()
    conn = http.client.HTTPSConnection(
        parts.hostname, parts.port or 443, timeout=CIMD_DEADLINE_S, context=ssl.create_default_context()
    )

    connected: list = []  # the socket: http.client lets go of it once an answer says it closes

    def cut() -> None:
        sock = connected[0] if connected else conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(CIMD_DEADLINE_S, cut)
    timer.daemon = True
    timer.start()
    try:
        conn.connect()
        connected.append(conn.sock)
        conn.request("GET", parts.path, headers={"Accept": "application/json", "User-Agent": "GlyphMemory"})
        reply = conn.getresponse()
        raw = reply.read(MAX_CIMD_BYTES + 1) if reply.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        timer.cancel()
        conn.close()
    if raw is None or len(raw) > MAX_CIMD_BYTES or time.monotonic() - started > CIMD_DEADLINE_S:
        return None
    return raw
