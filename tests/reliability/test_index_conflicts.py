"""Different writes in one namespace at once: every write adds to the namespace's one search-index
stats item inside its transaction, so on DynamoDB they cancel each other's (TransactionConflict,
emulated on moto by tests.support.processes.set_conflicts). Each is tried again until it goes
in: every write answers 201 and is found by a search."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..support.processes import set_conflicts

pytestmark = pytest.mark.e2e

THREADS, WRITES = 8, 10


def word(n: int) -> str:
    """A made-up word of letters only, one per write (digits would be separate terms)."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters += chr(ord("a") + digit)
        if n == 0:
            return "zq" + letters + "x"


def found(served, term: str) -> list[str]:
    with served.client() as client:
        r = client.get("/v1/search", params={"q": term, "limit": 5})
        assert r.status_code == 200, r.text
        return [hit["id"] for hit in r.json()["items"]]


@pytest.mark.parametrize("served", ["dynamodb"], indirect=True)
def test_a_write_whose_transaction_meets_conflicts_is_tried_again(served):
    """Six conflicts in a row on the stats item (the code before gave up after five, 0.3 s of
    pauses in step with every other writer: a 503)."""
    set_conflicts(6)
    try:
        with served.client() as client:
            r = client.post("/v1/memories", json={"text": "the quarterly audit starts in March"})
    finally:
        set_conflicts(0)
    assert r.status_code == 201, r.text
    assert found(served, "quarterly") == [r.json()["id"]]


def test_different_writes_at_once_in_one_namespace_all_stored_and_found(served):
    """8 threads × 10 different texts through glyph serve, the first 40 transactions on DynamoDB
    cancelled by a conflict on the stats item: 80 answers 201, each text found by its own word."""
    if "GLYPH_STORE" in served.env:
        set_conflicts(40)
    barrier = threading.Barrier(THREADS)

    def writer(t: int) -> list[tuple[str, int, str]]:
        answers = []
        with served.client() as client:
            barrier.wait()
            for i in range(WRITES):
                unique = word(t * WRITES + i)
                r = client.post("/v1/memories", json={"text": f"note {unique} from writer at once"})
                answers.append((unique, r.status_code, r.json().get("id") or r.text))
        return answers

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            answers = [a for batch in pool.map(writer, range(THREADS)) for a in batch]
    finally:
        if "GLYPH_STORE" in served.env:
            set_conflicts(0)
    assert [a for a in answers if a[1] != 201] == []
    assert len({memory_id for _, _, memory_id in answers}) == THREADS * WRITES
    assert len(served.all_memories()) == THREADS * WRITES
    for unique, _, memory_id in answers:
        assert found(served, unique) == [memory_id], unique
