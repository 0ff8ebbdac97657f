"""DynamoDB-only behaviour: read cost, claim repair, throttling. moto over HTTP."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.stub import Stubber

from glyphmemory import names
from glyphmemory.errors import Unavailable
from glyphmemory.model import Clock, new_memory
from glyphmemory.service import Memories
from glyphmemory.stores.dynamodb import DynamoStore, _claim_key, _memory_attrs, _memory_key


def bulk_load(table: str, namespace: str, n: int, clock: Clock) -> None:
    """Fill a namespace fast with BatchWriteItem (memory items only)."""
    client = boto3.client("dynamodb")
    batch = []
    for i in range(n):
        m = new_memory(text=f"bulk memory {i}", namespace=namespace, clock=clock)
        batch.append({"PutRequest": {"Item": {**_memory_key(m.id), **_memory_attrs(m)}}})
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
            **_claim_key(lost.namespace, lost.content_hash),
            "memory_id": {"S": lost.id},
            "memory": {"M": _memory_attrs(lost)},
        },
    )
    assert store.get(lost.id, now_s=time.time()) is None
    held, duplicate = Memories(store, clock).write(text="writer died after the claim")
    assert duplicate is True and held.id == lost.id
    assert store.get(lost.id, now_s=time.time()) == lost


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttling_becomes_unavailable(code):
    client = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    store = DynamoStore("t", client=client)
    with Stubber(client) as stub:
        stub.add_client_error("get_item", service_error_code=code, http_status_code=400)
        with pytest.raises(Unavailable) as info:
            store.get("01M7YSECJGJP6V29PGWMX1NE6V", now_s=time.time())
    assert info.value.status == 503 and info.value.headers["Retry-After"]


def test_an_unreachable_endpoint_becomes_unavailable():
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        config=Config(connect_timeout=0.2, retries={"max_attempts": 1}),
    )
    with pytest.raises(Unavailable):
        DynamoStore("t", client=client).get("01M7YSECJGJP6V29PGWMX1NE6V", now_s=time.time())


def test_the_gsi_holds_only_memories(dynamo_table):
    store = DynamoStore(dynamo_table)
    Memories(store, Clock()).write(text="one memory")
    items = boto3.client("dynamodb").scan(TableName=dynamo_table, IndexName=names.GSI_BY_EPOCH)["Items"]
    assert len(items) == 1 and items[0][names.PK]["S"].startswith(names.MEMORY_PREFIX)
