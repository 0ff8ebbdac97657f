"""50 identical writes at the same instant, as JSON and as a /w URL: exactly one memory, both stores."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from glyphmemory.codec import encode

pytestmark = pytest.mark.e2e

AT_ONCE = 50


def all_at_once(request, count: int = AT_ONCE) -> list[httpx.Response]:
    """`count` clients, each on its own connection, released together by a barrier. They come
    from eight loopback addresses, so that no source passes glyph serve's per-source cap."""
    barrier = threading.Barrier(count)

    def one(n):
        local = httpx.HTTPTransport(local_address=f"127.0.0.{1 + n % 8}")
        with httpx.Client(timeout=60, transport=local) as client:
            barrier.wait()
            return request(client)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_identical_writes_at_once_store_one_memory(served):
    token = served.token("w")
    json_text = "the same memory, sent fifty times at once as JSON"
    url_text = "the same memory, sent fifty times at once as a /w link"
    as_json = all_at_once(
        lambda c: c.post(
            served.url + "/v1/memories", json={"text": json_text}, headers={"Authorization": "Bearer " + token}
        )
    )
    as_url = all_at_once(lambda c: c.get(served.url + "/w", params={"t": token, "z": encode(url_text)}))

    for responses in (as_json, as_url):
        assert sorted(Counter(r.status_code for r in responses).items()) == [(200, AT_ONCE - 1), (201, 1)]
    ids = {r.json()["id"] for r in as_json}
    words = {tuple(r.text.split()[-1:]) for r in as_url}
    assert len(ids) == 1 and len(words) == 1  # every answer names the one stored memory

    stored = served.all_memories()
    assert Counter(m["text"] for m in stored) == {json_text: 1, url_text: 1}
    assert {m["id"] for m in stored} == ids | {next(iter(words))[0]}


def test_identical_writes_with_different_lifetimes_and_tags_converge_to_the_repeat_rule(served):
    """Twenty clients write one text at once, each with its own TTL (one with none) and tag: one
    memory, kept for good, carrying the first sixteen tags, and the answers add up to it."""
    token = served.token("w")
    text = "Deploy freeze until the audit ends"
    count = 20
    ttls = [None if i == 13 else 1 + i % 9 for i in range(count)]
    counter = iter(range(count))
    lock = threading.Lock()

    def write(client):
        with lock:
            i = next(counter)
        payload = {"text": text, "tags": [f"t{i}"], **({"ttl_days": ttls[i]} if ttls[i] else {})}
        return client.post(served.url + "/v1/memories", json=payload, headers={"Authorization": "Bearer " + token})

    responses = all_at_once(write, count)
    assert sorted(Counter(r.status_code for r in responses).items()) == [(200, count - 1), (201, 1)]
    (stored,) = served.all_memories()
    assert stored["expires_at"] is None and len(stored["tags"]) == 16
    answers = [r.json() for r in responses]
    (created,) = [a for a in answers if not a["duplicate"]]
    # Kept for good: by the write that created it (the one without a TTL won), or by a repeat that said so.
    assert created["expires_at"] is None or sum(a["extended"] for a in answers) >= 1
    added = [t for a in answers for t in (a["tags_added"] if a["duplicate"] else a["tags"])]
    assert sorted(added) == sorted(stored["tags"])  # each tag reported by the one write that added it
