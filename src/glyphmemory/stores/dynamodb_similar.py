"""Near-duplicate band items of the DynamoDB store: a write's look for similar memories
(similar.find_similar) is one BatchGetItem of the new text's band items, scored from what they
hold, with no further read.

Each memory's set of index terms (text_index.memory_terms of its text, the terms
similar.score compares) is hashed to 4 bytes a term; band b's value is the term hash that is
least under the b-th of BANDS hash functions (MinHash, one row a band). Two term sets share a
band's value with the probability of their Jaccard similarity, so a pair of cosine ≥ 0.6 shares
at least one of BANDS=6 values almost always: on tests/data/similar_pairs.jsonl the candidates
they give, scored as before, keep precision 0.92 at recall 0.77 (bench/recall.py).

Item: pk `SIM#<namespace>#<band>#<value, 8 hex>`, sk `~`; a member in attribute `s<slot>`
(slot: a hash of its id and the band, 0–SLOTS-1), a map of `i` its id, `h` its term hashes
(binary, 4 bytes each), `e` its excerpt (similar.excerpt) and `x` its expiry (epoch seconds) if
it expires. So an item holds at most SLOTS members (~1 KB: one write unit, two in a transaction):
a newer member takes its slot's place (a write looks before it puts, so never its own near-
duplicate's). The actions that set (or remove) a memory's members go in the transaction that
adds it to (or takes it out of) the search index (dynamodb_index), so band items follow writes,
edits, repeats (a new expiry) and deletes; an expired member is skipped when read (the item is
shared, so it has no TTL). A memory indexed before these items has none until `glyph reindex` re-adds it.
"""

from __future__ import annotations

import base64
import hashlib

from .. import names
from ..model import Memory

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


def slot(memory_id: str, band: int) -> str:
    """The attribute of a memory's member in a band item: one hash of (id, band), so two
    memories that share a slot in one band item rarely do in another."""
    return f"s{hashlib.blake2b(memory_id.encode(), digest_size=1, salt=bytes([band])).digest()[0] % SLOTS}"


def _memory_hashes(memory: Memory) -> list[int]:
    from ..text_index import memory_terms

    return term_hashes(memory_terms(memory.text))


def actions(table: str, memory: Memory, sign: int) -> list[dict]:
    """TransactWriteItems actions that put (sign > 0) or take out (sign < 0) the memory's members
    of its band items: at most BANDS Updates, none for a text without index terms. A removal
    empties the memory's slot whoever holds it now (a condition on it would cancel the whole
    transaction): a newer member that took the slot is then left out of that one band only."""
    from ..similar import excerpt

    hashes = _memory_hashes(memory)
    if sign > 0:
        entry = {
            "i": {"S": memory.id},
            # Binary, base64 in DynamoDB's JSON protocol; stored as 4 bytes a term.
            "h": {"B": base64.b64encode(b"".join(h.to_bytes(4, "big") for h in hashes)).decode()},
            "e": {"S": excerpt(memory.text)},
        }
        if memory.expires_at is not None:
            entry["x"] = {"N": str(memory.expires_at)}
        change = {"UpdateExpression": "SET #s = :m", "ExpressionAttributeValues": {":m": {"M": entry}}}
    else:
        change = {"UpdateExpression": "REMOVE #s"}
    return [
        {
            "Update": {
                "TableName": table,
                "Key": band_key(memory.namespace, band, value),
                "ExpressionAttributeNames": {"#s": slot(memory.id, band)},
                **change,
            }
        }
        for band, value in enumerate(band_values(hashes))
    ]


def members(store, namespace: str, terms, *, now_s: float) -> list[tuple[str, list[int], str]]:
    """The unexpired members of the band items of a text's terms, as (memory id, term hashes,
    excerpt), each once: one BatchGetItem of at most BANDS items (eventually consistent: a
    memory written a moment ago may be missed; keys DynamoDB leaves unprocessed are not asked again)."""
    hashes = term_hashes(terms)
    keys = [band_key(namespace, band, value) for band, value in enumerate(band_values(hashes))]
    if not keys:
        return []
    response = store._send("BatchGetItem", {"RequestItems": {store.table: {"Keys": keys}}})
    found: dict[str, tuple[str, list[int], str]] = {}
    for item in response.get("Responses", {}).get(store.table, []):
        for name, value in item.items():
            if not (name.startswith("s") and "M" in value):
                continue
            entry = value["M"]
            expiry = entry.get("x")
            if expiry is not None and int(expiry["N"]) <= now_s:
                continue
            raw = base64.b64decode(entry["h"]["B"])
            got = [int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw), 4)]
            found[entry["i"]["S"]] = (entry["i"]["S"], got, entry["e"]["S"])
    return list(found.values())
