"""Both stores name the same similar memories for the same data (DESIGN §17): SQLite takes its
candidates from the search index, DynamoDB from the near-duplicate band items; on every
labelled pair of tests/data/similar_pairs.jsonl the answers are the same."""

from __future__ import annotations

import json
from pathlib import Path

from glyphmemory.service import Memories
from glyphmemory.similar import SIMILAR_MIN_SCORE, text_score

PAIRS = Path(__file__).resolve().parent.parent / "data" / "similar_pairs.jsonl"


def test_every_labelled_pair_is_answered_by_its_cosine_on_both_stores(store, clock):
    memories = Memories(store, clock)
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    named, expected = [], []
    for number, pair in enumerate(pairs):
        namespace = f"pair-{number}"
        first = memories.write(text=pair["a"], namespace=namespace)[0]
        second = memories.write(text=pair["b"], namespace=namespace)
        named.append([s["id"] for s in second.similar])
        close = not second[1] and text_score(pair["a"], pair["b"]) >= SIMILAR_MIN_SCORE
        expected.append([first.id] if close else [])
    assert named == expected
    assert sum(bool(ids) for ids in named) >= 45  # 44 of 57 rewordings and 4 others (bench/recall.py)
