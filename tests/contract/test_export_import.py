"""Export → import → export keeps every field byte for byte, and NDJSON lines end at \\n only:
both stores, into a fresh store of the same kind."""

from __future__ import annotations

import json
import time

import pytest

from glyphmemory.model import Clock
from glyphmemory.service import Memories

# The characters str.splitlines() splits at that JSON allows raw inside a string; the others
# (\v, \f, \x1c-\x1e) must be escaped in JSON, and text refuses them as control characters.
SEPARATORS = ["\u2028", "\u2029", "\u0085"]


@pytest.fixture
def fresh(request, tmp_path):
    """A second, empty store of the same kind as `store`."""
    from glyphmemory.stores.dynamodb import DynamoStore
    from glyphmemory.stores.sqlite import SqliteStore

    from ..conftest import new_dynamo_table

    if request.node.callspec.params["store"] == "sqlite":
        target = SqliteStore(str(tmp_path / "fresh.db"))
    else:
        target = DynamoStore(new_dynamo_table())
    yield Memories(target, Clock())
    target.close()


def full_export(memories: Memories, namespace: str = "default") -> bytes:
    out, cursor = b"", None
    while True:
        body, cursor = memories.export_page(namespace, before=cursor)
        out += body
        if cursor is None:
            return out


def write_every_kind_of_field(memories: Memories) -> None:
    memories.write(text="plain, no extras")
    memories.write(text="tags, session, source", tags=["infra", "naïve", "日本"], session="s-1", source="claude-code")
    memories.write(text="kept a while", ttl_days=3, tags=["ttl"])
    memories.write(text="deploy key AKIAABCDEFGHIJKLMNOP in a note")  # stored with a redaction mark
    edited = memories.write(text="a first draft", tags=["draft"])[0]
    time.sleep(0.002)
    memories.edit(edited.id, text="the corrected text", tags=["final"])  # updated_at set
    memories.write(text="line one\u2028line two\u2029paragraph two", tags=["sep\u2028tag"])
    memories.write(text="multi\nline\n\twith tab", session="sess\u2029ion", source="src\u2028x")


def test_export_import_export_is_byte_identical_for_every_field(memories, fresh):
    write_every_kind_of_field(memories)
    exported = full_export(memories)
    lines = [json.loads(line) for line in exported.split(b"\n") if line]
    assert len(lines) == 7
    assert any(line["updated_at"] for line in lines) and any(line["expires_at"] for line in lines)
    assert any("[redacted:aws-access-key]" in line["text"] for line in lines)

    counts = fresh.import_lines(exported)
    assert counts["imported"] == 7 and counts["duplicates"] == 0
    again = full_export(fresh)
    assert again == exported
    # Field by field too, so a failure names the field.
    for before, after in zip(lines, (json.loads(line) for line in again.split(b"\n") if line), strict=True):
        for field in before:
            assert after[field] == before[field], field


def test_an_export_line_escapes_every_unicode_line_break(memories):
    memories.write(text="a\u2028b\u2029c", session="s\u2028s", tags=["t\u2029t"])
    exported = full_export(memories)
    assert exported.count(b"\n") == 1
    assert exported.decode().splitlines() == [exported.decode().rstrip("\n")]  # safe for naive readers too
    line = json.loads(exported)
    assert (line["text"], line["session"], line["tags"]) == ("a\u2028b\u2029c", "s\u2028s", ["t\u2029t"])


@pytest.mark.parametrize("separator", SEPARATORS)
def test_import_splits_lines_at_newline_only(memories, separator):
    """Lines another tool wrote with the separator raw in its strings (U+0085 is a C1 control,
    which a memory's fields refuse: it sits in a field the import ignores), CRLF line ends."""
    sep = "" if separator == "\u0085" else separator
    lines = [
        {"text": f"before{sep}after", "tags": [f"t{sep}1"], "session": f"s{sep}2", "note": f"unknown{separator}"},
        {"text": "second", "source": f"other{sep}tool", "note": f"unknown field{separator}"},
    ]
    body = "".join(json.dumps(line, ensure_ascii=False) + "\r\n" for line in lines).encode()
    assert len(body.decode().splitlines()) > 2  # what broke the import before
    assert memories.import_lines(body)["imported"] == 2
    got = {m.text: m for m in memories.recent("default").items}
    assert got[f"before{sep}after"].tags == (f"t{sep}1",) and got[f"before{sep}after"].session == f"s{sep}2"
    assert got["second"].source == f"other{sep}tool"


def test_a_control_separator_inside_a_line_is_named_by_its_line(memories):
    body = b'{"text": "ok"}\n{"text": "x"}\x1c{"text": "y"}\n'
    from glyphmemory.errors import InvalidInput

    with pytest.raises(InvalidInput, match="line 2"):
        memories.import_lines(body)
