"""What the prompt hook prints (glyphmemory.recall.pick and render): the budget holds whatever
mix of namespaces is chosen, and each memory's namespace is said once."""

from __future__ import annotations

import itertools

import pytest

from glyphmemory import recall, utf16


def hit(n: int, namespace: str, text: str) -> dict:
    return {
        "id": f"01J{n:023d}",
        "namespace": namespace,
        "text": text,
        "created_at": f"2024-03-0{1 + n % 9}T10:00:00Z",
        "matched": ["staging", "database"],
    }


QUERY = "staging database"


def test_one_namespace_is_named_in_the_header_and_not_at_each_memory():
    hits = [hit(n, "shop", f"staging database note {n}") for n in range(3)]
    out = recall.render(recall.pick(hits, QUERY, set()))
    assert out.startswith("GlyphMemory: saved memories that may bear on this prompt (namespace `shop`), best first")
    assert out.count("`shop`") == 1
    assert f"2024-03-01 `{hits[0]['id']}`\n> staging database note 0\n\n" in out


def test_memories_of_two_namespaces_each_name_theirs():
    hits = [hit(1, "shop", "staging database in shop"), hit(2, "default", "staging database by default")]
    out = recall.render(recall.pick(hits, QUERY, set()))
    assert out.startswith("GlyphMemory: saved memories that may bear on this prompt, best first")
    assert f"`{hits[0]['id']}` in `shop`\n" in out and f"`{hits[1]['id']}` in `default`\n" in out


@pytest.mark.parametrize("budget", [200, 260, 333, 500, 1500])
def test_what_is_printed_fits_the_budget_whichever_namespaces_are_chosen(budget):
    """Two namespaces may match while what fits comes from one: the header then names it, and
    the budget still holds (the header counted is the longest it can be)."""
    long_ns = "a-rather-long-project-namespace"
    for sizes in itertools.product([5, 60, 150], repeat=3):
        hits = [
            hit(n, long_ns if n % 2 else "default", "staging database " + "x" * size) for n, size in enumerate(sizes)
        ]
        chosen = recall.pick(hits, QUERY, set(), budget=budget)
        assert utf16.length(recall.render(chosen)) <= budget


def test_known_memories_and_a_prompt_that_matches_nothing_well_print_nothing():
    hits = [hit(n, "shop", f"staging database note {n}") for n in range(2)]
    assert recall.pick(hits, QUERY, {h["id"] for h in hits}) == []
    assert recall.render([]) == ""
    weak = [{**h, "matched": ["staging"]} for h in hits]
    assert recall.pick(weak, "staging database migrations rollback", set()) == []
