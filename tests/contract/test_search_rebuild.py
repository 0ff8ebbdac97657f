"""The search index across stores and failures: the same data ranks the same on SQLite and
DynamoDB; on DynamoDB a memory the index missed, a table from before the index and a corrupt
index are each found and repaired (DESIGN §16). moto over HTTP, real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from glyphmemory.model import Clock, new_memory
from glyphmemory.search import search_hits
from glyphmemory.service import Memories
from glyphmemory.stores.dynamodb import DynamoStore
from glyphmemory.stores.dynamodb_generations import stats_key
from glyphmemory.stores.dynamodb_items import memory_attrs, memory_key
from glyphmemory.stores.sqlite import SqliteStore

from .test_search_index import Later

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "data" / "memories.jsonl"
QUERIES = ["pytest fixtures", "sqlite WAL", "user prefers", "café", "memory", "export paging cli", "deadline python"]


def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def answers(memories: Memories) -> dict:
    return {
        q: [(m.id, score, matched) for m, score, matched in search_hits(memories, q, namespace="default", limit=10)]
        for q in QUERIES
    }


def fill(memories: Memories) -> None:
    """The corpus twice over (numbered), then edits and deletes: the index has churned."""
    written = []
    for round_ in range(1):
        for item in corpus():
            written.append(memories.write(text=f"{item['text']} (#{round_})", tags=item.get("tags"))[0])
    for memory in written[::7]:
        memories.edit(memory.id, text=memory.text + " edited later", tags=["edited"])
    for memory in written[3::11]:
        memories.delete(memory.id)


@pytest.fixture
def both(dynamo_table, tmp_path):
    sqlite = Memories(SqliteStore(str(tmp_path / "a.db")), Clock())
    dynamo = Memories(DynamoStore(dynamo_table), Clock())
    yield sqlite, dynamo
    sqlite.store.close()
    dynamo.store.close()


def test_the_same_data_ranks_the_same_on_both_stores(both):
    sqlite, dynamo = both
    fill(sqlite)
    body, _ = sqlite.export_page("default")
    dynamo.import_lines(body)  # the same ids, texts, tags and times
    expected = answers(sqlite)
    assert all(expected.values())
    assert answers(dynamo) == expected


def test_a_memory_the_index_missed_is_found_and_then_indexed(dynamo_table):
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    memories.write(text="an indexed memory about kayaks")
    lost = new_memory(text="a kayak trip the index never heard of", clock=Clock())
    assert store._put_item_new({**memory_key(lost.id), **memory_attrs(lost)})  # its writer died here
    assert [m.id for m, _, _ in search_hits(memories, "trip", namespace="default", limit=5)] == [lost.id]
    item = boto3.client("dynamodb").get_item(TableName=dynamo_table, Key=memory_key(lost.id))["Item"]
    assert "ix" in item  # the search indexed it
    generation = store.index_stats("default")[1]
    assert store.unindexed("default", generation=generation, now_s=lost.epoch_us / 1e6) == []


def test_a_table_from_before_the_index_is_indexed_by_its_first_search(dynamo_table):
    client = boto3.client("dynamodb")
    clock = Clock()
    old = [
        new_memory(text=f"old memory {i} about {'gardening' if i == 3 else 'cooking'}", clock=clock) for i in range(40)
    ]
    for m in old:  # written by the code before the index: memory items only
        client.put_item(TableName=dynamo_table, Item={**memory_key(m.id), **memory_attrs(m)})
    memories = Memories(DynamoStore(dynamo_table), clock)
    assert [m.id for m, _, _ in search_hits(memories, "gardening", namespace="default", limit=5)] == [old[3].id]
    stats = client.get_item(TableName=dynamo_table, Key=stats_key("default"))["Item"]
    assert stats["ready"]["BOOL"] and stats["n"]["N"] == "40"


def test_a_corrupt_index_is_rebuilt_by_reindex(both):
    sqlite, dynamo = both
    for item in corpus():
        sqlite.write(text=item["text"], tags=item.get("tags"))
    dynamo.import_lines(sqlite.export_page("default")[0])
    client = boto3.client("dynamodb")
    table = dynamo.store.table
    client.update_item(
        TableName=table,
        Key=stats_key("default"),
        UpdateExpression="SET n = :n, #len = :l",
        ExpressionAttributeNames={"#len": "len"},
        ExpressionAttributeValues={":n": {"N": "3"}, ":l": {"N": "99999"}},
    )
    assert answers(dynamo) != answers(sqlite)
    result = dynamo.store.reindex("default", restart=True, deadline_s=float("inf"))
    assert result == {"namespace": "default", "indexed": len(corpus()), "done": True}
    assert answers(dynamo) == answers(sqlite)
    assert sqlite.store.reindex("default", restart=True, deadline_s=float("inf"))["indexed"] == len(corpus())
    assert answers(dynamo) == answers(sqlite)


def test_rows_another_program_wrote_into_an_sqlite_file_are_found_and_then_indexed(tmp_path):
    """The index behind the table: rows inserted by another program (no index rows) are found
    by the next search, ranked from their text, and indexed by it (as on DynamoDB)."""
    import sqlite3

    path = str(tmp_path / "behind.db")
    store = SqliteStore(path)
    memories = Memories(store, Clock())
    memories.write(text="an indexed memory about kayaks")
    lost = new_memory(text="a kayak trip another program wrote", clock=Clock())
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO memories (id, namespace, epoch_us, text, tags, source, session, expires_at, content_hash)"
            " VALUES (?, ?, ?, ?, '[]', 'other', NULL, NULL, ?)",
            (lost.id, lost.namespace, lost.epoch_us, lost.text, lost.content_hash),
        )
    assert [m.id for m, _, _ in search_hits(memories, "trip", namespace="default", limit=5)] == [lost.id]
    assert store.unindexed("default", generation=0, now_s=lost.epoch_us / 1e6) == []  # indexed by that search
    stats, _ = store.index_stats("default")
    assert stats.count == 2
    store.close()


def test_an_sqlite_file_from_before_the_index_is_indexed_when_opened(tmp_path):
    import sqlite3

    path = str(tmp_path / "old.db")
    store = SqliteStore(path)
    memories = Memories(store, Clock())
    kept = memories.write(text="written before the index existed")[0]
    store.close()
    with sqlite3.connect(path) as db:  # back to what schema version 3 held
        for table in ("ix_postings", "ix_terms", "ix_docs", "ix_stats", "ix_meta"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 3")
    reopened = Memories(SqliteStore(path), Clock())
    assert [m.id for m, _, _ in search_hits(reopened, "existed", namespace="default", limit=5)] == [kept.id]


@pytest.mark.parametrize(
    "damage",
    [
        "DROP TABLE ix_postings",  # every search and write was a 500 (no such table)
        "DROP TABLE ix_docs",
        "DROP TRIGGER ix_forget_deleted; DELETE FROM memories WHERE text LIKE 'old%'",
        "DELETE FROM ix_docs",  # the index lost track of what it holds (a search then counted some twice)
        "DROP TABLE ix_meta; DROP TABLE ix_terms",  # the rebuild itself failed (no such table)
    ],
)
def test_an_sqlite_index_damaged_by_another_program_is_rebuilt_when_opened(tmp_path, damage):
    import sqlite3

    path = str(tmp_path / "damaged.db")
    store = SqliteStore(path)
    memories = Memories(store, Clock())
    kept = memories.write(text="the alpha project stores its data in postgres")[0]
    gone = memories.write(text="old postgres notes")[0]
    for i in range(6):
        memories.write(text=f"filler note {i}")
    store.close()
    with sqlite3.connect(path) as db:
        db.executescript(damage)
    reopened = Memories(SqliteStore(path), Clock())
    live = {m.id for m, _, _ in search_hits(reopened, "filler", namespace="default", limit=10)}
    assert len(live) == 6
    survivors = {kept.id} | ({gone.id} if "DELETE FROM memories" not in damage else set())
    assert {m.id for m, _, _ in search_hits(reopened, "postgres", namespace="default", limit=5)} == survivors
    later = reopened.write(text="postgres upgraded to version 17")[0]  # writes and deletes work again
    reopened.delete(kept.id)
    expected = survivors - {kept.id} | {later.id}
    assert {m.id for m, _, _ in search_hits(reopened, "postgres", namespace="default", limit=5)} == expected
    stats, _ = reopened.store.index_stats("default")
    assert stats.count == 6 + len(expected)


def test_an_expiring_memorys_postings_carry_the_tables_ttl_attribute(dynamo_table):
    """DynamoDB's TTL deletes what holds the table's TTL attribute: the postings of a memory
    that expires must hold it too, or they stay (and take a search's budget) for ever."""
    memories = Memories(DynamoStore(dynamo_table), Clock())
    expiring = memories.write(text="rotate the staging password", ttl_days=1)[0]
    memories.write(text="rotate nothing else for now")
    client = boto3.client("dynamodb")
    items = client.scan(TableName=dynamo_table)["Items"]
    postings = [i for i in items if i["pk"]["S"].startswith("IX#") and i["sk"]["S"].endswith(expiring.id)]
    assert len(postings) == 3  # rotate, stage, password
    assert all(i["expires_at"] == {"N": str(expiring.expires_at)} for i in postings)
    others = [i for i in items if i["pk"]["S"].startswith("IX#") and not i["sk"]["S"].endswith(expiring.id)]
    assert others and not any("expires_at" in i for i in others)


def test_a_late_index_of_an_older_version_of_a_memory_adds_nothing(dynamo_table):
    """Indexing reads a memory, then writes its postings: the copy it read may be older than the
    item (a by-epoch copy not yet updated, a writer slower than an edit or a repeat after it).
    Its postings must not go in over the item's, or the index holds both texts, counts the
    memory twice, and a delete (which removes what the item's `ix` names) leaves the rest."""
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    first = memories.write(text="we chose postgres for storage")[0]
    memories.edit(first.id, text="backups run nightly at three")  # no term in common
    store.index.add(first)  # the first version, indexed late
    stats = boto3.client("dynamodb").get_item(TableName=dynamo_table, Key=stats_key("default"))["Item"]
    assert stats["n"] == {"N": "1"}
    memories.delete(first.id)
    items = boto3.client("dynamodb").scan(TableName=dynamo_table)["Items"]
    assert [i["sk"]["S"] for i in items if i["pk"]["S"].startswith("IX#") and i["sk"]["S"].endswith(first.id)] == []
    assert boto3.client("dynamodb").get_item(TableName=dynamo_table, Key=stats_key("default"))["Item"]["n"] == {
        "N": "0"
    }


def test_expired_postings_ahead_of_a_live_one_cost_a_few_queries(dynamo_table, monkeypatch):
    """Until DynamoDB's TTL deletes them, expired postings are read past in pages that grow
    (4× each): 40 of them ahead of the live one take 3 Queries of the term, not 40 / 2."""
    from glyphmemory import names

    monkeypatch.setattr(names, "SEARCH_POSTINGS_BUDGET", 2)
    store = DynamoStore(dynamo_table)
    memories = Memories(store, Clock())
    for i in range(40):
        memories.write(text=f"deploy {i}", ttl_days=1)
    live = memories.write(text="we deploy on fridays after the review, the tests and the changelog")[0]
    queries = []
    original = store._call

    def counting(operation, **params):
        if operation == "Query" and params.get("KeyConditionExpression") == "pk = :pk":
            queries.append(params["Limit"])
        return original(operation, **params)

    monkeypatch.setattr(store, "_call", counting)
    later = Memories(store, Later())
    assert [m.id for m, _, _ in search_hits(later, "deploy", namespace="default", limit=5)] == [live.id]
    assert queries == [3, 8, 32]  # the head and 2, then 8, then 32: the live one is the 41st


def test_a_lost_stats_item_is_rebuilt_by_the_next_search(both):
    """The namespace's stats item deleted (by hand, a restore of part of the table): the next
    searches rebuild the index by themselves and rank as before, as SQLite does."""
    sqlite, dynamo = both
    for item in corpus():
        sqlite.write(text=item["text"], tags=item.get("tags"))
    dynamo.import_lines(sqlite.export_page("default")[0])
    expected = answers(sqlite)
    assert answers(dynamo) == expected
    boto3.client("dynamodb").delete_item(TableName=dynamo.store.table, Key=stats_key("default"))
    assert answers(dynamo) == expected
    stats = boto3.client("dynamodb").get_item(TableName=dynamo.store.table, Key=stats_key("default"))["Item"]
    assert stats["n"] == {"N": str(len(corpus()))}
