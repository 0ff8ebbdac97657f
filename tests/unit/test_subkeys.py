"""Keyring.subkey: each purpose's key derived from the root secret once per root key."""

from __future__ import annotations

import hashlib
import hmac

from glyphmemory.keys import SUBKEY_CURSOR, SUBKEY_OAUTH, SUBKEY_UI_SESSION, Keyring, new_key


def test_a_subkey_is_derived_once_per_root_and_anew_for_a_rotated_root():
    keyring = Keyring(new_key())
    first = keyring.subkey(SUBKEY_UI_SESSION)
    # The labels' values are what signed cursors, cookies and OAuth tokens before: they stay valid.
    assert first == hmac.new(keyring.root.secret, b"glyphmemory ui session v1", hashlib.sha256).digest()
    assert keyring.subkey(SUBKEY_UI_SESSION) is first  # cached, not derived on every call
    assert len({keyring.subkey(label) for label in (SUBKEY_CURSOR, SUBKEY_OAUTH, SUBKEY_UI_SESSION)}) == 3
    keyring.root = new_key()  # rotated: what the old subkeys signed no longer verifies
    assert keyring.subkey(SUBKEY_UI_SESSION) != first
    assert keyring.subkey(SUBKEY_UI_SESSION) is keyring.subkey(SUBKEY_UI_SESSION)
