"""Keyword search over every memory of a namespace, through the store's inverted index.

The engine is the same on both stores: the query's terms (text_index.query_terms) → each
term's best postings from the store's index, at most names.SEARCH_POSTINGS_BUDGET in all →
text_index.rank → the winning memories read by id. Given the same data, SQLite and DynamoDB
hand `rank` the same postings and statistics, so they answer the same. The cost of a search
is bounded by the budget and the limit, not by the namespace's size (README, "Search").

A namespace whose index is not ready yet (on DynamoDB: a table from before the index, while
it is being built) is searched the old way: BM25 over the newest SEARCH_SCAN_LIMIT memories
(`scan_search`, also the benchmarks' baseline).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from . import names
from .errors import InvalidInput
from .model import Memory
from .service import Memories

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_K1, _B = 1.2, 0.75
# Every search needs each scanned memory's case-folded text and its length in words (BM25's
# average); splitting every text into words was 80% of a search (bench/mcp_peer.py). A
# long-lived process (glyph serve, glyph mcp, a warm function) keeps both, keyed by what they
# depend on, within a budget of characters, and starts afresh when it is spent.
_FOLDED: dict[tuple, tuple[str, int]] = {}
_FOLDED_BUDGET = 8_000_000  # characters: about 16 MB at most
_folded_chars = 0


def _folded(memory: Memory) -> tuple[str, int]:
    global _folded_chars
    key = (memory.id, memory.content_hash, memory.updated_us, memory.tags)  # an edit may keep the hash
    got = _FOLDED.get(key)
    if got is None:
        folded = " ".join((memory.text, *memory.tags)).casefold()
        got = (folded, len(_WORD_RE.findall(folded)))
        if _folded_chars + len(folded) > _FOLDED_BUDGET:
            _FOLDED.clear()
            _folded_chars = 0
        _FOLDED[key] = got
        _folded_chars += len(folded)
    return got


def terms(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())  # one casefold per text, not per word: 2× faster


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what \w matches (sre: Unicode alphanumerics and _)


def count_word(text: str, word: str) -> int:
    """How many of terms(text) equal `word` (a term of a casefolded text), without splitting
    the text: an occurrence counts when no word character touches it on either side."""
    count, start, size = 0, 0, len(word)
    while (at := text.find(word, start)) != -1:
        end = at + size
        if (at == 0 or not _is_word(text[at - 1])) and (end == len(text) or not _is_word(text[end])):
            count += 1
            start = end
        else:
            start = at + 1
    return count


Hit = tuple[Memory, float, list[str]]  # a memory, its score, the query terms it holds


def search_memories(memories: Memories, query: str, *, namespace: str, limit: int) -> list[tuple[Memory, float]]:
    """The best `limit` matches for the query's words, best first; ties go to the newer."""
    return [(memory, score) for memory, score, _ in search_hits(memories, query, namespace=namespace, limit=limit)]


def _query_terms(query: str) -> list[str]:
    if len(query) > names.MAX_QUERY_CHARS:
        raise InvalidInput(f"q is longer than {names.MAX_QUERY_CHARS} characters")
    from .text_index import query_terms

    wanted = query_terms(query)[: names.SEARCH_MAX_TERMS]
    if not wanted:
        raise InvalidInput("q must contain at least one word to search for")
    return wanted


def search_hits(memories: Memories, query: str, *, namespace: str, limit: int) -> list[Hit]:
    """The best `limit` matches, best first (ties to the newer), each with the terms it matched."""
    from .model import Cursor, validate_namespace
    from .text_index import FOLLOWED_HITS, by_score, memory_terms, rank, rerank, with_followers

    wanted = _query_terms(query)
    namespace = validate_namespace(namespace)
    store, now_s = memories.store, memories.clock.now_s()
    got = store.index_stats(namespace)
    if got is None:  # the index is still being built: the old way meanwhile
        return scan_search(memories, query, namespace=namespace, limit=limit)
    stats, generation = got
    postings, doc_len = _read_postings(store, namespace, wanted, stats, generation, now_s)
    for memory in store.unindexed(namespace, generation=generation, now_s=now_s):
        _add_unindexed(memory, postings, doc_len, stats)
    ranked = rank(wanted, postings, doc_len, stats, limit + 8)  # spares, for memories gone meanwhile
    found: dict[str, Memory] = {}
    at = 0
    while at < len(ranked) and len(found) < limit:  # read what is shown, and only that (0.5 unit each)
        batch = [memory_id for memory_id, _, _ in ranked[at : at + limit - len(found)]]
        found |= store.get_many(batch, now_s=now_s)
        at += len(batch)
    # The memories read to answer are ranked again from their whole text: the budget may have
    # left out some of their postings of common terms (text_index.rerank).
    whole = {i: memory_terms(found[i].text, found[i].tags) for i, _, _ in ranked[:at] if i in found}
    ranked = rerank(wanted, whole, stats, limit)
    # A memory of the same session right after one of the best hits joins them (text_index).
    followers = {}
    for memory_id, _, _ in ranked[:FOLLOWED_HITS]:
        memory = found[memory_id]
        if memory.session is not None:
            after = store.following(namespace, after=Cursor(memory.epoch_us, memory.id), now_s=now_s)
            if after is not None and after.session == memory.session:
                found.setdefault(after.id, after)
                followers[memory_id] = after.id
    if followers:
        # A follower holding some of the query's terms keeps its own score too, as it would
        # have among the memories read: it is scored from its text (no further read).
        have = {memory_id for memory_id, _, _ in ranked}
        outside = {i: memory_terms(found[i].text, found[i].tags) for i in followers.values() if i not in have}
        if outside:
            ranked = sorted([*ranked, *rerank(wanted, outside, stats, len(outside))], key=by_score)
        ranked = with_followers(ranked, followers, limit)
    words = _query_words(query)
    return [(found[i], score, _matched(matched, words)) for i, score, matched in ranked]


