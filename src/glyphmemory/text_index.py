"""Text → index terms, and the ranking of an index's postings: pure functions, no I/O.

Both stores keep the same inverted index (glyphmemory.stores.sqlite_index, .dynamodb_index) and
hand the same inputs to `rank`, so a search ranks identically on SQLite and DynamoDB (DESIGN §16).

- `memory_terms(text, tags)` and `query_terms(query)`: the index terms of a memory (in order,
  repeats kept: a term's frequency is its count) and of a query (each term once, in order).
  Text and query pass one normaliser (NFKC, case fold) and one analyzer (`analyze`): words of
  scripts written with spaces are split on non-word characters, English stop words dropped and
  the rest stemmed (Snowball English); scripts written without spaces (Han, kana, Hangul, Thai,
  Lao, Khmer, Myanmar) become overlapping character bigrams, so words inside a clause are found.
- `impact(tf, doc_len)`: how strongly a memory holds a term, from the memory alone (no
  collection statistics, so it never changes once written): the order a term's postings are
  stored in. A search reads at most `names.SEARCH_POSTINGS_PER_TERM` postings of each term,
  the highest impact first, so a very common term costs the same at 1,000 and 100,000 memories.
- `rank(query_terms, postings, doc_len, stats, limit)`: BM25 over what was read, times a bonus
  for memories written in a month or year the query names.

Changing `memory_terms` or `impact` changes what is stored: bump INDEX_VERSION so that stored
indexes are rebuilt (the stores compare it on open / on search). The choices and their effect
on LoCoMo are measured in bench/locomo.py (README, "Search").
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import unicodedata

from .names import MAX_TERM_CHARS, WORD_CHARS
from .stemming import stem
from .stopwords import STOP_WORDS

INDEX_VERSION = 3  # bump when memory_terms or impact changes: stored indexes are then rebuilt

# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, Hiragana, Katakana,
# Han (with extensions and compatibility ideographs), Hangul. A run of them is indexed as its
# overlapping character bigrams. (Code points, not a regex class: compiling these ranges into a
# character set cost 5–20 ms at import.)
_SPACELESS_BOUNDS = (
    0x0E00, 0x0EFF, 0x1000, 0x109F, 0x1780, 0x17FF, 0x3040, 0x30FF, 0x3400, 0x4DBF,
    0x4E00, 0x9FFF, 0xAC00, 0xD7AF, 0xF900, 0xFAFF, 0x20000, 0x2FA1F,
)  # fmt: skip
_TOKEN_RE = re.compile(f"[{WORD_CHARS}]+")  # words: names.WORD_CHARS says which characters
_ENGLISH_RE = re.compile(r"[a-z]+")  # what the English stemmer is given: other words stay as they are
# Stemming costs ~75 µs a new word. Porter2 changes no word ending in a letter outside these (no
# suffix of its steps ends in another; tests/unit/test_text_index.py checks it), and English has
# hardly a word longer than 24 letters: other words are kept as they are without calling it, so
# a text of random tokens (a key, a hash, code) costs less and does not fill the stem cache.
_STEMMED_ENDINGS = frozenset("cdegilmnrsty")
_STEMMED_MAX_LEN = 24


def _spaceless(char: str) -> bool:
    return bisect.bisect_left(_SPACELESS_BOUNDS, ord(char)) % 2 == 1 or ord(char) in _SPACELESS_BOUNDS


def normalise(text: str) -> str:
    """NFKC, then case fold: the one normaliser of stored text and queries. Turkish `İ` folds
    to `i` + U+0307 (a dot above, which `i` has already): the dot is dropped."""
    return unicodedata.normalize("NFKC", text).casefold().replace("i\u0307", "i")


def _words(text: str) -> list[str]:
    """The normalised text's words, spaceless-script runs cut into bigrams (a run of one
    character stays whole), in order; stop words and stemming not applied yet."""
    out: list[str] = []
    for token in _TOKEN_RE.findall(normalise(text)):
        if token.isascii():
            out.append(token)
            continue
        for spaceless, run in itertools.groupby(token, _spaceless):
            chars = "".join(run)
            if not spaceless or len(chars) == 1:
                out.append(chars)
            else:
                out.extend(chars[i : i + 2] for i in range(len(chars) - 1))
    return out


def _term(word: str) -> str:
    if len(word) <= _STEMMED_MAX_LEN and word[-1] in _STEMMED_ENDINGS and _ENGLISH_RE.fullmatch(word):
        return stem(word)
    return word


def analyze(text: str) -> list[str]:
    """The index terms of a text, in order (repeats kept): its words less English stop words,
    English (ASCII) words stemmed, each cut to MAX_TERM_CHARS."""
    return [_term(w)[:MAX_TERM_CHARS] for w in _words(text) if w not in STOP_WORDS]


def memory_terms(text: str, tags: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The index terms of a memory: its text's, then its tags'."""
    return analyze(" ".join((text, *tags)))


