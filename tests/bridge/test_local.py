"""`glyph bridge` with real WebSocket clients, against a fake Messages API that speaks the real
wire format: streaming, memory in every call, cache breakpoints, continuity, isolation, dedup
before paying, errors never stored, truncation and the summary memory."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from glyphmemory.keys import load_key_file
from glyphmemory.tokens import mint_window_token

from ..e2e.test_glyph_serve import glyph
from ..support.bridge_queries import token_queries
from ..support.fake_claude import API_KEY, FakeClaude
from ..support.processes import clean_env, read_log, start_glyph_bridge, start_glyph_serve, stop

pytestmark = pytest.mark.e2e


class Bridge:
    def __init__(self, url: str, home: str, fake: FakeClaude, proc):
        self.url, self.home, self.fake, self.proc = url, home, fake, proc

    def token(self, scope: str = "rw", key=None) -> str:
        key = key or load_key_file(str(Path(self.home) / "key.json"))
        return mint_window_token(key.kid, key.secret, scope, int(time.time()) + 600)

    def connect(self, scope: str = "rw", key=None):
        return connect(f"{self.url}/?t={self.token(scope, key)}", open_timeout=5)


def say(ws, session: str, text: str, msg_id: str | None = "auto", **extra) -> list[dict]:
    """Send a message; the frames answering it, up to its done or error."""
    frame = {"type": "message", "session": session, "text": text, **extra}
    if msg_id is not None:
        frame["id"] = uuid.uuid4().hex if msg_id == "auto" else msg_id
    ws.send(json.dumps(frame))
    frames = []
    while True:
        got = json.loads(ws.recv(timeout=30))
        frames.append(got)
        if got["type"] in ("done", "error"):
            return frames


def reply(frames: list[dict]) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "delta")


def history(ws, session: str) -> dict:
    ws.send(json.dumps({"type": "history", "session": session}))
    return json.loads(ws.recv(timeout=10))


@contextmanager
def running_bridge(tmp_path, **settings):
    """glyph serve and glyph bridge on one GLYPH_HOME under tmp_path, the bridge calling a fake
    Messages API, with these settings (GLYPH_BRIDGE_*) on top: the Bridge, stopped after."""
    fake = FakeClaude(min_cache_tokens=50)
    home = str(tmp_path / "home")
    env = clean_env(
        GLYPH_HOME=home,
        ANTHROPIC_API_KEY=API_KEY,
        ANTHROPIC_BASE_URL=fake.url,
        GLYPH_BRIDGE_MODEL="claude-test",
        **settings,
    )
    serve, api = start_glyph_serve(env)
    proc, url = start_glyph_bridge(env)
    b = Bridge(url, home, fake, proc)
    b.env = {**env, "GLYPH_URL": api}
    try:
        yield b
    finally:
        stop(proc)
        stop(serve)
        fake.close()


@pytest.fixture
def bridge(tmp_path):
    with running_bridge(tmp_path, GLYPH_BRIDGE_TIMEOUT_S="1", GLYPH_BRIDGE_BUDGET="3000") as b:
        yield b


def test_replies_stream_with_memory_and_cache_breakpoints_in_every_call(bridge):
    glyph(bridge.env, "write", "The user deploys with CDK and never on Fridays", "--tags", "ops")
    with bridge.connect() as ws:
        first = say(ws, "work", "When do we deploy?")
        second = say(ws, "work", "And with what tool?")
    assert [f["type"] for f in first][-1] == "done" and len([f for f in first if f["type"] == "delta"]) >= 1
    assert reply(first).startswith("Echo: When do we deploy?")
    calls = bridge.fake.replies()
    assert len(calls) == 2 and all(c["key_ok"] and c["version"] == "2023-06-01" for c in calls)
    body = calls[1]["body"]
    assert body["model"] == "claude-test" and body["stream"] is True
    system = body["system"][0]
    assert "never on Fridays" in system["text"] and system["cache_control"] == {"type": "ephemeral"}
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][-2]["content"][-1]["cache_control"] == {"type": "ephemeral"}  # older history
    assert body["messages"][-1]["content"][-1]["text"] == "And with what tool?"
    # The second call's prefix is the first's: served from the cache.
    assert first[-1]["usage"]["cache_creation_input_tokens"] > 0
    assert second[-1]["usage"]["cache_read_input_tokens"] >= first[-1]["usage"]["cache_creation_input_tokens"]


def test_a_conversation_continues_across_connections(bridge):
    with bridge.connect() as ws:
        say(ws, "travel", "Book the train to Lyon")
    with bridge.connect() as ws:  # a new connection, later: the same session continues
        say(ws, "travel", "Which city was it?")
        turns = history(ws, "travel")
        say(ws, "cooking", "A new topic")  # another session of the same key starts clean
    assert [m["role"] for m in bridge.fake.replies()[-1]["body"]["messages"]] == ["user"]
    bridge.fake.requests.pop()
    sent = bridge.fake.replies()[-1]["body"]["messages"]
    assert sent[0]["content"][0]["text"] == "Book the train to Lyon"
    assert [t["role"] for t in turns["turns"]] == ["user", "assistant", "user", "assistant"]
    assert turns["turns"][1]["text"].startswith("Echo: Book the train")


def test_sessions_belong_to_the_key_that_opened_them(bridge):
    added = json.loads(glyph(bridge.env, "keys", "add", "phone", "--json").stdout)
    from glyphmemory.keys import parse_key

    phone = parse_key(f"{added['kid']}:{added['secret']}")
    with bridge.connect() as ws:
        say(ws, "private", "My notes")
    with bridge.connect(key=phone) as other:
        refused = say(other, "private", "Let me in")
        assert refused[-1]["type"] == "error" and refused[-1]["status"] == 403
        assert history(other, "private")["status"] == 403
        assert say(other, "phone-own", "Hello")[-1]["type"] == "done"  # its own sessions work
    with pytest.raises(InvalidStatus) as no_token:
        connect(bridge.url + "/", open_timeout=5)
    assert no_token.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as read_only:
        bridge.connect(scope="r")
    assert read_only.value.response.status_code == 403
    assert sum("Let me in" in json.dumps(r["body"]) for r in bridge.fake.requests) == 0


def test_a_window_token_is_read_by_the_apps_query_rules(bridge):
    """?t= is read as the App reads a query (http.core.parse_query): a t given twice (even the
    same good token) and percent-encoded bytes that are not UTF-8 are a 400 before the upgrade,
    saying which; parse_qs took the first t and made %FF a U+FFFD. Other names are ignored. The
    same queries as the AWS authorizer's test (support.bridge_queries)."""
    token = bridge.token()
    for query, refused in token_queries(token):
        if refused is None:
            with connect(f"{bridge.url}/?{query}", open_timeout=5) as ws:
                assert history(ws, "none").get("status") not in (400, 401, 403), query  # connected
            continue
        status, says = refused
        with pytest.raises(InvalidStatus) as answer:
            connect(f"{bridge.url}/?{query}", open_timeout=5)
        response = answer.value.response
        assert response.status_code == status, query
        assert says in json.loads(response.body)["detail"] and token not in response.body.decode()


