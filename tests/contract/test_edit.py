"""Editing a memory in place, on both stores (DynamoDB through the moto server over HTTP):
what is kept, what changes, and dedup staying exact under races."""

from __future__ import annotations

import threading

import pytest

from glyphmemory.errors import Conflict, InvalidInput, NotFound
from glyphmemory.model import Clock
from glyphmemory.service import Memories


@pytest.fixture
def memories(store):
    return Memories(store, Clock())


def test_an_edit_keeps_id_namespace_time_and_order(memories):
    first, _ = memories.write(text="first", namespace="work")
    wrong, _ = memories.write(text="the deploy runs on Fridays", namespace="work", tags=["ops"])
    last, _ = memories.write(text="last", namespace="work")
    edited, duplicate = memories.edit(wrong.id, text="the deploy runs on Thursdays")
    assert not duplicate and edited.id == wrong.id and edited.namespace == "work"
    assert edited.epoch_us == wrong.epoch_us and edited.created_at == wrong.created_at and edited.tags == ("ops",)
    assert edited.updated_us is not None and edited.to_json()["updated_at"]
    assert [m.id for m in memories.recent("work", limit=10).items] == [last.id, wrong.id, first.id]
    assert memories.get(wrong.id).text == "the deploy runs on Thursdays"
    retagged, _ = memories.edit(wrong.id, tags=["ops", "schedule"])
    assert retagged.tags == ("ops", "schedule") and retagged.text == "the deploy runs on Thursdays"


def test_dedup_stays_exact_after_an_edit(memories):
    m, _ = memories.write(text="old wording")
    memories.edit(m.id, text="new wording")
    again, duplicate = memories.write(text="new wording")
    assert duplicate and again.id == m.id  # the new text cannot be written twice
    fresh, duplicate = memories.write(text="old wording")
    assert not duplicate and fresh.id != m.id  # the old text is free again


def test_an_edit_to_another_memorys_text_is_a_conflict_naming_it(memories):
    a, _ = memories.write(text="alpha")
    b, _ = memories.write(text="beta")
    with pytest.raises(Conflict) as info:
        memories.edit(b.id, text="alpha")
    assert info.value.other_id == a.id and a.id in info.value.detail and info.value.status == 409
    assert memories.get(b.id).text == "beta"  # nothing changed


def test_bad_edits(memories):
    m, _ = memories.write(text="keep me")
    with pytest.raises(NotFound):
        memories.edit("01M7YSECJGJP6V29PGWMX1NE6V", text="x")
    with pytest.raises(InvalidInput):
        memories.edit(m.id)
    with pytest.raises(InvalidInput):
        memories.edit(m.id, text="   ")
    with pytest.raises(InvalidInput):
        memories.edit(m.id, tags=["a,b"])
    assert memories.get(m.id).text == "keep me"


def test_an_edit_redacts_like_a_write(memories):
    m, _ = memories.write(text="plain")
    written = memories.edit(m.id, text="now with AKIAQWERTYUIOPASDFGH")
    assert written.redacted == ["aws-access-key"] and memories.get(m.id).text == "now with [redacted:aws-access-key]"


def race(*jobs):
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Conflict as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.parametrize("round_", range(5))
def test_two_edits_racing_to_one_text_leave_one_memory_with_it(memories, round_):
    a, _ = memories.write(text=f"a {round_}")
    b, _ = memories.write(text=f"b {round_}")
    results = race(
        lambda: memories.edit(a.id, text=f"same {round_}"), lambda: memories.edit(b.id, text=f"same {round_}")
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1
    holders = [m for m in memories.recent("default", limit=100).items if m.text == f"same {round_}"]
    assert len(holders) == 1 and conflicts[0].other_id == holders[0].id
    # The texts left behind are writable again, the taken one is not.
    assert memories.write(text=f"same {round_}")[1] is True


@pytest.mark.parametrize("round_", range(5))
def test_an_edit_racing_a_write_of_the_same_text_leaves_one_memory(memories, round_):
    a, _ = memories.write(text=f"before {round_}")
    results = race(
        lambda: memories.edit(a.id, text=f"contested {round_}"), lambda: memories.write(text=f"contested {round_}")
    )
    holders = [m for m in memories.recent("default", limit=100).items if m.text == f"contested {round_}"]
    assert len(holders) == 1
    if isinstance(results[0], Conflict):  # the write won: the edit names it, and `a` is unchanged
        assert results[0].other_id == holders[0].id and memories.get(a.id).text == f"before {round_}"
    else:  # the edit won: the write answered it as the duplicate
        assert results[1][1] is True and results[1][0].id == a.id == holders[0].id
    again, duplicate = memories.write(text=f"contested {round_}")
    assert duplicate and again.id == holders[0].id
    # No claim is left pointing nowhere: the old text is `a`'s still, or free again.
    assert memories.write(text=f"before {round_}")[1] is isinstance(results[0], Conflict)
