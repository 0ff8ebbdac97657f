"""A write close to an existing memory is stored and names it as `similar` in every door
(DESIGN §17): the CLI's line and JSON, the API's JSON, `/w`'s text, the page's note and MCP's
structured content; glyph serve as a real process, on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import httpx
import pytest

from glyphmemory.keys import load_key_file
from glyphmemory.tokens import mint_window_token

from ..mcp.test_stdio import run
from .test_cli_commands import server  # noqa: F401 (the fixture: glyph serve on each store)
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e


def test_every_write_door_names_the_similar_memory(server):  # noqa: F811
    env = server
    held = json.loads(glyph(env, "write", "The team standup is at 9:30 every weekday", "--json").stdout)
    glyph(env, "write", "Sprint planning is every second Monday at 14:00")

    # The CLI: JSON field and the human line; the memory is stored all the same.
    got = json.loads(glyph(env, "write", "Daily standup happens at 9:30 on weekdays", "--json").stdout)
    assert got["duplicate"] is False and got["id"] != held["id"]
    assert [s["id"] for s in got["similar"]] == [held["id"]]
    assert 0.6 <= got["similar"][0]["score"] <= 1 and got["similar"][0]["excerpt"].startswith("The team standup")
    line = glyph(env, "write", "Standup: every weekday at 9:30").stdout
    assert f"similar to {held['id']} (" in line and "The team standup is at 9:30" in line
    # A different fact of the same topic, and a repeat, name nothing.
    other = json.loads(glyph(env, "write", "Retrospectives happen on Friday afternoons", "--json").stdout)
    assert other["similar"] == []
    again = json.loads(glyph(env, "write", "The team standup is at 9:30 every weekday", "--json").stdout)
    assert again["duplicate"] is True and again["similar"] == []

    # /w: the text answer ends with the line, for a token that reads; a chat link's `w` token
    # reads nothing, similar memories included (issue 21 §1).
    home = env["GLYPH_HOME"]
    key = load_key_file(os.path.join(home, "key.json"))
    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 600)
    url = glyph(env, "url", "write", "Our standup is at 9:30 each weekday").stdout.strip()
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    assert text.startswith("saved ") and "similar" not in text and held["id"] not in text
    url = f"{env['GLYPH_URL']}/w?t={token}&m=Standup%20for%20the%20team%20at%209%3A30%20weekdays"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    assert text.startswith("saved ") and f"similar to {held['id']} (" in text

    # The page's note.
    with httpx.Client(base_url=env["GLYPH_URL"]) as browser_like:
        browser_like.post("/ui/sign-in", data={"token": token})
        page = browser_like.get("/ui").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        done = browser_like.post("/ui/new", data={"csrf": csrf, "text": "Weekday standup at 9:30 for the team"})
        note = httpx.URL(done.headers["location"]).params["note"]
        assert note.startswith("saved; similar to ") and held["id"] in note and "correct it" in note

    # MCP (glyph mcp as a client of the server): structured content.
    saved = run(env, lambda s: s.call_tool("save_memory", {"text": "The standup is at 9:30 on every weekday"}))
    similar = saved.structured_content["similar"]
    assert held["id"] in [s["id"] for s in similar] and len(similar) <= 3
