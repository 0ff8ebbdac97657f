"""The analyzer and the ranker of the search index: one normaliser for text and query, words
inside clauses of scripts written without spaces, BM25 over the postings read."""

from __future__ import annotations

import unicodedata

import pytest

from glyphmemory.text_index import IndexStats, analyze, impact, memory_terms, query_terms, rank


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("用户偏好中文回答，代码注释用英文", "中文"),  # Chinese
        ("ユーザーは日本語での回答を好む", "日本語"),  # Japanese
        ("사용자는한국어답변을선호한다", "한국어"),  # Korean, written without spaces
        ("ผู้ใช้ชอบคำตอบภาษาไทย", "ภาษาไทย"),  # Thai
    ],
)
def test_a_word_inside_a_clause_is_found(text, query):
    assert set(query_terms(query)) <= set(analyze(text))


def test_query_and_text_share_one_normaliser():
    stored = unicodedata.normalize("NFC", "Café ＡＢＣ Straße")
    asked = unicodedata.normalize("NFD", "CAFÉ abc STRASSE")
    assert query_terms(asked) == analyze(stored) == ["café", "abc", "strasse"]


def test_memory_terms_keep_repeats_and_tags_query_terms_do_not():
    assert memory_terms("pytest and pytest", ("Testing",)) == ["pytest", "and", "pytest", "testing"]
    assert query_terms("pytest PYTEST fixtures") == ["pytest", "fixtures"]


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
