"""TOTP verification (RFC 6238 vectors through the service's own code) and basic-auth hashing."""

from __future__ import annotations

import base64

import pyotp
import pytest

from glyphmemory.basic_auth import BasicAuth, hash_password
from glyphmemory.errors import InvalidInput, Unauthorized
from glyphmemory.totp import match_step

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # GEZDGNBV...
RFC_VECTORS = [  # RFC 6238 Appendix B, SHA-1, 8 digits
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def test_the_rfc_secret_is_the_published_base32():
    assert RFC_SECRET == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.mark.parametrize("at,code", RFC_VECTORS)
def test_rfc6238_sha1_vectors(at, code):
    assert match_step(RFC_SECRET, code, at) == at // 30
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    assert match_step(RFC_SECRET, wrong, at) is None


def test_one_step_of_drift_either_way_and_no_more():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_015.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        assert match_step(secret, totp.at(now, counter_offset=offset), now) == step + offset
    for offset in (-3, -2, 2, 3):
        assert match_step(secret, totp.at(now, counter_offset=offset), now) is None


def test_a_code_no_newer_than_the_last_accepted_step_is_refused():
    secret = pyotp.random_base32()
    now = 1_800_000_015.0
    code = pyotp.TOTP(secret).at(now)
    step = int(now // 30)
    assert match_step(secret, code, now, after=step - 1) == step
    assert match_step(secret, code, now, after=step) is None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_checks_a_salted_hash():
    spec = "owner:" + hash_password("correct horse battery")
    assert "correct horse" not in spec
    auth = BasicAuth(spec)
    auth.check(_basic("owner", "correct horse battery"))
    auth.check(_basic("owner", "correct horse battery"))  # remembered: no second scrypt
    bad = [
        None,
        "",
        "Bearer x",
        _basic("owner", "wrong"),
        _basic("other", "correct horse battery"),
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff:\xfe").decode(),
    ]
    for header in bad:
        with pytest.raises(Unauthorized) as info:
            auth.check(header)
        assert info.value.headers["WWW-Authenticate"].startswith("Basic ")


def test_two_hashes_of_one_password_differ():
    assert hash_password("same password!") != hash_password("same password!")


@pytest.mark.parametrize("spec", ["owner", "owner:plaintext", ":scrypt$1$1$1$a$b", "u:scrypt$x$8$1$a$b"])
def test_a_malformed_basic_auth_setting_is_refused(spec):
    with pytest.raises(InvalidInput):
        BasicAuth(spec)
