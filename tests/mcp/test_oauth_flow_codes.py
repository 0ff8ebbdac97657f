"""The test helpers' TOTP codes (oauth_flow.fresh_code, oauth_flow.Codes) still hold when the
sign-in reaches the server: the server takes the previous, current and next 30 s step
(totp.DRIFT_STEPS), the previous only until the current step ends. A previous step's code minted
in a step's last seconds arrived a step later on a loaded machine and was refused ("the code is
wrong, expired or already used"; test_clients' ChatGPT test failed so once)."""

from __future__ import annotations

import pyotp
import pytest

from glyphmemory.totp import match_step

from . import oauth_flow as f

SECRET = pyotp.random_base32()
STEP = 59_000_000  # a step number, its start at STEP * 30 s


@pytest.mark.parametrize("into_step", [0.0, 12.0, 19.9, 20.0, 25.0, 29.9])
def test_a_code_handed_out_is_taken_for_a_while_after(monkeypatch, into_step):
    """Every code either helper gives is one the server takes EDGE_S later (the request's slack)."""
    now = STEP * 30 + into_step
    monkeypatch.setattr(f.time, "time", lambda: now)
    codes = f.Codes.__new__(f.Codes)  # no server: the root key's codes only
    codes.keys = [("root", pyotp.TOTP(SECRET), set())]
    handed = [f.fresh_code(pyotp.TOTP(SECRET), set()), codes.next()[1], codes.next()[1]]
    for code in handed:
        assert match_step(SECRET, code, now + f.EDGE_S) is not None, (into_step, code)
        assert match_step(SECRET, code, now) is not None  # and at once
