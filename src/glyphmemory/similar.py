"""The memories a new text is close to: a write answers them as `similar` (DESIGN §17), so the
assistant corrects the existing memory (`glyph edit`) instead of storing a variant beside it.

Candidates come from the search index (search.search_hits with the text as the query: the
same postings budget as a search) on SQLite, and on DynamoDB from the text's near-duplicate band
items (stores/dynamodb_similar: one BatchGetItem, MinHash bands of the same term sets, which keep
the same precision and recall on the pairs); each is scored by the cosine of the two texts' sets of
index terms (text_index.memory_terms: stemmed, stop words dropped), 0–1. A candidate is
similar from SIMILAR_MIN_SCORE: chosen on tests/data/similar_pairs.jsonl (bench/recall.py),
where it gives precision 0.92 at recall 0.77.
"""

from __future__ import annotations

import math

from . import names

SIMILAR_MIN_SCORE = 0.6  # cosine of the term sets, 0–1
MAX_SIMILAR = 3
EXCERPT_UNITS = 80  # UTF-16 code units of text shown per similar memory
_CANDIDATES = 5


def score(terms_a: set[str], terms_b: set[str]) -> float:
    """Cosine of two sets of index terms, 0–1 (0 when either is empty)."""
    if not terms_a or not terms_b:
        return 0.0
    return len(terms_a & terms_b) / math.sqrt(len(terms_a) * len(terms_b))


def text_score(a: str, b: str) -> float:
    from .text_index import memory_terms

    return score(set(memory_terms(a)), set(memory_terms(b)))


def excerpt(text: str) -> str:
    from . import utf16

    one_line = " ".join(text.split())
    if utf16.length(one_line) <= EXCERPT_UNITS:
        return one_line
    return utf16.prefix(one_line, EXCERPT_UNITS - 1).rstrip() + "…"


def find_similar(memories, text: str, *, namespace: str, exclude: str | None = None) -> list[dict]:
    """Up to MAX_SIMILAR memories of `namespace` close to `text`, best first, each
    {"id", "score" (0–1, 2 decimals), "excerpt"}. Never raises for the text's sake: a text with
    no searchable word has no similar memory."""
    from .errors import InvalidInput
    from .search import search_hits
    from .text_index import memory_terms

    wanted = set(memory_terms(text))
    if not wanted:
        return []
    store = memories.store
    if hasattr(store, "similar_members"):  # DynamoDB: one read of the text's band items
        from .stores.dynamodb_similar import term_hashes

        hashes = set(term_hashes(wanted))
        found = []
        for memory_id, theirs, shown in store.similar_members(namespace, wanted, now_s=memories.clock.now_s()):
            value = score(hashes, set(theirs))
            if memory_id != exclude and value >= SIMILAR_MIN_SCORE:
                found.append({"id": memory_id, "score": round(value, 2), "excerpt": shown})
        found.sort(key=lambda s: -s["score"])
        return found[:MAX_SIMILAR]
    try:
        hits = search_hits(memories, text[: names.MAX_QUERY_CHARS], namespace=namespace, limit=_CANDIDATES)
    except InvalidInput:
        return []
    found = []
    for memory, _, _ in hits:
        if memory.id == exclude:
            continue
        value = score(wanted, set(memory_terms(memory.text)))
        if value >= SIMILAR_MIN_SCORE:
            found.append({"id": memory.id, "score": round(value, 2), "excerpt": excerpt(memory.text)})
    found.sort(key=lambda s: -s["score"])
    return found[:MAX_SIMILAR]


def lines(similar: list[dict]) -> str:
    """The `similar` answer as text lines, "similar to ID (0.82): excerpt", each ending with a
    newline; "" when there is none. The CLI, `/w` and the page's note show these."""
    return "".join(f"similar to {s['id']} ({s['score']:.2f}): {s['excerpt']}\n" for s in similar)


ADVICE = "if one says the same, correct it instead of keeping both"
