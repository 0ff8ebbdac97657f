"""Claude Code's two hooks as it runs them (skills/hooks/hooks.json), against bench/deployed_path.py's
simulated AWS path, each request a cold start:

- `glyph context --hook` (SessionStart) from an empty GLYPH_HOME (no cached block to fall back
  on), against the table of 200 synthetic memories; it loaded memories when the newest shows.
- `glyph recall --hook` (UserPromptSubmit), the event on stdin (session_id, hook_event_name,
  prompt), against a second table holding LoCoMo's first conversation (bench/locomo.py: each turn
  one memory, in the default namespace, with its search index), each prompt one of its questions,
  so the search and what it prints are real. It printed memories, gave up (nothing printed after
  its HOOK_DEADLINE_S, 1.5 s: the search's cold request was not back) or was quiet (nothing matched
  well enough). Twice per round: without a project (no `cwd`: one search request, of the
  default namespace) and in a project's folder (a `.glyph` file naming PROJECT, whose 200
  synthetic memories the prompts do not match: a second search request before the default one's).

The two alternate, one of each per round, so that drift hits both alike: the context hook is the
recall hook's baseline (the same CLI start, one cold request to the same front, a goal met).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, create_table, load_dynamodb, synthetic_memories  # noqa: E402

from glyphmemory import names  # noqa: E402

GLYPH = str(Path(sys.executable).with_name("glyph"))
HOOKS = json.loads((ROOT / "skills" / "hooks" / "hooks.json").read_text())["hooks"]
CONTEXT_HOOK = HOOKS["SessionStart"][0]["hooks"][0]
RECALL_HOOK = HOOKS["UserPromptSubmit"][0]["hooks"][0]
PROJECT = "bench-project"


def recall_table() -> dict | None:
    """A table holding LoCoMo's first conversation in the default namespace and 200 synthetic
    memories in PROJECT's: {"table", "conversation" (its id), "memories" (how many),
    "prompts" (its questions)}; None when the data is not here (../shared/data, never in the
    repository)."""
    import locomo

    from glyphmemory.model import Memory, content_hash, new_ulid

    if not locomo.DATA.exists():
        return None
    conv = locomo.load(conversations=1)[0]
    memories, seen = [], set()
    for _, _, epoch_us, text in conv["turns"]:
        digest = content_hash(names.DEFAULT_NAMESPACE, text)
        if digest in seen:  # identical writes are one memory
            continue
        seen.add(digest)
        memories.append(
            Memory(
                id=new_ulid(epoch_us // 1000),
                namespace=names.DEFAULT_NAMESPACE,
                text=text,
                tags=(),
                source="locomo",
                session=None,
                epoch_us=epoch_us,
                content_hash=digest,
            )
        )
    table = f"bench-recall-{uuid.uuid4().hex[:8]}"
    create_table(table)
    load_dynamodb(table, memories)
    load_dynamodb(table, synthetic_memories(200, namespace=PROJECT))  # one namespace per call
    return {
        "table": table,
        "conversation": conv["id"],
        "memories": len(memories),
        "prompts": [q["question"] for q in conv["qa"]],
    }


def run_hooks(n: int, front, ca_pem: Path, key, newest: str, work: Path, recall: dict | None) -> dict:
    """n rounds of the context hook and, with `recall` ({"env": the front's env for the recall
    table, "prompts": [...], "proxy": the LatencyTlsProxy}), the recall hook without and with a
    project before it. The context hook's {"loaded", "first_try", "walls", "aws_calls"}, and
    under "recall" and "recall_project" each {"walls", "printed", "gave_up", "requests",
    "aws_calls", "deadline_s"}: the calls to SSM and DynamoDB through the proxy, summed."""
    from glyph_cli.recall import HOOK_DEADLINE_S

    context_env = front.env
    project = work / "project"
    project.mkdir(exist_ok=True)
    (project / ".glyph").write_text(f"namespace = {PROJECT}\n")
    loaded, first_try, walls, aws_calls = 0, 0, [], 0
    proxy = recall["proxy"] if recall else None
    variants = {"recall": None, "recall_project": str(project)} if recall else {}
    tallies = {
        name: {"walls": [], "printed": 0, "gave_up": 0, "requests": 0, "aws_calls": 0, "deadline_s": HOOK_DEADLINE_S}
        for name in variants
    }
    for i in range(n):
        for name, cwd in variants.items():
            front.env = recall["env"]
            event = {"session_id": f"bench-{i}", "hook_event_name": "UserPromptSubmit"}
            event["prompt"] = recall["prompts"][i % len(recall["prompts"])]
            if cwd:
                event["cwd"] = cwd
            before, calls = front.requests, proxy.calls
            out, wall = _run(RECALL_HOOK, front, ca_pem, key, work, json.dumps(event))
            tally = tallies[name]
            tally["walls"].append(wall)
            tally["printed"] += bool(out.strip())
            tally["gave_up"] += not out.strip() and wall >= HOOK_DEADLINE_S
            tally["requests"] += front.requests - before
            front.env = context_env
            time.sleep(0.3)  # let an abandoned request's process finish
            tally["aws_calls"] += proxy.calls - calls
        before, calls = front.requests, proxy.calls if proxy else 0
        out, wall = _run(CONTEXT_HOOK, front, ca_pem, key, work, "")
        walls.append(wall)
        ok = newest in out and not out.startswith("GlyphMemory:")
        loaded += ok
        first_try += ok and front.requests - before == 1
        time.sleep(0.3)  # let a retried request's abandoned process finish
        aws_calls += proxy.calls - calls if proxy else 0
    return {"loaded": loaded, "first_try": first_try, "walls": walls, "aws_calls": aws_calls} | tallies


def _run(hook: dict, front, ca_pem: Path, key, work: Path, stdin: str) -> tuple[str, float]:
    """(stdout, wall seconds) of one hook command, from an empty GLYPH_HOME, as Claude Code runs
    it (stdin, its timeout)."""
    home = work / f"home-{uuid.uuid4().hex[:6]}"
    env = {
        "PATH": f"{Path(GLYPH).parent}:/usr/bin:/bin",
        "HOME": str(home),
        names.ENV_HOME: str(home),
        names.ENV_URL: f"https://127.0.0.1:{front.server_address[1]}",
        names.ENV_KEY: f"{key.kid}:{key.secret_b32}",
        "SSL_CERT_FILE": str(ca_pem),
    }
    command = hook["command"].split()
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [GLYPH, *command[1:]], input=stdin, env=env, capture_output=True, text=True, timeout=hook["timeout"]
        )
        out, err = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:  # Claude Code would have stopped it: nothing shown
        out, err = "", "timed out"
    wall = time.perf_counter() - started
    if os.environ.get("BENCH_DEBUG"):
        print(command[1], f"{wall * 1000:.0f} ms", out[:300], err[-2000:], file=sys.stderr)
    return out, wall


SEARCH_IMPORTS = "from glyphmemory import text_index; from glyphmemory.stores import dynamodb_index"


def search_imports(python: str, asset: Path, handler_imports: str, runs: int = 3) -> dict:
    """What the search route (the prompt hook's) imports on top of the handler's start, from the
    asset's bytecode at a full core: {"ms": self time summed, the least of `runs`, "modules"}."""
    from common import import_times

    base = f"import sys; sys.path[:0] = [{str(asset)!r}]; {handler_imports}"
    best = None
    for _ in range(runs):
        start, both = import_times(python, base), import_times(python, f"{base}; {SEARCH_IMPORTS}")
        extra = {name: ms for name, ms in both.items() if name not in start}
        if best is None or sum(extra.values()) < sum(best.values()):
            best = extra
    return {"ms": sum(best.values()), "modules": sorted(best, key=lambda m: -best[m])}


def _ms(walls: list[float], p: float) -> str:
    """The p-th percentile in ms (the median for 50, as the section's other p50s)."""
    import statistics

    from common import percentile

    return f"{(statistics.median(walls) if p == 50 else percentile(walls, p)) * 1000:.0f}"


def report(result: dict) -> list[str]:
    """The prompt hook's lines of the deployed-path section (none without LoCoMo's data)."""
    import statistics

    if "recall" not in result:
        return ["The prompt hook (`glyph recall --hook`) was not run: LoCoMo's dev split is not here.", ""]
    first = next(iter(result["shares"].values()))["hook"]
    n, limit = len(first["recall"]["walls"]), first["recall"]["deadline_s"]
    lines = [
        f"Claude Code's prompt hook on the same path (`glyph recall --hook`, UserPromptSubmit, as `hooks.json` runs "
        f"it: the event on stdin, from an empty GLYPH_HOME), {n} prompts per share: LoCoMo "
        f"{result['recall']['conversation']}'s questions against its {result['recall']['memories']} turns in the "
        f"default namespace of a second table (bench/deployed_hooks.py). Each prompt hook alternates with a "
        f"session-start hook, its baseline (the same CLI start and one cold request to the same front). In a "
        f"project's folder it first searches the project's namespace: two requests, both cold here (the worst case; "
        f"on AWS the second one usually finds the first one's instance warm). AWS calls: requests to SSM and "
        f"DynamoDB through the proxy, per hook.",
        "",
        "| CPU share | prompt hook wall p50 / p90 | session-start hook p50 / p90 | × session-start (p50) | printed memories "
        f"| gave up at {limit:g} s | AWS calls (prompt / start) | in a project: wall p50 / p90 | printed | gave up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for share, row in result["shares"].items():
        hook = row["hook"]
        rec, proj = hook["recall"], hook["recall_project"]
        ratio = statistics.median(rec["walls"]) / statistics.median(hook["walls"])
        lines.append(
            f"| {share:.2f} | {_ms(rec['walls'], 50)} / {_ms(rec['walls'], 90)} ms | "
            f"{_ms(hook['walls'], 50)} / {_ms(hook['walls'], 90)} ms | {ratio:.2f}× | {rec['printed']}/{n} | "
            f"{rec['gave_up']}/{n} | {rec['aws_calls'] / n:.1f} / {hook['aws_calls'] / n:.1f} | "
            f"{_ms(proj['walls'], 50)} / {_ms(proj['walls'], 90)} ms | {proj['printed']}/{n} | {proj['gave_up']}/{n} |"
        )
    low_share = min(result["shares"])
    low = result["shares"][low_share]["hook"]
    verdict = []
    for name, label in (("recall", "without a project"), ("recall_project", "in a project's folder")):
        gave_up = low[name]["gave_up"]
        most = (
            "**it gives up most of the time**"
            if gave_up > n / 2
            else "it gave up at times"
            if gave_up
            else "it never gave up"
        )
        verdict.append(f"{label} {most} ({gave_up}/{n})")
    extra = result["search_imports"]
    lines += [
        "",
        f"At the {low_share:.2f} share, {verdict[0]}; {verdict[1]}. The search route imports "
        f"{len(extra['modules'])} modules more than the handler's start (`-X importtime`, at a full core): "
        f"{extra['ms']:.1f} ms ({', '.join(f'`{m}`' for m in extra['modules'][:4])}, …).",
        "",
    ]
    return lines


def recall_line(result: dict) -> str | None:
    """One line for the recall section: the prompt hook on the deployed path at its lowest share."""
    if "recall" not in result:
        return None
    share = min(result["shares"])
    hook = result["shares"][share]["hook"]
    rec, proj = hook["recall"], hook["recall_project"]
    n = len(rec["walls"])
    return (
        f"On the deployed-path simulation (a cold function at {share:.2f} of a core, every request a cold start; "
        f'section "Deployed cold path"): p50 {_ms(rec["walls"], 50)} ms, p90 {_ms(rec["walls"], 90)} ms (the '
        f"session-start hook in the same run: p50 {_ms(hook['walls'], 50)} ms); it printed for {rec['printed']} of "
        f"{n} and gave up at {rec['deadline_s']:g} s for {rec['gave_up']}; in a project's folder (two cold requests) "
        f"p50 {_ms(proj['walls'], 50)} ms, p90 {_ms(proj['walls'], 90)} ms, gave up for {proj['gave_up']}."
    )
