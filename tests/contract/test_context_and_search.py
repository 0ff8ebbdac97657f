"""Context block and search: the same answers on both stores."""

from __future__ import annotations

import pytest

from glyphmemory import names
from glyphmemory.context import CUT_MARKER, build_context, context_json, render_context
from glyphmemory.errors import InvalidInput
from glyphmemory.search import search_memories
from glyphmemory.service import Memories


def test_context_is_newest_first_within_budget_with_marker_and_older_count(memories):
    for i in range(30):
        memories.write(text=f"memory {i}: " + "detail " * 40, tags=["t"] if i % 3 == 0 else None)
    block = build_context(memories, "default", 2000)
    text = render_context(block)
    assert len(text) <= 2000
    shown = [m.text.split(":")[0] for m, _ in block.entries]
    assert shown == [f"memory {i}" for i in range(29, 29 - len(shown), -1)]
    assert CUT_MARKER in text and block.truncated_id == block.entries[-1][0].id
    assert block.older == 30 - len(block.entries)
    assert f"({block.older} older memories not shown" in text
    assert text.startswith("# GlyphMemory context · namespace `default`")
    assert render_context(build_context(memories, "default", 2000)) == text  # deterministic


def test_context_of_an_empty_namespace_and_of_everything(memories):
    assert "(no memories yet)" in render_context(build_context(memories, "empty", 8000))
    memories.write(text="only one", tags=["a", "b"])
    block = build_context(memories, "default", 8000)
    md = render_context(block)
    assert "#a #b" in md and "only one" in md and "(no older memories)" in md
    plain = render_context(block, "text")
    assert "(a, b)" in plain and "#" not in plain.split("\n", 1)[1].split("only one")[0]
    data = context_json(block)
    assert data["items"][0]["text"] == "only one" and data["older"] == 0


def test_a_memory_too_large_for_the_room_left_is_counted_not_cut_to_nothing(memories):
    memories.write(text="old small")
    memories.write(text="x" * 5000)
    block = build_context(memories, "default", 500)
    assert len(render_context(block)) <= 500
    assert block.older + len(block.entries) == 2


@pytest.mark.parametrize("budget", [0, 499, names.MAX_CONTEXT_BUDGET + 1])
def test_context_budget_bounds(memories, budget):
    with pytest.raises(InvalidInput):
        build_context(memories, "default", budget)


def test_search_ranks_by_keywords_and_breaks_ties_by_recency(memories):
    memories.write(text="We deploy with CDK to AWS")
    memories.write(text="The user likes pytest; pytest fixtures are preferred over unittest")
    memories.write(text="Lunch was good")
    newer = memories.write(text="pytest is used here", tags=["testing"])[0]
    hits = search_memories(memories, "pytest", namespace="default", limit=10)
    texts = [m.text for m, _ in hits]
    assert texts[0].startswith("The user likes pytest")  # two mentions beat one
    assert set(texts) == {texts[0], newer.text}
    assert all(score > 0 for _, score in hits)
    assert [m.id for m, _ in search_memories(memories, "TESTING", namespace="default", limit=5)] == [newer.id]
    assert search_memories(memories, "absent", namespace="default", limit=5) == []
    assert search_memories(memories, "pytest", namespace="other", limit=5) == []


@pytest.mark.parametrize("q", ["", "   ", "!!!", "x" * (names.MAX_QUERY_CHARS + 1)])
def test_search_needs_words(memories, q):
    with pytest.raises(InvalidInput):
        search_memories(memories, q, namespace="default", limit=5)


def test_export_then_import_into_another_store_is_identical_and_idempotent(memories, tmp_path):
    from glyphmemory.model import Clock
    from glyphmemory.stores.sqlite import SqliteStore

    for i in range(7):
        memories.write(text=f"exported {i}", tags=["e"], session="s1")
    body, nxt = memories.export_page("default")
    assert nxt is None and body.count(b"\n") == 7
    target = Memories(SqliteStore(str(tmp_path / "target.db")), Clock())
    assert target.import_lines(body) == {"imported": 7, "duplicates": 0, "expired": 0, "redacted": []}
    assert target.import_lines(body) == {"imported": 0, "duplicates": 7, "expired": 0, "redacted": []}
    assert target.export_page("default")[0] == body


def test_export_pages_by_size(memories):
    for i in range(10):
        memories.write(text=f"page test {i} " + "y" * 100)
    first, cursor = memories.export_page("default", max_bytes=600)
    rest, end = memories.export_page("default", before=cursor, max_bytes=10**6)
    assert cursor is not None and end is None
    assert first.count(b"\n") + rest.count(b"\n") == 10


def test_import_checks_every_line_before_storing_any(memories):
    good = b'{"text": "fine"}\n'
    with pytest.raises(InvalidInput, match="line 2"):
        memories.import_lines(good + b'{"text": ""}\n')
    with pytest.raises(InvalidInput, match="line 1"):
        memories.import_lines(b"[1,2]\n")
    assert memories.recent("default").items == []
