"""The z codec: round trip, and one clear error for every kind of bad payload, within bounds."""

from __future__ import annotations

import base64
import gzip
import tracemalloc
import zlib

import pytest

from glyphmemory.codec import CodecError, decode, encode

from ..support.bounds_probe import gzip_bomb


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("text", ["a", "héllo wörld ✓ 日本語 🧠", "x" * 32 * 1024, "# md\n\n- item\n```py\nx = 1\n```"])
def test_round_trip(text):
    z = encode(text)
    assert decode(z) == text and "=" not in z and "+" not in z and "/" not in z


def test_padding_is_optional():
    z = encode("padding check")
    assert decode(z + "=" * (-len(z) % 4)) == "padding check"


@pytest.mark.parametrize(
    "payload,words",
    [
        ("", "empty"),
        ("not base64!", "base64url"),
        ("a+b/", "base64url"),
        ("QUJD", "gzip"),  # base64 of "ABC", not gzip
        (b64(zlib.compress(b"deflate, not gzip")), "gzip"),
        (b64(gzip.compress(b"truncated stream", mtime=0)[:-6]), "truncated"),
        (b64(gzip.compress(b"ok", mtime=0) + b"trailing"), "after the end"),
        (b64(gzip.compress(b"\xff\xfe not utf-8", mtime=0)), "UTF-8"),
        (b64(gzip.compress(b"   \n ", mtime=0)), "empty"),
        (b64(gzip.compress(b"x" * (32 * 1024 + 1), mtime=0)), "32 KiB"),
    ],
)
def test_bad_payloads_raise_one_codec_error(payload, words):
    with pytest.raises(CodecError) as info:
        decode(payload)
    assert words in info.value.detail and info.value.status == 400


def test_a_1_gb_gzip_bomb_is_refused_within_a_few_mb():
    payload = gzip_bomb(1 << 30)  # 1 GiB of zeros
    tracemalloc.start()
    try:
        with pytest.raises(CodecError, match="32 KiB"):
            decode(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"