def query_terms(query: str) -> list[str]:
    """The terms a query looks up: each once, in the order they come. A query of stop words
    only looks them up as they are (none is indexed, so it finds nothing, without an error)."""
    terms = analyze(query)
    if not terms:
        terms = [w[:MAX_TERM_CHARS] for w in _words(query)]
    return list(dict.fromkeys(terms))


# BM25's parameters, tuned on LoCoMo's dev conversations conv-26, -30 and -41 and checked on the
# other four (bench/locomo.py): short memories gain from a weak length normalisation (b).
_K1, _B = 0.9, 0.2
_IMPACT_AVG_LEN = 12  # a typical memory's length in terms (stop words dropped): impact's stand-in for the average


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


# A memory written in a month (or year) the query names scores this much more per match (tuned
# like k1 and b: 0.3 → 1.0 took session any@5 from 91.5 to 92.0 on the tuned conversations).
# "may" and "march" are also a verb: they name a month only beside a number ("8 May", "May 2023").
_DATE_BONUS = 1.0
# The months' names as analyze() gives them (their Snowball stems; tested against stem()).
_MONTH_STEMS = "januari februari march april may june juli august septemb octob novemb decemb"
_MONTHS = {stem: n for n, stem in enumerate(_MONTH_STEMS.split(), start=1)}
_VERB_MONTHS = {"may", "march"}
_YEAR_RE = re.compile(r"(19|20|21)\d\d")


def month_number(term: str) -> int | None:
    """1–12 for a month's name as analyze() gives it ("juli" → 7), else None."""
    return _MONTHS.get(term)


def query_dates(terms: list[str]) -> tuple[set[int], set[int]]:
    """The months (1–12) and years a query's terms name."""
    months, years = set(), set()
    for i, term in enumerate(terms):
        month = _MONTHS.get(term)
        if month and (term not in _VERB_MONTHS or any(t.isdigit() for t in terms[max(0, i - 1) : i + 2])):
            months.add(month)
        elif _YEAR_RE.fullmatch(term):
            years.add(int(term))
    return months, years


_CROCKFORD = {c: i for i, c in enumerate("0123456789ABCDEFGHJKMNPQRSTVWXYZ")}


def ulid_month(memory_id: str) -> tuple[int, int] | None:
    """(year, month) in UTC of a memory id's time (a ULID's first 10 characters: milliseconds)."""
    import datetime

    try:
        ms = 0
        for c in memory_id[:10]:
            ms = ms * 32 + _CROCKFORD[c]
        when = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None
    return when.year, when.month


Ranked = list[tuple[str, float, list[str]]]  # (memory id, score, the query terms it holds)


def rank(
    terms: list[str],
    postings: dict[str, dict[str, int]],
    doc_len: dict[str, int],
    stats: IndexStats,
    limit: int,
) -> Ranked:
    """The best `limit` memories for the query terms: (memory id, score, the query terms it
    holds in query order), best first; a tie goes to the newer memory (ids sort by time).

    `postings[term]` maps memory id → term frequency (only the postings read); `doc_len` maps
    every memory id of the postings to its length in terms. The score is BM25 (k1 0.9, b 0.2),
    times 1 + 1 for each of the month and the year the query names that the memory was
    written in (its id's time, UTC): "in July 2023" ranks a match from July 2023 first.
    """
    held: dict[str, dict[str, int]] = {}
    for term in terms:
        for memory_id, tf in (postings.get(term) or {}).items():
            held.setdefault(memory_id, {})[term] = tf
    return _ranked(terms, held, doc_len, stats, limit)


