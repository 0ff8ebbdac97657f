"""A session's turns on both stores: TTL filtered on read (emulators never expire items), the
window's truncation order, and the prompt's cache breakpoints."""

from __future__ import annotations

import time

import pytest

from glyphmemory.bridge.conversation import Conversation, Refused, build_prompt, window


class Clock:
    def __init__(self):
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        self.t += 0.001
        return self.t


def test_turns_expire_with_their_ttl(store):
    clock = Clock()
    talk = Conversation(store, "ttl", "root", ttl_s=60, now=clock)
    talk.state(create=True)
    talk.add_turn("user", "first", "m1")
    clock.t += 30
    talk.add_turn("assistant", "second", "m1")
    assert [t["text"] for _, t in talk.turns()] == ["first", "second"]
    clock.t += 31  # the first turn is past its 60 s, the second is not
    assert [t["text"] for _, t in talk.turns()] == ["second"]
    clock.t += 60
    assert talk.turns() == []
    with pytest.raises(Refused) as gone:
        talk.state(create=False)  # the session record expired with them
    assert gone.value.status == 404


def test_a_session_belongs_to_its_key(store):
    Conversation(store, "mine", "root", ttl_s=60).state(create=True)
    with pytest.raises(Refused) as other:
        Conversation(store, "mine", "phone", ttl_s=60).state(create=True)
    assert other.value.status == 403


def _turns(*texts: str) -> list[tuple[str, dict]]:
    roles = ["user", "assistant"]
    return [(f"{i:04d}", {"role": roles[i % 2], "text": t}) for i, t in enumerate(texts)]


def test_the_window_drops_the_oldest_first_by_half_and_never_starts_on_an_assistant_turn():
    turns = _turns(*(f"turn {i} " + "x" * 90 for i in range(10)))  # ~100 characters each
    start, kept = window(turns, "", budget=2000)
    assert start == "0000" and len(kept) == 10  # under budget: everything, from the start
    start, kept = window(turns, "", budget=600)
    assert kept[0][1]["role"] == "user" and kept[-1] == turns[-1]
    assert sum(len(t["text"]) for _, t in kept) <= 300  # moved to about half the budget
    assert [n for n, _ in kept] == [n for n, _ in turns if n >= start]  # a contiguous newest tail
    same_start, again = window(turns, start, budget=600)  # the next call: the window holds
    assert same_start == start and again == kept


def test_cache_breakpoints_sit_on_the_memory_block_and_the_older_history():
    system, messages = build_prompt("MEMORY BLOCK", _turns("q1", "a1", "q2"))
    assert system == [{"type": "text", "text": "MEMORY BLOCK", "cache_control": {"type": "ephemeral"}}]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in messages[2]["content"][-1] and "cache_control" not in messages[0]["content"][-1]


def test_a_summary_is_stored_without_looking_for_similar_memories(dynamo_table):
    """The bridge keeps its summary whatever it resembles: the write answers no `similar`, so it
    pays for no similar search (DESIGN §17). Before, each summary ran one and threw it away."""
    from glyphmemory.bridge.core import Bridge
    from glyphmemory.model import Clock as MemoryClock
    from glyphmemory.service import Memories
    from glyphmemory.stores.dynamodb import DynamoStore

    store = DynamoStore(dynamo_table)
    memories = Memories(store, MemoryClock())
    memories.write(text="we decided to keep the lake trips in summer", similar=False)
    calls = []

    class Claude:
        def complete(self, system, messages):
            store.client.observers.append(lambda op, params, answer: calls.append(op))  # from the summary on
            return "Summary: we decided to keep the lake trips in summer, twice"

    bridge = Bridge(memories, Claude(), auth=None)
    talk = bridge.conversation("slide", "root")
    talk.state(create=True)
    first = talk.add_turn("user", "the lake trips stay in summer", "m1")
    second = talk.add_turn("assistant", "noted", "m1")
    bridge._slide(talk, second + "~", "default")  # both turns left the window
    assert first and "Query" not in calls and "PutItem" in calls  # stored, nothing searched
    stored = store.recent("default", limit=5, now_s=time.time()).items
    assert [list(m.tags) for m in stored if m.source == "bridge"] == [["bridge"]]
