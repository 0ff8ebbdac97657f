"""Window tokens and cursors: format, signature, scope, expiry."""

from __future__ import annotations

import time

import pytest

from glyphmemory.auth import require
from glyphmemory.cursor import decode_cursor, encode_cursor
from glyphmemory.errors import Forbidden, InvalidInput, Unauthorized
from glyphmemory.keys import new_key, parse_key
from glyphmemory.model import Cursor, new_ulid
from glyphmemory.tokens import mint_window_token, verify_window_token

KEY = new_key()


def lookup(kid):
    return KEY.secret if kid == KEY.kid else None


def test_token_round_trip_and_length():
    exp = int(time.time()) + 3600
    token = mint_window_token(KEY.kid, KEY.secret, "rw", exp)
    assert len(token) <= 64
    grant = verify_window_token(token, lookup, time.time())
    assert (grant.kid, grant.scope, grant.exp) == ("root", "rw", exp)
    assert grant.allows("r") and grant.allows("w") and not grant.allows("a")


def test_a_long_kid_still_fits_64_characters():
    exp = int(time.time()) + 30 * 86400
    assert len(mint_window_token("k" * 24, KEY.secret, "rw", exp)) <= 64


def _tamper(token: str) -> list[str]:
    kid, scope, exp, sig = token.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    return [
        f"{kid}.{scope}.{exp}.{flipped}",  # signature
        f"{kid}.a.{exp}.{sig}",  # widened scope
        f"{kid}.{scope}.{int(exp) + 1}.{sig}",  # extended expiry
        f"other.{scope}.{exp}.{sig}",  # unknown kid
        f"{kid}.{scope}.{exp}",  # missing part
        token + "x",
        "x" * 10_000,
        "",
        "root.rw.99999999999999999999.AAAAAAAAAAAAAAAAAAAAAA",  # huge exp
        "root.rw.abc.AAAAAAAAAAAAAAAAAAAAAA",
        "röot.rw.1.AAAAAAAAAAAAAAAAAAAAAA",
    ]


def test_tampered_or_malformed_tokens_are_refused():
    token = mint_window_token(KEY.kid, KEY.secret, "r", int(time.time()) + 600)
    for bad in _tamper(token):
        with pytest.raises(Unauthorized):
            verify_window_token(bad, lookup, time.time())


def test_expired_and_too_far_future_tokens_are_refused():
    for exp in (int(time.time()) - 1, int(time.time()) + 40 * 86400):
        token = mint_window_token(KEY.kid, KEY.secret, "rw", exp)
        with pytest.raises(Unauthorized):
            verify_window_token(token, lookup, time.time())


def test_scope_is_enforced():
    grant = verify_window_token(mint_window_token(KEY.kid, KEY.secret, "r", int(time.time()) + 60), lookup, time.time())
    require(grant, "r")
    with pytest.raises(Forbidden):
        require(grant, "w")
    with pytest.raises(InvalidInput):
        mint_window_token(KEY.kid, KEY.secret, "x", 1)


def test_key_parsing():
    key = parse_key(f"dev1:{KEY.secret_b32}")
    assert key.kid == "dev1" and key.secret == KEY.secret
    assert KEY.secret_b32 not in repr(key)
    for bad in ("nocolon", f"UPPER:{KEY.secret_b32}", "k:!!!", "k:AAAA"):
        with pytest.raises(InvalidInput):
            parse_key(bad)


def test_cursors_are_signed_and_bound_to_their_namespace():
    key = b"k" * 32
    cursor = Cursor(1_700_000_000_000_000, new_ulid(1_700_000_000_000))
    token = encode_cursor(cursor, "default", key)
    assert decode_cursor(token, "default", key) == cursor
    payload, sig = token.split(".")
    for bad in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "x" + token,
        "garbage",
        "a.b.c",
        "",
        "x" * 500,
    ):
        with pytest.raises(InvalidInput):
            decode_cursor(bad, "default", key)
    with pytest.raises(InvalidInput):
        decode_cursor(token, "other", key)
    with pytest.raises(InvalidInput):
        decode_cursor(token, "default", b"another key")