def rerank(terms: list[str], memory_terms_of: dict[str, list[str]], stats: IndexStats, limit: int) -> Ranked:
    """`rank` again over candidates whose whole terms are known (`memory_terms_of`: memory id →
    memory_terms of its text and tags, e.g. of the memories a search reads to answer).

    A search reads each term's best postings only (names.SEARCH_POSTINGS_BUDGET): a memory can
    be a candidate through one term while its posting of another, common term was not read.
    Scoring the candidates from their own terms restores what the budget left out, at no read.
    """
    held = {}
    doc_len = {}
    for memory_id, all_terms in memory_terms_of.items():
        counts: dict[str, int] = {}
        for term in all_terms:
            counts[term] = counts.get(term, 0) + 1
        held[memory_id] = {t: counts[t] for t in terms if t in counts}
        doc_len[memory_id] = len(all_terms)
    return _ranked(terms, held, doc_len, stats, limit)


def _ranked(terms: list[str], held: dict[str, dict[str, int]], doc_len: dict[str, int], stats, limit: int) -> Ranked:
    """Score each memory from the query terms it holds ({memory id: {term: tf}})."""
    count = max(stats.count, 1)
    avg_len = stats.total_len / count if stats.total_len else 1.0
    idf = {}
    for term in terms:
        df = max(stats.df.get(term, 0), sum(1 for tfs in held.values() if term in tfs))
        idf[term] = math.log(1 + (count - df + 0.5) / (df + 0.5))
    months, years = query_dates(terms)
    scored = []
    for memory_id, tfs in held.items():
        if not tfs:
            continue
        norm_len = _K1 * (1 - _B + _B * doc_len[memory_id] / avg_len)
        score = sum(idf[term] * tf * (_K1 + 1) / (tf + norm_len) for term, tf in tfs.items())
        if months or years:
            when = ulid_month(memory_id)
            if when:
                score *= 1 + _DATE_BONUS * ((when[1] in months) + (when[0] in years))
        scored.append((memory_id, score, [t for t in terms if t in tfs]))
    scored.sort(key=by_score)
    return [(memory_id, round(score, 4), matched) for memory_id, score, matched in scored[:limit]]


# A memory of the same session that comes right after one of the FOLLOWED_HITS best hits (a
# reply after a question, the next step of a task) is shown with FOLLOWER_WEIGHT × that hit's
# score added to its own: "How did the kids take the accident?" finds "They were scared, but we
# reassured them", said after the question's words. Tuned like k1 and b (bench/locomo.py): on
# the tuned conversations hit@5 is 67.2 at 0.3, 69.2 at 0.5, 70.6 at 0.6, 70.2 at 0.7, 67.2 at 1.0
# (chosen again once a follower kept its own score; 0.3 was chosen when it did not).
FOLLOWED_HITS = 3
FOLLOWER_WEIGHT = 0.6


def with_followers(ranked: Ranked, followers: dict[str, str], limit: int) -> Ranked:
    """`ranked` (best first) with each hit's follower (`followers`: hit id → the id of the memory
    that follows it, for some of the first FOLLOWED_HITS hits) given FOLLOWER_WEIGHT × the hit's
    score; a follower not among the hits joins them with the share alone (search_hits first
    adds it with its own score when it holds some of the query's terms). Ties go to the newer."""
    scores = {memory_id: [score, matched] for memory_id, score, matched in ranked}
    for memory_id, score, _ in ranked[:FOLLOWED_HITS]:
        follower = followers.get(memory_id)
        if follower is not None:
            scores.setdefault(follower, [0.0, []])[0] += FOLLOWER_WEIGHT * score
    best = sorted(scores.items(), key=lambda kv: (-round(kv[1][0], 9), _newest_first(kv[0])))
    return [(memory_id, round(score, 4), matched) for memory_id, (score, matched) in best[:limit]]


def _newest_first(memory_id: str) -> tuple:
    return tuple(-ord(c) for c in memory_id)


def by_score(hit: tuple) -> tuple:
    """The sort key of a ranked hit (memory id, score, …): best first, a tie to the newer."""
    return -round(hit[1], 9), _newest_first(hit[0])
