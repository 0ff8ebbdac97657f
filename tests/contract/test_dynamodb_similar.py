"""DynamoDB's look for similar memories (stores/dynamodb_similar): one read request, band items
that stay bounded and follow the index. moto over HTTP."""

from __future__ import annotations

import boto3

from glyphmemory import names
from glyphmemory.model import Clock
from glyphmemory.service import Memories
from glyphmemory.stores.dynamodb import DynamoStore
from glyphmemory.stores.dynamodb_index import TERMS_PER_TRANSACTION
from glyphmemory.stores.dynamodb_similar import SLOTS


def _band_items(table: str) -> list[dict]:
    client = boto3.client("dynamodb")
    items, start = [], None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += [i for i in page["Items"] if i[names.PK]["S"].startswith(names.SIMILAR_PREFIX)]
        start = page.get("LastEvaluatedKey")
        if start is None:
            return items


def test_a_writes_similar_check_makes_at_most_one_read_request(dynamo_table):
    """A warm write is one BatchGetItem of the new text's band items, its claim and its
    transaction (item, index, band items); the look was a search of the index (25 calls)."""
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    first = memories.write(text="Deploys go out with make deploy from the main branch")[0]
    memories.write(text="The user prefers tabs over spaces in Go code")
    calls = []
    store.client.observers.append(lambda op, params, answer: calls.append(op))
    written = memories.write(text="To deploy, run make deploy from the main branch")
    assert calls == ["BatchGetItem", "PutItem", "TransactWriteItems"]
    assert [s["id"] for s in written.similar] == [first.id]
    assert written.similar[0]["excerpt"] == "Deploys go out with make deploy from the main branch"
    calls.clear()
    assert memories.write(text="Invoices are emailed to finance every month").similar == []
    assert calls == ["BatchGetItem", "PutItem", "TransactWriteItems"]


def test_a_band_item_holds_at_most_its_slots_and_the_newest_are_found(dynamo_table):
    """Memories of one term set share every band item: each keeps at most SLOTS members, and a
    new one still finds recent ones (a newer member takes its slot's place)."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    words = ["alpaca", "wool", "blanket", "knitting", "pattern"]
    ids = []
    for i in range(3 * SLOTS):
        ids.append(memories.write(text=" ".join(words[i % 5 :] + words[: i % 5]) + "!" * i, similar=False)[0].id)
    bands = _band_items(dynamo_table)
    members = [[v["M"]["i"]["S"] for k, v in item.items() if k[0] == "s" and k[1:].isdigit()] for item in bands]
    assert len(bands) == 6 and all(0 < len(held) <= SLOTS for held in members)
    assert all(ids[-1] in held for held in members)  # the newest is in every band item
    found = memories.write(text="a knitting pattern for an alpaca wool blanket").similar
    assert len(found) == 3 and {s["id"] for s in found} <= set(ids)


def test_a_memory_of_more_terms_than_one_transaction_holds_is_found_similar(dynamo_table):
    """Such a memory's item goes alone, its index (and band items) after it."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    words = [f"word{i}x" for i in range(TERMS_PER_TRANSACTION + 10)]
    long = memories.write(text=" ".join(words), similar=False)[0]
    assert [s["id"] for s in memories.write(text=" ".join(words[:-3])).similar] == [long.id]


def test_memories_from_before_the_band_items_are_found_after_a_reindex(dynamo_table):
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    old = memories.write(text="The staging database is restored every Sunday night", similar=False)[0]
    client = boto3.client("dynamodb")
    for item in _band_items(dynamo_table):  # as stored before this change
        client.delete_item(TableName=dynamo_table, Key={names.PK: item[names.PK], names.SK: item[names.SK]})
    assert memories.write(text="Every Sunday night the staging database is restored again").similar == []
    assert store.reindex("default", restart=True, deadline_s=float("inf"))["done"]
    found = memories.write(text="The staging database gets restored each Sunday night").similar
    assert old.id in [s["id"] for s in found]


def test_a_memory_of_as_many_terms_as_one_transaction_holds_goes_in_one(dynamo_table):
    """Its item, a posting and a head per term, its band items and the stats: 100 actions."""
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    memories.write(text="the first write reads the namespace's generation", similar=False)
    words = [f"term{i}y" for i in range(TERMS_PER_TRANSACTION)]
    sent = []
    store.client.observers.append(lambda op, params, answer: sent.append((op, params)))
    full = memories.write(text=" ".join(words), similar=False)[0]
    assert [op for op, _ in sent] == ["PutItem", "TransactWriteItems"]
    assert len(sent[1][1]["TransactItems"]) == 100
    assert [s["id"] for s in memories.write(text=" ".join(words[1:])).similar] == [full.id]
