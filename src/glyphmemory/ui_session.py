"""The web page's sessions: a signed cookie naming a session record in the store.

The cookie is `sid.signature` (HMAC with the root secret's subkey keys.SUBKEY_UI_SESSION, `key`), `HttpOnly`,
`SameSite=Strict`, `Secure` on https, `Path=/ui`. The record (`ui-session`/sid) holds the grant
that signed in (key id, scope, the key's fingerprint), the CSRF token every changing form must
carry, and its expiry: 12 h, or sooner when the token that signed in expires sooner. Signing out
deletes it, so a copied cookie ends with it; the page checks the grant again on every request
(auth.Auth.check), so a revoked key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from . import b64url
from .tokens import Grant

SESSIONS = "ui-session"
COOKIE = "glyph_ui"
SESSION_TTL_S = 12 * 3600


def _sign(key: bytes, sid: str) -> str:
    return b64url.encode(hmac.new(key, sid.encode(), hashlib.sha256).digest()[:24])


def start(store, key: bytes, grant: Grant, now: float, *, secure: bool) -> tuple[str, dict]:
    """A new session for a grant: (Set-Cookie value, record). It ends when the grant does, or
    after SESSION_TTL_S, whichever comes first."""
    sid = b64url.encode(os.urandom(18))
    expires_at = min(int(now) + SESSION_TTL_S, grant.exp)
    record = {
        "kid": grant.kid,
        "scope": grant.scope,
        "key": grant.key,
        "csrf": b64url.encode(os.urandom(18)),
        "expires_at": expires_at,
    }
    store.records_put_if(SESSIONS, sid, record, expected_version=0, expires_at=expires_at)
    return cookie(f"{sid}.{_sign(key, sid)}", max(expires_at - int(now), 1), secure=secure), record


def grant_of(record: dict) -> Grant:
    """The grant a session acts with (checked again at each request)."""
    return Grant(record["kid"], record["scope"], record["expires_at"], record.get("key"))


def cookie(value: str, max_age: int, *, secure: bool) -> str:
    return f"{COOKIE}={value}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


def current(store, key: bytes, cookie_header: str | None, now: float) -> tuple[str, dict] | None:
    """(sid, record) of an unexpired session the request's cookie names, else None."""
    value = None
    for part in (cookie_header or "").split(";"):
        name, _, raw = part.strip().partition("=")
        if name == COOKIE:
            value = raw
    sid, _, signature = (value or "").partition(".")
    if not sid or len(sid) > 40 or not hmac.compare_digest(signature.encode(), _sign(key, sid).encode()):
        return None
    record = store.records_get(SESSIONS, sid)[0]
    if record is None or record.get("expires_at", 0) <= now:
        return None
    return sid, record


def end(store, sid: str) -> None:
    store.records_delete(SESSIONS, sid)


def csrf_ok(record: dict, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(record["csrf"].encode(), sent.encode())
