"""Search through glyph serve as a new user and as an attacker would use it (issue 25's
review): other scripts from the CLI, queries with no word in them, and writers, editors and
deleters at once leaving the index exactly what the table holds. A real glyph serve process,
on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .test_cli_commands import server  # noqa: F401 (the fixture: glyph serve on each store)
from .test_glyph_serve import bearer, glyph

pytestmark = pytest.mark.e2e


def test_the_cli_searches_other_scripts_and_refuses_a_query_without_words(server):  # noqa: F811
    env = server
    hindi = json.loads(glyph(env, "write", "परियोजना की समय सीमा शुक्रवार है", "--json").stdout)
    glyph(env, "write", "किताब मेज़ पर है")  # holds पर, a piece of परियोजना
    turkish = json.loads(glyph(env, "write", "Ofis İstanbul'da, Kadıköy'de", "--json").stdout)
    hits = json.loads(glyph(env, "search", "परियोजना", "--json").stdout)["items"]
    assert [h["id"] for h in hits] == [hindi["id"]] and hits[0]["matched"] == ["परियोजना"]
    assert [h["id"] for h in json.loads(glyph(env, "search", "ISTANBUL", "--json").stdout)["items"]] == [turkish["id"]]
    for query in ("", "   ", "🚀", "?!…"):
        refused = glyph(env, "search", query, check=False)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr, (query, refused.stderr)
        assert "word" in refused.stderr or "q" in refused.stderr, refused.stderr


def test_writers_editors_and_deleters_at_once_leave_the_index_as_the_table(server):  # noqa: F811
    env = server
    url, auth = env["GLYPH_URL"], bearer(Path(env["GLYPH_HOME"]))

    def call(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {**auth, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as answer:
            raw = answer.read()
            return json.loads(raw) if raw else None

    expected: dict[str, str] = {}  # memory id → its unique word, as the table should hold it
    lock, errors = threading.Lock(), []

    def worker(n: int) -> None:
        try:
            for i in range(4):
                written = call("POST", "/v1/memories", {"text": f"shared topic w{n}x{i}first"})
                if i == 1:
                    call("DELETE", f"/v1/memories/{written['id']}")
                    continue
                word = f"w{n}x{i}first"
                if i == 2:
                    word = f"w{n}x{i}second"
                    call("PATCH", f"/v1/memories/{written['id']}", {"text": f"shared topic {word}"})
                with lock:
                    expected[written["id"]] = word
        except Exception as exc:  # noqa: BLE001 (reported below, with the worker's number)
            errors.append((n, repr(exc)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors
    for memory_id, word in expected.items():
        hits = call("GET", "/v1/search?" + urllib.parse.urlencode({"q": word, "limit": 5}))["items"]
        assert [h["id"] for h in hits] == [memory_id], word
    for n in range(6):  # the words of deleted memories and of replaced texts find nothing
        for word in (f"w{n}x1first", f"w{n}x2first"):
            assert call("GET", "/v1/search?" + urllib.parse.urlencode({"q": word}))["items"] == [], word
    everything = call("GET", "/v1/search?" + urllib.parse.urlencode({"q": "shared topic", "limit": 100}))["items"]
    assert sorted(h["id"] for h in everything) == sorted(expected)
