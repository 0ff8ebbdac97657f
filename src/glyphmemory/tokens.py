"""Window tokens `kid.scope.exp.sig`: short HMAC-signed grants that fit a chat URL (≤ 64 chars)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import namedtuple
from collections.abc import Callable

from . import b64url, names
from .errors import InvalidInput, Unauthorized

SCOPES = names.SCOPES
# What each scope may do: admin covers everything, rw covers read and write.
_GRANTS = {"r": {"r"}, "w": {"w"}, "rw": {"r", "w"}, "a": {"r", "w", "a"}}
_TOKEN_RE = re.compile(rf"({names.KID_PATTERN})\.(r|w|rw|a)\.([0-9]{{1,12}})\.([A-Za-z0-9_-]{{22}})")


class Grant(namedtuple("Grant", "kid scope exp key", defaults=(None,))):
    """What a verified credential allows: key id, scope, expiry (unix seconds) and `key`, the
    fingerprint of the secret that signed it (keys.fingerprint; None where no credential was
    checked, as for the local stdio MCP server). A namedtuple: no dataclasses import on the CLI path."""

    __slots__ = ()

    def allows(self, needed: str) -> bool:
        return needed in _GRANTS[self.scope]


def _signature(secret: bytes, kid: str, scope: str, exp: int) -> str:
    mac = hmac.new(secret, f"{kid}.{scope}.{exp}".encode(), hashlib.sha256).digest()
    return b64url.encode(mac[: names.TOKEN_SIG_BYTES])


def mint_window_token(kid: str, secret: bytes, scope: str, exp: int) -> str:
    if scope not in SCOPES:
        raise InvalidInput("scope must be one of r, w, rw, a")
    token = f"{kid}.{scope}.{exp}.{_signature(secret, kid, scope, exp)}"
    if len(token) > names.MAX_TOKEN_CHARS:
        raise InvalidInput(f"kid is too long: a token must fit {names.MAX_TOKEN_CHARS} characters")
    return token


def verify_window_token(token: str, secret_for: Callable[[str], bytes | None], now_s: float) -> Grant:
    """The grant a token carries, or Unauthorized. Every failure says the same few words."""
    refused = Unauthorized("the token is invalid or expired: mint a new one (glyph token)")
    if len(token) > names.MAX_TOKEN_CHARS:
        raise refused
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        raise refused
    kid, scope, exp_text, sig = match.groups()
    exp = int(exp_text)
    if exp_text != str(exp):  # 0001700000000 would spell the same token again
        raise refused
    secret = secret_for(kid)
    # Compare against a signature even for an unknown kid, so timing says nothing about kids.
    expected = _signature(secret or b"\x00" * 20, kid, scope, exp)
    if not hmac.compare_digest(sig.encode(), expected.encode()) or secret is None:
        raise refused
    if exp <= now_s or exp > now_s + names.MAX_TOKEN_TTL_S + 300:
        raise refused
    return Grant(kid, scope, exp)


def scope_covers(outer: str, inner: str) -> bool:
    """Whether a token of scope `outer` may mint one of scope `inner`."""
    return _GRANTS[inner] <= _GRANTS[outer]
