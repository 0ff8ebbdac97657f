"""Run every benchmark and write bench/RESULTS.md (the README's `make bench`).

Each section measures its subject beside a baseline in the same run and says whether its goal
is met; the top of the file gathers those verdicts, with the machine, date and commit.

    python bench/run.py [--quick] [--out FILE]   # --quick: fewer repetitions, a smoke run
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bridge  # noqa: E402
import cli_start  # noqa: E402
import cost  # noqa: E402
import deployed_hooks  # noqa: E402
import deployed_path  # noqa: E402
import http_local  # noqa: E402
import latency  # noqa: E402
import locomo  # noqa: E402
import mcp_cold  # noqa: E402
import mcp_peer  # noqa: E402
import read_cost  # noqa: E402
import recall  # noqa: E402
import redaction  # noqa: E402
import search_cost  # noqa: E402
import url_capacity  # noqa: E402
from common import ROOT  # noqa: E402

FULL = {
    "read_cost": {},
    "deployed_path": {"runs": 15, "hooks": 20},
    "latency": {"reps": 300},
    "http_local": {"per_connection": 300, "connections": 8, "rounds": 3},
    "cli_start": {"runs": 20},
    "url_capacity": {},
    "cost": {"rounds": 5},
    "redaction": {"reps": 300},
    "mcp_peer": {"reads": 100, "saves": 1000},
    "mcp_cold": {"runs": 10},
    "bridge": {"messages": 100, "turns": 20},
    "locomo": {},
    "search_cost": {},
    "recall": {},
}
QUICK = FULL | {
    "read_cost": {"sizes": (100, 1000)},
    "deployed_path": {"runs": 2, "hooks": 2, "shares": (0.29,)},
    "latency": {"reps": 30},
    "http_local": {"per_connection": 50, "connections": 4, "rounds": 1},
    "cli_start": {"runs": 3},
    "cost": {"rounds": 1},
    "redaction": {"reps": 30},
    "mcp_peer": {"reads": 10, "saves": 200},
    "mcp_cold": {"runs": 2},
    "bridge": {"messages": 5, "turns": 6},
    "locomo": {"sample": 20, "conversations": 2},
    "search_cost": {"sizes": (100, 1000), "sqlite_reps": 20, "cold_runs": 1, "cold_size": 200, "sqlite_size": 1000},
    "recall": {"sample": 20, "conversations": 2, "hook_runs": 5, "size": 1000, "reps": 30},
}
MODULES = {
    "read_cost": read_cost,
    "deployed_path": deployed_path,
    "latency": latency,
    "http_local": http_local,
    "cli_start": cli_start,
    "url_capacity": url_capacity,
    "cost": cost,
    "redaction": redaction,
    "mcp_peer": mcp_peer,
    "mcp_cold": mcp_cold,
    "bridge": bridge,
    "locomo": locomo,
    "search_cost": search_cost,
    "recall": recall,
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def with_deployed_hook(section: str, deployed: dict) -> str:
    """The recall section with the prompt hook's figures on the deployed path (measured by
    deployed_path) after its paragraph of the local ones, else before its goals."""
    line = deployed_hooks.recall_line(deployed)
    if line is None:
        return section
    local = section.find("against a local `glyph serve`")
    at = section.find("\n\n", local) if local >= 0 else section.find("\n\n- Goal")
    if at < 0:
        at = len(section.rstrip("\n"))
    return section[:at] + "\n\n" + line + section[at:]


def main(argv: list[str]) -> int:
    plan = QUICK if "--quick" in argv else FULL
    sections, results, took = {}, {}, {}
    for name, kwargs in plan.items():
        started = time.perf_counter()
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        module = MODULES[name]
        results[name] = module.measure(**kwargs)
        sections[name] = module.report(results[name])
        took[name] = time.perf_counter() - started
    if "recall" in sections and "deployed_path" in results:
        sections["recall"] = with_deployed_hook(sections["recall"], results["deployed_path"])
    sections = list(sections.values())
    goals = [
        f"{s.splitlines()[0].lstrip('# ')}: {g.strip()}"
        for s in sections
        for g in re.findall(r"Goal[^\n]*?\*\*[^\n]*?\*\*[^\n]*", s)
    ]
    header = [
        "# Benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit()}",
        f"- Machine: {machine()}",
        f"- Command: `make bench` ({'quick' if plan is QUICK else 'full'} plan: "
        + ", ".join(f"{n} {', '.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in plan.items())
        + f"); {sum(took.values()):.0f} s in all.",
        "- Every figure is a ratio against a baseline measured in the same run; absolute times are this machine's.",
        "",
        "## Goals",
        "",
        *[f"- {g}" for g in goals],
        "",
    ]
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else ROOT / "bench" / "RESULTS.md"
    out.write_text("\n".join(header) + "\n" + "\n".join(sections))
    print(f"bench: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
