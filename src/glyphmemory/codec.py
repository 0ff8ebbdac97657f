"""The `z` payload of write URLs: base64url (no padding) of gzip(UTF-8 text).

Decoding is bounded while it runs: decompression stops one byte past MAX_TEXT_BYTES, so a
gzip bomb costs at most that much output (and the 8 KiB URL it came in), never its full size.
"""

from __future__ import annotations

import binascii
import re
import zlib

from . import b64url, names
from .errors import InvalidInput

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_MAX_PAYLOAD_CHARS = 8 * 1024 * 1024


class CodecError(InvalidInput):
    """A `z` payload that cannot be turned into text; the detail says what is wrong."""

    slug = "bad-payload"


def encode(text: str) -> str:
    import gzip  # only the writer (the CLI) compresses; the server only decodes, with zlib

    raw = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    return b64url.encode(raw)


def decode(payload: str, *, limit: int = names.MAX_TEXT_BYTES) -> str:
    if not payload:
        raise CodecError("z is empty: it must hold base64url of gzip-compressed text")
    # The URL limit (8 KiB) already bounds z on the way in; this cap only keeps direct callers
    # from handing over unbounded input. Decompression below is bounded on its own.
    if len(payload) > _MAX_PAYLOAD_CHARS or not _B64URL_RE.fullmatch(payload):
        raise CodecError("z is not base64url (letters, digits, '-' and '_')")
    try:
        raw = b64url.decode(payload)
    except (binascii.Error, ValueError):
        raise CodecError("z is not valid base64url") from None
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing only
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise CodecError("z is not gzip data: compress the UTF-8 text with gzip first") from None
    if len(out) > limit:
        raise CodecError(f"z decompresses to more than {limit} bytes (32 KiB): shorten the memory")
    if not inflater.eof:
        raise CodecError("z holds truncated gzip data")
    if inflater.unused_data:
        raise CodecError("z has data after the end of the gzip stream")
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        raise CodecError("z decompresses to bytes that are not UTF-8 text") from None
    if not text.strip():
        raise CodecError("z decompresses to empty text")
    return text
