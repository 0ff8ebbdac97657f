"""A memory of the same session that comes right after one of the best hits is shown with them
(text_index.with_followers), on both stores: the reply after a question holds none of its words."""

from __future__ import annotations

import time

import pytest

from glyphmemory.model import Cursor
from glyphmemory.search import search_hits
from glyphmemory.service import Memories
from glyphmemory.text_index import FOLLOWER_WEIGHT

from .test_search_index import Later, ids


def test_following_is_the_next_unexpired_memory_of_the_namespace_in_time(memories, store):
    first = memories.write(text="first")[0]
    memories.write(text="elsewhere", namespace="other")
    expiring = memories.write(text="second, for a day", ttl_days=1)[0]
    third = memories.write(text="third")[0]
    now = time.time()
    assert store.following("default", after=Cursor(first.epoch_us, first.id), now_s=now).id == expiring.id
    assert store.following("default", after=Cursor(expiring.epoch_us, expiring.id), now_s=now).id == third.id
    assert store.following("default", after=Cursor(third.epoch_us, third.id), now_s=now) is None
    later = now + 3 * 86_400  # the expired one is skipped
    assert store.following("default", after=Cursor(first.epoch_us, first.id), now_s=later).id == third.id
    assert store.following("nobody", after=Cursor(first.epoch_us, first.id), now_s=now) is None


def test_the_reply_after_a_matching_question_of_the_same_session_is_shown(memories):
    question = memories.write(text="Caroline: how did the kids handle the accident?", session="s1")[0]
    reply = memories.write(text="Melanie: they were scared, but we reassured them", session="s1")[0]
    memories.write(text="Caroline: see you next week!", session="s1")  # one step only: not shown
    hits = search_hits(memories, "kids accident", namespace="default", limit=5)
    assert ids(hits) == [question.id, reply.id]
    assert hits[1][2] == [] and 0 < hits[1][1] < hits[0][1]  # it matched no word, and ranks below


@pytest.mark.parametrize("session", [None, "s2"])
def test_a_memory_of_no_or_another_session_is_not_shown_as_a_follower(memories, session):
    memories.write(text="how did the kids handle the accident?", session="s1")
    unrelated = memories.write(text="they were scared, but we reassured them", session=session)[0]
    assert unrelated.id not in ids(search_hits(memories, "kids accident", namespace="default", limit=5))


def test_notes_without_a_session_get_no_followers(memories):
    note = memories.write(text="we chose sqlite for storage")[0]
    memories.write(text="postgres password rotates tomorrow")
    assert ids(search_hits(memories, "sqlite", namespace="default", limit=5)) == [note.id]


def test_an_expired_follower_is_not_shown(memories, store):
    memories.write(text="how did the kids handle the accident?", session="s1")
    reply = memories.write(text="they were scared, but we reassured them", session="s1", ttl_days=1)[0]
    later = Memories(store, Later())
    assert reply.id not in ids(search_hits(later, "kids accident", namespace="default", limit=5))


def test_a_follower_beyond_the_memories_read_keeps_its_own_score(memories):
    """A follower holding some of the query's words, too weakly to be among the `limit`
    memories a search reads, is scored from its own text as well: it gets its hit's share on top
    of its own score, and shows the words it holds (it once got the share alone, as if it held none)."""
    question = memories.write(text="how did the kids take the accident?", session="s1")[0]
    reply = memories.write(text="they were scared for a long while afterwards, the kids", session="s1")[0]
    for n in range(5):  # each holds "kids" more strongly than the reply: they fill the memories read
        memories.write(text=f"kids party {n} for the kids")
    hits = search_hits(memories, "kids accident", namespace="default", limit=3)
    by_id = {m.id: (score, matched) for m, score, matched in hits}
    assert ids(hits)[0] == question.id and reply.id in by_id
    assert by_id[reply.id][1] == ["kids"]
    assert by_id[reply.id][0] > FOLLOWER_WEIGHT * by_id[question.id][0]
