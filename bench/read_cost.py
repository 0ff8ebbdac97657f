"""Read cost: what answering "the 20 most recent memories" reads at 100, 10,000 and 100,000
memories. Goal: flat (≤ 1.05× from 100 to 100,000).

DynamoDB (moto over HTTP): items read (`ScannedCount`, what DynamoDB bills) by the store's Query
on the by-epoch GSI, beside a Scan of the table, the way to answer without the index.
SQLite: the query plan of the store's own statement, and the virtual-machine steps it takes
(sqlite3's progress handler, one call per instruction), beside the same statement with the
index disabled (`NOT INDEXED`), i.e. a full scan and a sort.

    python bench/read_cost.py [sizes...]
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Moto, create_table, load_dynamodb, load_sqlite, synthetic_memories  # noqa: E402

from glyphmemory import names  # noqa: E402

SIZES = (100, 10_000, 100_000)
# moto answers every Scan page in time proportional to the whole table, so a full Scan of
# 200,000 items would take it over ten minutes. Above this size the baseline is the table's
# ItemCount, which is what a Scan reads by definition (checked equal at the sizes scanned).
FULL_SCAN_UP_TO = 10_000
LIMIT = 20


def dynamodb_row(n: int, memories) -> dict:
    import boto3

    from glyphmemory.stores.dynamodb import DynamoStore, dynamodb_client

    table = f"bench-{uuid.uuid4().hex[:8]}"
    create_table(table)
    load_dynamodb(table, memories[:n], index=False)  # what is measured: the memory items
    # moto answers a Query in time proportional to the table (DynamoDB does not): wait for it.
    store = DynamoStore(table, client=dynamodb_client(read_timeout=300, max_attempts=1, deadline_s=300))
    page = store.recent(names.DEFAULT_NAMESPACE, limit=LIMIT, now_s=time.time())
    assert [m.id for m in page.items] == [m.id for m in reversed(memories[n - LIMIT : n])]
    query_items = store.last_scanned_count
    client = boto3.client("dynamodb")
    item_count = client.describe_table(TableName=table)["Table"]["ItemCount"]
    scanned = None
    if n <= FULL_SCAN_UP_TO:  # the baseline: read everything, keep the 20 newest memories
        scanned, kwargs = 0, {"TableName": table, "Select": "COUNT"}
        while True:
            response = client.scan(**kwargs)
            scanned += response["ScannedCount"]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        assert scanned == item_count
    client.delete_table(TableName=table)
    return {
        "query": query_items,
        "scan": scanned if scanned is not None else item_count,
        "scan_measured": scanned is not None,
    }


def sqlite_row(n: int, memories, folder: str) -> dict:
    from glyphmemory.stores.sqlite import SqliteStore

    path = f"{folder}/read-{n}.db"
    load_sqlite(path, memories[:n])
    store = SqliteStore(path)
    conn = store._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(count, 1)
    now = time.time()
    store.recent(names.DEFAULT_NAMESPACE, limit=LIMIT, now_s=now)
    indexed_steps = steps
    conn.set_progress_handler(None, 0)
    conn.set_trace_callback(None)
    (select,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + select))
    baseline = select.replace("FROM memories", "FROM memories NOT INDEXED", 1)
    steps = 0
    conn.set_progress_handler(count, 1)
    rows = conn.execute(baseline).fetchall()
    conn.set_progress_handler(None, 0)
    baseline_plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + baseline))
    store.close()
    assert len(rows) == LIMIT + 1
    return {"steps": indexed_steps, "plan": plan, "scan_steps": steps, "scan_plan": baseline_plan}


def measure(sizes=SIZES) -> dict:
    memories = synthetic_memories(max(sizes))
    result = {"sizes": list(sizes), "dynamodb": {}, "sqlite": {}}
    with Moto(), tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            result["dynamodb"][n] = dynamodb_row(n, memories)
            result["sqlite"][n] = sqlite_row(n, memories, folder)
    return result


def report(result: dict) -> str:
    sizes = result["sizes"]
    low, high = sizes[0], sizes[-1]
    d, s = result["dynamodb"], result["sqlite"]
    dyn_ratio = d[high]["query"] / d[low]["query"]
    sql_ratio = s[high]["steps"] / s[low]["steps"]
    lines = [
        "## Read cost: the 20 most recent",
        "",
        "| memories | DynamoDB Query items read | DynamoDB Scan items read (baseline) | SQLite VM steps | SQLite steps, `NOT INDEXED` (baseline) |",
        "|---|---|---|---|---|",
    ]
    for n in sizes:
        scan = f"{d[n]['scan']:,}" + ("" if d[n]["scan_measured"] else " (ItemCount)")
        lines.append(f"| {n:,} | {d[n]['query']} | {scan} | {s[n]['steps']:,} | {s[n]['scan_steps']:,} |")
    lines += [
        f"| **{high:,} / {low:,}** | **{dyn_ratio:.2f}×** | {d[high]['scan'] / d[low]['scan']:.0f}× | **{sql_ratio:.2f}×** | {s[high]['scan_steps'] / s[low]['scan_steps']:.0f}× |",
        "",
        f"SQLite plan: `{s[high]['plan']}`; baseline: `{s[high]['scan_plan']}`. "
        "A Scan reads every item in the table (memories and their dedup claims); it is run in full up to "
        f"{FULL_SCAN_UP_TO:,} memories and equals the table's ItemCount there. Above that moto takes minutes "
        "per Scan, so the ItemCount stands in for it.",
        "",
        f"Goal flat (≤ 1.05× from {low:,} to {high:,}): DynamoDB **{dyn_ratio:.2f}×, {'met' if dyn_ratio <= 1.05 else 'NOT met'}**; "
        f"SQLite **{sql_ratio:.2f}×, {'met' if sql_ratio <= 1.05 else 'NOT met'}**.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    print(report(measure(sizes)))
