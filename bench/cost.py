"""Cost model: monthly AWS cost at 1,000, 100,000 and 10,000,000 requests, from list prices and
a request mix measured here: every request of the mix runs through the real Lambda handler on
a moto DynamoDB holding 1,000 memories, and each DynamoDB call is weighed by the item sizes it
read or wrote (DynamoDB's own rules; moto reports a flat 1 unit), with the bytes answered and
logged.

    python bench/cost.py
"""

from __future__ import annotations

import io
import math
import os
import statistics
import sys
import time
import uuid
from contextlib import redirect_stderr
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Moto, create_table, load_dynamodb, synthetic_memories  # noqa: E402

from glyphmemory import names  # noqa: E402
from glyphmemory.stores.dynamodb_similar import SLOTS as SIMILAR_SLOTS  # noqa: E402

# us-east-1 list prices (../shared/REFERENCES.md and the README; some second-hand, recheck).
PRICE = {
    "api_per_m": 1.00,  # HTTP API
    "lambda_req_per_m": 0.20,
    "lambda_gb_s": 0.0000133334,  # arm64
    "ddb_write_per_m": 0.625,
    "ddb_read_per_m": 0.125,
    "logs_per_gb": 0.50,
    "cf_function_per_m": 0.10,
    "alarms_month": 3 * 0.10,  # three CloudWatch alarms (infra/monitoring.py)
}
LAMBDA_GB = 0.5  # memory_size=512 (infra/function.py)
DYNAMODB_MS = 8.0  # assumed DynamoDB round trip from Lambda (moto's own time is not DynamoDB's)
COLD = {1_000: 1.0, 100_000: 0.2, 10_000_000: 0.01}  # assumed share of requests that start a container
# A cold request's process time at 512 MB less a warm request's (bench/deployed_path.py: 468 ms
# p50, moto's slower answers included); INIT is billed since Aug 2025.
COLD_INIT_MS = 450.0
# What one hundred requests look like for one owner and a few assistants (assumed).
MIX = {"context (session start)": 40, "write": 30, "recent": 15, "search": 5, "chat read /r": 5, "chat write /w": 5}


def attr_size(value: dict) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return len(v.lstrip("-").replace(".", "").lstrip("0")) // 2 + 2
    if kind == "L":
        return 3 + sum(attr_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attr_size(x) + 1 for k, x in v.items())
    if kind == "B":  # base64 in the JSON protocol, stored as bytes
        return len(v) * 3 // 4
    if kind == "BOOL" or kind == "NULL":
        return 1
    return len(str(v))


def item_size(item: dict) -> int:
    return sum(len(k.encode()) + attr_size(v) for k, v in item.items())


class Meter:
    """Counts DynamoDB units from the calls the store's client answers (its observers)."""

    def __init__(self, client, mean_item: float):
        self.mean_item = mean_item
        self.read = self.write = 0.0
        self.calls = 0
        client.observers.append(self.observe)

    def observe(self, op: str, params: dict, parsed) -> None:
        self.calls += 1
        failed = isinstance(parsed, Exception)
        if op == "PutItem" and not failed:
            size = item_size(params["Item"])
            units = math.ceil(size / 1024)
            gsi = names.GSI_PARTITION in params["Item"]  # memory items are also written to by-epoch
            self.write += units * (2 if gsi else 1)
        elif op == "PutItem":  # a failed condition still costs a write unit
            self.write += 1
        elif op in ("Query", "Scan") and not failed:
            if "Items" in parsed:
                size = sum(item_size(i) for i in parsed["Items"])
            else:  # Select=COUNT returns no items but is billed for all it read
                size = parsed.get("ScannedCount", 0) * self.mean_item
            consistent = params.get("ConsistentRead", False)
            self.read += max(1, math.ceil(size / 4096)) * (1 if consistent else 0.5)
        elif op == "GetItem" and not failed:
            size = item_size(parsed.get("Item", {}))
            self.read += max(1, math.ceil(size / 4096)) * (1 if params.get("ConsistentRead") else 0.5)
        elif op == "DeleteItem":
            self.write += 1
        elif op == "UpdateItem":
            self.write += 1  # the index's small stats item
        elif op == "TransactWriteItems":
            # Two units per KB of each item, failed or not; a Put or an Update of a memory item
            # is also a write to the by-epoch GSI, which projects everything (one unit a KB).
            for action in params["TransactItems"]:
                ((kind, body),) = action.items()
                size = item_size(body["Item"]) if kind == "Put" else 200
                key = body.get("Key") or body.get("Item") or {}
                pk = key.get(names.PK, {}).get("S", "")
                if kind == "Update" and pk.startswith(names.SIMILAR_PREFIX):
                    # A near-duplicate band item is billed whole: taken as full, SLOTS members
                    # the size of this one, its name (the memory id) and value (~300 bytes when a
                    # removal does not say).
                    member = body.get("ExpressionAttributeValues", {}).get(":m")
                    name = body["ExpressionAttributeNames"]["#m"]
                    size = 40 + SIMILAR_SLOTS * (len(name) + 3 + (attr_size(member) if member else 300))
                elif kind == "Update" and pk.startswith(names.MEMORY_PREFIX):
                    size = self.mean_item
                    self.write += math.ceil(size / 1024)  # the GSI's copy
                elif kind == "Put" and names.GSI_PARTITION in body["Item"] and not failed:
                    self.write += math.ceil(size / 1024)  # the GSI's copy
                self.write += 2 * math.ceil(size / 1024)
        elif op == "BatchGetItem" and not failed:
            for items in parsed.get("Responses", {}).values():
                self.read += sum(max(1, math.ceil(item_size(i) / 4096)) * 0.5 for i in items)


