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
