"""Local HTTP: reads per second and latency from a concurrent client against `glyph serve`
(SQLite, 1,000 memories, `GET /v1/memories?limit=20` with a token), beside the same HTTP stack
(GlyphServer, the stdlib threaded server) answering the same bytes as a constant.
Goal: ≥ 0.7× the constant's reads per second.

    python bench/http_local.py [requests per connection] [connections]
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, load_sqlite, percentile, synthetic_memories  # noqa: E402

CONSTANT = f"""
import sys
sys.path.insert(0, {str(ROOT / "src")!r})
from glyphmemory.http.core import Response
from glyphmemory.server import GlyphServer
from glyphmemory.settings import Settings

body = sys.stdin.buffer.read()

class Constant:
    settings = Settings.load(environ={{}})  # what the server asks of an app (trust_forwarded)

    def handle(self, request, **door):
        return Response(200, body, {{"Content-Type": "application/json"}})

server = GlyphServer(("127.0.0.1", 0), Constant())
print(server.server_port, flush=True)
server.serve_forever()
"""
PATH = "/v1/memories?limit=20"


def load(port: int, headers: dict, per_connection: int, connections: int) -> dict:
    """`connections` keep-alive clients in threads, each sending `per_connection` GETs."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(connections + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        start.wait()
        for _ in range(per_connection):
            t = time.perf_counter()
            conn.request("GET", PATH, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - t) * 1000)
            assert response.status == 200
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies), "p99": percentile(latencies, 99)}


def measure(per_connection: int = 300, connections: int = 8, rounds: int = 3) -> dict:
    from glyphmemory.keys import load_key_file
    from glyphmemory.tokens import mint_window_token

    home = tempfile.mkdtemp(prefix="glyph-http-")
    load_sqlite(f"{home}/glyph.db", synthetic_memories(1000))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")} | {
        "GLYPH_HOME": home,
        "GLYPH_LOG_LEVEL": "ERROR",
    }
    glyph = shutil.which("glyph", path=str(Path(sys.executable).parent)) or "glyph"
    served = subprocess.Popen(
        [glyph, "serve", "--port", "0", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    constant = None
    try:
        port = int(json.loads(served.stdout.readline())["url"].rsplit(":", 1)[1])
        key = load_key_file(f"{home}/key.json")
        headers = {"Authorization": "Bearer " + mint_window_token(key.kid, key.secret, "r", int(time.time()) + 3600)}
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", PATH, headers=headers)
        body = conn.getresponse().read()
        conn.close()
        constant = subprocess.Popen(
            [sys.executable, "-c", CONSTANT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False
        )
        constant.stdin.write(body)
        constant.stdin.close()
        constant_port = int(constant.stdout.readline())
        targets = {"glyph serve": port, "constant (baseline)": constant_port}
        for p in targets.values():  # warm up
            load(p, headers, 20, connections)
        runs = {name: [] for name in targets}
        for _ in range(rounds):  # alternate, so drift hits both alike
            for name, p in targets.items():
                runs[name].append(load(p, headers, per_connection, connections))
    finally:
        for proc in (served, constant):
            if proc is not None:
                proc.terminate()
                proc.wait()
        shutil.rmtree(home, ignore_errors=True)
    summary = {
        name: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99")}
        for name, results in runs.items()
    }
    return {
        "connections": connections,
        "requests": per_connection * connections,
        "rounds": rounds,
        "body_bytes": len(body),
        "rows": summary,
    }


def report(result: dict) -> str:
    rows = result["rows"]
    ratio = rows["glyph serve"]["rps"] / rows["constant (baseline)"]["rps"]
    lines = [
        "## Local HTTP",
        "",
        f"{result['connections']} keep-alive connections from one client process, {result['requests']:,} requests a round, "
        f"{result['rounds']} rounds alternating; medians of the rounds. Each answer is the same {result['body_bytes']:,} bytes.",
        "",
        "| server | reads/s | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms |")
    lines += ["", f"Goal ≥ 0.7× the constant: **{ratio:.2f}×, {'met' if ratio >= 0.7 else 'NOT met'}**."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(report(measure(*args)))
