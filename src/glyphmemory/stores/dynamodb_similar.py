"""Near-duplicate band items of the DynamoDB store: a write's look for similar memories
(similar.find_similar) is one BatchGetItem of the new text's band items, scored from what they
hold, with no further read.

Each memory's set of index terms (text_index.memory_terms of its text, the terms
similar.score compares) is hashed to 4 bytes a term; band b's value is the term hash that is
least under the b-th of BANDS hash functions (MinHash, one row a band). Two term sets share a
band's value with the probability of their Jaccard similarity, so a pair of cosine ≥ 0.6 shares
at least one of BANDS=6 values almost always: on tests/data/similar_pairs.jsonl the candidates
they give, scored as before, keep precision 0.92 at recall 0.77 (bench/recall.py).

Item: pk `SIM#<namespace>#<band>#<value, 8 hex>`, sk `~`; a member is the attribute named by
its memory id, a map of `h` its term hashes (binary, 4 bytes each), `e` its excerpt
(similar.excerpt) and `x` its expiry (epoch seconds) if it expires. An item holds up to SLOTS
members (~1 KB: one write unit, two in a transaction). A write chooses from the band items its
similar check read (BandReads hands that read to the put; a write without the check, an edit's
or a rebuild's re-add reads them with one BatchGetItem): it sets its own member and removes
the expired members it saw, then, while more than SLOTS would remain, the oldest (ids are
ULIDs: time order). So near-duplicates are all kept while an item has room, and a fifth evicts
the oldest. No condition is needed: a member is written only under its own name, so a writer
never overwrites another's member, however stale its read. Writers at once all keep their
members (the item holds one more than SLOTS for each that raced, until the next write to it
trims it); a delete racing the read can make a write evict a member though the item has room. A member leaves exactly
where it is: a removal is `REMOVE <its id>` on the memory's band items, no read and no stored
slot. The actions that set (or remove) a memory's members go in the transaction that adds it to
(or takes it out of) the search index (dynamodb_index), so band items follow writes, edits,
repeats (a new expiry) and deletes; an expired member is skipped when read (the item is
shared, so it has no TTL). A memory indexed before these items has none until `glyph reindex`
re-adds it.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time

from .. import names
from ..errors import Unavailable
from ..model import Memory, is_memory_id

BANDS = 6
SLOTS = 4
SK = "~"


def term_hashes(terms) -> list[int]:
    """The 4-byte hashes of a set of terms, sorted."""
    return sorted({int.from_bytes(hashlib.blake2b(t.encode(), digest_size=4).digest(), "big") for t in terms})


def band_values(hashes: list[int]) -> list[int]:
    """For each band, the term hash that is least under that band's hash function ([] for none)."""
    if not hashes:
        return []
    packed = {h: h.to_bytes(4, "big") for h in hashes}
    return [
        min(hashes, key=lambda h, b=band: hashlib.blake2b(packed[h], digest_size=8, salt=bytes([b])).digest())
        for band in range(BANDS)
    ]


def band_key(namespace: str, band: int, value: int) -> dict:
    return {names.PK: {"S": f"{names.SIMILAR_PREFIX}{namespace}#{band}#{value:08x}"}, names.SK: {"S": SK}}


def _keys(namespace: str, hashes: list[int]) -> list[dict]:
    return [band_key(namespace, band, value) for band, value in enumerate(band_values(hashes))]


def _memory_hashes(memory: Memory) -> list[int]:
    from ..text_index import memory_terms

    return term_hashes(memory_terms(memory.text))


class BandReads:
    """Band items as a similar check read them, kept for the put that follows it (at most
    MAX_AGE_S, each taken once), so that put chooses its evictions without reading again.
    Shared by a store's threads; a read another writer took is read again."""

    MAX_AGE_S = 5.0
    MAX_ITEMS = 256

    def __init__(self) -> None:
        self._held: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def keep(self, items: dict[str, dict]) -> None:
        now = time.monotonic()
        with self._lock:
            for pk, item in items.items():
                self._held.pop(pk, None)
                self._held[pk] = (now, item)
            while len(self._held) > self.MAX_ITEMS:
                del self._held[next(iter(self._held))]

    def take(self, pks) -> dict[str, dict]:
        now = time.monotonic()
        with self._lock:
            got = {pk: self._held.pop(pk, None) for pk in pks}
        return {pk: held[1] for pk, held in got.items() if held is not None and now - held[0] <= self.MAX_AGE_S}


