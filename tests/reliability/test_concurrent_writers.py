"""8 processes of distinct writes at once (500 each through glyph serve, 25 each through the
Lambda handler on moto): every acknowledged write is stored, none twice."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ..support import writer
from ..support.processes import stop
from .conftest import lambda_get, read_all, serve

pytestmark = pytest.mark.e2e

WRITERS, WRITES = 8, 500
# On DynamoDB each write is also a search-index transaction of ~50 actions, which moto (one
# request at a time) takes ~0.1 s to apply (real DynamoDB: milliseconds): fewer writes there keep
# the test to a minute while 8 writers still race on the same namespace's index items.
DYNAMO_WRITES = 25


def run_writers(args_for, env) -> list[dict]:
    """Start the writer processes together; return every write each one reported."""
    procs = [writer.spawn(args_for(w), env) for w in range(WRITERS)]
    records = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0
        records += [json.loads(line) for line in out.splitlines()]
    return records


def assert_every_acknowledged_write_stored_once(records: list[dict], stored: list[dict], writes: int = WRITES) -> None:
    assert len(records) == WRITERS * writes
    acknowledged = {r["id"]: r["text"] for r in records if r["status"] == 201}
    assert len(acknowledged) == WRITERS * writes, Counter(r["status"] for r in records)
    counts = Counter(m["text"] for m in stored)
    assert [text for text, n in counts.items() if n > 1] == []
    by_id = {m["id"]: m["text"] for m in stored}
    assert {i: by_id.get(i) for i in acknowledged} == acknowledged
    epochs = [m["epoch_ms"] for m in stored]
    assert epochs == sorted(epochs, reverse=True)  # read back newest first, as written


def test_writers_against_glyph_serve(tmp_path):
    server = serve(tmp_path / "home")
    try:
        env = server.env | {"GLYPH_TOKEN": server.token("w")}
        records = run_writers(lambda w: ["http", server.url, f"writer {w} write", str(WRITES)], env)
        assert_every_acknowledged_write_stored_once(records, server.all_memories())
    finally:
        stop(server.proc)


def test_writers_against_the_lambda_handler_on_dynamodb(lambda_env, root_key):
    records = run_writers(lambda w: ["lambda", f"writer {w} write", str(DYNAMO_WRITES)], lambda_env)
    stored = read_all(lambda query: lambda_get(root_key, "/v1/memories", query))
    assert_every_acknowledged_write_stored_once(records, stored, DYNAMO_WRITES)
