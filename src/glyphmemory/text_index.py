"""Text → index terms, and the ranking of an index's postings: pure functions, no I/O.

Both stores keep the same inverted index (glyphmemory.stores.sqlite_index, .dynamodb_index) and
hand the same inputs to `rank`, so a search ranks identically on SQLite and DynamoDB (DESIGN §16).

- `memory_terms(text, tags)` and `query_terms(query)`: the index terms of a memory (in order,
  repeats kept: a term's frequency is its count) and of a query (each term once, in order).
  Text and query pass one normaliser (NFKC, case fold); scripts written without spaces (Han,
  kana, Hangul, Thai) become overlapping character bigrams, so words inside a clause are found.
- `impact(tf, doc_len)`: how strongly a memory holds a term, from the memory alone (no
  collection statistics, so it never changes once written): the order a term's postings are
  stored in. A search reads at most `names.SEARCH_POSTINGS_PER_TERM` postings of each term,
  the highest impact first, so a very common term costs the same at 1,000 and 100,000 memories.
- `rank(query_terms, postings, doc_len, stats, limit)`: BM25 over what was read.

Changing `memory_terms` or `impact` changes what is stored: bump INDEX_VERSION so that stored
indexes are rebuilt (the stores compare it on open / on search).
"""

from __future__ import annotations

import math
import re
import unicodedata

INDEX_VERSION = 1  # bump when memory_terms or impact changes: stored indexes are then rebuilt

# Scripts written without spaces between words: Han, Hiragana, Katakana, Hangul, Thai, Lao,
# Khmer, Myanmar. A run of them is indexed as its overlapping character bigrams.
_SPACELESS = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
# Words: runs of word characters (Thai/Lao/Khmer/Myanmar vowel signs are marks, not \w, so
# their blocks are named); inside a word, runs of spaceless-script characters are cut out.
_TOKEN_RE = re.compile(rf"[\w{_SPACELESS}]+")
_SPACELESS_RE = re.compile(rf"[{_SPACELESS}]+")


def normalise(text: str) -> str:
    """NFKC, then case fold: the one normaliser of stored text and queries."""
    return unicodedata.normalize("NFKC", text).casefold()


def analyze(text: str) -> list[str]:
    """The index terms of a text, in order (repeats kept)."""
    out: list[str] = []
    for token in _TOKEN_RE.findall(normalise(text)):
        if not _SPACELESS_RE.search(token):
            out.append(token)
            continue
        at = 0
        for run in _SPACELESS_RE.finditer(token):
            if run.start() > at:
                out.append(token[at : run.start()])
            chars = run.group()
            if len(chars) == 1:
                out.append(chars)
            else:
                out.extend(chars[i : i + 2] for i in range(len(chars) - 1))
            at = run.end()
        if at < len(token):
            out.append(token[at:])
    return out


def memory_terms(text: str, tags: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The index terms of a memory: its text's, then its tags'."""
    return analyze(" ".join((text, *tags)))


def query_terms(query: str) -> list[str]:
    """The terms a query looks up: each once, in the order they come."""
    return list(dict.fromkeys(analyze(query)))


_K1, _B = 1.2, 0.75
_IMPACT_AVG_LEN = 24  # a typical memory's length in terms: impact's fixed stand-in for the average


def impact(tf: int, doc_len: int) -> int:
    """0–9999: BM25's term-frequency part with a fixed average length, scaled. Higher first."""
    norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * doc_len / _IMPACT_AVG_LEN))
    return min(9999, int(norm * 4000))


class IndexStats:
    """A namespace's index statistics: `count` memories of `total_len` terms in all, and per
    query term the number of memories holding it (`df`; it may exceed the postings read)."""

    __slots__ = ("count", "total_len", "df")

    def __init__(self, count: int = 0, total_len: int = 0, df: dict[str, int] | None = None):
        self.count, self.total_len, self.df = count, total_len, df if df is not None else {}

    def __repr__(self) -> str:
        return f"IndexStats(count={self.count}, total_len={self.total_len}, df={self.df})"


def rank(
    terms: list[str],
    postings: dict[str, dict[str, int]],
    doc_len: dict[str, int],
    stats: IndexStats,
    limit: int,
) -> list[tuple[str, float, list[str]]]:
    """The best `limit` memories for the query terms: (memory id, score, the query terms it
    holds in query order), best first; a tie goes to the newer memory (ids sort by time).

    `postings[term]` maps memory id → term frequency (only the postings read); `doc_len` maps
    every memory id of the postings to its length in terms.
    """
    count = max(stats.count, 1)
    avg_len = stats.total_len / count if stats.total_len else 1.0
    scores: dict[str, float] = {}
    matched: dict[str, list[str]] = {}
    for term in terms:
        got = postings.get(term)
        if not got:
            continue
        df = max(stats.df.get(term, 0), len(got))
        idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
        for memory_id, tf in got.items():
            norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * doc_len[memory_id] / avg_len))
            scores[memory_id] = scores.get(memory_id, 0.0) + idf * norm
            matched.setdefault(memory_id, []).append(term)
    best = sorted(scores.items(), key=lambda kv: (-round(kv[1], 9), _newest_first(kv[0])))
    return [(memory_id, round(score, 4), matched[memory_id]) for memory_id, score in best[:limit]]


def _newest_first(memory_id: str) -> tuple:
    return tuple(-ord(c) for c in memory_id)
