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


TRACEBACK = (
    'Traceback (most recent call last): File "/srv/app/worker.py", line 88, in run: '
    "psycopg.errors.UndefinedTable: relation users_v2 does not exist; the job queue stalled overnight."
)


def matched(prompt: recall.Prompt, words: list[str]) -> dict:
    return {"id": "01J0000000000000000000000A", "namespace": "shop", "text": "", "matched": words}


def test_a_question_with_pasted_text_matches_by_its_sentence():
    """A prompt is often a question with a log or a paragraph pasted around it: a memory holding
    3 of one sentence's terms (and 43 % of them) matches, though it holds few of the whole's."""
    for text in (
        f"How do the database migrations run on staging? I got this: {TRACEBACK}",
        f"{TRACEBACK} How do the database migrations run on staging?",
    ):
        prompt = recall.Prompt(recall.query_of(text))
        assert len(prompt.terms) > 20
        assert prompt.matches_well(matched(prompt, ["database", "migrations", "staging"]))
        assert not prompt.matches_well(matched(prompt, ["database", "staging"]))  # 2 terms of a sentence
        assert not prompt.matches_well(matched(prompt, ["database", "overnight", "worker"]))  # 3, of 3 sentences


def test_a_prompt_of_one_sentence_is_judged_as_a_whole_as_before():
    prompt = recall.Prompt("Which database plans for staging?")
    assert prompt.parts == []  # one sentence: the whole is the only part
    assert prompt.matches_well(matched(prompt, ["database", "staging"]))  # 2 of 3
    assert not prompt.matches_well(matched(prompt, ["staging"]))
    one = recall.Prompt("Vault?")
    assert one.matches_well(matched(one, ["Vault"])) and not one.matches_well(matched(one, []))


def test_a_long_prompt_is_searched_by_its_beginning_and_its_end():
    """A question after a long paste (or before it) is still in the query, and is judged as a
    sentence of its own; the query stays within the search's limit."""
    from glyphmemory import names

    paste = "\n".join(f"line {n}: worker heartbeat ok, queue depth {n * 3}" for n in range(40))
    for text in (
        f"{paste}\nWhy does the staging database refuse connections?",
        f"Why does the staging database refuse connections?\n{paste}",
    ):
        query = recall.query_of(text)
        assert len(query) <= names.MAX_QUERY_CHARS and " … " in query
        assert "staging database refuse connections" in query
        prompt = recall.Prompt(query)
        assert prompt.matches_well(matched(prompt, ["staging", "database", "connections"]))
    short = "Why does the staging database refuse connections?"
    assert recall.query_of(f"  {short}\n") == short
    unbroken = "x" * 2000  # no space to cut at: the ends as they are
    assert recall.query_of(unbroken) == f"{'x' * recall.QUERY_END_CHARS} … {'x' * recall.QUERY_END_CHARS}"


@pytest.mark.parametrize(
    "paste",
    [
        "\n".join(f"2026-11-30T10:{n:02d}:11Z WARN job={8800 + n} queue=q{n} host=w{n}.internal" for n in range(12)),
        "/".join(f"segment{n}" for n in range(80)),  # no space to cut at
        "本番環境のデータベースが夜間に停止しました。" * 12,  # a script without spaces
    ],
)
def test_a_long_prompts_query_holds_its_questions_terms_within_the_search_limit(paste):
    """The search looks up a query's first names.SEARCH_MAX_TERMS terms: the beginning of a
    dense paste must not take them all, whichever end the question is at."""
    from glyphmemory import names
    from glyphmemory.text_index import query_terms

    question = "Which postgres version runs in production?"
    for text in (f"{paste}\n{question}", f"{question}\n{paste}"):
        query = recall.query_of(text)
        terms = query_terms(query)
        assert len(query) <= names.MAX_QUERY_CHARS and len(terms) <= names.SEARCH_MAX_TERMS
        assert {"postgr", "version", "product"} <= set(terms)


def test_a_huge_prompt_costs_the_query_no_more_than_its_ends():
    """Only a prompt's ends make its query: 4 MB of short lines (a pasted column, a log) costs
    about what 64 KB of them does, not 60 times more (the hook has 1.5 s in all)."""
    import time

    def seconds(prompt: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            recall.query_of(prompt)
            best = min(best, time.perf_counter() - started)
        return best

    small, huge = "ok\n" * 20_000, "ok\n" * 1_400_000
    assert recall.query_of(huge + "Which postgres version?").endswith("ok. Which postgres version?")
    assert seconds(huge) < 10 * seconds(small)
