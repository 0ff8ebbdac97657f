"""The one auth component (glyphmemory.auth) on both stores: a code or a token becomes a grant,
and a grant stays alive only while its key is the one that signed (not revoked, not revoked and
added again, not a rotated root key), it has not expired, and its scope covers the operation;
a sign-in token is spent once; a minted token is never wider nor longer-lived than its grant."""

from __future__ import annotations

import pyotp
import pytest

from glyphmemory.auth import Auth
from glyphmemory.errors import Forbidden, Unauthorized
from glyphmemory.keys import DEVICE_GROUP, Key, Keyring, new_key
from glyphmemory.tokens import mint_window_token

NOW = 1_800_000_015.0


class Clock:
    def __init__(self, now: float = NOW):
        self.now = now

    def now_s(self) -> float:
        return self.now


@pytest.fixture
def auth(store):
    return Auth(Keyring(new_key(), store), store, Clock())


def token(key, scope: str = "rw", exp: float = NOW + 600) -> str:
    return mint_window_token(key.kid, key.secret, scope, int(exp))


def test_a_grant_lives_while_its_key_does(auth, store):
    device, _ = auth.keyring.add_device("phone", NOW)
    grant = auth.token(token(device), "rw")
    assert grant.key and auth.check(grant, "r") == grant
    auth.keyring.revoke(device.kid)
    with pytest.raises(Unauthorized, match="revoked"):
        auth.check(grant)
    # The same kid back with a new salt (a new secret): the old grant stays dead.
    record = {"name": "phone", "salt": "0123456789abcdef", "created_at": int(NOW)}
    assert store.records_put_if(DEVICE_GROUP, device.kid, record, expected_version=0)
    assert auth.keyring.secret_for(device.kid) is not None and not auth.alive(grant)


def test_a_rotated_root_key_ends_the_old_roots_grants(auth, store):
    grant = auth.token(token(auth.keyring.root))
    rotated = Auth(Keyring(Key(auth.keyring.root.kid, new_key().secret_b32), store), store, auth.clock)
    assert auth.alive(grant) and not rotated.alive(grant)


def test_expiry_and_scope(auth):
    grant = auth.token(token(auth.keyring.root, "r", NOW + 5))
    with pytest.raises(Forbidden, match="does not allow write"):
        auth.check(grant, "w")
    with pytest.raises(Forbidden, match="does not allow write"):
        auth.token(token(auth.keyring.root, "r"), "rw")
    auth.clock.now = NOW + 5
    with pytest.raises(Unauthorized, match="expired"):
        auth.check(grant, "r")


def test_a_sign_in_token_is_spent_once_and_a_peek_spends_nothing(auth):
    once = token(auth.keyring.root)
    auth.token(once, once="peek")
    auth.token(once, once="peek")
    auth.token(once, once=True)
    for how in ("peek", True):
        with pytest.raises(Unauthorized, match="used already"):
            auth.token(once, once=how)
    auth.token(once, "r")  # spent for sign-ins only: the API still takes it while it lives


def test_a_code_gives_an_rw_grant_and_a_minted_token_never_outgrows_it(auth):
    code = pyotp.TOTP(auth.keyring.root.secret_b32).at(NOW)
    grant = auth.code(code, None, source="test", ttl_s=3600)
    assert (grant.kid, grant.scope, grant.exp) == (auth.keyring.root.kid, "rw", int(NOW) + 3600)
    minted, exp = auth.mint(grant, "w", 30 * 86400)
    assert exp == grant.exp and auth.token(minted).scope == "w"
    with pytest.raises(Forbidden):
        auth.mint(grant, "a", 60)
    narrow = auth.token(minted)
    with pytest.raises(Forbidden):
        auth.mint(narrow, "rw", 60)
