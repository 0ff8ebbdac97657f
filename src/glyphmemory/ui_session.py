"""The web page's sessions: a signed cookie naming a session record in the store.

The cookie is `sid.signature` (HMAC with a key derived from the root secret), `HttpOnly`,
`SameSite=Strict`, `Secure` on https, `Path=/ui`, at most 12 h. The record (`ui-session`/sid)
holds the key id, the scope granted at sign-in, the CSRF token every changing form must carry,
and its expiry: signing out deletes it, so a copied cookie ends with it. One-time sign-in links
(`glyph ui`) are window tokens whose signature is recorded as used (`ui-link`) the first time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from . import b64url
from .errors import Unauthorized

SESSIONS, LINKS = "ui-session", "ui-link"
COOKIE = "glyph_ui"
SESSION_TTL_S = 12 * 3600


def _key(root_secret: bytes) -> bytes:
    return hmac.new(root_secret, b"glyphmemory ui session v1", hashlib.sha256).digest()


def _sign(root_secret: bytes, sid: str) -> str:
    return b64url.encode(hmac.new(_key(root_secret), sid.encode(), hashlib.sha256).digest()[:24])


def start(
    store, root_secret: bytes, kid: str, scope: str, *, secure: bool, lifetime_s: int = SESSION_TTL_S
) -> tuple[str, dict]:
    """A new session: (Set-Cookie value, record)."""
    sid = b64url.encode(os.urandom(18))
    lifetime_s = max(60, min(lifetime_s, SESSION_TTL_S))
    record = {
        "kid": kid,
        "scope": scope,
        "csrf": b64url.encode(os.urandom(18)),
        "expires_at": int(time.time()) + lifetime_s,
    }
    store.auth_put(SESSIONS, sid, record, expected_version=0, expires_at=record["expires_at"])
    return cookie(f"{sid}.{_sign(root_secret, sid)}", lifetime_s, secure=secure), record


def cookie(value: str, max_age: int, *, secure: bool) -> str:
    return f"{COOKIE}={value}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


def current(store, root_secret: bytes, cookie_header: str | None) -> tuple[str, dict] | None:
    """(sid, record) of a live session the request's cookie names, else None."""
    value = None
    for part in (cookie_header or "").split(";"):
        name, _, raw = part.strip().partition("=")
        if name == COOKIE:
            value = raw
    sid, _, signature = (value or "").partition(".")
    if not sid or len(sid) > 40 or not hmac.compare_digest(signature.encode(), _sign(root_secret, sid).encode()):
        return None
    record = store.auth_get(SESSIONS, sid)[0]
    if record is None or record.get("expires_at", 0) <= time.time():
        return None
    return sid, record


def end(store, sid: str) -> None:
    store.auth_delete(SESSIONS, sid)


def use_link_once(store, signature: str, expires_at: int) -> None:
    """A sign-in link works once: its token's signature is recorded, a second use refused."""
    if not store.auth_put(LINKS, signature, {"expires_at": expires_at}, expected_version=0, expires_at=expires_at):
        raise Unauthorized("this sign-in link was used already: run glyph ui again")


def csrf_ok(record: dict, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(record["csrf"].encode(), sent.encode())
