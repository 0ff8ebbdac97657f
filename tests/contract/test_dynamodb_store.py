"""DynamoDB-only behaviour: read cost, claim repair, throttling. moto over HTTP."""

from __future__ import annotations

import threading
import time

import boto3
import pytest

from glyphmemory import names
from glyphmemory.errors import Unavailable
from glyphmemory.model import Clock, new_memory
from glyphmemory.service import Memories
from glyphmemory.stores.dynamodb import DynamoStore, dynamodb_client
from glyphmemory.stores.dynamodb_items import claim_key, memory_attrs, memory_key

from ..support.processes import set_throttle


def bulk_load(table: str, namespace: str, n: int, clock: Clock) -> None:
    """Fill a namespace fast with BatchWriteItem (memory items only)."""
    client = boto3.client("dynamodb")
    batch = []
    for i in range(n):
        m = new_memory(text=f"bulk memory {i}", namespace=namespace, clock=clock)
        batch.append({"PutRequest": {"Item": {**memory_key(m.id), **memory_attrs(m)}}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})


def test_reading_the_20_most_recent_costs_the_same_at_100_and_10000(dynamo_table):
    store = DynamoStore(dynamo_table)
    clock = Clock()
    bulk_load(dynamo_table, "small", 100, clock)
    bulk_load(dynamo_table, "large", 10_000, clock)
    counts = {}
    for ns in ("small", "large"):
        page = store.recent(ns, limit=20, now_s=time.time())
        assert len(page.items) == 20 and page.next is not None
        counts[ns] = store.last_scanned_count
    # 20 items plus one to learn whether a next page exists: a Query, never a Scan.
    assert counts == {"small": 21, "large": 21}


def test_a_claim_left_by_a_crashed_writer_is_repaired_by_the_next_identical_write(dynamo_table):
    store = DynamoStore(dynamo_table)
    clock = Clock()
    lost = new_memory(text="writer died after the claim", clock=clock)
    # What a writer leaves if it dies between its two puts: the claim, no memory item.
    boto3.client("dynamodb").put_item(
        TableName=dynamo_table,
        Item={
            **claim_key(lost.namespace, lost.content_hash),
            "memory_id": {"S": lost.id},
            "memory": {"M": memory_attrs(lost)},
        },
    )
    assert store.get(lost.id, now_s=time.time()) is None
    held, duplicate = Memories(store, clock).write(text="writer died after the claim")
    assert duplicate is True and held.id == lost.id
    assert store.get(lost.id, now_s=time.time()) == lost


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttling_becomes_unavailable_after_one_retry(dynamo_table, code):
    store = DynamoStore(dynamo_table)
    answered = []
    store.client.observers.append(lambda op, params, answer: answered.append(getattr(answer, "code", "ok")))
    set_throttle(dynamo_table, True, code)
    try:
        with pytest.raises(Unavailable) as info:
            store.get("01M7YSECJGJP6V29PGWMX1NE6V", now_s=time.time())
    finally:
        set_throttle(dynamo_table, False)
    assert info.value.status == 503 and info.value.headers["Retry-After"]
    assert answered == [code, code]  # the SDK's rule, as configured: one retry after a backoff