def measure(rounds: int = 5) -> dict:
    from glyphmemory.aws_lambda import LambdaDoor
    from glyphmemory.codec import encode
    from glyphmemory.keys import new_key
    from glyphmemory.stores.dynamodb_items import memory_attrs, memory_key
    from glyphmemory.tokens import mint_window_token
    from tests.support.lambda_events import make_event

    with Moto():
        table = f"bench-{uuid.uuid4().hex[:8]}"
        create_table(table)
        stored = synthetic_memories(1000)
        load_dynamodb(table, stored)
        mean_item = statistics.mean(item_size({**memory_key(m.id), **memory_attrs(m)}) for m in stored)
        key = new_key()
        os.environ.update({names.ENV_STORE: f"dynamodb://{table}", names.ENV_KEY: f"{key.kid}:{key.secret_b32}"})
        token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 3600)
        auth = {"authorization": "Bearer " + token}
        counter = iter(range(10**9))

        def event(kind: str) -> dict:
            n = next(counter)
            text = f"cost model memory {n}: the user prefers short answers and works on a Python CLI today"
            return {
                "context (session start)": lambda: make_event("GET", "/v1/context", "budget=8000", auth),
                "write": lambda: make_event(
                    "POST",
                    "/v1/memories",
                    headers=auth | {"content-type": "application/json"},
                    body={"text": text, "tags": ["cost"]},
                ),
                "recent": lambda: make_event("GET", "/v1/memories", "limit=20", auth),
                "search": lambda: make_event("GET", "/v1/search", "q=python+deadline&limit=10", auth),
                "chat read /r": lambda: make_event("GET", "/r", f"t={token}"),
                "chat write /w": lambda: make_event("GET", "/w", f"t={token}&z={encode(text)}"),
            }[kind]()

        door = LambdaDoor("api")
        with redirect_stderr(io.StringIO()):
            door.handle(make_event("GET", "/v1/health"), None)  # builds the app
        meter = Meter(door.app().memories.store.client, mean_item)
        per_kind = {}
        for kind in MIX:
            rows = []
            for _ in range(rounds):
                r0, w0 = meter.read, meter.write
                log = io.StringIO()
                with redirect_stderr(log):
                    result = door.handle(event(kind), None)
                assert result["statusCode"] in (200, 201), (kind, result["body"][:200])
                rows.append(
                    {
                        "read": meter.read - r0,
                        "write": meter.write - w0,
                        "bytes": len(result["body"].encode()),
                        "log": len(log.getvalue()),
                    }
                )
            per_kind[kind] = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
            per_kind[kind]["ddb_calls"] = 0
        for kind in MIX:  # DynamoDB calls per request, for the duration estimate
            before = meter.calls
            with redirect_stderr(io.StringIO()):
                door.handle(event(kind), None)
            per_kind[kind]["ddb_calls"] = meter.calls - before
        door.close()
    return {"rounds": rounds, "per_kind": per_kind}


