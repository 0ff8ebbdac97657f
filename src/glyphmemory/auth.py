"""The one auth component behind every door (DESIGN.md §14, issue 21 §1–2).

A door hands it a credential and gets a `Grant` (kid, scope, exp, key):

- `token(text, needed)`: a window token (`kid.scope.exp.sig`), checked by HMAC, expiry and scope;
  `once=True` also spends it (a sign-in link works once, on every sign-in path);
- `code(code, kid, ...)`: a person's TOTP code for `kid` (the root key's when none is named),
  single use and throttled (totp.check_code); the grant is `rw` for the lifetime the door asks.

Whatever the door opened with that grant (a page session, a bridge connection, a connector
grant) is re-checked with `check(grant, needed)` at every use (request, frame, refresh): the key
is still the one that signed (not revoked, not rotated: `key` is a fingerprint of its secret), the
grant has not expired, and its scope allows this operation (`r`, `w` or `a`). Each door turns the
grant into its own artefact (window token, cookie session, OAuth code, WebSocket principal).
A revoked key ends what it opened at once on a local server; on AWS within the key cache (30 s).
"""

from __future__ import annotations

import hmac

from .errors import Forbidden, Unauthorized
from .keys import fingerprint
from .tokens import Grant, mint_window_token, scope_covers

SPENT = "ui-link"  # signatures of tokens spent on a one-use sign-in (the group's name predates `once`)
_WORDS = {"r": "read", "w": "write", "a": "admin"}


class Auth:
    """Credentials to grants, and grants checked; one per App (`app.auth`)."""

    def __init__(self, keyring, store, clock):
        self.keyring, self.store, self.clock = keyring, store, clock

    @property
    def root_kid(self) -> str:
        return self.keyring.root.kid

    # --- credentials → grants -------------------------------------------------------------------

    def token(self, token: str, needed: str | None = None, *, once: bool | str = False) -> Grant:
        """The grant of a window token: Unauthorized (401) when it is not valid, expired, or
        (`once`) spent already; Forbidden (403) when its scope does not cover `needed`.
        `once=True` spends it (a sign-in token works once, on every sign-in path); `once="peek"`
        only checks that it is not spent yet. A sign-in path also takes a sign-in link's token
        (keys.SUBKEY_SIGN_IN), which no other door does."""
        grant = self._sign_in_link(token) if once else None
        grant = grant or self.keyring.verify(token, self.clock.now_s())
        if needed is not None:
            require(grant, needed)
        if once:
            self._once(token, grant, spend=once is True)
        return grant

    def _sign_in_link(self, token: str) -> Grant | None:
        """The grant of a sign-in link's token (`glyph ui`: signed by its key's SUBKEY_SIGN_IN,
        so that it is a bearer token at no other door), or None when it is not one."""
        from .keys import SUBKEY_SIGN_IN

        try:
            return self.keyring.verify(token, self.clock.now_s(), purpose=SUBKEY_SIGN_IN)
        except Unauthorized:
            return None

    def _once(self, token: str, grant: Grant, *, spend: bool) -> None:
        """Unauthorized if this sign-in token was spent already; `spend` records it (its
        signature, until the token expires), else it is only looked up."""
        name = token.rsplit(".", 1)[-1]
        if spend:
            fresh = self.store.records_put_if(
                SPENT, name, {"expires_at": grant.exp}, expected_version=0, expires_at=grant.exp
            )
        else:
            fresh = self.store.records_get(SPENT, name)[0] is None
        if not fresh:
            raise Unauthorized("this sign-in link was used already: run glyph ui again")

    def code(self, code: object, kid: str | None, *, source: str, ttl_s: int, client_id: str | None = None) -> Grant:
        """The grant of a person's TOTP code for `kid` (default: the root key): scope `rw`,
        `ttl_s` seconds. 400 for a malformed code or kid, 401 wrong or used, 429 throttled.
        `source`: the client's address; `client_id`: the OAuth client at /authorize (totp.py)."""
        from .totp import check_code

        kid = kid or self.root_kid
        now = self.clock.now_s()
        check_code(self.store, self.keyring, kid, code, now, source, client_id)
        return Grant(kid, "rw", int(now) + ttl_s, self._key(kid))

    # --- grants: alive? -------------------------------------------------------------------------

    def check(self, grant: Grant, needed: str | None = None) -> Grant:
        """The grant again if it is still alive and allows `needed`: Unauthorized when it expired
        or its key was revoked (or replaced), Forbidden when its scope does not cover `needed`."""
        if grant.exp <= self.clock.now_s():
            raise Unauthorized("the sign-in has expired: sign in again")
        if not self.alive_key(grant.kid, grant.key):
            raise Unauthorized("the key that signed in was revoked: sign in again")
        if needed is not None:
            require(grant, needed)
        return grant

    def alive(self, grant: Grant, needed: str | None = None) -> bool:
        try:
            self.check(grant, needed)
        except (Unauthorized, Forbidden):
            return False
        return True

    def alive_key(self, kid: str, key: str | None = None) -> bool:
        """Whether `kid` is a key this server accepts (and, with `key`, still the same secret)."""
        secret = self.keyring.secret_for(kid)
        return secret is not None and (key is None or hmac.compare_digest(fingerprint(secret), key))

    # --- grants → tokens ------------------------------------------------------------------------

    def mint(self, grant: Grant, scope: str, ttl_s: int) -> tuple[str, int]:
        """(token, exp): a window token of `scope` for the grant's key, never wider than the grant
        (Forbidden) and never outliving it."""
        if not scope_covers(grant.scope, scope):
            raise Forbidden(f"a token of scope '{grant.scope}' cannot mint scope '{scope}'")
        exp = min(int(self.clock.now_s()) + ttl_s, grant.exp)
        return mint_window_token(grant.kid, self.keyring.secret_for(grant.kid), scope, exp), exp

    def _key(self, kid: str) -> str | None:
        secret = self.keyring.secret_for(kid)
        return None if secret is None else fingerprint(secret)


def require(grant: Grant, needed: str) -> None:
    """Forbidden unless the grant's scope allows each letter of `needed` (`r`, `w`, `rw` or `a`)."""
    missing = [_WORDS[n] for n in needed if not grant.allows(n)]
    if missing:
        raise Forbidden(
            f"this token's scope '{grant.scope}' does not allow {' and '.join(missing)}; mint one that does"
        )
