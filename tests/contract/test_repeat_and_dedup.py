"""Look-alike texts are one memory, and a repeated write follows one rule: both stores."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from glyphmemory.errors import Conflict, InvalidInput
from glyphmemory.model import legacy_content_hash
from glyphmemory.service import Memories

BASE = "The user prefers pytest over unittest"

# Each is BASE (or its other-script sibling) as another keyboard, editor or copy-paste wrote it.
LOOK_ALIKES = [
    "The user prefers  pytest over unittest",  # two spaces
    "The user prefers\tpytest over unittest",  # a tab
    "The user prefers\npytest over\n\nunittest",  # line breaks
    "The user\u00a0prefers pytest over unittest",  # no-break space
    "The user\u3000prefers pytest over unittest",  # ideographic space
    "The user\u2028prefers pytest\u2029over unittest",  # line and paragraph separators
    "The user prefers py\u200btest over unittest",  # zero-width space inside a word
    "The user prefers py\u200ctest over\u200d unittest",  # zero-width non-joiner and joiner
    "\ufeffThe user prefers pytest over unittest",  # a byte order mark
    "The user prefers pytest over unit\u00adtest",  # a soft hyphen
    "The user prefers pytest over\u2060 unittest",  # word joiner
    "\u200eThe user prefers pytest over unittest\u200f",  # bidi marks
    "The user prefers pytest\ufe0f over unittest",  # a variation selector
    "  The user prefers pytest over unittest \u2003",  # blanks around, em space
]


def all_of(memories: Memories, namespace: str = "default") -> list:
    return list(memories.iter_newest(namespace))


def test_look_alike_texts_are_one_memory_and_the_text_stays_as_written(memories):
    first, duplicate = memories.write(text="The user prefers  pytest\u00a0over unittest")
    assert duplicate is False
    for text in [BASE, *LOOK_ALIKES]:
        held, duplicate = memories.write(text=text)
        assert duplicate is True and held.id == first.id, repr(text)
    assert [m.text for m in all_of(memories)] == ["The user prefers  pytest\u00a0over unittest"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ユーザーは pytest を好む", "ユーザーは\u3000pytest\u3000を好む"),  # Japanese, ideographic spaces
        ("المستخدم يفضل pytest", "المستخدم\u200f يفضل\u061c pytest"),  # Arabic, RLM and Arabic letter mark
        ("café au lait", "cafe\u0301 au lait"),  # composed and decomposed é (NFC)
        ("👍 ship it", "👍\ufe0f ship it"),  # emoji presentation selector
        ("Привет  мир", "Привет\u205fмир"),  # Cyrillic, medium mathematical space
    ],
)
def test_look_alikes_in_other_scripts(memories, a, b):
    first, _ = memories.write(text=a)
    again, duplicate = memories.write(text=b)
    assert duplicate is True and again.id == first.id and again.text == a


@pytest.mark.parametrize(
    ("first", "other"),
    [
        (BASE, "the user prefers pytest over unittest"),  # case is meaning
        (BASE, "The user prefers pytest over unit test"),  # a space inside a word is another word
        (BASE, "The user prefers pytest over unittest!"),
        ("E = mc2", "E = mc²"),  # not NFKC: a superscript is not a digit
        ("½ cup", "1⁄2 cup"),
    ],
)
def test_texts_that_differ_visibly_stay_apart(memories, first, other):
    memories.write(text=first)
    _, duplicate = memories.write(text=other)
    assert duplicate is False


def test_a_text_of_only_invisible_characters_is_refused(memories):
    with pytest.raises(InvalidInput, match="empty"):
        memories.write(text="\u200b\u2060\ufeff \u00a0")


def test_an_edit_to_a_look_alike_of_another_memory_is_a_conflict(memories):
    held = memories.write(text=BASE)[0]
    other = memories.write(text="The user prefers nose")[0]
    with pytest.raises(Conflict) as caught:
        memories.edit(other.id, text="The user prefers py\u200btest over  unittest")
    assert caught.value.other_id == held.id
    # Its own look-alike is fine: the text changes, the memory stays the one holding the key.
    edited = memories.edit(held.id, text="The user prefers pytest over\tunittest")[0]
    assert edited.text == "The user prefers pytest over\tunittest" and edited.content_hash == held.content_hash
    again, duplicate = memories.write(text=BASE)
    assert duplicate is True and again.id == held.id and again.text == edited.text


# --- the repeat rule ---------------------------------------------------------------------------


def test_a_repeat_without_expiry_makes_an_expiring_memory_permanent(memories):
    first = memories.write(text="Deploy freeze until the audit ends", ttl_days=0.00004)[0]
    assert first.expires_at is not None
    written = memories.write(text="Deploy freeze until the audit ends")
    memory, duplicate = written
    assert duplicate and memory.id == first.id and memory.expires_at is None
    assert written.to_json()["extended"] is True
    time.sleep(4.5)  # past the first write's expiry
    assert [m.id for m in all_of(memories)] == [first.id]
    assert memories.get(first.id).expires_at is None


def test_a_repeat_never_shortens_a_life_and_the_later_expiry_wins(memories):
    permanent = memories.write(text="kept for good")[0]
    memory, _ = again = memories.write(text="kept for good", ttl_days=1)
    assert memory.expires_at is None and again.to_json()["extended"] is False
    assert memories.get(permanent.id).expires_at is None

    short = memories.write(text="kept a while", ttl_days=1)[0]
    longer, _ = written = memories.write(text="kept a while", ttl_days=3)
    assert longer.expires_at > short.expires_at + 2 * 86_000 and written.to_json()["extended"] is True
    shorter, _ = written = memories.write(text="kept a while", ttl_days=2)
    assert shorter.expires_at == longer.expires_at and written.to_json()["extended"] is False
    assert memories.get(short.id).expires_at == longer.expires_at


def test_a_repeat_adds_its_new_tags_in_order_up_to_sixteen(memories):
    memories.write(text="tagged note", tags=["a", "b"])
    memory, _ = written = memories.write(text="tagged note", tags=["c", "a", "d"])
    assert memory.tags == ("a", "b", "c", "d") and written.to_json()["tags_added"] == ["c", "d"]
    many = [f"t{i}" for i in range(16)]
    memory, _ = written = memories.write(text="tagged note", tags=many)
    assert memory.tags == ("a", "b", "c", "d", *many[:12])
    assert written.to_json()["tags_added"] == many[:12]
    assert memories.get(memory.id).tags == memory.tags
    _, _ = written = memories.write(text="tagged note", tags=["z"])
    assert written.to_json()["tags_added"] == [] and len(memories.get(memory.id).tags) == 16


def test_a_repeat_keeps_the_session_and_fills_it_in_when_missing(memories):
    first = memories.write(text="no session yet")[0]
    memory, _ = written = memories.write(text="no session yet", session="s-2")
    assert memory.session == "s-2" and written.to_json()["session_set"] is True
    memory, _ = written = memories.write(text="no session yet", session="s-3")
    assert memory.session == "s-2" and written.to_json()["session_set"] is False
    held = memories.get(first.id)
    assert (held.session, held.source, held.text, held.epoch_us) == ("s-2", first.source, first.text, first.epoch_us)


def test_a_repeat_that_changes_nothing_says_so(memories):
    memories.write(text="plain", tags=["x"], ttl_days=2)
    answer = memories.write(text="plain", tags=["x"], ttl_days=1).to_json()
    assert (answer["duplicate"], answer["extended"], answer["tags_added"], answer["session_set"]) == (
        True,
        False,
        [],
        False,
    )


def test_concurrent_repeats_with_different_lifetimes_and_tags_converge_to_the_rule(memories):
    text = "written at once by many clients"
    ttls = [1, 5, 2, None, 3, 4, 1, 2, 5, 3]
    barrier = threading.Barrier(len(ttls))
    results = []

    def write(i: int, ttl):
        barrier.wait()
        results.append(memories.write(text=text, ttl_days=ttl, tags=[f"w{i}"]))

    threads = [threading.Thread(target=write, args=(i, ttl)) for i, ttl in enumerate(ttls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(ttls) and len({m.id for m, _ in results}) == 1
    stored = all_of(memories)
    assert len(stored) == 1
    assert stored[0].expires_at is None  # one repeat carried no expiry: it wins over all
    assert sorted(stored[0].tags) == sorted(f"w{i}" for i in range(len(ttls)))
    # Every tag was reported added exactly once, by the write that stored it.
    reported = [t for w in results for t in (w.repeat.tags_added if w.repeat else w[0].tags)]
    assert sorted(reported) == sorted(stored[0].tags)


def test_concurrent_timed_repeats_keep_the_latest_expiry(memories, clock):
    text = "timed repeats at once"
    ttls = [1, 7, 3, 2, 6, 4, 5, 2]
    barrier = threading.Barrier(len(ttls))

    def write(ttl):
        barrier.wait()
        memories.write(text=text, ttl_days=ttl)

    threads = [threading.Thread(target=write, args=(ttl,)) for ttl in ttls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (stored,) = all_of(memories)
    assert abs(stored.expires_at - (clock.now_s() + 7 * 86_400)) < 60


# --- SQLite files of schema 3 ------------------------------------------------------------------


def test_a_schema_3_file_dedups_look_alikes_of_what_it_holds(tmp_path, clock):
    from glyphmemory.stores.sqlite import SqliteStore

    path = tmp_path / "old.db"
    SqliteStore(str(path)).close()  # the tables, then made to look like schema 3
    rows = [  # (id, text): the second and third are look-alikes stored before dedup_form
        ("01JAAAAAAAAAAAAAAAAAAAAAA1", "deploy  on Fridays"),
        ("01JAAAAAAAAAAAAAAAAAAAAAA2", "deploy on\u00a0Fridays"),
        ("01JAAAAAAAAAAAAAAAAAAAAAA3", "never\u200b deploy on Mondays"),
    ]
    with sqlite3.connect(path) as db:
        for n, (memory_id, text) in enumerate(rows):
            db.execute(
                "INSERT INTO memories (id, namespace, epoch_us, text, tags, source, session, expires_at, content_hash)"
                " VALUES (?, 'default', ?, ?, '[]', 'cli', NULL, NULL, ?)",
                (memory_id, 1_700_000_000_000_000 + n, text, legacy_content_hash("default", text)),
            )
        db.execute("PRAGMA user_version = 3")
    store = SqliteStore(str(path))
    try:
        memories = Memories(store, clock)
        assert len(all_of(memories)) == 3  # nothing merged or lost on opening
        first, duplicate = memories.write(text="deploy on Fridays")
        assert duplicate is True and first.id == rows[0][0]
        held, duplicate = memories.write(text="never deploy on\tMondays")
        assert duplicate is True and held.id == rows[2][0]
        assert len(all_of(memories)) == 3
    finally:
        store.close()


def test_a_dynamodb_memory_claimed_under_the_old_key_still_dedups_its_exact_text(dynamo_table, clock):
    from glyphmemory.model import new_memory
    from glyphmemory.stores.dynamodb import DynamoStore
    from glyphmemory.stores.dynamodb_items import claim_item, memory_attrs, memory_key

    store = DynamoStore(dynamo_table)
    old = new_memory(text="deploy  on Fridays", clock=clock, ttl_days=1)
    old = old.replace(content_hash=legacy_content_hash("default", old.text))  # as written before dedup_form
    store._call("PutItem", Item=claim_item(old))
    store._call("PutItem", Item={**memory_key(old.id), **memory_attrs(old)})
    memories = Memories(store, clock)
    again, duplicate = written = memories.write(text="deploy  on Fridays", tags=["ops"])
    assert duplicate is True and again.id == old.id
    assert written.repeat.extended is True and written.repeat.tags_added == ("ops",)
    held = store.get(old.id, now_s=time.time())
    assert (held.expires_at, held.tags) == (None, ("ops",))
    assert [m.id for m in all_of(memories)] == [old.id]
    store.close()