def monthly(result: dict, requests: int) -> dict:
    total = sum(MIX.values())
    avg = {
        k: sum(result["per_kind"][kind][k] * w for kind, w in MIX.items()) / total
        for k in ("read", "write", "bytes", "log", "ddb_calls")
    }
    warm_ms = 5.0 + avg["ddb_calls"] * DYNAMODB_MS  # ~5 ms of our own code (bench/latency.py) + DynamoDB waits
    ms = warm_ms + COLD[requests] * COLD_INIT_MS
    parts = {
        "API Gateway": requests * PRICE["api_per_m"] / 1e6,
        "Lambda": requests * PRICE["lambda_req_per_m"] / 1e6 + requests * ms / 1000 * LAMBDA_GB * PRICE["lambda_gb_s"],
        "DynamoDB": requests * (avg["read"] * PRICE["ddb_read_per_m"] + avg["write"] * PRICE["ddb_write_per_m"]) / 1e6,
        "Logs": requests * avg["log"] / 1e9 * PRICE["logs_per_gb"],
        "CloudFront Function": requests * PRICE["cf_function_per_m"] / 1e6,
        "Alarms": PRICE["alarms_month"],
    }
    free = dict(parts)
    lambda_gb_s = requests * ms / 1000 * LAMBDA_GB
    free["Lambda"] = (
        max(0, requests - 1e6) * PRICE["lambda_req_per_m"] / 1e6 + max(0, lambda_gb_s - 400_000) * PRICE["lambda_gb_s"]
    )
    free["CloudFront Function"] = max(0, requests - 2e6) * PRICE["cf_function_per_m"] / 1e6
    return {"avg": avg, "ms": ms, "list": parts, "free": free}


def report(result: dict) -> str:
    lines = [
        "## Cost model",
        "",
        f"Request mix (per 100 requests, assumed): {', '.join(f'{k} {v}' for k, v in MIX.items())}. Measured per request "
        f"through the Lambda handler on moto (1,000 memories, mean of {result['rounds']}):",
        "",
        "| request | DynamoDB read units | write units | DynamoDB calls | answer bytes | log bytes |",
        "|---|---|---|---|---|---|",
    ]
    for kind, r in result["per_kind"].items():
        lines.append(
            f"| {kind} | {r['read']:.1f} | {r['write']:.1f} | {r['ddb_calls']} | {r['bytes']:,.0f} | {r['log']:,.0f} |"
        )
    lines += [
        "",
        "| requests/month | API Gateway | Lambda | DynamoDB | logs | CF Function | alarms | **total, list prices** | **total, with always-free tiers** |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in COLD:
        m = monthly(result, n)
        p = m["list"]
        lines.append(
            f"| {n:,} | ${p['API Gateway']:.2f} | ${p['Lambda']:.2f} | ${p['DynamoDB']:.2f} | ${p['Logs']:.2f} | ${p['CloudFront Function']:.2f} | ${p['Alarms']:.2f} "
            f"| **${sum(p.values()):.2f}** | **${sum(m['free'].values()):.2f}** |"
        )
    avg = monthly(result, 1_000)["avg"]
    lines += [
        "",
        f"Mix average: {avg['read']:.2f} read and {avg['write']:.2f} write units, {avg['ddb_calls']:.1f} DynamoDB calls, "
        f"{avg['bytes']:,.0f} bytes answered and {avg['log']:,.0f} bytes logged per request. Assumed: 512 MB arm64, "
        f"~5 ms of own code plus {DYNAMODB_MS:.0f} ms per DynamoDB call, {COLD_INIT_MS:.0f} ms more billed for a cold start (bench/deployed_path.py) for "
        f"{', '.join(f'{v:.0%} at {k:,}' for k, v in COLD.items())} of requests; CloudFront requests and transfer within "
        "its always-free tier; storage (≈ 2 KB a memory, $0.25/GB-month) under a cent. The reference system: $0.42/month.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(report(measure()))