def test_a_resent_message_is_replayed_not_paid_twice(bridge):
    with bridge.connect() as ws:
        first = say(ws, "dedup", "Count the moons of Mars", msg_id="m-1")
    with bridge.connect() as ws:  # the client lost the answer and sends again
        again = say(ws, "dedup", "Count the moons of Mars", msg_id="m-1")
    assert reply(again) == reply(first) and again[-1]["replayed"] is True
    upstream = [r for r in bridge.fake.requests if "moons" in json.dumps(r["body"]["messages"][-1])]
    assert len(upstream) == 1


def test_without_ids_a_repeated_text_is_a_new_message_and_only_a_retry_in_flight_is_caught(bridge):
    with bridge.connect() as ws:
        first = say(ws, "yes-no", "yes", msg_id=None)
        say(ws, "yes-no", "and then?", msg_id=None)
        second = say(ws, "yes-no", "yes", msg_id=None)  # a second "yes" later in the conversation
    assert first[-1]["type"] == second[-1]["type"] == "done" and "replayed" not in second[-1]
    assert sum(r["body"]["messages"][-1]["content"][-1]["text"] == "yes" for r in bridge.fake.replies()) == 2
    with bridge.connect() as ws:
        turns = [t["text"] for t in history(ws, "yes-no")["turns"] if t["role"] == "user"]
    assert turns == ["yes", "and then?", "yes"]
    # The same text again while the first is still being answered (a client retrying after a
    # lost connection): caught, not paid twice.
    with bridge.connect() as ws, bridge.connect() as other:
        ws.send(json.dumps({"type": "message", "session": "retry", "text": "Think hard [stall]"}))
        time.sleep(0.3)
        retry = say(other, "retry", "Think hard [stall]", msg_id=None)
        [json.loads(ws.recv(timeout=30)) for _ in range(2)]  # the first's delta, then its timeout
    assert retry[-1]["status"] == 409
    assert sum("Think hard" in json.dumps(r["body"]) for r in bridge.fake.requests) == 1


