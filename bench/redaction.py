"""The redactor's cost per write: redact() alone on the corpus' memories, beside a whole write
(redaction included) through Memories.write on a SQLite file, in the same run; and the one-time
cost of compiling its rules, paid by the first write of a process. Goal: ≤ 15 ms on the write
path, and a small share of a write.

    python bench/redaction.py [reps]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, corpus_texts, percentile  # noqa: E402

SECRETS = ROOT / "tests" / "data" / "redaction" / "secrets.tsv"


def measure(reps: int = 300) -> dict:
    from glyphmemory.model import Clock
    from glyphmemory.redact import redact
    from glyphmemory.service import Memories
    from glyphmemory.stores.sqlite import SqliteStore

    texts = corpus_texts()
    planted = [line.split("\t")[2] for line in SECRETS.read_text().splitlines() if line and not line.startswith("#")]
    samples = [
        f"{texts[i % len(texts)]} ({planted[i % len(planted)]})" if i % 4 == 0 else texts[i % len(texts)]
        for i in range(reps)
    ]
    redact_ms, write_ms = [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "glyph.db"))
        memories = Memories(store, Clock())
        memories.write(text="warm-up")  # the rules are compiled here
        for i, text in enumerate(samples):
            started = time.perf_counter()
            redact(text)
            redact_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            memories.write(text=f"#{i} {text}")
            write_ms.append((time.perf_counter() - started) * 1000)
        store.close()
    compile_ms = []
    for _ in range(5):  # a fresh process: importing the module compiles every rule
        code = "import sys,time; sys.path.insert(0,'src'); t=time.perf_counter(); import glyphmemory.redact; print((time.perf_counter()-t)*1000)"
        compile_ms.append(
            float(
                subprocess.run(
                    [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
                ).stdout
            )
        )
    return {
        "reps": reps,
        "redact": redact_ms,
        "write": write_ms,
        "compile": compile_ms,
        "chars": statistics.mean(len(t) for t in samples),
    }


def report(result: dict) -> str:
    red, write = statistics.median(result["redact"]), statistics.median(result["write"])
    first = statistics.median(result["compile"])
    worst = red + first
    return "\n".join(
        [
            "## Redaction",
            "",
            f"{result['reps']} writes of the corpus' memories (mean {result['chars']:.0f} characters, a planted secret in one of "
            "four) on a SQLite file; redact() timed alone on the same text beside the whole write that includes it.",
            "",
            "| | p50 | p99 |",
            "|---|---|---|",
            f"| redact() | {red:.3f} ms | {percentile(result['redact'], 99):.3f} ms |",
            f"| the whole write (baseline, redaction included) | {write:.3f} ms | {percentile(result['write'], 99):.3f} ms |",
            f"| compiling the rules, once per process (import) | {first:.1f} ms | {max(result['compile']):.1f} ms |",
            "",
            f"Redaction is {red / write:.0%} of a write at p50. Goal ≤ 15 ms on the write path, the first write of a process "
            f"(compile + redact) included: **{worst:.1f} ms, {'met' if worst <= 15 else 'NOT met'}**.",
            "",
        ]
    )


if __name__ == "__main__":
    print(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 300)))
