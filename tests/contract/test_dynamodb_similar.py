"""DynamoDB's look for similar memories (stores/dynamodb_similar): one read request, band items
that stay bounded and follow the index. moto over HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3

from glyphmemory import names
from glyphmemory.model import Clock, is_memory_id
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


def _members(item: dict) -> set[str]:
    """The memory ids a band item holds: its attributes named by a memory id (or, as stored
    before, in slot attributes `s0`–`s3` holding the id as `i`)."""
    return {name if is_memory_id(name) else value["M"]["i"]["S"] for name, value in item.items() if "M" in value}


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
    """Memories of one term set share every band item: each keeps the SLOTS newest members, and
    a new one still finds recent ones."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    words = ["alpaca", "wool", "blanket", "knitting", "pattern"]
    ids = []
    for i in range(3 * SLOTS):
        ids.append(memories.write(text=" ".join(words[i % 5 :] + words[: i % 5]) + "!" * i, similar=False)[0].id)
    bands = _band_items(dynamo_table)
    assert len(bands) == 6 and all(_members(item) == set(ids[-SLOTS:]) for item in bands)  # the newest
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
    # Without a similar check, the put reads the band items itself (what its members evict).
    assert [op for op, _ in sent] == ["PutItem", "BatchGetItem", "TransactWriteItems"]
    assert len(sent[2][1]["TransactItems"]) == 100
    assert [s["id"] for s in memories.write(text=" ".join(words[1:])).similar] == [full.id]


WORDS = ["alpaca", "wool", "blanket", "knitting", "pattern"]


def _variant(i: int) -> str:
    """The i-th wording of one fact: the same index terms (so the same band items), another text."""
    return " ".join(WORDS[i % 5 :] + WORDS[: i % 5]) + "!" * i


class _Past(Clock):
    """A clock an hour behind: a memory it writes with a TTL of minutes has expired already."""

    def now_s(self) -> float:
        return super().now_s() - 3600


def test_near_duplicates_are_all_kept_while_a_band_item_has_room(dynamo_table):
    """SLOTS wordings of one fact share six band items and each item keeps all of them (a member
    took a hash slot, so two of four collided in most items and the newer evicted the older)."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    ids = [memories.write(text=_variant(i))[0].id for i in range(SLOTS)]
    bands = _band_items(dynamo_table)
    assert len(bands) == 6 and all(_members(item) == set(ids) for item in bands)
    found = memories.write(text=_variant(SLOTS)).similar
    assert [s["id"] for s in found] == ids[:3]  # all of score 1.0: the oldest first


def test_a_full_band_item_evicts_an_expired_member_first_then_the_oldest(dynamo_table):
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    oldest = memories.write(text=_variant(0))[0].id
    expired = Memories(store, _Past()).write(text=_variant(1), ttl_days=0.01)[0].id  # an hour ago + 14 min
    rest = [memories.write(text=_variant(i))[0].id for i in (2, 3)]
    fifth = memories.write(text=_variant(4))[0].id
    assert all(_members(item) == {oldest, *rest, fifth} for item in _band_items(dynamo_table))
    sixth = memories.write(text=_variant(5))[0].id
    assert all(_members(item) == {*rest, fifth, sixth} for item in _band_items(dynamo_table))
    assert expired not in {s["id"] for s in memories.write(text=_variant(6)).similar}


def test_an_edit_out_of_the_near_duplicate_set_and_a_delete_remove_only_their_member(dynamo_table):
    """A removal takes out the memory's own member wherever it is, and no other (it emptied the
    memory's hash slot, whoever held it by then)."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    ids = [memories.write(text=_variant(i))[0].id for i in range(SLOTS)]
    moved = memories.edit(ids[1], text="Invoices are emailed to finance every month")[0]
    memories.delete(ids[2])
    kept = {ids[0], ids[3]}
    fact = [item for item in _band_items(dynamo_table) if _members(item) & kept]
    assert len(fact) == 6 and all(_members(item) == kept for item in fact)
    assert [s["id"] for s in memories.write(text="Invoices get emailed to finance every month").similar] == [moved.id]
    assert {s["id"] for s in memories.write(text=_variant(SLOTS)).similar} == kept


def test_two_writers_that_read_a_band_item_at_once_both_keep_their_members(dynamo_table):
    """Writer x reads the band items (its similar check), writer y writes meanwhile, then x puts
    from its stale read: a member is written under its own name, so neither overwrites the
    other; the items hold SLOTS+1 until the next write to them trims them to SLOTS."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    first = [memories.write(text=_variant(i))[0].id for i in range(SLOTS - 1)]
    x_store, y = DynamoStore(dynamo_table), Memories(DynamoStore(dynamo_table), Clock())
    x = Memories(x_store, Clock())
    written = []
    put = x_store.put

    def put_after_y(memory, **kwargs):
        written.append(y.write(text=_variant(SLOTS))[0].id)
        return put(memory, **kwargs)

    x_store.put = put_after_y
    x_id = x.write(text=_variant(SLOTS + 1))[0].id
    assert all(_members(item) == {*first, *written, x_id} for item in _band_items(dynamo_table))
    last = memories.write(text=_variant(SLOTS + 2))[0].id
    assert all(_members(item) == {*first[2:], *written, x_id, last} for item in _band_items(dynamo_table))


def test_writers_of_one_fact_at_once_all_succeed_and_all_keep_their_members(dynamo_table):
    """SLOTS processes (a store each) write wordings of one fact at the same moment into empty
    band items: every write is stored, and every band item holds all of them."""
    barrier = threading.Barrier(SLOTS)

    def write(i: int) -> str:
        memories = Memories(DynamoStore(dynamo_table), Clock())
        barrier.wait()
        return memories.write(text=_variant(i))[0].id

    with ThreadPoolExecutor(SLOTS) as pool:
        ids = set(pool.map(write, range(SLOTS)))
    bands = _band_items(dynamo_table)
    assert len(ids) == SLOTS and len(bands) == 6 and all(_members(item) == ids for item in bands)


def test_a_repeat_that_changes_the_expiry_updates_its_member_in_place(dynamo_table):
    """The repeat takes the member out and puts it back with its new expiry (none: the repeat
    has no TTL), in every item, and evicts no other member to make room for itself."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    ids = [memories.write(text=_variant(i), ttl_days=1 if i == 1 else None)[0].id for i in range(SLOTS)]
    assert all("x" in item[ids[1]]["M"] for item in _band_items(dynamo_table))
    again = memories.write(text=_variant(1))
    assert again.repeat.changed and again[0].expires_at is None
    bands = _band_items(dynamo_table)
    assert all(_members(item) == set(ids) and "x" not in item[ids[1]]["M"] for item in bands)