def _query_words(query: str) -> dict[str, str]:
    """Each index term of the query → the query's word it came from (normalised, as typed:
    `deploying` rather than its stem `deploy`), for showing what matched. A word of a script
    without spaces stays as its bigrams: each is a piece of the text, where the word may not be."""
    from .text_index import analyze, normalise

    words: dict[str, str] = {}
    for token in normalise(query).split():
        word = token.strip(_PUNCTUATION)
        terms = analyze(word)
        if len(terms) == 1:
            words.setdefault(terms[0], word)
    return words


_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»“”‘’„…·、。，！？：；（）「」『』"


def _matched(terms: list[str], words: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(words.get(term, term) for term in terms))


def _read_postings(store, namespace, wanted, stats, generation, now_s):
    """Each term's best postings within the budget: an equal share each, then what terms with
    short lists left over goes to the terms that had more (one more read each)."""
    postings: dict[str, dict[str, int]] = {}
    doc_len: dict[str, int] = {}
    budget = names.SEARCH_POSTINGS_BUDGET
    share = max(1, budget // len(wanted))
    more: dict[str, str] = {}
    used = 0

    def take(term, rows):
        for _, memory_id, tf, length in rows:
            postings.setdefault(term, {})[memory_id] = tf
            doc_len[memory_id] = length

    for term in wanted:
        df, rows, after = store.index_postings(
            namespace, term, generation=generation, after=None, limit=share, now_s=now_s
        )
        stats.df[term] = df
        take(term, rows)
        used += share if after else len(rows)
        if after:
            more[term] = after
    if more and budget - used >= len(more):
        extra = (budget - used) // len(more)
        for term, after in more.items():
            _, rows, _ = store.index_postings(
                namespace, term, generation=generation, after=after, limit=extra, now_s=now_s
            )
            take(term, rows)
    return postings, doc_len


def _add_unindexed(memory: Memory, postings, doc_len, stats) -> None:
    """Rank a memory the index does not hold yet from its text."""
    from .text_index import memory_terms

    counts = Counter(memory_terms(memory.text, memory.tags))
    length = sum(counts.values())
    stats.count += 1
    stats.total_len += length
    doc_len[memory.id] = length
    for term in stats.df:
        if term in counts and memory.id not in postings.get(term, {}):
            postings.setdefault(term, {})[memory.id] = counts[term]
            stats.df[term] += 1


def scan_search(memories: Memories, query: str, *, namespace: str, limit: int) -> list[Hit]:
    """BM25 over the newest SEARCH_SCAN_LIMIT memories, reading each (the pre-index ranker)."""
    if len(query) > names.MAX_QUERY_CHARS:
        raise InvalidInput(f"q is longer than {names.MAX_QUERY_CHARS} characters")
    wanted = set(terms(query))
    if not wanted:
        raise InvalidInput("q must contain at least one word to search for")
    docs: list[tuple[Memory, Counter, int]] = []
    scanned = total_len = 0
    for memory in memories.iter_newest(namespace, page=500):
        if scanned >= names.SEARCH_SCAN_LIMIT:
            break
        scanned += 1
        folded, length = _folded(memory)
        total_len += length
        if any(w in folded for w in wanted):  # a substring test first: most memories match nothing
            freq = Counter({w: n for w in wanted if w in folded and (n := count_word(folded, w))})
            if freq:
                docs.append((memory, freq, length))
    if not docs:
        return []
    avg_len = total_len / scanned
    doc_freq = Counter(w for _, freq, _ in docs for w in freq)
    scored = []
    for order, (memory, freq, length) in enumerate(docs):
        score = 0.0
        for word, tf in freq.items():
            idf = math.log(1 + (scanned - doc_freq[word] + 0.5) / (doc_freq[word] + 0.5))
            score += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / avg_len))
        scored.append((-score, order, memory, freq))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [(memory, round(-neg, 4), sorted(freq)) for neg, _, memory, freq in scored[:limit]]
