"""Search cost: what a keyword search costs through the index, beside the scan it replaced.

- DynamoDB (moto over HTTP): read units per search (DynamoDB's rules, bench/cost.py's Meter)
  at 1,000, 10,000 and 100,000 memories, warm, limit 10, over a fixed set of queries; beside
  the old ranker (`search.scan_search`: BM25 over the newest 5,000 memories, each read).
  Goal: within 2× of each other across sizes, ≤ 10 at 10,000. The table holds every memory
  item (no dedup claims: a search reads none); above 1,000 only the index items of the
  benchmark's query terms (the statistics whole): a search reads no others, and the whole
  index (~25 items a memory) would not fit in moto's memory at 100,000. The items go straight
  into moto's backend (bench/common.load_dynamodb). The old scan reads the same newest 5,000
  whatever the query: above 10,000 it runs for the first query only (moto answers each of its
  by-epoch pages by reading its whole table).
- A write's units with the index and without it (the same write, index maintenance off).
- SQLite in process, 10,000 memories: search p50/p95 (goal p50 ≤ 10 ms), beside the scan.
- The cold first search at 10,000 memories on the deployed-path simulation
  (bench/deployed_path.py) at 0.29 of a core (a 512 MB function), beside a cold context
  request and a cold write (`/w`: the item with its index, no similar-memory search) in the
  same run. Goal ≤ 1 s. The table holds the memory items and the query terms' index items.

    python bench/search_cost.py [sizes...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Moto, create_table, load_dynamodb, load_sqlite, percentile, synthetic_memories  # noqa: E402

from glyphmemory import names  # noqa: E402
from glyphmemory.model import content_hash  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
WHOLE_INDEX_UP_TO = 1_000  # above this, only the query terms' index items are loaded (see above)
SCAN_EVERY_QUERY_UP_TO = 10_000  # above this, the old scan runs for the first query only
QUERIES = (
    "python deadline",
    "pytest fixtures",
    "user prefers short answers",
    "deploy the cdk stack",
    "café order for the team",
    "dynamodb ttl expires lazily",
    "marathon on sundays",
)
LIMIT = 10
OLDEST_WORD = "zyzzyva"


def _query_terms() -> set[str]:
    from glyphmemory.text_index import query_terms

    return {t for q in (*QUERIES, OLDEST_WORD) for t in query_terms(q)}


def dynamodb_row(n: int, memories) -> dict:
    from cost import Meter, item_size

    from glyphmemory.model import Clock
    from glyphmemory.search import scan_search, search_hits
    from glyphmemory.service import Memories
    from glyphmemory.stores.dynamodb import DynamoStore, dynamodb_client
    from glyphmemory.stores.dynamodb_items import memory_attrs, memory_key

    table = f"bench-{uuid.uuid4().hex[:8]}"
    create_table(table)
    load_dynamodb(table, memories[:n], index=True if n <= WHOLE_INDEX_UP_TO else _query_terms(), claims=False)
    store = DynamoStore(table, client=dynamodb_client(read_timeout=300, max_attempts=1, deadline_s=300))
    mean_item = statistics.mean(item_size({**memory_key(m.id), **memory_attrs(m)}) for m in memories[:200])
    meter = Meter(store.client, mean_item)
    service = Memories(store, Clock())
    row: dict = {"index": [], "scan": [], "scan_found_oldest": None}
    for number, query in enumerate(QUERIES):
        for kind, search in (("index", search_hits), ("scan", scan_search)):
            if kind == "scan" and number and n > SCAN_EVERY_QUERY_UP_TO:
                continue
            before = meter.read
            search(service, query, namespace=names.DEFAULT_NAMESPACE, limit=LIMIT)
            row[kind].append(meter.read - before)
    # What the scan cannot see past 5,000: the oldest memory, by a word only it holds.
    oldest_word = OLDEST_WORD
    row["index_found_oldest"] = any(
        m.id == memories[0].id for m, _, _ in search_hits(service, oldest_word, namespace="default", limit=LIMIT)
    )
    row["scan_found_oldest"] = any(
        m.id == memories[0].id for m, _, _ in scan_search(service, oldest_word, namespace="default", limit=LIMIT)
    )
    store.close()
    import boto3

    boto3.client("dynamodb").delete_table(TableName=table)
    return row


def write_units(memories) -> dict:
    """Units of one fresh write through the store, with the index kept and with it off."""
    from cost import Meter, item_size

    from glyphmemory.model import Clock
    from glyphmemory.service import Memories
    from glyphmemory.stores.dynamodb import DynamoStore
    from glyphmemory.stores.dynamodb_items import memory_attrs, memory_key

    table = f"bench-{uuid.uuid4().hex[:8]}"
    create_table(table)
    store = DynamoStore(table)
    mean_item = statistics.mean(item_size({**memory_key(m.id), **memory_attrs(m)}) for m in memories[:200])
    meter = Meter(store.client, mean_item)
    service = Memories(store, Clock())
    out: dict = {}
    for kind in ("with index", "without index"):
        if kind == "without index":
            store.__dict__["index"] = _NoIndex(store)
        units, calls = [], []
        for i, m in enumerate(memories[:20]):
            w0, r0, c0 = meter.write, meter.read, meter.calls
            # Before the index a write neither indexed nor looked for similar memories (issue 26).
            service.write(text=f"{kind} {i}: {m.text}", tags=list(m.tags), similar=kind == "with index")
            units.append((meter.write - w0, meter.read - r0))
            calls.append(meter.calls - c0)
        out[kind] = {
            "write": statistics.mean(u[0] for u in units),
            "read": statistics.mean(u[1] for u in units),
            "calls": statistics.mean(calls),
        }
    store.close()
    return out


class _NoIndex:
    """The index switched off: what a write cost before it."""

    def __init__(self, store):
        self.store = store

    def put_new(self, item: dict, memory) -> bool:
        return self.store._put_item_new(item)

    def add(self, *args, **kwargs) -> None: ...

    def ensure(self, *args, **kwargs) -> None: ...

    def replace(self, *args, **kwargs) -> None: ...

    def remove(self, *args, **kwargs) -> None: ...


def sqlite_row(n: int, memories, folder: str, reps: int) -> dict:
    from glyphmemory.model import Clock
    from glyphmemory.search import scan_search, search_hits
    from glyphmemory.service import Memories
    from glyphmemory.stores.sqlite import SqliteStore

    path = f"{folder}/search-{n}.db"
    load_sqlite(path, memories[:n])
    service = Memories(SqliteStore(path), Clock())
    row = {}
    for kind, search in (("index", search_hits), ("scan", scan_search)):
        search(service, QUERIES[0], namespace="default", limit=LIMIT)  # warm: caches, pages
        times = []
        for i in range(reps):
            started = time.perf_counter()
            search(service, QUERIES[i % len(QUERIES)], namespace="default", limit=LIMIT)
            times.append((time.perf_counter() - started) * 1000)
        row[kind] = {"p50": percentile(times, 50), "p95": percentile(times, 95)}
    service.store.close()
    return row


def cold_search(n: int, runs: int, share_value: float = 0.29) -> dict:
    """Cold requests (a fresh process each) on the deployed-path simulation: a search, a
    context block and a write beside it, interleaved."""
    import deployed_path
    from deployed_sim import CpuShare

    memories = synthetic_memories(n)
    setup = deployed_path.Setup()
    try:
        with Moto() as moto:
            table = f"bench-{uuid.uuid4().hex[:8]}"
            create_table(table)
            load_dynamodb(table, memories, index=_query_terms(), claims=False)  # what the search reads
            front, token, ca = setup.start(moto, table)
            share = CpuShare(share_value)
            front.share = share
            from glyphmemory.codec import encode
            from glyphmemory.tokens import mint_window_token

            # A chat link's write (`/w`, a w token: no similar memories looked up), a new text each.
            w_token = mint_window_token(setup.key.kid, setup.key.secret, "w", int(time.time()) + 3600)
            paths = {
                "search": lambda i: "/v1/search?q=" + QUERIES[0].replace(" ", "+") + f"&limit={LIMIT}",
                "context": lambda i: "/v1/context?budget=9000&format=md",
                "write": lambda i: "/w?z=" + encode(f"cold write {i}: {memories[i].text}"),
            }
            tokens = {"search": token, "context": token, "write": w_token}
            times: dict[str, list[float]] = {k: [] for k in paths}
            try:
                deployed_path.cold_request(front.server_address[1], ca, token, paths["context"](0))  # page cache
                for i in range(runs):
                    for kind, path in paths.items():
                        took = deployed_path.cold_request(front.server_address[1], ca, tokens[kind], path(i))
                        times[kind].append(took)
            finally:
                share.close()
                setup.stop()
    finally:
        setup.cleanup()
    return {"share": share_value, "mode": share.mode, **{k: statistics.median(v) for k, v in times.items()}}


def measure(
    sizes=SIZES, sqlite_reps: int = 200, cold_runs: int = 5, cold_size: int = 10_000, sqlite_size: int = 10_000
) -> dict:
    memories = synthetic_memories(max(max(sizes), sqlite_size))
    # The oldest memory holds a word no other does: can a search of that word find it?
    first = memories[0]
    text = first.text + " " + OLDEST_WORD
    memories[0] = first.replace(text=text, content_hash=content_hash(first.namespace, text))
    result: dict = {"sizes": list(sizes), "dynamodb": {}, "queries": QUERIES, "limit": LIMIT}
    with Moto():
        result["write"] = write_units(memories)
        for n in sizes:
            result["dynamodb"][n] = dynamodb_row(n, memories)
            print(f"search_cost: {n:,} memories: {result['dynamodb'][n]}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        result["sqlite"] = sqlite_row(sqlite_size, memories, folder, sqlite_reps)
    result["sqlite_size"] = sqlite_size
    print(f"search_cost: sqlite {result['sqlite']}", file=sys.stderr, flush=True)
    result["cold"] = cold_search(cold_size, cold_runs) if cold_runs else None
    result["cold_size"] = cold_size
    return result


def verdicts(result: dict) -> dict[str, bool]:
    means = {n: statistics.mean(r["index"]) for n, r in result["dynamodb"].items()}
    flat = max(means.values()) <= 2 * min(means.values())
    at_10k = means.get(10_000, means[max(means)])
    out = {
        "read units flat (≤ 2× across sizes)": flat,
        "≤ 10 read units a search at 10,000": at_10k <= 10,
        f"SQLite p50 ≤ 10 ms at {result['sqlite_size']:,}": result["sqlite"]["index"]["p50"] <= 10,
        "every memory searchable": all(r["index_found_oldest"] for r in result["dynamodb"].values()),
    }
    if result["cold"]:
        out[f"cold first search ≤ 1 s at {result['cold_size']:,}"] = result["cold"]["search"] <= 1.0
    return out


def report(result: dict) -> str:
    lines = [
        "## Search cost",
        "",
        f"Read units per search (DynamoDB's rules: bench/cost.py's Meter), warm, limit {result['limit']}, mean and "
        f"max over {len(result['queries'])} queries; the old ranker (BM25 over the newest "
        f"{names.SEARCH_SCAN_LIMIT:,} memories, each read) beside it:",
        "",
        "| memories | index: mean | index: max | old scan: mean | old scan: max | oldest memory found: index / scan |",
        "|---|---|---|---|---|---|",
    ]
    for n, r in result["dynamodb"].items():
        partial = " (index items of the query terms only)" if int(n) > WHOLE_INDEX_UP_TO else ""
        lines.append(
            f"| {int(n):,}{partial} | {statistics.mean(r['index']):.1f} | {max(r['index']):.1f} | "
            f"{statistics.mean(r['scan']):.1f} | {max(r['scan']):.1f} | "
            f"{'yes' if r['index_found_oldest'] else 'no'} / {'yes' if r['scan_found_oldest'] else 'no'} |"
        )
    w = result["write"]
    lines += [
        "",
        f"A write (DynamoDB units, mean of 20 bench memories): {w['with index']['write']:.0f} write and "
        f"{w['with index']['read']:.1f} read units in {w['with index']['calls']:.0f} calls with the index; "
        f"{w['without index']['write']:.0f} write and {w['without index']['read']:.1f} read units in "
        f"{w['without index']['calls']:.0f} calls without it.",
        "",
        f"SQLite, {result['sqlite_size']:,} memories, in process: index p50 {result['sqlite']['index']['p50']:.2f} ms "
        f"(p95 {result['sqlite']['index']['p95']:.2f}); old scan p50 {result['sqlite']['scan']['p50']:.2f} ms "
        f"(p95 {result['sqlite']['scan']['p95']:.2f}).",
    ]
    if result["cold"]:
        c = result["cold"]
        lines += [
            "",
            f"Cold first search at {result['cold_size']:,} memories, deployed-path simulation at {c['share']} of a core "
            f"({c['mode']}), median: search {c['search'] * 1000:.0f} ms; a cold context request in the same run "
            f"{c['context'] * 1000:.0f} ms; a cold write (`/w`, its item and index) {c['write'] * 1000:.0f} ms.",
        ]
    lines += [
        "",
        "Goal: " + "; ".join(f"{k} **{'met' if v else 'NOT met'}**" for k, v in verdicts(result).items()) + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    print(report(measure(sizes)))
