"""The memory model: validation, normalisation, ids, clock. No store, no HTTP."""

from __future__ import annotations

import sys

import pytest

from glyphmemory import names
from glyphmemory.errors import InvalidInput
from glyphmemory.model import (
    Clock,
    content_hash,
    is_memory_id,
    iso_from_epoch_us,
    new_memory,
    new_ulid,
    normalise_text,
    validate_namespace,
    validate_tags,
)


def test_text_is_normalised_for_dedup():
    assert normalise_text("  a\r\nb  \r\n\tc\t \n") == "a\nb\n\tc"
    assert normalise_text("e\u0301") == "\u00e9"  # NFC


@pytest.mark.parametrize("bad", ["", "   ", "\n\t\n", None, 5, "a\x00b", "\ud800"])
def test_bad_text_is_refused(bad):
    with pytest.raises(InvalidInput):
        normalise_text(bad)


def test_text_limit_is_32_kib_of_utf8():
    assert normalise_text("a" * names.MAX_TEXT_BYTES)
    with pytest.raises(InvalidInput, match="32 KiB"):
        normalise_text("a" * (names.MAX_TEXT_BYTES + 1))
    with pytest.raises(InvalidInput):
        normalise_text("é" * (names.MAX_TEXT_BYTES // 2 + 1))  # 2 bytes each


@pytest.mark.parametrize("ns", ["default", "a", "proj.x_y-z", "0" + "a" * 63])
def test_good_namespaces(ns):
    assert validate_namespace(ns) == ns


@pytest.mark.parametrize("ns", ["../x", "Upper", "a" * 65, "", "-a", "a b", 3, "ä"])
def test_bad_namespaces(ns):
    with pytest.raises(InvalidInput):
        validate_namespace(ns)


def test_tags():
    assert validate_tags([" infra ", "aws", "infra"]) == ("infra", "aws")
    assert validate_tags(None) == ()
    for bad in ("infra", [1], [""], ["a,b"], ["x" * 65], ["t"] * 17):
        with pytest.raises(InvalidInput):
            validate_tags(bad)
    assert len(validate_tags([f"t{i}" for i in range(16)])) == 16


def test_ulids_sort_by_time_and_are_url_safe():
    a, b = new_ulid(1_000), new_ulid(2_000)
    assert a < b and is_memory_id(a) and is_memory_id(b)
    assert not is_memory_id("../etc/passwd") and not is_memory_id(a.lower())


def test_clock_never_repeats():
    clock = Clock()
    ticks = [clock.now_us() for _ in range(10_000)]
    assert ticks == sorted(set(ticks))


def test_new_memory_fields():
    m = new_memory(text=" hi ", clock=Clock(), tags=["x"], ttl_days=1, source="cli")
    assert m.text == "hi" and m.namespace == "default" and m.source == "cli"
    assert m.content_hash == content_hash("default", "hi")
    assert m.expires_at and m.created_at.endswith("Z") and len(m.created_at) == 24
    for bad in (0, -1, "1", True, names.MAX_TTL_DAYS + 1, float("nan")):
        with pytest.raises(InvalidInput):
            new_memory(text="x", clock=Clock(), ttl_days=bad)


def test_iso_time_has_milliseconds():
    assert iso_from_epoch_us(1_700_000_000_123_456) == "2023-11-14T22:13:20.123Z"


def test_iso_time_matches_datetime_at_every_edge():
    """Rendered by arithmetic: the same text datetime gives, at day, leap-day and range ends."""
    from datetime import UTC, datetime

    for at in ("1970-01-01T00:00:00", "2024-02-29T23:59:59", "2100-03-01T00:00:00", "9999-12-31T23:59:59"):
        epoch_us = int(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()) * 1_000_000 + 999_999
        assert iso_from_epoch_us(epoch_us) == at + ".999Z"
    assert iso_from_epoch_us(-1) == "1970-01-01T00:00:00.000Z"  # clamped, as before
    assert iso_from_epoch_us(10**20) == "9999-12-31T23:59:59.999Z"


def test_domain_imports_no_storage_driver():
    import subprocess

    code = (
        "import sys, glyphmemory.service, glyphmemory.context, glyphmemory.search, glyphmemory.model;"
        "print(' '.join(m for m in ('boto3', 'sqlite3', 'botocore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
