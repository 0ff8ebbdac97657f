"""Recall at the right moment (issue 26, DESIGN §17): what the UserPromptSubmit hook prints, and
the near-duplicate warning of a write.

1. On LoCoMo's dev split (bench/locomo.py's protocol: each turn one memory, one namespace per
   conversation) with each question as the prompt: the share of questions whose evidence is in
   what the hook prints (glyphmemory.recall over the product's search, leaving out what the
   session-start block shows), beside the session-start block alone (the newest memories within
   the hook's 9,000 units) measured the same way; and the share of prompts from ANOTHER
   conversation for which it prints anything. Goals: ≥ 60 % and ≤ 10 %. Beside them, the same with
   about PASTE_CHARS characters of a third conversation pasted after each question (no goal).
2. The hook's wall time as Claude Code runs it (`glyph recall --hook`, JSON on stdin) against a
   local `glyph serve` holding one conversation, p50/p90. Goal: p50 ≤ 0.3 s.
3. The similar-pairs set (tests/data/similar_pairs.jsonl, written before the scorer): precision
   and recall of similar.SIMILAR_MIN_SCORE; and the time a write spends finding similar memories
   at 10,000 memories (SQLite, in process), p50. Goals: precision ≥ 0.9 at recall ≥ 0.6, ≤ 5 ms.

    python bench/recall.py [--sample N] [--conversations C]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo  # noqa: E402
from common import ROOT, load_sqlite, percentile, synthetic_memories  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "similar_pairs.jsonl"
START_BUDGET = 9000  # the SessionStart hook's (skills/hooks/hooks.json)
PASTE_CHARS = 120  # text pasted after a question, for the prompts that are more than a question


def _hit_json(memory, score, matched) -> dict:
    return {**memory.to_json(), "score": score, "matched": matched}


def measure_locomo(convs: list[dict]) -> dict:
    """The figures over all the conversations, and over the tuned ones (locomo.TUNE: recall's
    MIN_COVERAGE, GATE_HITS and RECALL_HITS were chosen on these) and the held-out rest apart."""
    from glyphmemory import recall
    from glyphmemory.context import build_context
    from glyphmemory.search import search_hits

    counts = {part: defaultdict(int) for part in ("all", "tuned", "held_out")}
    with tempfile.TemporaryDirectory() as tmp:
        memories, _ = locomo._store_conversations(convs, os.path.join(tmp, "l.db"), sessions=True)
        for at, conv in enumerate(convs):
            namespace = conv["id"].lower()
            turns_of_text = defaultdict(set)
            for dia_id, _, _, text in conv["turns"]:
                turns_of_text[text].add(dia_id)
            start = build_context(memories, namespace, START_BUDGET)
            start_turns = set().union(*(turns_of_text[m.text] for m, _ in start.entries)) if start.entries else set()
            known = {m.id for m, _ in start.entries}

            def printed(question: str, namespace: str = namespace, known: set = known) -> list[dict]:
                query = recall.query_of(question)
                if not recall.Prompt(query).terms:
                    return []
                hits = search_hits(memories, query, namespace=namespace, limit=recall.RECALL_HITS)
                return recall.pick([_hit_json(*h) for h in hits], query, known)

            parts = [counts["all"], counts["tuned" if conv["id"] in locomo.TUNE else "held_out"]]
            # Pasted text comes from a conversation that is neither this one nor the other below.
            third = convs[(at + 2) % len(convs)]["turns"] if len(convs) >= 3 else None
            for i, qa in enumerate(conv["qa"]):
                evidence = set(qa["evidence"])
                shown = set().union(*(turns_of_text[h["text"]] for h in printed(qa["question"]))) or set()
                pasted = printed(f"{qa['question']} {_paste(third, i)}") if third else []
                shown_pasted = set().union(*(turns_of_text[h["text"]] for h in pasted)) or set()
                for tally in parts:
                    tally["questions"] += 1
                    tally["hook"] += bool(evidence & shown)
                    tally["pasted"] += bool(evidence & shown_pasted)
                    tally["start"] += bool(evidence & start_turns)
                    tally["either"] += bool(evidence & (shown | start_turns))
            other = convs[(at + 1) % len(convs)]
            if other is not conv:
                for i, qa in enumerate(other["qa"]):
                    said = bool(printed(qa["question"]))
                    said_pasted = bool(third and printed(f"{qa['question']} {_paste(third, i)}"))
                    for tally in parts:
                        tally["foreign"] += 1
                        tally["foreign_printed"] += said
                        tally["foreign_pasted"] += said_pasted
    result = {}
    for part, tally in counts.items():
        n, f = max(1, tally["questions"]), max(1, tally["foreign"])
        figures = {
            "questions": tally["questions"],
            "hook_pct": 100 * tally["hook"] / n,
            "start_pct": 100 * tally["start"] / n,
            "either_pct": 100 * tally["either"] / n,
            "foreign": tally["foreign"],
            "foreign_pct": 100 * tally["foreign_printed"] / f,
            "pasted_pct": 100 * tally["pasted"] / n if len(convs) >= 3 else None,
            "foreign_pasted_pct": 100 * tally["foreign_pasted"] / f,
        }
        if part == "all":
            result.update(figures)
        else:
            result[part] = figures
    return result


def _paste(turns: list, at: int, size: int = PASTE_CHARS) -> str:
    """About `size` characters of a third conversation's turns (their text, without the
    speaker), from a place that moves with `at`: text pasted beside a question."""
    text, j = "", (at * 7) % max(1, len(turns) - 10)
    while len(text) < size and j < len(turns):
        text += turns[j][3].split(": ", 1)[-1] + " "
        j += 1
    return text.strip()


def measure_hook_time(conv: dict, runs: int) -> dict:
    """`glyph recall --hook` as Claude Code runs it, against glyph serve holding `conv`."""
    from glyphmemory.model import Clock
    from glyphmemory.service import Memories
    from glyphmemory.stores.sqlite import SqliteStore

    glyph = shutil.which("glyph", path=str(Path(sys.executable).parent)) or "glyph"
    home = tempfile.mkdtemp(prefix="glyph-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")} | {"GLYPH_HOME": home}
    store = SqliteStore(os.path.join(home, "glyph.db"))
    lines = [json.dumps({"text": t, "epoch_us": e, "source": "locomo"}) for _, _, e, t in conv["turns"]]
    Memories(store, Clock()).import_lines("\n".join(lines).encode())
    store.close()
    server = subprocess.Popen(
        [glyph, "serve", "--port", "0", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    times, bare, printed = [], [], 0
    try:
        env["GLYPH_URL"] = json.loads(server.stdout.readline())["url"]
        questions = [qa["question"] for qa in conv["qa"]][: runs + 1]
        for i, question in enumerate(questions):
            event = json.dumps({"session_id": "bench", "hook_event_name": "UserPromptSubmit", "prompt": question})
            started = time.perf_counter()
            done = subprocess.run(
                [glyph, "recall", "--hook"], input=event, env=env, capture_output=True, text=True, timeout=5
            )
            if i:  # the first warms the page cache and the server
                times.append(time.perf_counter() - started)
                printed += bool(done.stdout)
                started = time.perf_counter()  # the floor: the CLI starting and doing nothing
                subprocess.run([glyph, "--version"], env=env, capture_output=True, timeout=5)
                bare.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(home, ignore_errors=True)
    return {
        "runs": len(times),
        "p50_s": percentile(times, 50),
        "p90_s": percentile(times, 90),
        "printed": printed,
        "version_p50_s": percentile(bare, 50),
    }


def measure_pairs() -> dict:
    from glyphmemory.similar import SIMILAR_MIN_SCORE, score, text_score
    from glyphmemory.stores.dynamodb_similar import band_values, term_hashes
    from glyphmemory.text_index import memory_terms

    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    flagged = [(text_score(p["a"], p["b"]) >= SIMILAR_MIN_SCORE, p["similar"]) for p in pairs]
    # On DynamoDB a pair is only compared when the two texts share a band item (one of the
    # BANDS MinHash values), and scored from the items' 4-byte term hashes.
    banded = []
    for p in pairs:
        a, b = (term_hashes(memory_terms(p[side])) for side in ("a", "b"))
        shared = any(x == y for x, y in zip(band_values(a), band_values(b), strict=False))
        banded.append((shared and score(set(a), set(b)) >= SIMILAR_MIN_SCORE, p["similar"]))
    return {
        "pairs": len(pairs),
        "positives": sum(s for _, s in flagged),
        "threshold": SIMILAR_MIN_SCORE,
        **_precision_recall(flagged),
        "dynamodb": _precision_recall(banded),
    }


def _precision_recall(flagged: list[tuple[bool, bool]]) -> dict:
    """{"precision", "recall"} of (flagged, labelled similar) pairs."""
    tp = sum(f and s for f, s in flagged)
    return {"precision": tp / max(1, sum(f for f, _ in flagged)), "recall": tp / max(1, sum(s for _, s in flagged))}


def measure_write_cost(size: int, reps: int) -> dict:
    """p50 of similar.find_similar for a new text at `size` memories (what a write adds), beside
    the rest of the write (the store's put)."""
    from glyphmemory.model import Clock, new_memory
    from glyphmemory.service import Memories
    from glyphmemory.similar import find_similar
    from glyphmemory.stores.sqlite import SqliteStore

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.db")
        held = synthetic_memories(size)
        load_sqlite(path, held)
        store = SqliteStore(path)
        store.reindex("default", restart=True, deadline_s=600)
        memories = Memories(store, Clock())
        similar_s, put_s = [], []
        for i in range(reps):
            text = f"new {i}: " + held[(i * 37) % size].text.split(" ", 1)[1][:200]
            memory = new_memory(clock=memories.clock, default_source="bench", text=text)
            started = time.perf_counter()
            stored, _ = store.put(memory, now_s=memories.clock.now_s())
            put_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            find_similar(memories, stored.text, namespace="default", exclude=stored.id)
            similar_s.append(time.perf_counter() - started)
        store.close()
    return {
        "size": size,
        "reps": reps,
        "similar_ms": 1000 * statistics.median(similar_s),
        "put_ms": 1000 * statistics.median(put_s),
    }


def measure(
    sample: int | None = None,
    conversations: int | None = None,
    hook_runs: int = 40,
    size: int = 10_000,
    reps: int = 200,
) -> dict:
    convs = locomo.load(sample=sample, conversations=conversations)
    return {
        "locomo": measure_locomo(convs),
        "hook": measure_hook_time(convs[0], hook_runs),
        "pairs": measure_pairs(),
        "write": measure_write_cost(size, reps),
    }


def _pasted_line(lo: dict) -> str:
    if lo["pasted_pct"] is None:
        return "A prompt that is more than its question: not measured (it needs three conversations).\n\n"
    return (
        f"A prompt that is more than its question (about {PASTE_CHARS} characters of a third conversation's "
        f"turns pasted after it): evidence in what the hook prints {lo['pasted_pct']:.1f} %; prints for another "
        f"conversation's question so pasted {lo['foreign_pasted_pct']:.1f} % (the pasted turns are the same kind "
        "of talk as every conversation's, so some of what it prints then matches the pasted text).\n\n"
    )


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def report(result: dict) -> str:
    lo, hook, pairs, write = result["locomo"], result["hook"], result["pairs"], result["write"]
    return (
        "## Recall at the right moment (issue 26)\n\n"
        f"LoCoMo dev, {lo['questions']} questions, each question the prompt (bench/recall.py):\n\n"
        "| What the session sees | Questions whose evidence it holds |\n|---|---|\n"
        f"| the session-start block alone (newest, {START_BUDGET:,} units) | {lo['start_pct']:.1f} % |\n"
        f"| what `glyph recall --hook` prints (≤ 1,500 units, start block left out) | {lo['hook_pct']:.1f} % |\n"
        f"| both | {lo['either_pct']:.1f} % |\n\n"
        f"Prompts from another conversation for which the hook prints anything: {lo['foreign_pct']:.1f} % "
        f"of {lo['foreign']}.\n\n"
        + _pasted_line(lo)
        + "".join(
            f"- {label}: evidence in what the hook prints {lo[part]['hook_pct']:.1f} % of {lo[part]['questions']}, "
            f"prints for another conversation's prompt {lo[part]['foreign_pct']:.1f} %\n"
            for part, label in (
                ("tuned", f"tuned on ({', '.join(locomo.TUNE)})"),
                ("held_out", "held out (the other four)"),
            )
            if part in lo
        )
        + "\n"
        f"The hook as Claude Code runs it against a local `glyph serve` ({hook['runs']} prompts): "
        f"p50 {1000 * hook['p50_s']:.0f} ms, p90 {1000 * hook['p90_s']:.0f} ms (`glyph --version` in the same run: "
        f"p50 {1000 * hook['version_p50_s']:.0f} ms); it printed for {hook['printed']}.\n\n"
        f"Near-duplicates: {pairs['pairs']} labelled pairs ({pairs['positives']} rewordings), cosine of "
        f"the index-term sets ≥ {pairs['threshold']}: precision {pairs['precision']:.2f}, recall {pairs['recall']:.2f} "
        f"(on DynamoDB, compared only within a shared band item: precision {pairs['dynamodb']['precision']:.2f}, "
        f"recall {pairs['dynamodb']['recall']:.2f}). "
        f"A write's search for similar memories at {write['size']:,} memories (SQLite): p50 "
        f"{write['similar_ms']:.2f} ms (the store's put: {write['put_ms']:.2f} ms).\n\n"
        f"- Goal: evidence in what the hook prints ≥ 60 %: {_verdict(lo['hook_pct'] >= 60)} ({lo['hook_pct']:.1f} %)\n"
        f"- Goal: prints for another conversation's prompt ≤ 10 %: {_verdict(lo['foreign_pct'] <= 10)} ({lo['foreign_pct']:.1f} %)\n"
        f"- Goal: hook p50 ≤ 0.3 s locally: {_verdict(hook['p50_s'] <= 0.3)} ({1000 * hook['p50_s']:.0f} ms)\n"
        f"- Goal: similar precision ≥ 0.9 at recall ≥ 0.6: "
        f"{_verdict(all(p['precision'] >= 0.9 and p['recall'] >= 0.6 for p in (pairs, pairs['dynamodb'])))}\n"
        f"- Goal: similar adds ≤ 5 ms p50 at 10,000 memories: {_verdict(write['similar_ms'] <= 5)} ({write['similar_ms']:.2f} ms)\n"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    kwargs = {}
    if "--sample" in args:
        kwargs["sample"] = int(args[args.index("--sample") + 1])
    if "--conversations" in args:
        kwargs["conversations"] = int(args[args.index("--conversations") + 1])
    print(report(measure(**kwargs)))
