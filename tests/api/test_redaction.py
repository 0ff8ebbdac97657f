"""Every write path redacts secrets before storing, through the Lambda handler on both stores."""

from __future__ import annotations

import json
from urllib.parse import quote

from glyphmemory.codec import encode

KEY = "AKIAQWERTYUIOPASDFGH"


def test_a_json_write_stores_the_redacted_text_and_says_which_kinds(api):
    status, m = api.json("POST", "/v1/memories", body={"text": f"Deploy key {KEY}; password: hunter2 (old)"})
    assert status == 201 and m["redacted"] == ["aws-access-key", "password"]
    assert m["text"] == "Deploy key [redacted:aws-access-key]; password: [redacted:password] (old)"
    stored = api.json("GET", f"/v1/memories/{m['id']}", scope="r")[1]
    assert KEY not in json.dumps(stored) and "hunter2" not in json.dumps(stored)
    # Dedup is taken of the redacted text: another key in the same sentence is the same memory.
    status, again = api.json(
        "POST", "/v1/memories", body={"text": "Deploy key AKIAZXCVBNMASDFGHJKL; password: hunter3 (old)"}
    )
    assert status == 200 and again["duplicate"] is True and again["id"] == m["id"]
    clean = api.json("POST", "/v1/memories", body={"text": "nothing secret here"})[1]
    assert clean["redacted"] == []


def test_a_chat_write_url_says_what_it_removed(api):
    token = api.token("w")
    result = api.call("GET", "/w", f"t={token}&m={quote(f'my key is {KEY}')}", scope=None)
    assert result["statusCode"] == 201
    assert result["body"].startswith("saved ") and result["body"].rstrip().endswith(
        "(1 secret removed: aws-access-key)"
    )
    zipped = api.call("GET", "/w", f"t={token}&z={encode('gh token ghp_' + 'a1B2c3D4e5' * 4)}", scope=None)
    assert "(1 secret removed: github-token)" in zipped["body"]


def test_an_import_redacts_every_line(api):
    body = b"".join(
        json.dumps(line).encode() + b"\n"
        for line in ({"text": f"line one {KEY}"}, {"text": "API_KEY=Zq8Lm2Pn4Rt6Vw9X"}, {"text": "plain"})
    )
    status, counts = api.json("POST", "/v1/import", body=body, content_type="application/x-ndjson")
    assert status == 200 and counts["imported"] == 3 and counts["redacted"] == ["aws-access-key", "secret"]
    texts = [m["text"] for m in api.json("GET", "/v1/memories", scope="r")[1]["items"]]
    assert "line one [redacted:aws-access-key]" in texts and "API_KEY=[redacted:secret]" in texts


def test_refuse_mode_stores_nothing_and_names_the_kinds(api, monkeypatch):
    monkeypatch.setenv("GLYPH_REDACT", "refuse")
    result = api.call("POST", "/v1/memories", body={"text": f"key {KEY}"})
    assert result["statusCode"] == 422 and "aws-access-key" in json.loads(result["body"])["detail"]
    body = json.dumps({"text": "fine"}).encode() + b"\n" + json.dumps({"text": f"key {KEY}"}).encode() + b"\n"
    result = api.call("POST", "/v1/import", body=body, content_type="application/x-ndjson")
    assert result["statusCode"] == 422 and "line 2" in json.loads(result["body"])["detail"]
    w = api.call("GET", "/w", f"t={api.token('w')}&m={quote(KEY)}", scope=None)
    assert w["statusCode"] == 422 and w["body"].startswith("Error 422:")
    assert api.json("GET", "/v1/memories", scope="r")[1]["items"] == []
    assert api.json("POST", "/v1/memories", body={"text": "still fine"})[0] == 201
