"""The redactor on a corpus of planted secrets (every one must go) and of ordinary engineering
notes with ids, hashes and the words password, secret and token (none may change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphmemory.redact import RULES, redact, summary

DATA = Path(__file__).resolve().parents[1] / "data" / "redaction"


def planted() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "secrets.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, secret, text = line.split("\t")
            rows.append((kind, secret.replace("\\n", "\n"), text.replace("\\n", "\n")))
    return rows


NOTES = [
    line for line in (DATA / "notes.txt").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
]


def test_the_corpus_is_as_large_as_promised_and_covers_every_rule():
    rows = planted()
    assert len(rows) >= 60 and len(NOTES) >= 200
    assert {kind for kind, _, _ in rows} == {kind for kind, _ in RULES}


@pytest.mark.parametrize(("kind", "secret", "text"), planted(), ids=lambda v: v[:24] if isinstance(v, str) else None)
def test_every_planted_secret_is_removed_and_named(kind, secret, text):
    out, kinds = redact(text)
    assert secret not in out and f"[redacted:{kind}]" in out and kind in kinds
    assert redact(out) == (out, [])  # redacting again changes nothing


def test_no_false_alarm_on_ordinary_notes():
    alarms = [(line, redact(line)[1]) for line in NOTES if redact(line)[1]]
    assert alarms == []


def test_the_rest_of_the_text_is_kept():
    out, kinds = redact("Deploy with key AKIAQWERTYUIOPASDFGH today; the password: hunter2 is old.")
    assert out == "Deploy with key [redacted:aws-access-key] today; the password: [redacted:password] is old."
    assert kinds == ["aws-access-key", "password"] and summary(kinds) == "2 secrets removed: aws-access-key, password"
