"""What the benchmarks share: paths, percentiles, synthetic memories, a moto server."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "src", ROOT):  # glyphmemory, and tests.support for the moto server
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from glyphmemory import names  # noqa: E402
from glyphmemory.model import Memory, content_hash, new_ulid  # noqa: E402

CORPUS = ROOT / "bench" / "data" / "memories.jsonl"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def import_times(python: str, code: str) -> dict[str, float]:
    """{module: self ms} of the imports `python -I -S -B -X importtime -c code` makes."""
    import subprocess

    err = subprocess.run(
        [python, "-I", "-S", "-B", "-X", "importtime", "-c", code], capture_output=True, text=True
    ).stderr
    rows = {}
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows[parts[2].strip()] = int(parts[0]) / 1000
    return rows


def corpus_texts() -> list[str]:
    return [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def synthetic_memories(n: int, namespace: str = names.DEFAULT_NAMESPACE, seed: int = 7) -> list[Memory]:
    """n distinct memories shaped like the corpus (its sentences, shuffled and numbered), oldest
    first, one millisecond apart, ending now."""
    import time

    rng = random.Random(seed)
    sentences = [s.strip() for t in corpus_texts() for s in t.split(". ") if len(s.strip()) > 20]
    tags = ["project", "preference", "decision", "todo", "person", "idea"]
    end_us = int(time.time() * 1_000_000)
    out = []
    for i in range(n):
        text = f"#{i} " + ". ".join(rng.sample(sentences, rng.randint(1, 4)))
        epoch_us = end_us - (n - i) * 1000
        out.append(
            Memory(
                id=new_ulid(epoch_us // 1000),
                namespace=namespace,
                text=text,
                tags=tuple(rng.sample(tags, rng.randint(0, 2))),
                source="bench",
                session=None,
                epoch_us=epoch_us,
                content_hash=content_hash(namespace, text),
            )
        )
    return out


class Moto:
    """A moto server on a free port (the serialising one the tests use), with AWS env set."""

    def __enter__(self) -> Moto:
        # Put back what was there: a test that runs a benchmark in process shares os.environ
        # (and its session's moto endpoint) with the tests after it.
        self.saved = {name: os.environ.get(name) for name in (*AWS_ENV, *_ENDPOINTS)}
        os.environ.update(AWS_ENV)
        from tests.support.processes import start_moto

        self.proc, self.url = start_moto()
        for name in _ENDPOINTS:
            os.environ[name] = self.url
        return self

    def __exit__(self, *exc) -> None:
        from tests.support.processes import stop

        stop(self.proc)
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_ENDPOINTS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


def create_table(name: str) -> None:
    import boto3

    from glyphmemory.stores.dynamodb import table_definition

    boto3.client("dynamodb").create_table(**table_definition(name))


def load_dynamodb(table: str, memories: list[Memory], *, index: bool | set[str] = True, claims: bool = True) -> None:
    """Store memories as DynamoStore.put would (memory item + dedup claim + its search index
    items), straight into the moto server's backend (tests/support/moto_serial.py's bulk load:
    100,000 memories load in about a minute, BatchWriteItem took many). `index` False: no index
    items; a set of terms: the postings and heads of these terms only (the statistics stay
    whole), what a search of them reads, at a size where the whole index would not fit in
    moto's memory. `claims` False: no dedup claims (what a search never reads)."""
    import urllib.request

    from glyphmemory.stores.dynamodb_items import claim_key, memory_attrs, memory_key

    memory_items, items = [], []
    for m in memories:
        attrs = memory_attrs(m)
        memory_items.append({**memory_key(m.id), **attrs})
        if claims:
            items.append({**claim_key(m.namespace, m.content_hash), "memory_id": {"S": m.id}, "memory": {"M": attrs}})
    if index:
        items += index_items(memories, memory_items, None if index is True else index)
    items = memory_items + items
    url = os.environ["AWS_ENDPOINT_URL_DYNAMODB"] + "/_glyph/put_items"
    for start in range(0, len(items), 5000):
        body = json.dumps({"table": table, "items": items[start : start + 5000]}).encode()
        request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()


def index_items(memories: list[Memory], memory_items: list[dict], only: set[str] | None) -> list[dict]:
    """The search index items DynamoStore.put writes for these memories (generation 1, one
    namespace per call, ready), built at once; each memory item gets its `ix` mark."""
    from collections import Counter

    from glyphmemory.stores import dynamodb_index as ix
    from glyphmemory.stores.dynamodb_generations import marker, stats_key
    from glyphmemory.text_index import INDEX_VERSION, impact, memory_terms

    out, df, total = [], Counter(), 0
    for memory, item in zip(memories, memory_items, strict=True):
        terms = Counter(memory_terms(memory.text, memory.tags))
        length = sum(terms.values())
        total += length
        item["ix"] = {"S": marker(1, memory)}
        for term, tf in terms.items():
            df[term] += 1
            if only is None or term in only:
                key = {"pk": {"S": ix.posting_pk(memory.namespace, 1, term)}}
                key["sk"] = {"S": f"{impact(tf, length):04d}{memory.id}"}
                out.append(key | {"f": {"N": str(tf)}, "n": {"N": str(length)}})
    if memories:
        namespace = memories[0].namespace
        for term, n in df.items():
            if only is None or term in only:
                out.append(
                    {"pk": {"S": ix.posting_pk(namespace, 1, term)}, "sk": {"S": ix.HEAD_SK}, "df": {"N": str(n)}}
                )
        stats = {"gen": 1, "ver": INDEX_VERSION, "n": len(memories), "len": total}
        out.append(stats_key(namespace) | {k: {"N": str(v)} for k, v in stats.items()} | {"ready": {"BOOL": True}})
    return out


def load_sqlite(path: str, memories: list[Memory]) -> None:
    """Store memories in one transaction with the store's own schema."""
    from glyphmemory.stores.sqlite import SqliteStore

    store = SqliteStore(path)
    conn = store._conn()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO memories (id, namespace, epoch_us, text, tags, source, session, expires_at, content_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.id,
                m.namespace,
                m.epoch_us,
                m.text,
                json.dumps(list(m.tags)),
                m.source,
                m.session,
                m.expires_at,
                m.content_hash,
            )
            for m in memories
        ],
    )
    from glyphmemory.stores import sqlite_index
    from glyphmemory.stores.sqlite import _row_to_memory

    sqlite_index.rebuild(conn, None, _row_to_memory)  # what put would have written, row by row
    conn.execute("COMMIT")
    store.close()