def test_a_message_in_flight_is_not_sent_twice(bridge):
    with bridge.connect() as ws, bridge.connect() as other:
        ws.send(json.dumps({"type": "message", "session": "slow", "id": "s-1", "text": "Think hard [stall]"}))
        time.sleep(0.3)  # the first is with Claude now
        second = say(other, "slow", "Think hard [stall]", msg_id="s-1")
        first = [json.loads(ws.recv(timeout=30)) for _ in range(2)]  # one delta, then the timeout's error
    assert second[-1]["status"] == 409
    assert first[-1]["type"] == "error" and first[-1]["status"] == 504
    assert sum("Think hard" in json.dumps(r["body"]) for r in bridge.fake.requests) == 1


def test_errors_reach_the_client_and_are_never_stored_as_turns(bridge):
    with bridge.connect() as ws:
        spend = say(ws, "errs", "Hello [spend]")
        overloaded = say(ws, "errs", "Try again [529x2]")
        broken = say(ws, "errs", "Break midway [error-event]")
        turns = history(ws, "errs")["turns"]
        retried = say(ws, "errs", "Hello [spend]")  # a failed message is not "answered": sent again
    assert spend[-1]["status"] == 429 and "spend limit" in spend[-1]["detail"]
    assert sum("Hello [spend]" in json.dumps(r["body"]["messages"][-1]) for r in bridge.fake.requests) == 2
    assert overloaded[-1]["type"] == "done"  # two 529s, retried with backoff, then the answer
    assert sum("[529x2]" in json.dumps(r["body"]["messages"][-1]) for r in bridge.fake.requests) == 3
    assert broken[-1]["type"] == "error" and broken[-1]["status"] == 502 and reply(broken)
    assert [(t["role"], t["text"][:12]) for t in turns] == [("user", "Try again [5"), ("assistant", "Echo: Try ag")]
    assert retried[-1]["status"] == 429
    log = Path(bridge.proc.log_path).read_text() + "".join(read_log(bridge.proc))
    assert API_KEY not in log and API_KEY not in json.dumps(spend + broken)


def test_the_window_drops_oldest_first_and_leaves_a_summary_memory(bridge):
    with bridge.connect() as ws:
        for i in range(12):
            say(ws, "long", f"Point {i}: " + "we decided something worth keeping. " * 6)
    bodies = [r["body"] for r in bridge.fake.replies() if not r["body"]["system"][0]["text"].startswith("You write")]
    last = bodies[-1]["messages"]
    texts = [b["text"] for m in last for b in m["content"]]
    assert last[0]["role"] == "user" and texts[-1].startswith("Point 11")
    assert "Point 0:" not in json.dumps(last)  # the oldest went first
    numbers = [int(t.split(":")[0].split()[-1]) for t in texts if t.startswith("Point")]
    assert numbers == sorted(numbers) and numbers[-1] == 11  # a contiguous, newest tail
    summaries = [r for r in bridge.fake.replies() if r["body"]["system"][0]["text"].startswith("You write one memory")]
    assert summaries and "Point 0:" in json.dumps(summaries[0]["body"])
    recent = json.loads(glyph(bridge.env, "recent", "--json", "--tag", "bridge").stdout)["items"]
    assert recent and recent[-1]["source"] == "bridge" and recent[-1]["session"] == "long"
    assert recent[-1]["text"].startswith("Summary: Point 0")


def test_glyph_chat_sends_one_message_and_prints_the_reply(bridge):
    env = {**bridge.env, "GLYPH_BRIDGE_URL": bridge.url}
    out = glyph(env, "chat", "--session", "script", "Hello from a script")
    assert out.stdout.startswith("Echo: Hello from a script")
    again = glyph(env, "chat", "--session", "script", "--json", "Second line")
    assert json.loads(again.stdout.strip().splitlines()[-1])["usage"]["output_tokens"] > 0
    talk = glyph(env, "chat", "--session", "repl", stdin="First line\nSecond line\n")  # a terminal session
    assert [line[:17] for line in talk.stdout.splitlines()] == ["Echo: First line ", "Echo: Second line"]
    down = glyph({**env, "GLYPH_BRIDGE_URL": "ws://127.0.0.1:9"}, "chat", "x", check=False)
    assert down.returncode == 3 and "glyph bridge" in down.stderr