def test_an_unreachable_endpoint_becomes_unavailable(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # nothing listens there
    store = DynamoStore("t", client=dynamodb_client(connect_timeout=0.2, max_attempts=1))
    with pytest.raises(Unavailable):
        store.get("01M7YSECJGJP6V29PGWMX1NE6V", now_s=time.time())


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_retry(dynamo_table):
    store = DynamoStore(dynamo_table)
    Memories(store, Clock()).write(text="kept-alive connections go stale while a container sleeps")
    conn = store.client._local.conn
    conn.sock.shutdown(2)  # as if the far end had dropped the idle connection
    answered = []
    store.client.observers.append(lambda op, params, answer: answered.append(op))
    assert len(store.recent("default", limit=5, now_s=time.time()).items) == 1
    assert answered == ["Query"] and store.client._local.conn is not conn


def test_the_gsi_holds_only_memories(dynamo_table):
    store = DynamoStore(dynamo_table)
    Memories(store, Clock()).write(text="one memory")
    items = boto3.client("dynamodb").scan(TableName=dynamo_table, IndexName=names.GSI_BY_EPOCH)["Items"]
    assert len(items) == 1 and items[0][names.PK]["S"].startswith(names.MEMORY_PREFIX)


def test_a_slow_writer_never_releases_a_claim_that_another_writer_repaired(dynamo_table):
    """Writer A claims the text, then its item put is slow (a throttled retry); writer B of the
    same text finds the claim, no item, and writes the item from the claim. A's put then finds
    the item there: it must keep the claim, or the next identical write stores a second copy."""
    slow, fast, clock = DynamoStore(dynamo_table), DynamoStore(dynamo_table), Clock()
    claimed, go = threading.Event(), threading.Event()
    put_new = slow._put_new

    def delayed(item):
        claimed.set()  # the claim is in; the memory item is not yet
        go.wait(10)
        return put_new(item)

    slow._put_new = delayed
    results = {}
    writer = threading.Thread(target=lambda: results.update(slow=Memories(slow, clock).write(text="one text")))
    writer.start()
    assert claimed.wait(10)
    results["fast"] = Memories(fast, clock).write(text="one text")  # repairs from A's claim
    go.set()
    writer.join(10)
    (a, a_duplicate), (b, b_duplicate) = results["slow"], results["fast"]
    assert a.id == b.id and (a_duplicate, b_duplicate) == (False, True)
    third, duplicate = Memories(fast, clock).write(text="one text")
    assert duplicate and third.id == a.id
    assert [m.id for m in fast.recent("default", limit=10, now_s=time.time()).items] == [a.id]
    assert boto3.client("dynamodb").get_item(TableName=dynamo_table, Key=claim_key("default", a.content_hash))["Item"]


def test_a_new_memory_is_written_with_its_index_in_one_transaction(dynamo_table):
    """A write is its claim, then the item with its index items (one TransactWriteItems); the
    namespace's generation is read by the first write only. Before: claim, item, generation,
    index: four calls on the deployed path's latency."""
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    memories.write(text="the first write reads the namespace's generation", similar=False)
    calls = []
    store.client.observers.append(lambda op, params, answer: calls.append((op, params)))
    written = memories.write(text="kayak trips on the lake every summer", tags=["hobby"], similar=False)[0]
    # Without a similar check the put reads its band items itself (what its members evict).
    assert [op for op, _ in calls] == ["PutItem", "BatchGetItem", "TransactWriteItems"]
    actions = calls[2][1]["TransactItems"]
    assert actions[0]["Put"]["Item"][names.PK] == memory_key(written.id)[names.PK]
    from glyphmemory.search import search_hits

    hits = search_hits(memories, "kayaking", namespace="default", limit=5)
    assert [(m.id, matched) for m, _, matched in hits] == [(written.id, ["kayaking"])]
    assert "ix" in boto3.client("dynamodb").get_item(TableName=dynamo_table, Key=memory_key(written.id))["Item"]


def test_a_memory_of_more_terms_than_one_transaction_holds_is_indexed_whole(dynamo_table):
    from glyphmemory.search import search_hits
    from glyphmemory.stores.dynamodb_index import TERMS_PER_TRANSACTION

    memories = Memories(DynamoStore(dynamo_table), Clock())
    words = [f"word{i}x" for i in range(2 * TERMS_PER_TRANSACTION + 5)]  # three transactions' worth
    written = memories.write(text=" ".join(words), similar=False)[0]
    memories.write(text="another memory", similar=False)
    for word in (words[0], words[TERMS_PER_TRANSACTION + 1], words[-1]):
        assert [m.id for m, _, _ in search_hits(memories, word, namespace="default", limit=5)] == [written.id]
    stats = memories.store.index.read_stats("default")
    assert stats is not None and stats[0].count == 2


def test_a_write_after_a_rebuild_started_elsewhere_goes_into_the_new_generation(dynamo_table):
    """A warm process keeps the namespace's generation; a reindex by another process starts a
    new one, so the write's stats condition fails once and it writes under the new one."""
    from glyphmemory.search import search_hits

    warm, other = DynamoStore(dynamo_table), DynamoStore(dynamo_table)
    memories = Memories(warm, Clock())
    memories.write(text="written before the rebuild", similar=False)
    first = warm.index.generations.known["default"]
    assert other.reindex("default", restart=True, deadline_s=float("inf"))["done"]
    written = memories.write(text="written after the rebuild by the warm process", similar=False)[0]
    assert warm.index.read_stats("default")[1] == first + 1  # the new generation, ready
    hits = search_hits(Memories(other, Clock()), "rebuild", namespace="default", limit=5)
    assert {m.id for m, _, _ in hits} >= {written.id}
    assert warm.index.read_stats("default")[0].count == 2


def test_a_warm_edit_and_delete_read_no_generation(dynamo_table):
    """An edit takes the old text out of the index and puts the new one in, a delete takes it
    out: each in the generation its process knows (the memory's mark names the one it is in),
    so neither reads the stats item first. Before: 7 and 5 calls."""
    from glyphmemory.search import search_hits

    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    kept = memories.write(text="canoe trips on the river", similar=False)[0]
    gone = memories.write(text="a memory about sailing boats", similar=False)[0]
    calls = []
    store.client.observers.append(lambda op, params, answer: calls.append(op))
    memories.edit(kept.id, text="kayak trips on the river")
    # ... and the new text's band items are read before its members go in (dynamodb_similar).
    get, transaction = "GetItem", "TransactWriteItems"
    assert calls == [get, get, transaction, transaction, "BatchGetItem", transaction]
    calls.clear()
    memories.delete(gone.id)
    assert calls == ["GetItem", "TransactWriteItems", "DeleteItem", "DeleteItem"]
    for query, found in (("kayak", [kept.id]), ("canoe", []), ("sailing", [])):
        assert [m.id for m, _, _ in search_hits(memories, query, namespace="default", limit=5)] == found
    assert memories.store.index.read_stats("default")[0].count == 1
