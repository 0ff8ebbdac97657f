"""The Store contract: every test runs against SQLite (a temp file) and DynamoDB (moto over HTTP)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from glyphmemory.model import Clock, Cursor, new_memory
from glyphmemory.service import Memories


def write_many(memories: Memories, n: int, namespace: str = "default", **fields) -> list:
    return [memories.write(text=f"memory number {i}", namespace=namespace, **fields)[0] for i in range(n)]


def read_all(memories: Memories, namespace: str, limit: int, **filters) -> list:
    out, before = [], None
    while True:
        page = memories.recent(namespace, limit=limit, before=before, **filters)
        assert len(page.items) <= limit
        out.extend(page.items)
        if page.next is None:
            return out
        before = page.next


def test_250_memories_read_back_newest_first_across_pages(memories):
    written = write_many(memories, 250)
    expected = sorted(written, key=lambda m: (m.epoch_us, m.id), reverse=True)
    got = read_all(memories, "default", limit=20)
    assert [m.id for m in got] == [m.id for m in expected]
    assert got == expected  # every field round-trips
    # Newest first is also the order of writing, even within one millisecond.
    assert [m.id for m in got] == [m.id for m in reversed(written)]


def test_paging_with_a_tag_filter_never_skips_or_repeats(memories):
    written = [memories.write(text=f"tagged {i}", tags=["even"] if i % 2 == 0 else ["odd"])[0] for i in range(45)]
    got = read_all(memories, "default", limit=7, tag="even")
    assert [m.id for m in got] == [m.id for m in reversed(written) if "even" in m.tags]


def test_namespaces_are_isolated(memories):
    a = write_many(memories, 3, namespace="alpha")
    b = write_many(memories, 2, namespace="beta")
    assert {m.id for m in read_all(memories, "alpha", 10)} == {m.id for m in a}
    assert {m.id for m in read_all(memories, "beta", 10)} == {m.id for m in b}
    assert read_all(memories, "gamma", 10) == []
    # The same text in another namespace is another memory, not a duplicate.
    _, duplicate = memories.write(text="memory number 2", namespace="beta")  # alpha has it
    assert duplicate is False


def test_namespaces_lists_those_holding_a_live_memory_in_name_order(store, clock):
    memories = Memories(store, clock)
    assert memories.namespaces() == []
    for ns in ("work", "default", "work", "home.lab", "a-z_0"):
        memories.write(text=f"a note in {ns} {time.monotonic_ns()}", namespace=ns)
    now = time.time()
    store.put(new_memory(text="gone", namespace="expired", clock=clock).replace(expires_at=int(now) - 5), now_s=now)
    assert memories.namespaces() == ["a-z_0", "default", "home.lab", "work"]
    assert memories.namespaces(limit=2) == ["a-z_0", "default"]
    deleted = memories.write(text="only one", namespace="brief")[0]
    memories.delete(deleted.id)
    assert "brief" not in memories.namespaces()


def test_same_text_is_stored_once(memories):
    first, dup1 = memories.write(text="  Decided: use the by-epoch GSI \r\n")
    again, dup2 = memories.write(text="Decided: use the by-epoch GSI", tags=["other"])
    assert (dup1, dup2) == (False, True)
    assert again.id == first.id
    assert len(read_all(memories, "default", 10)) == 1


def test_twenty_threads_writing_the_same_text_leave_one_memory(memories):
    def write(_):
        return memories.write(text="the very same memory, written concurrently")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(write, range(20)))
    ids = {m.id for m, _ in results}
    assert len(ids) == 1
    assert sum(1 for _, dup in results if not dup) == 1
    assert [m.id for m in read_all(memories, "default", 100)] == list(ids)


def test_an_expired_memory_is_never_returned(store, clock):
    memories = Memories(store, clock)
    now = time.time()
    live = memories.write(text="still valid", ttl_days=1)[0]
    dead = new_memory(text="already expired", clock=clock).replace(expires_at=int(now) - 5)
    store.put(dead, now_s=now)
    assert store.get(dead.id, now_s=now) is None
    assert [m.id for m in read_all(memories, "default", 10)] == [live.id]
    assert store.count_older("default", before=Cursor(2**62, "Z" * 26), now_s=now, cap=100) == 1
    # Its text can be written again, as a new memory.
    again, duplicate = memories.write(text="already expired")
    assert duplicate is False and again.id != dead.id
    assert live.expires_at is not None and live.expires_at > now + 86000


def test_delete_then_get_is_gone(memories):
    m = memories.write(text="to be deleted")[0]
    assert memories.store.delete(m.id) is True
    assert memories.store.get(m.id, now_s=time.time()) is None
    assert memories.store.delete(m.id) is False
    again, duplicate = memories.write(text="to be deleted")
    assert duplicate is False and again.id != m.id


def test_tag_and_since_filters(memories, clock):
    old = memories.write(text="old note", tags=["infra"])[0]
    time.sleep(0.01)
    cut = clock.now_us()
    new_infra = memories.write(text="new infra note", tags=["infra", "aws"])[0]
    memories.write(text="new plain note")
    assert [m.id for m in read_all(memories, "default", 10, tag="infra")] == [new_infra.id, old.id]
    assert [m.id for m in read_all(memories, "default", 10, tag="aws")] == [new_infra.id]
    assert [m.text for m in read_all(memories, "default", 10, since_us=cut)] == ["new plain note", "new infra note"]
    assert [m.id for m in read_all(memories, "default", 10, tag="infra", since_us=cut)] == [new_infra.id]
    assert read_all(memories, "default", 10, tag="nope") == []


def test_count_older_counts_after_the_cursor_and_stops_at_the_cap(memories):
    written = write_many(memories, 12)
    tenth_newest = list(reversed(written))[9]
    cursor = Cursor(tenth_newest.epoch_us, tenth_newest.id)
    now = time.time()
    assert memories.store.count_older("default", before=cursor, now_s=now, cap=100) == 2
    top = Cursor(2**62, "Z" * 26)
    assert memories.store.count_older("default", before=top, now_s=now, cap=5) == 5


def test_imported_memories_keep_their_epoch_and_id(store):
    clock = Clock()
    original = new_memory(text="from an export", clock=clock, tags=["x"])
    store.put(original, now_s=time.time(), keep_epoch=True)
    assert store.get(original.id, now_s=time.time()) == original
    # Same id, other text: the held memory wins, nothing is overwritten.
    clash = new_memory(text="another text", clock=clock).replace(id=original.id)
    held, repeat = store.put(clash, now_s=time.time(), keep_epoch=True)
    assert repeat is not None and not repeat.changed and held == original
    page = store.recent("default", limit=10, now_s=time.time())
    assert page.items == [original]
