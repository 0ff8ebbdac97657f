"""Signing keys: the root key's kid and secret, from GLYPH_KEY or a 0600 file.

A secret is 160 random bits in base32, so the same key also works in an authenticator app.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from dataclasses import dataclass

from . import names
from .errors import InvalidInput

_KID_RE = re.compile(names.KID_PATTERN)


@dataclass(frozen=True)
class Key:
    kid: str
    secret_b32: str

    @property
    def secret(self) -> bytes:
        return decode_secret(self.secret_b32)

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Key(kid={self.kid!r}, secret=<hidden>)"


def decode_secret(secret_b32: str) -> bytes:
    try:
        raw = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    except (binascii.Error, ValueError):
        raise InvalidInput("the key's secret is not base32") from None
    if len(raw) < 20:
        raise InvalidInput("the key's secret is shorter than 160 bits")
    return raw


def new_key(kid: str = names.ROOT_KID) -> Key:
    return Key(kid, base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("="))


def parse_key(text: str) -> Key:
    """`kid:SECRET` (the GLYPH_KEY form)."""
    kid, sep, secret = text.strip().partition(":")
    if not sep or not _KID_RE.fullmatch(kid):
        raise InvalidInput(f"{names.ENV_KEY} must look like kid:BASE32SECRET")
    key = Key(kid, secret)
    key.secret  # validates
    return key


def load_key_file(path: str) -> Key:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        key = Key(data["kid"], data["secret"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"the key file {path} cannot be read ({type(exc).__name__})") from None
    key.secret
    return key


def write_key_file(path: str, key: Key, *, overwrite: bool = False) -> None:
    """Write the key 0600; never replace an existing key unless told to."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"kid": key.kid, "secret": key.secret_b32}, fh)
        fh.write("\n")


def ensure_key_file(path: str) -> tuple[Key, bool]:
    """The key at path, created on first use. Returns the key and whether it was created."""
    try:
        key = new_key()
        write_key_file(path, key)
        return key, True
    except FileExistsError:
        return load_key_file(path), False


class Keyring:
    """The keys a server accepts tokens from. Device keys join it with the auth issue."""

    def __init__(self, root: Key):
        self.root = root
        self._secrets = {root.kid: root.secret}

    def secret_for(self, kid: str) -> bytes | None:
        return self._secrets.get(kid)
