"""In-process latency on SQLite with 10,000 memories: write, recent(20), context and search,
p50 and p99, each beside the plain sqlite3 statement that is its floor, in the same run.
Goal: recent p50 ≤ 2 ms.

Baselines, on the same file with the same pragmas (WAL, synchronous=FULL): one INSERT committed
(for write); the SELECT of 21 rows by the index (for recent and context); a LIKE over the newest
5,000 rows, the same rows search ranks (for search).

    python bench/latency.py [reps]
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_sqlite, percentile, synthetic_memories  # noqa: E402

from glyphmemory import names  # noqa: E402

MEMORIES = 10_000
NS = names.DEFAULT_NAMESPACE


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure(reps: int = 300) -> dict:
    from glyphmemory.context import build_context, render_context
    from glyphmemory.model import Clock
    from glyphmemory.search import search_memories
    from glyphmemory.service import Memories
    from glyphmemory.stores.sqlite import SqliteStore

    folder = tempfile.mkdtemp(prefix="glyph-latency-")
    path = f"{folder}/glyph.db"
    load_sqlite(path, synthetic_memories(MEMORIES))
    memories = Memories(SqliteStore(path), Clock())
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    raw.execute("CREATE TABLE bench_floor (n INTEGER, text TEXT)")
    rng = random.Random(3)
    words = ["project", "decided", "prefers", "deadline", "python", "meeting", "budget", "review"]
    counter = iter(range(10**9))

    def raw_insert():
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO bench_floor VALUES (?, ?)", (next(counter), "x" * 200))
        raw.execute("COMMIT")

    def raw_recent():
        raw.execute(
            "SELECT id, namespace, epoch_us, text, tags, source, session, expires_at, content_hash FROM memories "
            "WHERE namespace = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY epoch_us DESC, id DESC LIMIT 21",
            (NS, time.time()),
        ).fetchall()

    def raw_like():
        raw.execute(
            "SELECT id FROM (SELECT id, text FROM memories WHERE namespace = ? ORDER BY epoch_us DESC LIMIT 5000) "
            "WHERE text LIKE ?",
            (NS, f"%{rng.choice(words)}%"),
        ).fetchall()

    ops = {
        "write": (
            lambda: memories.write(text=f"latency bench write {next(counter)}: " + "words " * 30),
            "INSERT + COMMIT",
            raw_insert,
        ),
        "recent(20)": (lambda: memories.recent(NS, limit=20), "SELECT 21 rows", raw_recent),
        "context (budget 8,000)": (
            lambda: render_context(build_context(memories, NS, 8000)),
            "SELECT 21 rows",
            raw_recent,
        ),
        "search (2 words)": (
            lambda: search_memories(memories, " ".join(rng.sample(words, 2)), namespace=NS, limit=20),
            "LIKE over 5,000 rows",
            raw_like,
        ),
    }
    for op, _, floor in ops.values():  # warm caches
        op()
        floor()
    times = {name: ([], []) for name in ops}
    for _ in range(reps):  # interleaved: drift and fsync hiccups hit every operation alike
        for name, (op, _, floor) in ops.items():
            times[name][0].append(timed(op))
            times[name][1].append(timed(floor))
    memories.store.close()
    raw.close()
    return {
        "reps": reps,
        "rows": {
            name: {
                "p50": statistics.median(ours),
                "p99": percentile(ours, 99),
                "floor": ops[name][1],
                "floor_p50": statistics.median(base),
                "floor_p99": percentile(base, 99),
            }
            for name, (ours, base) in times.items()
        },
    }


def report(result: dict) -> str:
    lines = [
        f"## In-process latency (SQLite, {MEMORIES:,} memories)",
        "",
        f"{result['reps']} repetitions of each, interleaved with their baseline on the same file.",
        "",
        "| operation | p50 | p99 | baseline | baseline p50 | baseline p99 | p50 × baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in result["rows"].items():
        lines.append(
            f"| {name} | {r['p50']:.2f} ms | {r['p99']:.2f} ms | {r['floor']} | {r['floor_p50']:.2f} ms | {r['floor_p99']:.2f} ms | {r['p50'] / r['floor_p50']:.2f}× |"
        )
    recent = result["rows"]["recent(20)"]["p50"]
    lines += ["", f"Goal recent(20) p50 ≤ 2 ms: **{recent:.2f} ms, {'met' if recent <= 2 else 'NOT met'}**."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 300)))