def _read(store, keys: list[dict]) -> dict[str, dict]:
    """One BatchGetItem (eventually consistent): {pk: item}, {} for an item that does not exist;
    keys DynamoDB leaves unprocessed are left out (not asked again)."""
    response = store._send("BatchGetItem", {"RequestItems": {store.table: {"Keys": keys}}})
    unprocessed = response.get("UnprocessedKeys", {}).get(store.table, {}).get("Keys", [])
    skipped = {k[names.PK]["S"] for k in unprocessed}
    items = {k[names.PK]["S"]: {} for k in keys if k[names.PK]["S"] not in skipped}
    for item in response.get("Responses", {}).get(store.table, []):
        items[item[names.PK]["S"]] = item
    return items


def held_items(store, memory: Memory) -> dict[str, dict]:
    """The memory's band items as last read, {pk: item}: the similar check's read when it was
    just made (store.band_reads), else one BatchGetItem of them. Advice for the evictions only:
    when DynamoDB cannot answer, {} (the write goes on, and its items may hold one member more
    than SLOTS until a write to them reads them)."""
    keys = _keys(memory.namespace, _memory_hashes(memory))
    held = store.band_reads.take(k[names.PK]["S"] for k in keys)
    missing = [k for k in keys if k[names.PK]["S"] not in held]
    if missing:
        try:
            held |= _read(store, missing)
        except Unavailable:
            pass
    return held


def _evicted(item: dict | None, own: str, now_s: float) -> list[str]:
    """The members a new member `own` removes from a band item as read: every expired one, then
    the oldest live ones (ULIDs sort by time) while more than SLOTS would remain. None when the
    item was not read."""
    if not item:
        return []
    others = [(name, value["M"]) for name, value in item.items() if name != own and "M" in value and is_memory_id(name)]
    expired = [name for name, entry in others if "x" in entry and int(entry["x"]["N"]) <= now_s]
    live = sorted(name for name, entry in others if name not in expired)
    return expired + live[: max(0, len(live) - (SLOTS - 1))]


def actions(table: str, memory: Memory, sign: int, held: dict[str, dict] | None = None) -> list[dict]:
    """TransactWriteItems actions that put (sign > 0) or take out (sign < 0) the memory's members
    of its band items: at most BANDS Updates, none for a text without index terms. A put also
    removes the members `held` (held_items) says it evicts; a removal takes out the memory's
    own member wherever it is (REMOVE of an absent attribute changes nothing)."""
    from ..similar import excerpt

    hashes = _memory_hashes(memory)
    keys = _keys(memory.namespace, hashes)
    if sign < 0:
        return [_update(table, key, "REMOVE #m", {"#m": memory.id}) for key in keys]
    entry = {
        # Binary, base64 in DynamoDB's JSON protocol; stored as 4 bytes a term.
        "h": {"B": base64.b64encode(b"".join(h.to_bytes(4, "big") for h in hashes)).decode()},
        "e": {"S": excerpt(memory.text)},
    }
    if memory.expires_at is not None:
        entry["x"] = {"N": str(memory.expires_at)}
    now_s = time.time()  # the clock DynamoDB's TTL and the readers' expiry go by
    found = []
    for key in keys:
        gone = _evicted((held or {}).get(key[names.PK]["S"]), memory.id, now_s)
        removal = " REMOVE " + ", ".join(f"#r{i}" for i in range(len(gone))) if gone else ""
        attr_names = {"#m": memory.id, **{f"#r{i}": name for i, name in enumerate(gone)}}
        found.append(_update(table, key, "SET #m = :m" + removal, attr_names, {":m": {"M": entry}}))
    return found


def _update(table: str, key: dict, expression: str, attr_names: dict, values: dict | None = None) -> dict:
    update = {"TableName": table, "Key": key, "UpdateExpression": expression, "ExpressionAttributeNames": attr_names}
    if values:
        update["ExpressionAttributeValues"] = values
    return {"Update": update}


def members(store, namespace: str, terms, *, now_s: float) -> list[tuple[str, list[int], str]]:
    """The unexpired members of the band items of a text's terms, as (memory id, term hashes,
    excerpt), each once: one BatchGetItem of at most BANDS items (eventually consistent: a
    memory written a moment ago may be missed; keys DynamoDB leaves unprocessed are not asked
    again). The items are kept for the put that follows (BandReads)."""
    keys = _keys(namespace, term_hashes(terms))
    if not keys:
        return []
    items = _read(store, keys)
    store.band_reads.keep(items)
    found: dict[str, tuple[str, list[int], str]] = {}
    for item in items.values():
        for name, value in item.items():
            if not (is_memory_id(name) and "M" in value):
                continue
            entry = value["M"]
            expiry = entry.get("x")
            if expiry is not None and int(expiry["N"]) <= now_s:
                continue
            raw = base64.b64decode(entry["h"]["B"])
            got = [int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw), 4)]
            found[name] = (name, got, entry["e"]["S"])
    return list(found.values())
