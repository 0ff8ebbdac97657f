"""The search index of the DynamoDB store: items in the same table, written with each change.

Items (DESIGN §16; names from glyphmemory.names):
- posting `IX#<ns>#<gen>#<term>` / `<impact 4 digits><memory id>`: `f` term frequency, `n` the
  memory's length in terms, `expires_at` its expiry (the table's TTL attribute; `x` before). A Query in descending sk order reads a term's
  best postings first, and stops after the few a search needs (text_index.impact).
- term head, same pk, sk `~` (sorts after every posting, so the same Query reads it first):
  `df`, how many memories hold the term.
- namespace stats `IXS#<ns>` / `IXS`: `gen` (the generation the postings are written under),
  `ready` (every memory indexed), `ver` (text_index.INDEX_VERSION), `n` memories, `len` terms
  in all, `cur` where a rebuild walking the by-epoch index has got to (dynamodb_generations:
  the stats item, the generations and the rebuild).
- on each memory item, `ix` = `<gen>:<digest of its text and tags>`: the memory is in the index
  of that generation, with that content. Indexing is conditional on it, so it happens once
  however often it is retried; a memory whose `ix` does not match is "unindexed".

A new memory's item is written with its index in one TransactWriteItems (`put_new`: the item,
marked `ix`, a posting Put and a head ADD per term, its near-duplicate band items
(dynamodb_similar), the stats ADD), so a write is indexed at
once or not stored at all; the namespace's generation is read once per process and kept (the
stats condition catches a stale one). A memory of more than 46 distinct terms, an edit and a
repeat are indexed after their item is written, in TransactWriteItems of up to 46 terms (the
last one also adds to the stats and sets `ix`). A memory the index missed (its writer died
between the two steps) is found by searches among the newest memories, ranked from its text
and indexed on the spot; a rebuild (`glyph reindex`,
a new INDEX_VERSION, a namespace from before the index) starts a new generation, walks the
namespace oldest first in bounded steps, and leaves the old generation's items unread.
DynamoDB's TTL deletes an expiring memory's postings with it (within days of the expiry; reads
skip them meanwhile); the term heads and stats still count it until a rebuild.
"""

from __future__ import annotations

from collections import Counter

from .. import names
from ..aws.client import AwsError
from ..errors import Unavailable, retried
from ..model import Memory
from ..text_index import IndexStats, impact, memory_terms
from . import dynamodb_similar as similar_bands
from .dynamodb_generations import GenerationChanged, Generations, marker, stats_key
from .dynamodb_items import cancellation_codes, memory_from_attrs, memory_key

HEAD_SK = "~"
# Two actions a term, two more in the last and the memory's band items (dynamodb_similar.BANDS):
# TransactWriteItems takes 100.
TERMS_PER_TRANSACTION = 46
# Every write in a namespace adds to its one stats item inside its transaction, so writers at
# once cancel each other's (TransactionConflict): each is tried again after a full-jitter pause
# (0-20 ms, 0-40 ms, ... at most 250 ms) for up to 4 s, then the write is a 503.
_TRANSACTION_ATTEMPTS = 40
_BUSY_DEADLINE_S = 4.0


def posting_pk(namespace: str, generation: int, term: str) -> str:
    return f"{names.INDEX_PREFIX}{namespace}#{generation}#{term}"


class _Busy(Exception):
    """A transaction was cancelled by another one on the same items (or a stale generation): try again."""


def _retried(attempt):
    """attempt()'s result, tried again while it raises _Busy (errors.retried, jittered, within
    _BUSY_DEADLINE_S); Unavailable (503) when the index stays busy that long."""
    try:
        return retried(
            attempt,
            retryable=lambda exc: isinstance(exc, _Busy),
            attempts=_TRANSACTION_ATTEMPTS,
            deadline_s=_BUSY_DEADLINE_S,
            base_delay_s=0.02,
            max_delay_s=0.25,
        )
    except _Busy:
        raise Unavailable("the search index is busy; retry in a moment") from None


