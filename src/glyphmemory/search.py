"""Keyword search: BM25 over the newest memories of a namespace, the same on every store.

Neither store offers full-text search on both sides (DynamoDB has none), so ranking happens
here, over at most SEARCH_SCAN_LIMIT memories read newest first: the cost is bounded and the
answers are identical on SQLite and DynamoDB.
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


def search_memories(memories: Memories, query: str, *, namespace: str, limit: int) -> list[tuple[Memory, float]]:
    """The best `limit` matches for the query's words, best first; ties go to the newer."""
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
        scored.append((-score, order, memory))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [(memory, round(-neg, 4)) for neg, _, memory in scored[:limit]]
