"""`glyph bridge` and what its credential allows, for as long as it allows it (issue 21 §1–2):
a write-only token neither reads a conversation nor puts memories into a prompt; an open
connection is checked at every frame and closed with 1008 when its key is revoked or its token
expires; a busy session's name cannot be claimed by another key."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from glyphmemory.keys import load_key_file, parse_key
from glyphmemory.tokens import mint_window_token

from ..e2e.test_glyph_serve import glyph
from .test_local import history, reply, running_bridge, say

pytestmark = pytest.mark.e2e
TTL_S = 6  # the bridge's session lifetime in these tests (GLYPH_BRIDGE_TTL_S)


@pytest.fixture
def bridge(tmp_path):
    with running_bridge(tmp_path, GLYPH_BRIDGE_TTL_S=str(TTL_S)) as b:
        yield b


def device(bridge, name: str = "phone"):
    added = json.loads(glyph(bridge.env, "keys", "add", name, "--json").stdout)
    return parse_key(f"{added['kid']}:{added['secret']}")


def closed_with(ws) -> int:
    """The close code of a connection the server ends (after any frames it sent first)."""
    with pytest.raises(ConnectionClosed) as ended:
        for _ in range(10):
            ws.recv(timeout=10)
    return ended.value.rcvd.code


def test_a_write_token_neither_reads_a_conversation_nor_memories(bridge):
    glyph(bridge.env, "write", "The owner's private plan is to move to Lisbon")
    with bridge.connect() as ws:
        say(ws, "cli", "Where am I moving?")
    for scope in ("w", "r"):  # a chat link's token (w), or a read-only one: the bridge needs rw
        with pytest.raises(InvalidStatus) as refused:
            bridge.connect(scope=scope)
        assert refused.value.response.status_code == 403 and b"scope" in refused.value.response.body
    assert sum("Lisbon" in json.dumps(r["body"]) for r in bridge.fake.requests) == 1  # the owner's one call


def test_a_connection_ends_when_its_key_is_revoked(bridge):
    phone = device(bridge)
    with bridge.connect(key=phone) as ws, bridge.connect() as owner:
        assert say(ws, "phone-chat", "Hello from the phone")[-1]["type"] == "done"
        glyph(bridge.env, "keys", "revoke", phone.kid)
        refused = say(ws, "phone-chat", "Still here?")
        assert refused[-1]["type"] == "error" and refused[-1]["status"] == 401 and "revoked" in refused[-1]["detail"]
        assert closed_with(ws) == 1008
        assert say(owner, "cli", "Am I still connected?")[-1]["type"] == "done"  # the root key's own goes on
    assert sum("Still here?" in json.dumps(r["body"]) for r in bridge.fake.requests) == 0
    with pytest.raises(InvalidStatus) as again:
        bridge.connect(key=phone)
    assert again.value.response.status_code == 401


def test_a_connection_ends_when_its_token_expires(bridge):
    key = load_key_file(str(Path(bridge.home) / "key.json"))
    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 3)
    with connect(f"{bridge.url}/?t={token}", open_timeout=5) as ws:
        assert say(ws, "short", "Quick question")[-1]["type"] == "done"
        time.sleep(max(0.0, token_exp(token) - time.time()) + 0.5)
        try:  # closed at its expiry, idle; a frame sent at that moment is refused, then closed
            ws.send(json.dumps({"type": "history", "session": "short"}))
        except ConnectionClosed:
            pass
        assert closed_with(ws) == 1008
    log = Path(bridge.proc.log_path).read_text()
    assert token.rsplit(".", 1)[-1] not in log  # the token's signature is never logged


def token_exp(token: str) -> int:
    return int(token.split(".")[2])


def test_a_busy_session_stays_its_owners_and_a_lapsed_one_gives_nothing_away(bridge):
    """The owner record lives as long as the newest turn; when it lapses, every turn and message
    id under it lapses with it."""
    phone = device(bridge)
    with bridge.connect() as ws, bridge.connect(key=phone) as other:
        say(ws, "cli", "My bank PIN hint is the cat's birthday", msg_id="owner-1")
        first = time.time()  # the session's record was written before this: it expired by first + TTL_S
        time.sleep(TTL_S / 2)
        assert say(ws, "cli", "Noted?", msg_id="owner-2")[-1]["type"] == "done"
        time.sleep(max(0.0, first + TTL_S + 0.3 - time.time()))  # past the session's first expiry
        taken = say(other, "cli", "Let me in", msg_id="owner-2")  # the owner's own message id
        assert taken[-1]["type"] == "error" and taken[-1]["status"] == 403 and not reply(taken)
        assert history(other, "cli")["status"] == 403
        assert history(ws, "cli")["turns"][-1]["text"].startswith("Echo: Noted?")  # the owner keeps it
        time.sleep(TTL_S + 1)  # idle: the session lapses, with every turn and message id under it
        claimed = say(other, "cli", "Is anything here?", msg_id="owner-2")
        assert claimed[-1]["type"] == "done" and not claimed[-1].get("replayed")
        turns = history(other, "cli")["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"] and "PIN" not in json.dumps(turns)
    last = bridge.fake.replies()[-1]["body"]["messages"]
    assert "PIN" not in json.dumps(last) and len(last) == 1
