"""Lambda cold init: fresh processes that import the handler and answer a first `GET
/v1/memories` against a moto DynamoDB, beside fresh processes that only `import boto3`, create a
DynamoDB client and make the same Query. Goal: ≤ 1.3×.

Both are timed inside the process, from before the first import to the answer, so interpreter
start-up (the same for both) is left out; wall time per process is reported too. The handler runs
twice: with the root key in GLYPH_KEY, and as deployed, reading it from SSM (one more request).

    python bench/cold_init.py [runs]
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Moto, create_table, load_dynamodb, percentile, synthetic_memories  # noqa: E402

from glyphmemory import names  # noqa: E402

HANDLER = f"""
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [{str(ROOT / "lambda")!r}, {str(ROOT / "src")!r}]
import handler
result = handler.lambda_handler(json.loads(sys.argv[1]), None)
elapsed = time.perf_counter() - started
assert result["statusCode"] == 200 and len(json.loads(result["body"])["items"]) == 20, result
print(json.dumps({{"ms": elapsed * 1000}}))
"""

BASELINE = """
import json, sys, time
started = time.perf_counter()
import boto3
client = boto3.client("dynamodb")
response = client.query(**json.loads(sys.argv[1]))
elapsed = time.perf_counter() - started
assert len(response["Items"]) == 21, response
print(json.dumps({"ms": elapsed * 1000}))
"""


def query_kwargs(table: str) -> dict:
    """The Query the store makes for the 20 most recent (limit + 1 items)."""
    return {
        "TableName": table,
        "IndexName": names.GSI_BY_EPOCH,
        "KeyConditionExpression": "#ns = :ns",
        "FilterExpression": "(attribute_not_exists(#exp) OR #exp > :now)",
        "ExpressionAttributeNames": {"#ns": names.GSI_PARTITION, "#exp": names.TTL_ATTRIBUTE},
        "ExpressionAttributeValues": {":ns": {"S": names.DEFAULT_NAMESPACE}, ":now": {"N": str(int(time.time()))}},
        "ScanIndexForward": False,
        "Limit": 21,
    }


def run(script: str, arg: str, env: dict) -> tuple[float, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, arg], env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - started
    return json.loads(out.strip().splitlines()[-1])["ms"], wall * 1000


def import_top(env: dict, event: str, n: int = 10) -> list[tuple[str, float, float]]:
    """`python -X importtime` of the handler's first request: the n slowest imports by self time."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", HANDLER, event], env=env, capture_output=True, text=True, check=True).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(1)) / 1000, int(m.group(2)) / 1000))
    total = sum(r[1] for r in rows)
    groups: dict[str, float] = {}
    for name, self_ms, _ in rows:
        top = name.split(".")[0]
        group = top if top in ("botocore", "boto3", "urllib3", "glyphmemory", "dateutil", "jmespath", "s3transfer") else "stdlib and other"
        groups[group] = groups.get(group, 0) + self_ms
    return sorted(rows, key=lambda r: -r[1])[:n], total, groups


def measure(runs: int = 15) -> dict:
    from glyphmemory.keys import new_key
    from glyphmemory.tokens import mint_window_token

    from tests.support.lambda_events import make_event

    with Moto() as moto:
        import boto3

        table = f"bench-{uuid.uuid4().hex[:8]}"
        create_table(table)
        load_dynamodb(table, synthetic_memories(200))
        key = new_key()
        param = "/glyphmemory/bench/root-key"
        boto3.client("ssm").put_parameter(Name=param, Value=f"{key.kid}:{key.secret_b32}", Type="SecureString")
        token = mint_window_token(key.kid, key.secret, "r", int(time.time()) + 3600)
        event = json.dumps(make_event("GET", "/v1/memories", "limit=20", {"authorization": "Bearer " + token}))
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
        base_env.update(AWS_ENDPOINT_URL=moto.url, AWS_ENDPOINT_URL_DYNAMODB=moto.url, PYTHONDONTWRITEBYTECODE="1")
        base_env.pop("PYTHONPATH", None)
        store = {names.ENV_STORE: f"dynamodb://{table}", names.ENV_LOG_LEVEL: "ERROR"}
        variants = {
            "boto3 + client + Query (baseline)": (BASELINE, json.dumps(query_kwargs(table)), base_env),
            "handler, key in GLYPH_KEY": (HANDLER, event, base_env | store | {names.ENV_KEY: f"{key.kid}:{key.secret_b32}"}),
            "handler, key from SSM (as deployed)": (HANDLER, event, base_env | store | {names.ENV_KEY_PARAM: param}),
        }
        for script, arg, env in variants.values():  # warm the page cache and .pyc files
            run(script, arg, env)
        times = {name: [] for name in variants}
        walls = {name: [] for name in variants}
        for _ in range(runs):  # interleaved, so drift hits all alike
            for name, (script, arg, env) in variants.items():
                inside, wall = run(script, arg, env)
                times[name].append(inside)
                walls[name].append(wall)
        top, import_total, groups = import_top(variants["handler, key in GLYPH_KEY"][2], event)
    return {"runs": runs, "times": times, "walls": walls, "import_top": top, "import_total_ms": import_total, "import_groups": groups}


def report(result: dict) -> str:
    times, walls = result["times"], result["walls"]
    base_name = next(iter(times))
    base = statistics.median(times[base_name])
    lines = [
        "## Lambda cold init",
        "",
        f"{result['runs']} fresh processes each, interleaved; a first `GET /v1/memories?limit=20` against moto "
        "(200 memories). Time inside the process from before the first import to the answer.",
        "",
        "| process | median | p90 | wall per process (median) | × baseline |",
        "|---|---|---|---|---|",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        lines.append(f"| {name} | {med:.0f} ms | {percentile(values, 90):.0f} ms | {statistics.median(walls[name]):.0f} ms | {med / base:.2f}× |")
    ratios = {name: statistics.median(v) / base for name, v in times.items() if name != base_name}
    env_ratio, ssm_ratio = ratios.values()
    lines += [
        "",
        f"Goal ≤ 1.3×: key in the environment **{env_ratio:.2f}×, {'met' if env_ratio <= 1.3 else 'NOT met'}**; "
        f"as deployed (key from SSM, one more AWS request) **{ssm_ratio:.2f}×, {'met' if ssm_ratio <= 1.3 else 'NOT met'}**.",
        "",
        f"`python -X importtime`, handler's first request: {result['import_total_ms']:.0f} ms of imports in all; by package (self time): "
        + ", ".join(f"{g} {ms:.0f} ms" for g, ms in sorted(result["import_groups"].items(), key=lambda kv: -kv[1]))
        + ". Top 10 by self time:",
        "",
        "| module | self | cumulative |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {self_ms:.1f} ms | {cum:.1f} ms |" for name, self_ms, cum in result["import_top"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 15)))