class DynamoIndex:
    def __init__(self, store):
        self.store = store
        self.table = store.table
        self.generations = Generations(store)

    def read_stats(self, namespace: str) -> tuple[IndexStats, int] | None:
        """(count and total length, generation), or None when the index is not ready."""
        return self.generations.read_stats(namespace)

    def rebuild(self, namespace: str, *, restart: bool, deadline_s: float) -> dict:
        """Index what the namespace's current generation lacks (Generations.rebuild)."""
        return self.generations.rebuild(namespace, restart=restart, deadline_s=deadline_s, add=self.add)

    # --- changes ----------------------------------------------------------------------------

    def add(self, memory: Memory, *, generation: int | None = None) -> None:
        """Index a memory (once: nothing happens when its `ix` already says so)."""
        for _ in range(4):
            gen = self.generations.current(memory.namespace) if generation is None else generation
            try:
                self._change(memory, gen, +1)
                return
            except GenerationChanged:
                if generation is not None:
                    raise
                self.generations.forget(memory.namespace)  # read it again
        raise Unavailable("the search index is being rebuilt; retry in a moment")

    def remove(self, memory: Memory, held_marker: str | None) -> None:
        """Take a memory out of the index, if `held_marker` (its item's `ix`) says it is in."""
        if held_marker is None:
            return
        gen_text = held_marker.partition(":")[0]
        if not gen_text.isdigit() or held_marker != marker(int(gen_text), memory):
            return  # indexed under other content: nothing here
        gen = int(gen_text)  # if no longer the current one, the stats condition fails: nothing to do
        try:
            self._change(memory, gen, -1)
        except GenerationChanged:  # the new generation never had it; its band items may
            bands = similar_bands.actions(self.table, memory, -1)
            if bands:
                self._send_transaction(bands)

    def replace(self, old: Memory, new: Memory) -> None:
        """Re-index a memory whose tags or expiry a repeat changed (its item still says `old`)."""
        got = self.store._call("GetItem", Key=memory_key(old.id), ConsistentRead=True).get("Item")
        self.remove(old, got.get("ix", {}).get("S") if got else None)
        self.add(new)

    def put_new(self, item: dict, memory: Memory) -> bool:
        """Write a new memory's item (where no item has its key yet) and its index in one
        TransactWriteItems; False when an item has this key. More distinct terms than one
        transaction holds: the item alone, then `add`."""
        terms = Counter(memory_terms(memory.text, memory.tags))
        if len(terms) > TERMS_PER_TRANSACTION:
            if not self.store._put_item_new(item):
                return False
            self.add(memory)
            return True
        namespace = memory.namespace
        held = similar_bands.held_items(self.store, memory)  # what its band members evict

        def attempt() -> bool:
            gen = self.generations.current(namespace)
            put = self._op(
                "Put",
                Item={**item, "ix": {"S": marker(gen, memory)}},
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": names.PK},
            )
            actions = [put, *self._term_actions(memory, gen, +1, sorted(terms.items()), sum(terms.values()))]
            actions += similar_bands.actions(self.table, memory, +1, held)
            actions.append(self._stats_action(memory, gen, +1, sum(terms.values())))
            reasons = self._send_transaction(actions)
            if reasons is None:
                return True
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # an item holds this id
            if reasons and reasons[-1] == "ConditionalCheckFailed":
                self.generations.forget(namespace)  # a rebuild started a generation: read it
            raise _Busy  # or another writer's transaction held a term head or the stats

        return _retried(attempt)

    def _term_actions(self, memory: Memory, gen: int, sign: int, chunk, length: int) -> list[dict]:
        """A posting Put (or Delete) and a head ADD for each (term, tf) of `chunk`."""
        actions = []
        for term, tf in chunk:
            key = {
                names.PK: {"S": posting_pk(memory.namespace, gen, term)},
                names.SK: {"S": f"{impact(tf, length):04d}{memory.id}"},
            }
            if sign > 0:
                item = {**key, "f": {"N": str(tf)}, "n": {"N": str(length)}}
                if memory.expires_at is not None:
                    # The table's TTL attribute: DynamoDB deletes the posting with its memory.
                    item[names.TTL_ATTRIBUTE] = {"N": str(memory.expires_at)}
                actions.append(self._op("Put", Item=item, ConditionExpression="attribute_not_exists(pk)"))
            else:
                actions.append(self._op("Delete", Key=key, ConditionExpression="attribute_exists(pk)"))
            head = {names.PK: key[names.PK], names.SK: {"S": HEAD_SK}}
            actions.append(
                self._op("Update", Key=head, UpdateExpression="ADD df :d", ExpressionAttributeValues={":d": _n(sign)})
            )
        return actions

    def _stats_action(self, memory: Memory, gen: int, sign: int, length: int) -> dict:
        """The namespace's count and total length, changed only in generation `gen`."""
        return self._op(
            "Update",
            Key=stats_key(memory.namespace),
            UpdateExpression="ADD n :d, #len :l",
            ConditionExpression="gen = :g",
            ExpressionAttributeNames={"#len": "len"},
            ExpressionAttributeValues={":d": _n(sign), ":l": _n(sign * length), ":g": _n(gen)},
        )

    def _change(self, memory: Memory, gen: int, sign: int) -> None:
        terms = Counter(memory_terms(memory.text, memory.tags))
        length = sum(terms.values())
        ordered = sorted(terms.items())
        chunks = [ordered[i : i + TERMS_PER_TRANSACTION] for i in range(0, len(ordered), TERMS_PER_TRANSACTION)]
        own = marker(gen, memory)
        for number, chunk in enumerate(chunks or [[]], start=1):
            actions = self._term_actions(memory, gen, sign, chunk, length)
            last = number == max(len(chunks), 1)
            if last:
                held = similar_bands.held_items(self.store, memory) if sign > 0 else None
                actions += similar_bands.actions(self.table, memory, sign, held)
                actions.append(self._stats_action(memory, gen, sign, length))
                # The memory's `ix` says it is in (set only if not yet, and only while the item
                # holds the text and tags indexed: a copy read before an edit or a repeat must
                # not go in over the item's) or out (only if it was).
                values, attr_names = {":m": {"S": own}}, {}
                if sign > 0:
                    update = "SET ix = :m"
                    condition = (
                        "attribute_exists(pk) AND (attribute_not_exists(ix) OR ix <> :m)"
                        " AND #text = :text AND #tags = :tags"
                    )
                    values |= {":text": {"S": memory.text}, ":tags": {"L": [{"S": t} for t in memory.tags]}}
                    attr_names = {"ExpressionAttributeNames": {"#text": "text", "#tags": "tags"}}
                else:
                    update, condition = "REMOVE ix", "ix = :m"
                actions.append(
                    self._op(
                        "Update",
                        Key=memory_key(memory.id),
                        UpdateExpression=update,
                        ConditionExpression=condition,
                        ExpressionAttributeValues=values,
                        **attr_names,
                    )
                )
            if self._transact(actions) and last:
                raise GenerationChanged

    def _transact(self, actions: list[dict]) -> bool:
        """Run one chunk: False when it went in now or had gone in before (a condition on a
        posting or on the memory's `ix` failed), True when the stats' generation changed."""

        def attempt() -> bool:
            reasons = self._send_transaction(actions)
            if reasons is None:
                return False
            if "TransactionConflict" in reasons:
                raise _Busy  # another writer indexes the same memory, or holds a term head or the stats
            stats_failed = "Update" in actions[-2] and actions[-2]["Update"]["Key"][names.PK]["S"].startswith(
                names.INDEX_STATS_PREFIX
            )
            return stats_failed and len(reasons) >= 2 and reasons[-2] == "ConditionalCheckFailed"

        return _retried(attempt)

    def _send_transaction(self, actions: list[dict]) -> list[str] | None:
        """TransactWriteItems: None when it went in, else why each action failed (DynamoDB's
        CancellationReasons codes, in the actions' order)."""
        try:
            self.store._send("TransactWriteItems", {"TransactItems": actions})
            return None
        except AwsError as exc:
            if exc.code != "TransactionCanceledException":
                raise
            return cancellation_codes(exc)

    def _op(self, kind: str, **params) -> dict:
        return {kind: {"TableName": self.table, **params}}

    def ensure(self, memory: Memory) -> None:
        """Index a memory a write found already stored, unless it is (its writer may have died
        between the item and the index)."""
        got = self.store._call("GetItem", Key=memory_key(memory.id), ConsistentRead=True).get("Item")
        if got is not None:
            gen = self.generations.current(memory.namespace)
            held = memory_from_attrs(got)
            if got.get("ix", {}).get("S") != marker(gen, held):
                self.add(held)

    # --- reads ------------------------------------------------------------------------------

    def postings(self, namespace: str, term: str, *, generation: int, after: str | None, limit: int, now_s: float):
        """(df, [(sk, memory_id, tf, doc_len)], next sk or None), as sqlite_index.postings.

        Expired postings (TTL deletes them some time after the memory) are skipped and the
        Query goes on until `limit` live ones are read or the term has no more: they must not
        take the places of live ones (a search would miss a live memory). Each further page is
        4× the last (at most 1,000 items), so a pile of expired postings costs a few calls."""
        pk = posting_pk(namespace, generation, term)
        df = None
        rows: list[tuple[str, str, int, int]] = []
        start, page = after, limit
        while True:
            first = df is None and after is None  # the first page starts with the head
            params = {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ScanIndexForward": False,
                "Limit": page + (1 if first else 0),
            }
            if start is not None:
                params["ExclusiveStartKey"] = {names.PK: {"S": pk}, names.SK: {"S": start}}
            items = self.store._call("Query", **params).get("Items", [])
            if first:
                head = items[0] if items and items[0][names.SK]["S"] == HEAD_SK else None
                df = int(head["df"]["N"]) if head else 0
                items = items[1:] if head else items[:page]
            for item in items:
                expiry = item.get(names.TTL_ATTRIBUTE) or item.get("x")  # "x": postings written before
                if expiry is not None and int(expiry["N"]) <= now_s:
                    continue
                sk = item[names.SK]["S"]
                rows.append((sk, sk[4:], int(item["f"]["N"]), int(item["n"]["N"])))
            exhausted = len(items) < page
            if len(rows) >= limit:
                more = len(rows) > limit or not exhausted
                return df, rows[:limit], (rows[limit - 1][0] if more else None)
            if exhausted:
                return df, rows, None
            start, page = items[-1][names.SK]["S"], min(page * 4, 1000)

    def unindexed(self, namespace: str, *, generation: int, now_s: float) -> list[Memory]:
        """The newest memories the index does not hold (indexed now, best effort)."""
        response = self.store._call(
            "Query",
            IndexName=names.GSI_BY_EPOCH,
            KeyConditionExpression="#ns = :ns",
            ExpressionAttributeNames={"#ns": names.GSI_PARTITION},
            ExpressionAttributeValues={":ns": {"S": namespace}},
            ScanIndexForward=False,
            Limit=names.SEARCH_UNINDEXED_WINDOW,
        )
        missing = []
        for item in response.get("Items", []):
            memory = memory_from_attrs(item)
            if not memory.is_expired(now_s) and item.get("ix", {}).get("S") != marker(generation, memory):
                missing.append(memory)
        for memory in missing:
            try:
                self.add(memory, generation=generation)
            except (AwsError, GenerationChanged):
                pass  # ranked from its text this time; the next search tries again
        return missing


def _n(value: int) -> dict:
    return {"N": str(value)}
