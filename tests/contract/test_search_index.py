"""Search through the index (DESIGN §16), on both stores: every memory is found, whatever its
age; edits, deletes and expiry change what is found at once; the answer says what matched."""

from __future__ import annotations

import time

import pytest

from glyphmemory import names
from glyphmemory.model import Clock
from glyphmemory.search import search_hits
from glyphmemory.service import Memories


class Later(Clock):
    """A clock three days ahead: a memory written with ttl_days=1 has expired for it."""

    def now_s(self) -> float:
        return time.time() + 3 * 86_400


def ids(hits) -> list[str]:
    return [m.id for m, _, _ in hits]


def test_the_oldest_memory_is_found_past_the_old_scan_limit(memories, monkeypatch):
    oldest = memories.write(text="the first decision was to use a by-epoch index")[0]
    for i in range(12):
        memories.write(text=f"later memory {i} about something else")
    monkeypatch.setattr(names, "SEARCH_SCAN_LIMIT", 5)  # the old ranker saw the newest 5 only
    assert ids(search_hits(memories, "decision", namespace="default", limit=5)) == [oldest.id]


def test_each_hit_says_which_query_terms_it_matched(memories):
    both = memories.write(text="Deploy the CDK stack on Friday", tags=["aws"])[0]
    one = memories.write(text="Friday lunch with the team")[0]
    hits = search_hits(memories, "friday CDK", namespace="default", limit=5)
    assert ids(hits) == [both.id, one.id]
    assert hits[0][2] == ["friday", "cdk"] and hits[1][2] == ["friday"]
    assert search_hits(memories, "AWS", namespace="default", limit=5)[0][2] == ["aws"]  # tags are indexed


def test_edits_deletes_and_expiry_change_what_is_found(memories, store):
    edited = memories.write(text="we chose postgres for storage")[0]
    deleted = memories.write(text="postgres tuning notes")[0]
    expiring = memories.write(text="postgres password rotates tomorrow", ttl_days=1)[0]
    memories.edit(edited.id, text="we chose sqlite for storage")
    memories.delete(deleted.id)
    assert ids(search_hits(memories, "postgres", namespace="default", limit=5)) == [expiring.id]
    assert ids(search_hits(memories, "sqlite", namespace="default", limit=5)) == [edited.id]
    memories.edit(edited.id, tags=["database"])
    assert ids(search_hits(memories, "database", namespace="default", limit=5)) == [edited.id]
    later = Memories(store, Later())
    assert search_hits(later, "postgres", namespace="default", limit=5) == []  # expired: never returned
    assert ids(search_hits(later, "storage", namespace="default", limit=5)) == [edited.id]


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("用户偏好中文回答，代码注释用英文", "中文"),
        ("ユーザーは日本語での回答を好む", "日本語"),
        ("사용자는한국어답변을선호한다", "한국어"),
        ("ผู้ใช้ชอบคำตอบภาษาไทย", "ภาษาไทย"),
        ("Réunion au café lundi", "CAFE\u0301"),  # a decomposed query finds the composed text
        ("Ofis İstanbul'da", "istanbul"),  # Turkish İ folds to i
    ],
)
def test_words_inside_clauses_and_other_normal_forms_are_found(memories, text, query):
    written = memories.write(text=text)[0]
    memories.write(text="an unrelated memory in English")
    assert ids(search_hits(memories, query, namespace="default", limit=5)) == [written.id]


def test_a_very_common_term_reads_no_more_than_the_budget(memories, store, monkeypatch):
    monkeypatch.setattr(names, "SEARCH_POSTINGS_BUDGET", 8)
    for i in range(30):
        memories.write(text=f"common note {i}" + " filler" * (i % 5))
    rare = memories.write(text="common and rare together")[0]
    read: list[int] = []
    original = store.index_postings

    def counting(*args, **kwargs):
        df, rows, after = original(*args, **kwargs)
        read.append(len(rows))
        return df, rows, after

    monkeypatch.setattr(store, "index_postings", counting)
    hits = search_hits(memories, "common rare", namespace="default", limit=3)
    assert ids(hits)[0] == rare.id and len(hits) == 3
    assert sum(read) <= 8


def test_namespaces_are_apart(memories):
    memories.write(text="alpha in default")
    other = memories.write(text="alpha in work", namespace="work")[0]
    assert ids(search_hits(memories, "alpha", namespace="work", limit=5)) == [other.id]
    assert search_hits(memories, "alpha", namespace="empty", limit=5) == []


def test_a_repeat_that_adds_tags_makes_them_searchable(memories):
    first = memories.write(text="the release checklist lives in the wiki", tags=["process"])[0]
    memories.write(text="the release checklist lives in the wiki", tags=["runbook"])
    assert ids(search_hits(memories, "runbook", namespace="default", limit=5)) == [first.id]
    assert ids(search_hits(memories, "process", namespace="default", limit=5)) == [first.id]


def test_expired_memories_do_not_hide_a_live_one_from_the_budget(memories, store, monkeypatch):
    """Expired memories holding a term (short, so their postings rank first) must not take a
    search's whole budget: a live memory holding the term is still found, before any write
    purges them (SQLite) and while DynamoDB's TTL has not deleted them."""
    monkeypatch.setattr(names, "SEARCH_POSTINGS_BUDGET", 6)
    for i in range(10):
        memories.write(text=f"deploy {i}", ttl_days=1)
    live = memories.write(text="we deploy on fridays after the review, the tests and the changelog")[0]
    later = Memories(store, Later())
    assert ids(search_hits(later, "deploy", namespace="default", limit=5)) == [live.id]


def test_a_word_with_vowel_signs_does_not_match_its_pieces(memories):
    """Hindi's vowel signs are combining marks: a word was indexed as the pieces between them,
    so `परियोजना` (project) found any text holding `पर` (on)."""
    project = memories.write(text="परियोजना की समय सीमा शुक्रवार है")[0]
    memories.write(text="किताब मेज़ पर है")  # "the book is on the table"
    assert ids(search_hits(memories, "परियोजना", namespace="default", limit=5)) == [project.id]
