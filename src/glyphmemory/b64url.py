"""base64url without padding (RFC 4648 §5), as tokens, cursors, chat payloads and password
hashes spell their bytes: short, and safe in a URL without percent-encoding."""

from __future__ import annotations

import base64


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """The bytes; padding may be given or left out. Raises binascii.Error or ValueError."""
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