def test_one_message_limit_in_bytes_and_an_oversize_frame_gets_an_error_frame(bridge):
    env = {**bridge.env, "GLYPH_BRIDGE_URL": bridge.url}
    accents = "\u00e9" * 11_000  # 11,000 characters: 22 KB as UTF-8, 66 KB as escaped JSON
    out = glyph(env, "chat", "--session", "long", accents)
    assert out.stdout.startswith("Echo: " + "\u00e9" * 10)
    with bridge.connect() as ws:
        escaped = {"type": "message", "session": "long", "id": "esc", "text": "\u00e8" * 11_000}
        ws.send(json.dumps(escaped))  # ensure_ascii: \u00e8 six bytes a character
        frames = []
        while not frames or frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(ws.recv(timeout=30)))
        assert frames[-1]["type"] == "done"
        for frame in (
            {"type": "message", "session": "long", "id": "big", "text": "a" * 100_000},
            {"type": "history", "session": "long", "id": "big", "pad": "b" * 200_000},
            {"type": "message", "session": "long", "id": "big", "text": "\U0001f600" * 40_000},
        ):
            ws.send(json.dumps(frame, ensure_ascii=False))
            refused = json.loads(ws.recv(timeout=30))
            assert refused["type"] == "error" and refused["status"] == 413 and refused["id"] == "big", refused
        assert say(ws, "long", "still here")[-1]["type"] == "done"  # the connection lives on
    assert sum("a" * 1000 in json.dumps(r["body"]) for r in bridge.fake.requests) == 0
    fragmented = glyph(env, "chat", "--session", "long", "\u00e9" * 40_000)  # 80 KB: sent as 32 KB fragments
    assert fragmented.stdout.startswith("Echo: \u00e9")
    too_long = glyph(env, "chat", "--session", "long", "x" * 120_000, check=False)
    assert too_long.returncode == 1 and "at most 98304" in too_long.stderr  # usage: refused before sending


def test_requests_that_never_upgrade_leave_nothing_behind(tmp_path):
    """An authenticated HTTP request that is not a WebSocket upgrade is answered (426), and the
    connection's state goes with it. The bridge's own serve() (what `glyph bridge` runs) in
    this process, so that tracemalloc can say what each request left behind."""
    import asyncio
    import gc
    import threading
    import tracemalloc

    import httpx

    from glyphmemory.bridge import local
    from glyphmemory.bridge.core import Bridge as Core
    from glyphmemory.keys import new_key
    from glyphmemory.runtime import build_app

    app = build_app(f"sqlite://{tmp_path}/glyph.db", new_key())
    loop, bound = asyncio.new_event_loop(), []
    task = loop.create_task(
        local.serve(Core(app.memories, None, app.auth), app.auth, "127.0.0.1", 0, ready=bound.append)
    )

    def run() -> None:
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while not bound:
            time.sleep(0.01)
        token = mint_window_token(app.keyring.root.kid, app.keyring.root.secret, "rw", int(time.time()) + 600)
        url = f"http://127.0.0.1:{bound[0][1]}/?t={token}"
        with httpx.Client(timeout=10) as client:
            statuses = {client.get(url).status_code for _ in range(50)}  # warm up
            gc.collect()
            tracemalloc.start(5)
            before = tracemalloc.take_snapshot()
            statuses |= {client.get(url).status_code for _ in range(500)}
            time.sleep(0.2)
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        app.memories.store.close()
    assert statuses == {426}, statuses
    mine = [tracemalloc.Filter(True, local.__file__)]
    left = sum(d.size_diff for d in after.filter_traces(mine).compare_to(before.filter_traces(mine), "traceback"))
    assert left < 4096, f"{left} bytes left behind by 500 requests"


def test_memories_relevant_to_a_message_go_after_the_last_breakpoint(bridge):
    glyph(bridge.env, "write", "The staging database password rotates every 90 days via Vault")
    for i in range(15):  # newer ones fill the block (1,500 units): the Vault memory is not in it
        glyph(bridge.env, "write", f"Note {i}: the weekly report lists open incidents, their owners and due dates")
    with bridge.connect() as ws:
        first = say(ws, "recall", "Good morning, let us start")
        second = say(ws, "recall", "How often does the staging database password rotate?")
    first_body, second_body = (c["body"] for c in bridge.fake.replies()[-2:])
    assert "Vault" not in json.dumps(first_body) and "Vault" not in second_body["system"][0]["text"]
    asked, added = second_body["messages"][-1]["content"]
    assert asked["text"] == "How often does the staging database password rotate?"
    assert added["text"].startswith("GlyphMemory: saved memories that may bear on this prompt")
    assert "> The staging database password rotates every 90 days via Vault" in added["text"]
    assert "cache_control" not in added and second_body["messages"][-2]["content"][-1]["cache_control"]
    # The turn is stored as typed: the next call's history does not carry the added memories.
    with bridge.connect() as ws_again:
        assert history(ws_again, "recall")["turns"][-2]["text"] == asked["text"]
    assert second[-1]["usage"]["cache_read_input_tokens"] >= first[-1]["usage"]["cache_creation_input_tokens"]
