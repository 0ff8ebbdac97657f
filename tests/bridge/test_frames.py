"""The bridge's message frames as a client may send them: text with no UTF-8 form (a lone
surrogate, as JSON's "\\ud800" decodes) is refused when the frame arrives, a 400 error frame
like the other bad frames, never a turn nor the worker's 500. The Messages API is the fake one
over HTTP, the store a real SQLite file."""

from __future__ import annotations

import json
import threading

import pytest

from glyphmemory.bridge.claude import Claude
from glyphmemory.bridge.core import Bridge
from glyphmemory.runtime import build_app
from glyphmemory.tokens import Grant

from ..support.fake_claude import API_KEY, FakeClaude


@pytest.fixture
def bridge(tmp_path, root_key):
    fake = FakeClaude(min_cache_tokens=50)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    app = build_app(f"sqlite://{tmp_path}/glyph.db", root_key)
    claude = Claude(API_KEY, base_url=f"http://127.0.0.1:{fake.server_address[1]}")
    yield Bridge(app.memories, claude, app.auth), Grant(root_key.kid, "rw", 2**40, None)
    fake.shutdown()
    app.memories.store.close()


@pytest.mark.parametrize("text", ["\ud800 hello", "hello \udcff"])
def test_a_text_with_no_utf8_form_is_a_400_frame_and_no_turn(bridge, text):
    bridge, grant = bridge
    posted: list[dict] = []
    frame = json.dumps({"type": "message", "session": "s", "id": "m1", "text": text})
    assert bridge.prepare(grant, frame, posted.append) is None
    assert posted == [{"type": "error", "id": "m1", "status": 400, "detail": posted[0]["detail"]}]
    assert "Unicode" in posted[0]["detail"]
    # The conversation holds no turn of it, and the same id with a good text is answered.
    frame = json.dumps({"type": "message", "session": "s", "id": "m1", "text": "hello"})
    prepared = bridge.prepare(grant, frame, posted.append)
    bridge.answer(prepared, posted.append)
    assert posted[-1]["type"] == "done"
    history: list[dict] = []
    bridge.prepare(grant, json.dumps({"type": "history", "session": "s"}), history.append)
    assert [t["text"] for t in history[0]["turns"]][0] == "hello"


def test_a_search_the_store_cannot_answer_leaves_recall_out_not_the_message(bridge, monkeypatch):
    """The memories relevant to a message are a bonus, as in the prompt hook: a store that throttles
    the search (Unavailable) still lets the message be answered, without them."""
    from glyphmemory.errors import Unavailable

    bridge, grant = bridge
    bridge.memories.write(text="The staging database password rotates every 90 days via Vault")

    def throttled(*args, **kwargs):
        raise Unavailable("the store is throttling")

    monkeypatch.setattr(bridge.memories.store, "index_postings", throttled)
    posted: list[dict] = []
    frame = json.dumps({"type": "message", "session": "s", "id": "m1", "text": "How often does the password rotate?"})
    bridge.answer(bridge.prepare(grant, frame, posted.append), posted.append)
    assert posted[-1]["type"] == "done" and not any(p["type"] == "error" for p in posted)
