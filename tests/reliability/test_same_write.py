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


def all_at_once(request) -> list[httpx.Response]:
    """AT_ONCE clients, each on its own connection, released together by a barrier."""
    barrier = threading.Barrier(AT_ONCE)

    def one(_):
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return request(client)

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(one, range(AT_ONCE)))


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
