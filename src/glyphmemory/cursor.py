"""Opaque page cursors, signed so that a forged or garbled one is refused, not obeyed."""

from __future__ import annotations

import binascii
import hashlib
import hmac

from . import b64url
from .errors import InvalidInput
from .model import Cursor, is_memory_id

_SIG_CHARS = 16


def _sign(key: bytes, namespace: str, payload: str) -> str:
    mac = hmac.new(key, f"cursor|{namespace}|{payload}".encode(), hashlib.sha256).digest()
    return b64url.encode(mac)[:_SIG_CHARS]


def encode_cursor(cursor: Cursor, namespace: str, key: bytes) -> str:
    payload = b64url.encode(f"{cursor.epoch_us}:{cursor.id}".encode())
    return f"{payload}.{_sign(key, namespace, payload)}"


def decode_cursor(token: str, namespace: str, key: bytes) -> Cursor:
    """The cursor, if it was made by this server for this namespace; else InvalidInput."""
    bad = InvalidInput(
        "before is not a cursor from this server for this namespace: "
        "pass the 'next' value of the previous page unchanged"
    )
    if len(token) > 200 or token.count(".") != 1:
        raise bad
    payload, sig = token.split(".")
    if not hmac.compare_digest(sig.encode(), _sign(key, namespace, payload).encode()):
        raise bad
    try:
        raw = b64url.decode(payload).decode("ascii")
        epoch_text, memory_id = raw.split(":")
        epoch_us = int(epoch_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    # Signed by this server, so any epoch it carries is one it read from the store.
    if not is_memory_id(memory_id):
        raise bad
    return Cursor(epoch_us, memory_id)
