"""Property tests (Hypothesis): the codec and the parsers of tokens, keys and cursors take any
input and answer with a value or their one documented error, never anything else."""

from __future__ import annotations

import base64
import gzip
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glyphmemory import names
from glyphmemory.codec import CodecError, decode, encode
from glyphmemory.cursor import decode_cursor, encode_cursor
from glyphmemory.errors import InvalidInput, Unauthorized
from glyphmemory.keys import parse_key
from glyphmemory.model import Cursor
from glyphmemory.tokens import SCOPES, mint_window_token, verify_window_token

PROPS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

SECRET = b"k" * 20
NOW = 1_800_000_000
B64URL = string.ascii_letters + string.digits + "-_"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


memory_texts = st.text(min_size=1, max_size=2000).filter(
    lambda t: t.strip() and len(t.encode()) <= names.MAX_TEXT_BYTES
)


@PROPS
@given(memory_texts)
def test_codec_round_trips_any_text(text):
    assert decode(encode(text)) == text


def decodes_or_refuses(payload: str) -> None:
    try:
        assert isinstance(decode(payload), str)
    except CodecError as error:
        assert str(error)  # a sentence for the user, nothing else escapes


@PROPS
@given(st.text(max_size=300))
def test_any_string_is_text_or_a_codec_error(payload):
    decodes_or_refuses(payload)


@PROPS
@given(st.text(alphabet=B64URL, max_size=300))
def test_any_base64url_is_text_or_a_codec_error(payload):
    decodes_or_refuses(payload)


@PROPS
@given(st.binary(max_size=2000))
def test_any_bytes_gzipped_are_text_or_a_codec_error(raw):
    decodes_or_refuses(b64url(gzip.compress(raw, mtime=0)))


@PROPS
@given(memory_texts, st.data())
def test_a_damaged_payload_is_text_or_a_codec_error(text, data):
    raw = bytearray(gzip.compress(text.encode(), mtime=0))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    decodes_or_refuses(b64url(bytes(raw[:cut])))


kids = st.from_regex(rf"\A{names.KID_PATTERN}\Z")
exps = st.integers(NOW + 1, NOW + names.MAX_TOKEN_TTL_S)


@PROPS
@given(kids, st.sampled_from(SCOPES), exps)
def test_tokens_round_trip_and_fit_a_url(kid, scope, exp):
    token = mint_window_token(kid, SECRET, scope, exp)
    assert len(token) <= names.MAX_TOKEN_CHARS
    grant = verify_window_token(token, lambda k: SECRET if k == kid else None, NOW)
    assert (grant.kid, grant.scope, grant.exp) == (kid, scope, exp)


@PROPS
@given(kids, st.sampled_from(SCOPES), exps, st.data())
def test_a_changed_character_breaks_a_token(kid, scope, exp, data):
    token = mint_window_token(kid, SECRET, scope, exp)
    at = data.draw(st.integers(0, len(token) - 1))
    other = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[at]))
    forged = token[:at] + other + token[at + 1 :]
    with pytest.raises(Unauthorized):
        verify_window_token(forged, lambda k: SECRET, NOW)


@PROPS
@given(st.text(max_size=120))
def test_any_string_is_a_grant_or_unauthorized(text):
    try:
        grant = verify_window_token(text, lambda k: SECRET, NOW)
    except Unauthorized:
        return
    assert grant.scope in SCOPES


@PROPS
@given(st.text(max_size=120))
def test_any_key_string_is_a_key_or_invalid_input(text):
    try:
        key = parse_key(text)
    except InvalidInput:
        return
    assert key.secret and key.kid


@PROPS
@given(st.text(max_size=200), st.from_regex(rf"\A{names.NAMESPACE_PATTERN}\Z"))
def test_any_cursor_string_is_a_cursor_or_invalid_input(text, namespace):
    try:
        decode_cursor(text, namespace, SECRET)
    except InvalidInput:
        pass


@PROPS
@given(
    st.integers(0, 2**62),
    st.from_regex(r"\A[0-9A-HJKMNP-TV-Z]{26}\Z"),
    st.from_regex(rf"\A{names.NAMESPACE_PATTERN}\Z"),
)
def test_cursors_round_trip_and_only_for_their_namespace(epoch_us, memory_id, namespace):
    cursor = Cursor(epoch_us, memory_id)
    token = encode_cursor(cursor, namespace, SECRET)
    assert decode_cursor(token, namespace, SECRET) == cursor
    try:
        decode_cursor(token, namespace + "x", SECRET)
    except InvalidInput:
        return
    raise AssertionError("a cursor was accepted for another namespace")
