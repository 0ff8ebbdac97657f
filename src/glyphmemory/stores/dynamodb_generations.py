"""The search index's generations on DynamoDB: the namespace stats item, which generation a
memory's postings are written under, and the rebuild (`glyph reindex`) that starts a new one.

The stats item `IXS#<ns>` / `IXS` (DESIGN §16; dynamodb_index describes every index item):
`gen` (the generation the postings are written under), `ready` (every memory indexed), `ver`
(text_index.INDEX_VERSION), `n` memories, `len` terms in all, `cur` (the by-epoch index's
LastEvaluatedKey a rebuild has got to). A memory item's `ix` (`marker`) names the generation
it is indexed in and a digest of its text and tags.

A process reads a namespace's generation once and keeps it (`Generations.current`): a write
under a stale one fails its transaction's stats condition (`gen = :g`) and reads it again. A
rebuild (a new INDEX_VERSION, a namespace from before the index, `restart`) puts a stats item
of the next generation, not ready, then walks the namespace oldest first in bounded steps,
indexing each memory whose `ix` does not name that generation; the old generation's items are
left unread.
"""

from __future__ import annotations

import hashlib
import time

from .. import names
from ..aws.client import AwsError
from ..model import Memory
from ..text_index import INDEX_VERSION, IndexStats
from .dynamodb_items import memory_from_attrs

STATS_SK = "IXS"


def digest(memory: Memory) -> str:
    return hashlib.sha256("\x00".join((memory.text, *memory.tags)).encode()).hexdigest()[:16]


def marker(generation: int, memory: Memory) -> str:
    """A memory item's `ix`: `<generation>:<digest of its text and tags>`."""
    return f"{generation}:{digest(memory)}"


def stats_key(namespace: str) -> dict:
    return {names.PK: {"S": names.INDEX_STATS_PREFIX + namespace}, names.SK: {"S": STATS_SK}}


class GenerationChanged(Exception):
    """A rebuild started a new generation while a memory was being indexed."""


class Generations:
    """One store's namespace stats items, and the generation it last read or wrote of each."""

    def __init__(self, store):
        self.store = store
        self.known: dict[str, int] = {}  # namespace → generation last read or written

    def stats(self, namespace: str, *, consistent: bool) -> dict | None:
        return self.store._call("GetItem", Key=stats_key(namespace), ConsistentRead=consistent).get("Item")

    def current(self, namespace: str) -> int:
        """The generation this process last read or wrote, else read: a stale one fails the
        stats condition of the transaction that uses it (GenerationChanged), never counts."""
        known = self.known.get(namespace)
        return known if known is not None else self._read(namespace)

    def forget(self, namespace: str) -> None:
        """Read the namespace's generation again at its next use (a rebuild started one)."""
        self.known.pop(namespace, None)

    def _read(self, namespace: str) -> int:
        """The namespace's current generation, creating its stats item (not ready) if missing."""
        item = self.stats(namespace, consistent=True)
        if item is None:
            self._start(namespace, None, _first_generation())
            item = self.stats(namespace, consistent=True)
        self.known[namespace] = gen = int(item["gen"]["N"])
        return gen

    def _start(self, namespace: str, old: int | None, new: int) -> None:
        item = {
            **stats_key(namespace),
            "gen": {"N": str(new)},
            "ver": {"N": str(INDEX_VERSION)},
            "ready": {"BOOL": False},
            "n": {"N": "0"},
            "len": {"N": "0"},
        }
        if old is None:
            condition, values = "attribute_not_exists(#pk)", None
        else:
            condition, values = "#gen = :old", {":old": {"N": str(old)}}
        try:
            self.store._call(
                "PutItem",
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#pk": names.PK} if old is None else {"#gen": "gen"},
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except AwsError as exc:
            if exc.code != "ConditionalCheckFailedException":
                raise  # else another process started it first: theirs is as good

    def read_stats(self, namespace: str) -> tuple[IndexStats, int] | None:
        """(count and total length, generation), or None when the index is not ready."""
        item = self.stats(namespace, consistent=False)
        if item is None or not item["ready"]["BOOL"] or int(item["ver"]["N"]) != INDEX_VERSION:
            return None
        return IndexStats(int(item["n"]["N"]), int(item["len"]["N"])), int(item["gen"]["N"])

    def rebuild(self, namespace: str, *, restart: bool, deadline_s: float, add) -> dict:
        """Walk the namespace oldest first from where the rebuild got to, indexing what the
        current generation lacks by `add(memory, generation=gen)` (which raises
        GenerationChanged), until done or `deadline_s` (time.monotonic()); `restart` (or a
        namespace from before the index, or a new INDEX_VERSION) starts a new generation.
        Returns {"namespace", "indexed": memories indexed now, "done"}."""
        item = self.stats(namespace, consistent=True)
        if item is None:
            self._start(namespace, None, _first_generation())
        elif restart or int(item["ver"]["N"]) != INDEX_VERSION:
            self._start(namespace, int(item["gen"]["N"]), int(item["gen"]["N"]) + 1)
        item = self.stats(namespace, consistent=True)
        gen = int(item["gen"]["N"])
        indexed = 0
        start = item["cur"]["M"] if "cur" in item else None
        done = bool(item["ready"]["BOOL"])
        now_s = time.time()
        while not done and time.monotonic() < deadline_s:
            params = {
                "IndexName": names.GSI_BY_EPOCH,
                "KeyConditionExpression": "#ns = :ns",
                "ExpressionAttributeNames": {"#ns": names.GSI_PARTITION},
                "ExpressionAttributeValues": {":ns": {"S": namespace}},
                "ScanIndexForward": True,
                "ConsistentRead": False,
                "Limit": 100,
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            response = self.store._call("Query", **params)
            for got in response.get("Items", []):
                memory = memory_from_attrs(got)
                if not memory.is_expired(now_s) and got.get("ix", {}).get("S") != marker(gen, memory):
                    try:
                        add(memory, generation=gen)
                    except GenerationChanged:
                        return {"namespace": namespace, "indexed": indexed, "done": False}
                    indexed += 1
            start = response.get("LastEvaluatedKey")
            done = start is None
            update = "SET ready = :r" + (", cur = :c" if start else " REMOVE cur")
            values = {":r": {"BOOL": done}, ":g": {"N": str(gen)}} | ({":c": {"M": start}} if start else {})
            try:
                self.store._call(
                    "UpdateItem",
                    Key=stats_key(namespace),
                    UpdateExpression=update,
                    ConditionExpression="gen = :g",
                    ExpressionAttributeValues=values,
                )
            except AwsError as exc:
                if exc.code != "ConditionalCheckFailedException":
                    raise
                return {"namespace": namespace, "indexed": indexed, "done": False}
        return {"namespace": namespace, "indexed": indexed, "done": done}


def _first_generation() -> int:
    """The generation a namespace without a stats item starts: the time in milliseconds, not 1.
    A stats item can be lost (deleted by hand, a partial restore) while postings and the
    memories' `ix` of its generation remain: reusing that number would take every memory for
    indexed and rank with counts started afresh at 0 (BM25's idf then goes negative)."""
    return int(time.time() * 1000)
