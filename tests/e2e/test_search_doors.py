"""Search in every door says which words each memory matched (DESIGN §16), and `glyph reindex`
rebuilds the index: glyph serve as a real process, on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from .test_cli_commands import server  # noqa: F401 (the fixture: glyph serve on each store)
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e


def test_search_doors_say_what_matched_and_reindex_rebuilds(server):  # noqa: F811
    env = server
    deploy = json.loads(glyph(env, "write", "We deploy with CDK, never with Docker", "--json").stdout)
    glyph(env, "write", "Docker images are built in CI", "--tags", "ci")
    glyph(env, "write", "用户偏好中文回答", "--json")

    hits = json.loads(glyph(env, "search", "deploying docker", "--json").stdout)["items"]
    assert hits[0]["id"] == deploy["id"] and hits[0]["matched"] == ["deploying", "docker"]
    assert hits[1]["matched"] == ["docker"]
    assert "matched: deploying, docker" in glyph(env, "search", "deploying docker").stdout
    assert json.loads(glyph(env, "search", "中文", "--json").stdout)["items"][0]["matched"] == ["中文"]

    url = json.loads(glyph(env, "url", "read", "--json").stdout)["url"]
    with urllib.request.urlopen(url + "&q=CI+docker", timeout=10) as answer:
        block = answer.read().decode()
    assert "matched: docker, ci" in block or "matched: ci, docker" in block

    done = json.loads(glyph(env, "reindex", "--json").stdout)
    assert done == {"namespace": "default", "indexed": 3, "done": True}
    assert json.loads(glyph(env, "search", "docker", "--json").stdout)["items"][0]["matched"] == ["docker"]
    refused = glyph({**env, "GLYPH_NS": "x"}, "reindex", "--ns", "Not A Namespace", check=False)
    assert refused.returncode != 0 and "namespace" in refused.stderr.lower()


def test_glyph_search_shows_the_reply_that_follows_a_match_in_its_session(server):  # noqa: F811
    env = server
    glyph(env, "write", "How did the kids handle the accident?", "--session", "chat-1")
    reply = json.loads(
        glyph(env, "write", "They were scared, but we reassured them", "--session", "chat-1", "--json").stdout
    )
    glyph(env, "write", "They were scared of the dark", "--session", "chat-2")  # another session: not a follower
    hits = json.loads(glyph(env, "search", "kids accident", "--json").stdout)["items"]
    assert [h["id"] for h in hits][1:] == [reply["id"]] and hits[1]["matched"] == []
    assert "follows a match (same session)" in glyph(env, "search", "kids accident").stdout
