"""`similar` follows each memory's life on both stores (DESIGN §17): an edited memory is found by
its new text and never by its old one, a deleted or expired one is never named, and a memory of
another namespace is not either. glyph serve as a real process, on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

import json
import time

import pytest

from .test_cli_commands import server  # noqa: F401 (the fixture: glyph serve on each store)
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e


def write(env: dict, text: str, *more: str) -> dict:
    return json.loads(glyph(env, "write", text, "--json", *more).stdout)


def test_similar_follows_edits_deletes_expiry_and_namespaces(server):  # noqa: F811
    env = server
    edited = write(env, "The nightly backup job runs at 02:00 from cron on the db host")
    glyph(env, "edit", edited["id"], "Invoices are emailed to finance on the first Monday of each month")
    assert write(env, "The nightly backup job runs at 02:00 from cron on the database host")["similar"] == []
    found = write(env, "Invoices get emailed to finance on the first Monday each month")["similar"]
    assert [s["id"] for s in found] == [edited["id"]] and found[0]["excerpt"].startswith("Invoices are emailed")

    deleted = write(env, "Die Nutzerin bevorzugt pytest für alle Unit-Tests im Projekt")
    glyph(env, "delete", deleted["id"])
    assert write(env, "Die Nutzerin bevorzugt pytest für Unit-Tests im Projekt")["similar"] == []

    expiring = write(env, "Пользователь предпочитает pytest для модульных тестов", "--ttl-days", "0.00002")
    time.sleep(3.2)  # 0.00002 days is 1.7 s, and an expiry is rounded up to the next whole second
    assert write(env, "Пользователь предпочитает pytest для всех модульных тестов")["similar"] == []
    assert expiring["id"]

    elsewhere = write(env, "ユーザーは単体テストにpytestを使うことを好む", "--ns", "other")
    assert write(env, "ユーザーは単体テストにpytestを使うのが好き")["similar"] == []
    assert [s["id"] for s in write(env, "ユーザーは単体テストにpytestを使うのが好き", "--ns", "other")["similar"]] == [
        elsewhere["id"]
    ]


def test_the_remote_connectors_save_memory_names_the_similar_memory(server):  # noqa: F811
    from ..mcp import oauth_flow as f

    env = server
    held = write(env, "The team standup is at 9:30 every weekday")
    _, tokens = f.tokens(env["GLYPH_URL"], f.owner_totp(env["GLYPH_HOME"]), set())
    args = {"name": "save_memory", "arguments": {"text": "Daily standup happens at 9:30 on weekdays"}}
    answer = f.mcp_call(env["GLYPH_URL"], tokens["access_token"], "tools/call", args)
    assert answer.status_code == 200, answer.text
    similar = answer.json()["result"]["structuredContent"]["similar"]
    assert [s["id"] for s in similar] == [held["id"]] and similar[0]["excerpt"].startswith("The team standup")
