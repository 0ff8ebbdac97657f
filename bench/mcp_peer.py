"""GlyphMemory beside the MCP reference memory server (npm @modelcontextprotocol/server-memory,
run with Node), on the same work through the same official SDK client over stdio: saves until
the store holds 100 items, then searches and reads of recent items; saves on to 1,000, then the
same reads again. Per-call p50/p99 for each server, and how each grows with the store.

The reference keeps a knowledge graph in one JSONL file, rewritten on every change; GlyphMemory
(`glyph mcp`, embedded) keeps memories in SQLite. Mapping of the work:
save → save_memory / create_entities (one entity, the text as its observation);
search → search_memories / search_nodes (one word of the corpus);
read recent → recent_memories(limit=10) / open_nodes(the 10 newest names).

    python bench/mcp_peer.py [searches] [saves]
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, corpus_texts, percentile  # noqa: E402

REFERENCE = ROOT / "node_modules" / "@modelcontextprotocol" / "server-memory" / "dist" / "index.js"
SMALL = 100  # the first checkpoint; the second is when every save is done


def _glyph() -> str:
    return str(Path(sys.executable).with_name("glyph"))


def _servers(tmp: Path) -> dict:
    from mcp.client.stdio import StdioServerParameters

    node = shutil.which("node")
    if not REFERENCE.exists() or node is None:
        raise SystemExit("the reference server is missing: run `npm ci` (make bench does)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
    return {
        "GlyphMemory": StdioServerParameters(
            command=_glyph(), args=["mcp"], env={**base, "GLYPH_HOME": str(tmp / "glyph")}
        ),
        "reference (server-memory)": StdioServerParameters(
            command=node, args=[str(REFERENCE)], env={**base, "MEMORY_FILE_PATH": str(tmp / "memory.jsonl")}
        ),
    }


def _work(name: str, i: int, text: str) -> tuple[str, dict]:
    if name == "GlyphMemory":
        return "save_memory", {"text": text}
    return "create_entities", {"entities": [{"name": f"memory-{i}", "entityType": "memory", "observations": [text]}]}


async def _run(name: str, params, saves: int, reads: int) -> dict:
    from mcp import ClientSession
    from mcp.client.stdio import stdio_client

    rng = random.Random(11)
    texts = corpus_texts()
    words = sorted({w.strip(".,;:()").lower() for t in texts for w in t.split() if len(w) > 6})
    timings: dict[str, list[float]] = {}

    async def timed(key: str, tool: str, args: dict) -> None:
        started = time.perf_counter()
        result = await session.call_tool(tool, args)
        timings.setdefault(key, []).append((time.perf_counter() - started) * 1000)
        if result.is_error:
            raise RuntimeError(f"{name} {tool}: {result.content[0].text[:200]}")

    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            stored = 0
            for checkpoint in (SMALL, saves):
                while stored < checkpoint:
                    text = f"#{stored} {texts[stored % len(texts)]}"
                    await timed(f"save≤{checkpoint}", *_work(name, stored, text))
                    stored += 1
                for _ in range(reads):
                    word = rng.choice(words)
                    if name == "GlyphMemory":
                        await timed(f"search@{stored}", "search_memories", {"query": word, "limit": 10})
                        await timed(f"recent@{stored}", "recent_memories", {"limit": 10})
                    else:
                        await timed(f"search@{stored}", "search_nodes", {"query": word})
                        newest = [f"memory-{i}" for i in range(stored - 1, max(-1, stored - 11), -1)]
                        await timed(f"recent@{stored}", "open_nodes", {"names": newest})
    return timings


def measure(reads: int = 100, saves: int = 1000) -> dict:
    import anyio

    with tempfile.TemporaryDirectory() as tmp:
        servers = _servers(Path(tmp))
        out = {name: anyio.run(_run, name, params, saves, reads) for name, params in servers.items()}
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {"runs": out, "reads": reads, "saves": saves, "node": node}


def report(result: dict) -> str:
    runs = result["runs"]
    ours, ref = runs["GlyphMemory"], runs["reference (server-memory)"]
    small, large = SMALL, result["saves"]
    lines = [
        "## MCP: GlyphMemory beside the reference memory server",
        "",
        f"The same SDK client over stdio drives `glyph mcp` (embedded SQLite) and "
        f"`@modelcontextprotocol/server-memory` (Node {result['node']}, one JSONL file): {result['saves']} saves, "
        f"and {result['reads']} searches and {result['reads']} reads of the 10 newest at {small} and at {large} "
        "stored items. Per call, ms; ratio = GlyphMemory / reference (below 1: faster).",
        "",
        "| call | GlyphMemory p50 / p99 | reference p50 / p99 | ratio p50 |",
        "|---|---|---|---|",
    ]
    for key in ours:
        a, b = ours[key], ref[key]
        lines.append(
            f"| {key} | {percentile(a, 50):.2f} / {percentile(a, 99):.2f} | "
            f"{percentile(b, 50):.2f} / {percentile(b, 99):.2f} | {percentile(a, 50) / percentile(b, 50):.2f}× |"
        )

    def growth(timings: dict, op: str) -> float:
        return percentile(timings[f"{op}@{large}"], 50) / percentile(timings[f"{op}@{small}"], 50)

    lines += [
        "",
        f"Growth with the store (p50 at {large} / p50 at {small} items):",
        "",
        "| call | GlyphMemory | reference |",
        "|---|---|---|",
    ]
    for op in ("search", "recent"):
        lines.append(f"| {op} | {growth(ours, op):.2f}× | {growth(ref, op):.2f}× |")
    save_growth = (
        percentile(ours[f"save≤{large}"], 50) / percentile(ours[f"save≤{small}"], 50),
        percentile(ref[f"save≤{large}"], 50) / percentile(ref[f"save≤{small}"], 50),
    )
    lines.append(f"| save | {save_growth[0]:.2f}× | {save_growth[1]:.2f}× |")
    at_large = max(percentile(ours[k], 50) / percentile(ref[k], 50) for k in ours if k.endswith(str(large)))
    at_small = max(percentile(ours[k], 50) / percentile(ref[k], 50) for k in ours if k.endswith(str(small)))
    flat = growth(ours, "recent")
    met = at_large < 1 and flat <= 1.5
    lines += [
        "",
        f"Goal: faster per call than the reference at {large:,} items, and recent reads flat as the store "
        f"grows: **{at_large:.2f}×, {'met' if met else 'NOT met'}** (worst p50 ratio at {large:,}; recent grows "
        f"{flat:.2f}×, the reference's {growth(ref, 'recent'):.2f}×). At {small} items the worst ratio is "
        f"{at_small:.2f}×: a call's fixed cost (the Python SDK's stdio loop, and the client checking each answer "
        "against its output schema) outweighs the work there.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(report(measure(*args)))
