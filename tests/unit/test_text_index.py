"""The analyzer and the ranker of the search index: one normaliser for text and query, words
inside clauses of scripts written without spaces, BM25 over the postings read."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from datetime import UTC, datetime

import pytest

from glyphmemory.model import new_ulid
from glyphmemory.text_index import (
    FOLLOWER_WEIGHT,
    IndexStats,
    analyze,
    impact,
    memory_terms,
    query_dates,
    query_terms,
    rank,
    rerank,
    with_followers,
)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("用户偏好中文回答，代码注释用英文", "中文"),  # Chinese
        ("ユーザーは日本語での回答を好む", "日本語"),  # Japanese
        ("사용자는한국어답변을선호한다", "한국어"),  # Korean, written without spaces
        ("사용자는 한국어로 답변을 선호한다", "한국어"),  # Korean with its spaces: a word with its particle
        ("ผู้ใช้ชอบคำตอบภาษาไทย", "ภาษาไทย"),  # Thai
        ("ຜູ້ໃຊ້ມັກພາສາລາວ", "ພາສາລາວ"),  # Lao
        ("អ្នកប្រើចូលចិត្តភាសាខ្មែរ", "ភាសាខ្មែរ"),  # Khmer
        ("အသုံးပြုသူသည်မြန်မာဘာသာကိုကြိုက်သည်", "မြန်မာဘာသာ"),  # Myanmar
        ("用戶偏好繁體中文回答", "繁體"),  # Traditional Chinese
        ("ユーザーはカタカナのコードネームを使う", "コードネーム"),  # Katakana alone
    ],
)
def test_a_word_inside_a_clause_is_found(text, query):
    assert set(query_terms(query)) <= set(analyze(text))


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("परियोजना की समय सीमा शुक्रवार है", "परियोजना"),  # Hindi: vowel signs and virama are marks, not \w
        ("প্রকল্পের সময়সীমা শুক্রবার", "শুক্রবার"),  # Bengali
        ("திட்டத்தின் காலக்கெடு வெள்ளிக்கிழமை", "வெள்ளிக்கிழமை"),  # Tamil
        ("ప్రాజెక్ట్ గడువు శుక్రవారం", "శుక్రవారం"),  # Telugu
        ("מוֹעֵד הַפְּרוֹיֶקְט", "הַפְּרוֹיֶקְט"),  # Hebrew with its points
        ("مَوْعِدُ المَشْرُوعِ", "المَشْرُوعِ"),  # Arabic with its vowel marks
    ],
)
def test_a_word_with_combining_marks_is_one_term(text, word):
    """Scripts whose vowel signs are combining marks (Indic, Hebrew and Arabic points) keep a
    word whole: it was cut at each mark into pieces that other words share (`पर`, `य`)."""
    assert query_terms(word) == [unicodedata.normalize("NFKC", word)]
    assert query_terms(word)[0] in analyze(text)


def test_a_capital_dotted_i_folds_to_i():
    """Turkish İ case-folds to i + U+0307 (combining dot above): `istanbul` finds `İstanbul`."""
    assert analyze("the İstanbul office") == query_terms("istanbul office") == ["istanbul", "offic"]
    assert query_terms("İZMİR") == query_terms("izmir") == ["izmir"]


def test_query_and_text_share_one_normaliser():
    stored = unicodedata.normalize("NFC", "Café ＡＢＣ Straße")
    asked = unicodedata.normalize("NFD", "CAFÉ abc STRASSE")
    assert query_terms(asked) == analyze(stored) == ["café", "abc", "strass"]
    assert analyze(unicodedata.normalize("NFD", "café")) == analyze(unicodedata.normalize("NFC", "café")) == ["café"]


def test_memory_terms_keep_repeats_and_tags_query_terms_do_not():
    assert memory_terms("pytest and pytest", ("Testing",)) == ["pytest", "pytest", "test"]
    assert query_terms("pytest PYTEST fixtures") == ["pytest", "fixtur"]


def test_english_words_are_stemmed_and_stop_words_left_out_on_both_sides():
    assert analyze("She was running to the adoption agencies") == ["run", "adopt", "agenc"]
    assert set(query_terms("Which agency did she run to?")) == {"agenc", "run"}
    assert query_terms("painted") == query_terms("paintings") == ["paint"]
    assert analyze("Déjà vu, 2023, v1.2") == ["déjà", "vu", "2023", "v1", "2"]  # only ASCII words are stemmed


def test_a_query_of_stop_words_only_looks_them_up_as_they_are():
    assert query_terms("The Who") == ["the", "who"]  # none is indexed: it finds nothing, without an error
    assert query_terms("!!") == []


def test_the_months_table_holds_the_stems_of_the_months_names():
    from glyphmemory.stemming import stem
    from glyphmemory.text_index import _MONTHS

    names = "january february march april may june july august september october november december"
    assert {stem(m): n for n, m in enumerate(names.split(), start=1)} == _MONTHS


def test_the_query_names_months_and_years_may_and_march_only_beside_a_number():
    assert query_dates(query_terms("What did I decide in July 2023?")) == ({7}, {2023})
    assert query_dates(query_terms("on 8 May, 2023")) == ({5}, {2023})
    assert query_dates(query_terms("You may march on")) == (set(), set())
    assert query_dates(query_terms("the 1990s, 1234 and 99")) == (set(), set())


def test_rank_prefers_a_memory_written_in_the_month_and_year_the_query_names():
    july = new_ulid(int(datetime(2023, 7, 14, tzinfo=UTC).timestamp() * 1000))
    may = new_ulid(int(datetime(2023, 5, 2, tzinfo=UTC).timestamp() * 1000))
    may_2022 = new_ulid(int(datetime(2022, 5, 2, tzinfo=UTC).timestamp() * 1000))
    postings = {"camp": {july: 1, may: 1, may_2022: 1}}
    doc_len = {july: 5, may: 5, may_2022: 5}
    stats = IndexStats(count=100, total_len=500, df={"camp": 3})
    ids = lambda q: [h[0] for h in rank(query_terms(q), postings, doc_len, stats, 10)]  # noqa: E731
    assert ids("camping") == [july, may, may_2022]  # equal scores: the newer first
    assert ids("camping in May 2022")[0] == may_2022 and ids("camping in July")[0] == july
    assert ids("camping in May 2023")[:2] == [may, july]  # month and year, then the year alone
    assert rank(query_terms("camping in July"), postings, doc_len, stats, 1)[0][2] == ["camp"]


def test_only_the_english_stemmer_is_loaded():
    code = (
        "import sys; from glyphmemory.text_index import analyze; analyze('running dogs');"
        "print(*sorted(m for m in sys.modules if 'stemmer' in m))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "snowballstemmer" not in loaded  # its __init__ imports all 36 stemmers (12 ms)
    assert [m for m in loaded if m.endswith("_stemmer")] == ["_glyph_snowballstemmer.english_stemmer"]


def test_impact_grows_with_frequency_and_shrinks_with_length():
    assert impact(2, 10) > impact(1, 10) > impact(1, 100) >= 0
    assert impact(1000, 1) <= 9999


def test_rank_is_bm25_with_ties_to_the_newer_and_says_what_matched():
    postings = {"pytest": {"01A": 2, "01B": 1, "01C": 1}, "fixtures": {"01A": 1}}
    doc_len = {"01A": 10, "01B": 10, "01C": 10}
    stats = IndexStats(count=10, total_len=100, df={"pytest": 3, "fixtures": 1})
    hits = rank(["pytest", "fixtures"], postings, doc_len, stats, 10)
    assert [h[0] for h in hits] == ["01A", "01C", "01B"]  # 01B and 01C tie: the newer first
    assert hits[0][2] == ["pytest", "fixtures"] and hits[1][2] == ["pytest"]
    assert all(score > 0 for _, score, _ in hits)
    assert rank(["absent"], postings, doc_len, stats, 10) == []
    assert len(rank(["pytest"], postings, doc_len, stats, 2)) == 2


def test_rerank_scores_candidates_from_their_whole_terms_as_rank_would_from_every_posting():
    texts = {
        "01A": "Maria: I volunteer at the homeless shelter",
        "01B": "John: the shelter needs volunteers",
        "01C": "Maria: soup at the shelter",
    }
    whole = {i: memory_terms(t) for i, t in texts.items()}
    every = {}
    for memory_id, terms in whole.items():
        for term in terms:
            every.setdefault(term, {}).setdefault(memory_id, 0)
            every[term][memory_id] += 1
    doc_len = {i: len(t) for i, t in whole.items()}
    stats = IndexStats(count=50, total_len=300, df={"maria": 25, "shelter": 3, "volunt": 2})
    query = query_terms("Where does Maria volunteer at a shelter?")
    full = rank(query, every, doc_len, stats, 10)
    # The budget read only one posting of "maria" (01C's): 01A lost it, and with it first place.
    cut = {**every, "maria": {"01C": 1}}
    assert [h[0] for h in rank(query, cut, doc_len, stats, 10)] != [h[0] for h in full]
    assert rerank(query, whole, stats, 10) == full
    assert full[0][0] == "01A" and full[0][2] == ["maria", "volunt", "shelter"]
    assert rerank(query, whole, stats, 1) == full[:1] and rerank(["absent"], whole, stats, 5) == []


def test_with_followers_gives_a_follower_a_share_of_its_hits_score():
    ranked = [("01A", 10.0, ["a"]), ("01B", 5.0, ["b"]), ("01C", 4.0, ["c"]), ("01D", 3.5, ["d"])]
    got = with_followers(ranked, {"01A": "01Z", "01B": "01C", "01D": "01Y"}, 10)
    # 01C: 4 + 0.6 × 5 passes 01B; 01Z joins with 0.6 × 10 and no term; 01D is not among the
    # FOLLOWED_HITS (3) best, so its follower 01Y is not shown.
    assert FOLLOWER_WEIGHT == 0.6
    assert got == [
        ("01A", 10.0, ["a"]),
        ("01C", 7.0, ["c"]),
        ("01Z", 6.0, []),
        ("01B", 5.0, ["b"]),
        ("01D", 3.5, ["d"]),
    ]
    assert with_followers(ranked, {"01A": "01Z"}, 2) == [("01A", 10.0, ["a"]), ("01Z", 6.0, [])]
    assert with_followers([], {}, 5) == []


def test_words_the_stemmer_is_not_called_for_are_words_it_would_not_change():
    import random
    import string

    from glyphmemory.stemming import stem
    from glyphmemory.text_index import _STEMMED_ENDINGS

    rng = random.Random(25)
    words = {"".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 14))) for _ in range(20_000)}
    words |= {"vivaldi", "tampa", "bach", "playlist", "pomodoro", "bureau", "menu", "tattoo", "taxi", "graph", "gifts"}
    kept = [w for w in words if w[-1] not in _STEMMED_ENDINGS]
    assert len(kept) > 5_000 and [w for w in kept if stem(w) != w] == []
    assert analyze("a" * 30 + "ing") == ["a" * 30 + "ing"]  # past 24 letters: as it is


def test_analyze_stays_fast_on_a_largest_text_of_distinct_random_words():
    import random
    import string
    import time

    rng = random.Random(7)
    text = " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(9)) for _ in range(3_200))  # ~32 KB
    started = time.process_time()
    terms = analyze(text)
    assert len(terms) == 3_200 and time.process_time() - started < 1.0  # ~0.07 s here
