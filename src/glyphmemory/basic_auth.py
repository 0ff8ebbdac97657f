"""Optional second layer: HTTP Basic credentials checked against a salted scrypt hash.

GLYPH_BASIC_AUTH holds `user:scrypt$<n>$<r>$<p>$<salt>$<hash>` (make it with
`glyph basic-auth USER`), never the password itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from . import b64url, names
from .errors import InvalidInput, TooManyRequests, Unauthorized

_N, _R, _P = 2**14, 8, 1  # ~16 MB and tens of ms a check: slow for guessing, once per client


FAILURE_WINDOW_S, FAILURES_MAX = 60, 10


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    import secrets  # only here and below: it imports random

    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${b64url.encode(salt)}${b64url.encode(digest)}"


class BasicAuth:
    def __init__(self, spec: str):
        user, sep, hashed = spec.partition(":")
        parts = hashed.split("$")
        try:
            if not (sep and user and len(parts) == 6 and parts[0] == "scrypt"):
                raise ValueError
            self._n, self._r, self._p = (int(x) for x in parts[1:4])
            self._salt, self._digest = b64url.decode(parts[4]), b64url.decode(parts[5])
        except (ValueError, binascii.Error):
            raise InvalidInput(
                f"{names.ENV_BASIC_AUTH} must be user:scrypt$... as printed by `glyph basic-auth USER`"
            ) from None
        self.user = user
        # Credentials that passed once are remembered by a keyed digest, so the scrypt cost is
        # paid once per client and process, while every wrong guess still pays it in full.
        import secrets

        self._process_key = secrets.token_bytes(32)
        self._passed: set[bytes] = set()
        # Wrong passwords cost a scrypt each: at most two run at once, and a client with
        # FAILURES_MAX failures in FAILURE_WINDOW_S is refused (429) without one. Credentials
        # that passed before skip both, so strangers' guesses never slow the owner's clients.
        import threading

        self._scrypt_slots = threading.BoundedSemaphore(2)
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    def _throttled(self, client: str, now: float) -> int:
        """Seconds until `client` may try again (0: now)."""
        with self._lock:
            recent = [t for t in self._failures.get(client, ()) if now - t < FAILURE_WINDOW_S]
            self._failures[client] = recent
            if len(recent) >= FAILURES_MAX:
                return int(recent[0] + FAILURE_WINDOW_S - now) + 1
            return 0

    def _failed(self, client: str, now: float) -> None:
        with self._lock:
            if len(self._failures) >= 10_000:  # bounded memory under many sources
                self._failures.clear()
            self._failures.setdefault(client, []).append(now)

    def check(self, header: str | None, client: str = "") -> None:
        refused = Unauthorized(
            "this server needs HTTP Basic credentials (and a token in X-Glyph-Token or t=)",
            headers={"WWW-Authenticate": 'Basic realm="glyphmemory", charset="UTF-8"'},
        )
        if not header or header[:6].lower() != "basic ":
            raise refused
        mark = hmac.new(self._process_key, header.encode(), hashlib.sha256).digest()
        if mark in self._passed:
            return
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise refused from None
        if not sep:
            raise refused
        now = time.monotonic()
        wait = self._throttled(client, now)
        if wait:
            raise TooManyRequests(
                "too many wrong passwords from here: wait before trying again", headers={"Retry-After": str(wait)}
            )
        with self._scrypt_slots:
            digest = hashlib.scrypt(
                password.encode(), salt=self._salt, n=self._n, r=self._r, p=self._p, dklen=len(self._digest)
            )
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        if not (hmac.compare_digest(digest, self._digest) and user_ok):
            self._failed(client, now)
            raise refused
        if len(self._passed) < 64:
            self._passed.add(mark)
