"""The data path at its edges, as a user meets it through `glyph` and `glyph serve` on both stores
(issue 22 §1-4): look-alikes are one memory, a repeat says what it changed, and export → import
into a fresh server → export gives the same bytes, line separators and all."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from ..support.processes import clean_env, glyph_served
from . import test_cli_commands
from .test_glyph_serve import bearer, glyph

pytestmark = pytest.mark.e2e
server = test_cli_commands.server  # the fixture: glyph serve on each store


def test_a_repeat_keeps_the_longer_life_and_says_so(server):
    env = server
    first = glyph(env, "write", "Deploy freeze until the audit ends", "--ttl-days", "0.00004").stdout.split()
    assert first[0] == "saved"
    mid = first[1]
    again = glyph(env, "write", "Deploy freeze until the audit ends").stdout.strip()
    assert again == f"already saved {mid} (now kept with no expiry)"
    time.sleep(4.5)  # past the first write's expiry: the permanent repeat kept it
    assert json.loads(glyph(env, "get", mid, "--json").stdout)["expires_at"] is None
    # The other way round: a repeat with a TTL never shortens a permanent memory.
    assert glyph(env, "write", "Deploy freeze until the audit ends", "--ttl-days", "1").stdout.strip() == (
        f"already saved {mid}"
    )
    # A look-alike (other spaces, a zero-width space) with new tags and a session.
    line = glyph(
        env, "write", "Deploy\u00a0freeze  until the au\u200bdit ends", "--tags", "ops,audit", "--session", "s9"
    ).stdout.strip()
    assert line == f"already saved {mid} (tags added: ops, audit; session set)"
    held = json.loads(glyph(env, "get", mid, "--json").stdout)
    assert (held["text"], held["tags"], held["session"]) == (
        "Deploy freeze until the audit ends",
        ["ops", "audit"],
        "s9",
    )
    answer = json.loads(glyph(env, "write", "Deploy freeze until the audit ends", "--tags", "late", "--json").stdout)
    assert (answer["duplicate"], answer["extended"], answer["tags_added"], answer["session_set"]) == (
        True,
        False,
        ["late"],
        False,
    )


def test_the_write_url_says_what_a_repeat_changed(server):
    headers = bearer(Path(server["GLYPH_HOME"]), "w")
    token = headers["Authorization"].removeprefix("Bearer ")
    url = server["GLYPH_URL"] + "/w"
    with httpx.Client(timeout=30) as client:
        saved = client.get(url, params={"t": token, "m": "Release notes go in CHANGES.md"})
        assert saved.status_code == 201
        mid = saved.text.split()[1]
        again = client.get(url, params={"t": token, "m": "Release  notes go in\u3000CHANGES.md", "tags": "docs"})
        assert again.status_code == 200 and again.text == f"already saved {mid} (tags added: docs)\n"
        same = client.get(url, params={"t": token, "m": "Release notes go in CHANGES.md", "tags": "docs"})
        assert same.text == f"already saved {mid}\n"


def test_export_import_into_a_fresh_server_then_export_is_byte_identical(server, tmp_path, request):
    env = server
    glyph(
        env, "write", "line one\u2028line two\u2029paragraph two", "--tags", "sep\u2028tag,b", "--session", "s\u2028x"
    )
    glyph(env, "write", "kept a while", "--ttl-days", "3", "--source", "claude-code")
    glyph(env, "write", "deploy key AKIAABCDEFGHIJKLMNOP in a note")
    draft = json.loads(glyph(env, "write", "a first draft", "--tags", "draft", "--json").stdout)["id"]
    glyph(env, "edit", draft, "the corrected text", "--tags", "final")
    dump = tmp_path / "dump.ndjson"
    glyph(env, "export", "--out", str(dump))
    exported = dump.read_bytes()
    assert exported.count(b"\n") == 4 and b"\\u2028" in exported
    assert json.loads([line for line in exported.split(b"\n") if b"corrected" in line][0])["updated_at"]

    fresh_env = clean_env(GLYPH_HOME=str(tmp_path / "fresh-home"))
    if "GLYPH_STORE" in env:  # the same kind of store: a new DynamoDB table
        from ..conftest import new_dynamo_table

        fresh_env.update(
            GLYPH_STORE="dynamodb://" + new_dynamo_table(),
            AWS_ENDPOINT_URL_DYNAMODB=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
        )
    with glyph_served(fresh_env):
        assert glyph(fresh_env, "import", str(dump)).stdout.startswith("imported 4, 0 already there")
        assert glyph(fresh_env, "export").stdout.encode() == exported
        # A file another tool wrote with the separators raw and CRLF line ends imports too.
        raw = exported.decode().replace("\\u2028", "\u2028").replace("\\u2029", "\u2029").replace("\n", "\r\n")
        assert glyph(fresh_env, "import", "-", stdin=raw).stdout.startswith("imported 0, 4 already there")


def test_an_edit_to_a_look_alike_of_another_memory_is_409(server):
    headers = bearer(Path(server["GLYPH_HOME"]), "rw")
    with httpx.Client(base_url=server["GLYPH_URL"], headers=headers, timeout=30) as client:
        held = client.post("/v1/memories", json={"text": "The user prefers pytest over unittest"}).json()
        other = client.post("/v1/memories", json={"text": "The user prefers nose"}).json()
        answer = client.patch(
            f"/v1/memories/{other['id']}", json={"text": "The user\u3000prefers py\u00adtest over\tunittest"}
        )
        assert answer.status_code == 409 and answer.headers["content-type"].startswith("application/problem+json")
        assert held["id"] in answer.json()["detail"]
        assert client.get(f"/v1/memories/{other['id']}").json()["text"] == "The user prefers nose"


def test_an_export_saved_with_a_byte_order_mark_imports(server, tmp_path):
    """Editors on Windows save UTF-8 with a BOM (EF BB BF); RFC 8259 §8.1 lets a parser ignore it.
    Before, the whole file was refused ('line 1: not a JSON object') and nothing was restored."""
    env = server
    glyph(env, "write", "Restored from a file saved with a BOM", "--ns", "bom")
    glyph(env, "write", "A second memory of that file", "--ns", "bom")
    exported = glyph(env, "export", "--ns", "bom").stdout.encode()
    glyph(env, "delete", json.loads(exported.split(b"\n")[0])["id"])
    for body in (b"\xef\xbb\xbf" + exported, b"\xef\xbb\xbf" + exported.replace(b"\n", b"\r\n")):
        dump = tmp_path / "bom.ndjson"
        dump.write_bytes(body)
        assert glyph(env, "import", str(dump)).stdout.startswith("imported 1, 1 already there")
        glyph(env, "delete", json.loads(exported.split(b"\n")[0])["id"])
    # Through the API's own door too; a BOM anywhere but the start stays an error of its line.
    with httpx.Client(timeout=30) as client:
        url, headers = server["GLYPH_URL"] + "/v1/import", bearer(Path(server["GLYPH_HOME"]), "w")
        headers["Content-Type"] = "application/x-ndjson"
        answer = client.post(url, content=b"\xef\xbb\xbf" + exported, headers=headers)
        assert answer.status_code == 200 and answer.json()["imported"] == 1
        inner = exported.split(b"\n")[0] + b"\n\xef\xbb\xbf" + exported.split(b"\n")[1]
        refused = client.post(url, content=inner, headers=headers)
        assert refused.status_code == 400 and refused.json()["detail"].startswith("line 2:")
    assert glyph(env, "export", "--ns", "bom").stdout.encode() == exported
