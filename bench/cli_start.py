"""CLI start: median wall time of `glyph context` against a local server, beside a bare-Python
urllib script making the same request, measured in the same run. Goal: ≤ 1.5×.

    python bench/cli_start.py [runs]
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
from pathlib import Path

BARE = """
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
sys.stdout.write(urllib.request.urlopen(request).read().decode())
"""


def timed(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(runs: int = 20) -> dict:
    glyph = shutil.which("glyph", path=str(Path(sys.executable).parent)) or "glyph"
    home = tempfile.mkdtemp(prefix="glyph-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")} | {"GLYPH_HOME": home}
    server = subprocess.Popen(
        [glyph, "serve", "--port", "0", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        url = json.loads(server.stdout.readline())["url"]
        env["GLYPH_URL"] = url
        for i in range(30):
            subprocess.run(
                [glyph, "write", f"benchmark memory {i}: " + "some realistic text " * 10],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        token = subprocess.run(
            [glyph, "token", "--scope", "r", "--ttl", "1h"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        context_url = f"{url}/v1/context?namespace=default&budget=8000&format=md"
        commands = {
            "glyph context": [glyph, "context"],
            "bare urllib script": [sys.executable, "-c", BARE, context_url, token],
        }
        for cmd in commands.values():  # warm the page cache and the server
            timed(cmd, env)
        times = {name: [] for name in commands}
        for _ in range(runs):  # interleaved, so drift hits both alike
            for name, cmd in commands.items():
                times[name].append(timed(cmd, env))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(home, ignore_errors=True)
    medians = {name: statistics.median(t) for name, t in times.items()}
    return {"runs": runs, "median_s": medians, "ratio": medians["glyph context"] / medians["bare urllib script"]}


def report(result: dict) -> str:
    m = result["median_s"]
    ratio = result["ratio"]
    return (
        "## CLI start\n\n"
        f"Median of {result['runs']} interleaved runs against a local `glyph serve` (30 memories, budget 8,000).\n\n"
        "| command | median |\n|---|---|\n"
        + "".join(f"| {name} | {seconds * 1000:.1f} ms |\n" for name, seconds in m.items())
        + f"\nGoal ≤ 1.5× (`glyph context` / bare urllib): **{ratio:.2f}×, {'met' if ratio <= 1.5 else 'NOT met'}**.\n"
    )


if __name__ == "__main__":
    print(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
