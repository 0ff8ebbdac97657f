"""Signing keys: the root key's kid and secret, from GLYPH_KEY or a 0600 file.

A secret is 160 random bits in base32, so the same key also works in an authenticator app.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import time

from . import names
from .errors import InvalidInput

_KID_RE = re.compile(names.KID_PATTERN)


class Key:
    """A key id and its base32 secret. A plain class: dataclasses would import inspect
    (10 ms) at every CLI start."""

    __slots__ = ("kid", "secret_b32", "_decoded")

    def __init__(self, kid: str, secret_b32: str):
        self.kid = kid
        self.secret_b32 = secret_b32
        self._decoded: tuple[str, bytes] | None = None  # (secret_b32, its bytes)

    @property
    def secret(self) -> bytes:
        """The secret's bytes, decoded once (every request's token check reads them)."""
        decoded = self._decoded
        if decoded is None or decoded[0] is not self.secret_b32:
            decoded = self._decoded = (self.secret_b32, decode_secret(self.secret_b32))
        return decoded[1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and (self.kid, self.secret_b32) == (other.kid, other.secret_b32)

    def __hash__(self) -> int:
        return hash((self.kid, self.secret_b32))

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
    import secrets  # only here: it pulls in random, paid at every CLI start otherwise

    return Key(kid, base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("="))


def parse_key(text: str) -> Key:
    """`kid:SECRET` (the GLYPH_KEY form)."""
    kid, sep, secret = text.strip().partition(":")
    if not sep or not _KID_RE.fullmatch(kid):
        raise InvalidInput(f"{names.ENV_KEY} must look like kid:BASE32SECRET")
    key = Key(kid, secret)
    decode_secret(secret)  # validates: base32, 160 bits or more
    return key


def load_key_file(path: str) -> Key:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        key = Key(data["kid"], data["secret"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"the key file {path} cannot be read ({type(exc).__name__})") from None
    decode_secret(key.secret_b32)  # validates
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


DEVICE_GROUP = "keys"


def derive_device_secret(root_secret: bytes, kid: str, salt: str) -> bytes:
    """A device's secret: HMAC of the root secret, its kid and a random salt.

    Only the root secret exists to protect; the store holds no secret at all. The salt makes
    a kid that is revoked and added again get a new secret.
    """
    return hmac.new(root_secret, f"glyphmemory device {kid} {salt}".encode(), hashlib.sha256).digest()[:20]


def fingerprint(secret: bytes) -> str:
    """A short public name of a key's secret (64 bits of an HMAC of it), equal only for the same
    secret: what a grant keeps so it notices its key was revoked and added again, or rotated."""
    mac = hmac.new(secret, b"glyphmemory key fingerprint v1", hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


# Labels of the root secret's subkeys (Keyring.subkey): one key per purpose, never the secret
# itself. Changing a label ends what was signed with its key (cursors, sessions, OAuth tokens).
SUBKEY_CURSOR = b"glyphmemory cursor v1"
SUBKEY_OAUTH = b"glyphmemory oauth v1"
SUBKEY_UI_SESSION = b"glyphmemory ui session v1"
# A sign-in link's token is signed with its key's subkey for this label (not the key's secret):
# it signs in once, and is a bearer token at no other door (issue 21 §2).
SUBKEY_SIGN_IN = b"glyphmemory sign-in link v1"


def derive_subkey(secret: bytes, label: bytes) -> bytes:
    """HMAC-SHA256(secret, label): 32 bytes, a key for the one purpose `label` names."""
    return hmac.new(secret, label, hashlib.sha256).digest()


class Keyring:
    """The keys a server accepts: the root key, and device keys kept in the store.

    cache_s bounds how long a device key is remembered after it was looked up: 0 locally
    (a revocation takes effect at once), and under 60 s on Lambda, where each container
    would otherwise read the store on every request.
    """

    def __init__(self, root: Key, store=None, *, cache_s: float = 0.0):
        self.root = root
        self.store = store
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, bytes | None]] = {}
        self._subkeys: dict[tuple[bytes, bytes], bytes] = {}

    def subkey(self, label: bytes) -> bytes:
        """The root secret's subkey for `label` (a SUBKEY_* name), derived once per root key: a
        rotated root (a new `root`) gives new subkeys, which ends what the old ones signed."""
        secret = self.root.secret
        key = self._subkeys.get((secret, label))
        if key is None:
            if len(self._subkeys) > 16:  # a few labels; only rotations could grow it
                self._subkeys.clear()
            key = self._subkeys[(secret, label)] = derive_subkey(secret, label)
        return key

    def secret_for(self, kid: str) -> bytes | None:
        if hmac.compare_digest(kid.encode(), self.root.kid.encode()):
            return self.root.secret
        if self.store is None:
            return None
        now = time.monotonic()
        cached = self._cache.get(kid)
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        record, _ = self.store.records_get(DEVICE_GROUP, kid)
        secret = None if record is None else derive_device_secret(self.root.secret, kid, record["salt"])
        if self.cache_s > 0:
            if len(self._cache) > 1024:  # unknown kids must not grow it without bound
                self._cache.clear()
            self._cache[kid] = (now, secret)
        return secret

    def secret_b32_for(self, kid: str) -> str | None:
        secret = self.secret_for(kid)
        return None if secret is None else _b32(secret)

    def verify(self, token: str, now_s: float, purpose: bytes | None = None):
        """The grant of a window token signed by one of these keys; admin scope only from the
        root key, whose tokens alone manage keys (a device key's `a` token is refused whole).
        `purpose` (a SUBKEY_* label): the token is signed by the key's subkey for it instead."""
        from .errors import Forbidden
        from .tokens import verify_window_token

        secrets: dict[str, bytes | None] = {}

        def secret_for(kid: str) -> bytes | None:
            secrets[kid] = self.secret_for(kid)
            if secrets[kid] is None or purpose is None:
                return secrets[kid]
            return derive_subkey(secrets[kid], purpose)

        grant = verify_window_token(token, secret_for, now_s)
        if grant.scope == "a" and grant.kid != self.root.kid:
            raise Forbidden("admin tokens come from the root key only; a device key's tokens are r, w or rw")
        return grant._replace(key=fingerprint(secrets[grant.kid]))

    # --- device keys (admin) ---------------------------------------------------------------

    def add_device(self, name: object, now_s: float) -> tuple[Key, dict]:
        import secrets

        from .model import KEY_NAME  # only here: the CLI's start path never adds keys

        name = KEY_NAME.check(name)
        if name is None:
            raise InvalidInput("name is required")

        for _ in range(5):
            kid = "d" + secrets.token_hex(4)[:7]
            record = {"name": name, "salt": secrets.token_hex(8), "created_at": int(now_s)}
            if self.store.records_put_if(DEVICE_GROUP, kid, record, expected_version=0):
                key = Key(kid, _b32(derive_device_secret(self.root.secret, kid, record["salt"])))
                return key, {"kid": kid, "name": record["name"], "created_at": record["created_at"]}
        raise InvalidInput("could not allocate a key id; try again")

    def list_devices(self) -> list[dict]:
        return [
            {"kid": kid, "name": rec["name"], "created_at": rec["created_at"]}
            for kid, rec in self.store.records_list(DEVICE_GROUP)
        ]

    def revoke(self, kid: str) -> bool:
        self._cache.pop(kid, None)
        return self.store.records_delete(DEVICE_GROUP, kid)


def otpauth_uri(key: Key, label: str) -> str:
    """The otpauth:// URI an authenticator app scans (it holds the secret: show it once)."""
    import pyotp

    return pyotp.TOTP(key.secret_b32).provisioning_uri(name=label, issuer_name="GlyphMemory")
