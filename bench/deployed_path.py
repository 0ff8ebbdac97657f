"""The deployed cold path, simulated: what a session-start hook's request crosses on AWS.

    glyph context --hook ──HTTPS──▶ front (+60 ms: CloudFront + API Gateway)
        ──▶ +75 ms runtime INIT ──▶ a fresh Python 3.12 process on the built asset (bytecode as
            shipped, nothing written), limited to a share of one core
        ──HTTPS──▶ latency proxy (+30 ms a new connection, +5–15 ms a call) ──▶ moto (SSM, DynamoDB)

Every request is a cold start (a fresh process), the worst case and, at personal scale, the
usual one. CPU shares: 1.0, 0.5 and 0.29 of a core (0.29 ≈ a 512 MB function's). They are
applied with a cgroup CPU quota where this machine allows it (v1 or v2, as root); otherwise each
process's CPU time is measured and the answer held back by cpu × (1/share − 1) ("scaled").

Beside it, the baseline in the same run: the same front, INIT, CPU share and proxy, with a
process that makes the same AWS calls as the handler's context request (SSM GetParameter, two
DynamoDB Queries) through boto3, given bytecode (as Lambda's runtime has) and the full CA bundle
it would load. Then 20 rounds per share of Claude Code's hooks (bench/deployed_hooks.py): the
real `glyph context --hook`, each from an empty GLYPH_HOME (no cached block to fall back on),
counting the runs that loaded memories, alternating with the real `glyph recall --hook` on
LoCoMo's questions against a table of its turns, counting the runs that printed memories and
those that gave up at the hook's 1.5 s.

    python bench/deployed_path.py [runs] [hooks] [shares…]
"""

from __future__ import annotations

import json
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import AWS_ENV, Moto, create_table, import_times, load_dynamodb, percentile, synthetic_memories  # noqa: E402
from deployed_hooks import recall_table, run_hooks, search_imports  # noqa: E402
from deployed_hooks import report as hook_report  # noqa: E402
from deployed_sim import CALL_S, CONNECT_S, FRONT_S, INIT_S, CpuShare, Front, LatencyTlsProxy  # noqa: E402

from glyphmemory import names  # noqa: E402

SHARES = (1.0, 0.5, 0.29)
MEMORY_MB_PER_CORE = 1769  # Lambda gives one full vCPU at 1,769 MB
GB_SECOND = 0.0000133334  # arm64 list price
BOTO_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

HANDLER = r"""
import json, resource, sys
sys.path[:0] = [sys.argv[1]]
import handler
result = handler.lambda_handler(json.loads(sys.stdin.read()), None)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"result": result, "cpu_s": usage.ru_utime + usage.ru_stime}))
"""

BASELINE = r"""
import json, os, resource, sys
sys.path[:0] = [sys.argv[1]]
import boto3
from botocore.config import Config
sys.stdin.read()
config = Config(retries={"max_attempts": 2, "mode": "standard"})
key = boto3.client("ssm", config=config).get_parameter(Name=os.environ["GLYPH_KEY_PARAM"], WithDecryption=True)
ddb = boto3.client("dynamodb", config=config)
recent, older = json.loads(os.environ["BENCH_QUERIES"])
items = ddb.query(**recent)["Items"]
count = ddb.query(**older)["Count"]
body = json.dumps({"items": len(items), "older": count, "key": bool(key["Parameter"]["Value"])})
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"result": {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": body}, "cpu_s": usage.ru_utime + usage.ru_stime}))
"""


# --- the measurement -------------------------------------------------------------------------


def boto_dir(target: Path, python: str) -> Path:
    """boto3 and what it imports, as the Lambda runtime provides them, with bytecode for `python`."""
    target.mkdir()
    sources = []
    for name in BOTO_PACKAGES:
        source = Path(__import__(name).__file__)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
        sources.append(str(source))
    # compileall skips symlinked folders: compile the real ones (into their own __pycache__).
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", *sources], check=True, capture_output=True)
    return target


def context_queries(table: str) -> list[dict]:
    """The two Queries the store makes for a context block: the newest page, then a count."""
    now = {":ns": {"S": names.DEFAULT_NAMESPACE}, ":now": {"N": str(int(time.time()))}}
    common = {
        "TableName": table,
        "IndexName": names.GSI_BY_EPOCH,
        "KeyConditionExpression": "#ns = :ns",
        "FilterExpression": "(attribute_not_exists(#exp) OR #exp > :now)",
        "ExpressionAttributeNames": {"#ns": names.GSI_PARTITION, "#exp": names.TTL_ATTRIBUTE},
        "ExpressionAttributeValues": now,
        "ScanIndexForward": False,
    }
    from glyphmemory.context import first_page_size

    return [common | {"Limit": first_page_size(9000) + 1}, common | {"Select": "COUNT", "Limit": names.OLDER_COUNT_CAP}]


def cold_request(port: int, cafile: str, token: str, path: str = "/v1/context?budget=9000&format=md") -> float:
    import http.client

    context = ssl.create_default_context(cafile=cafile)
    started = time.perf_counter()
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=context)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status in (200, 201), response.status  # 201: a write
    return time.perf_counter() - started


class Setup:
    """The simulation's parts: the built asset, a test CA with the bundles each side trusts, and
    (start) the key in SSM, the latency proxy before moto and the front running the handler."""

    def __init__(self) -> None:
        import trustme

        from infra.bundling import build_lambda_asset, lambda_python

        self.python = lambda_python()
        self.work = work = Path(tempfile.mkdtemp(prefix="glyph-deployed-"))
        ca = trustme.CA()
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.server_context)
        self.ca_pem = work / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_pem))
        # What each side would trust on AWS: ours AWS's five roots, botocore a full bundle.
        from glyphmemory.aws.client import AWS_ROOTS

        self.small_bundle, self.full_bundle = work / "aws-roots+test.pem", work / "system+test.pem"
        self.small_bundle.write_bytes(Path(AWS_ROOTS).read_bytes() + self.ca_pem.read_bytes())
        self.full_bundle.write_bytes(
            Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt").read_bytes()
            + self.ca_pem.read_bytes()
        )
        self.asset = build_lambda_asset(work / "asset")
        (work / "handler_runner.py").write_text(HANDLER)
        self.proxy = self.front = None

    def start(self, moto, table: str):
        """(front, a read token, the CA file): the front runs the real handler on the asset."""
        import boto3

        from glyphmemory.keys import new_key
        from glyphmemory.tokens import mint_window_token

        self.key = key = new_key()
        param = "/glyphmemory/bench/deployed-key"
        boto3.client("ssm").put_parameter(
            Name=param, Value=f"{key.kid}:{key.secret_b32}", Type="SecureString", Overwrite=True
        )
        self.proxy = LatencyTlsProxy(urlsplit(moto.url).port, self.server_context)
        self.front = Front(self.server_context)
        aws_url = f"https://127.0.0.1:{self.proxy.port}"
        self.lambda_env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": AWS_ENV["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            "AWS_SESSION_TOKEN": "bench-session-token",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": aws_url,
            "AWS_ENDPOINT_URL_SSM": aws_url,
            names.ENV_STORE: f"dynamodb://{table}",
            names.ENV_KEY_PARAM: param,
        }
        self.front.command = [self.python, "-I", "-S", "-B", str(self.work / "handler_runner.py"), str(self.asset)]
        self.front.env = self.lambda_env | {"AWS_CA_BUNDLE": str(self.small_bundle)}
        token = mint_window_token(key.kid, key.secret, "r", int(time.time()) + 3600)
        return self.front, token, str(self.ca_pem)

    def stop(self) -> None:
        if self.front is not None:
            self.front.shutdown()
        if self.proxy is not None:
            self.proxy.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def measure(runs: int = 15, hooks: int = 20, shares: tuple[float, ...] = SHARES) -> dict:
    setup = Setup()
    python, work, ca_pem = setup.python, setup.work, setup.ca_pem
    boto = boto_dir(work / "boto", python)
    (work / "baseline_runner.py").write_text(BASELINE)
    result: dict = {"runs": runs, "hooks": hooks, "python": python, "shares": {}}
    with Moto() as moto:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        create_table(table)
        stored = synthetic_memories(200)
        load_dynamodb(table, stored)
        front, token, _ = setup.start(moto, table)
        key = setup.key
        recall = recall_table()
        if recall:
            result["recall"] = {k: v for k, v in recall.items() if k in ("conversation", "memories")}
            recall |= {"env": front.env | {names.ENV_STORE: f"dynamodb://{recall['table']}"}, "proxy": setup.proxy}
        variants = {
            "glyphmemory": (front.command, front.env),
            "boto3 baseline": (
                [python, "-I", "-S", "-B", str(work / "baseline_runner.py"), str(boto)],
                setup.lambda_env
                | {"AWS_CA_BUNDLE": str(setup.full_bundle), "BENCH_QUERIES": json.dumps(context_queries(table))},
            ),
        }
        newest = f"#{len(stored) - 1} "
        try:
            for share_value in shares:
                share = CpuShare(share_value)
                front.share = share
                row = {"mode": share.mode, "cold": {}, "process": {}}
                try:
                    for command, env in variants.values():  # one warm-up each: page cache
                        front.command, front.env = command, env
                        cold_request(front.server_address[1], str(ca_pem), token)
                    for name in variants:
                        row["cold"][name], row["process"][name] = [], []
                    for _ in range(runs):  # interleaved, so drift hits both alike
                        for name, (command, env) in variants.items():
                            front.command, front.env = command, env
                            front.process_s = []
                            row["cold"][name].append(cold_request(front.server_address[1], str(ca_pem), token))
                            row["process"][name] += front.process_s
                    front.command, front.env = variants["glyphmemory"]
                    row["hook"] = run_hooks(hooks, front, ca_pem, key, newest, work, recall)
                finally:
                    share.close()
                result["shares"][share_value] = row
        finally:
            setup.stop()
    result["import_top"] = import_profile(python, setup.asset)
    result["search_imports"] = search_imports(python, setup.asset, HANDLER_IMPORTS)
    setup.cleanup()
    return result


HANDLER_IMPORTS = (
    "import handler; from glyphmemory import runtime, stores, aws; from glyphmemory.stores import dynamodb; "
    "from glyphmemory.aws import client"
)


def import_profile(python: str, asset: Path, n: int = 8) -> list[tuple[str, float]]:
    """`-X importtime` of importing the handler and building the app, from the asset's bytecode."""
    code = f"import sys; sys.path[:0] = [{str(asset)!r}]; {HANDLER_IMPORTS}"
    return sorted(import_times(python, code).items(), key=lambda r: -r[1])[:n]


def report(result: dict) -> str:
    lines = [
        "## Deployed cold path (simulated)",
        "",
        f"`glyph context --hook`'s request as it crosses AWS, every request a cold start: HTTPS front "
        f"(+{FRONT_S * 1000:.0f} ms) → +{INIT_S * 1000:.0f} ms runtime INIT → a fresh `{Path(result['python']).name}` "
        f"process on the built asset, at a share of one core → HTTPS to SSM and DynamoDB (moto) through a proxy adding "
        f"{CONNECT_S * 1000:.0f} ms per connection and {CALL_S[0] * 1000:.0f}–{CALL_S[1] * 1000:.0f} ms per call. "
        f"{result['runs']} cold requests per variant and share, interleaved; the baseline makes the handler's AWS calls "
        "(SSM GetParameter, two Queries) with boto3, with bytecode and a full CA bundle, through the same path.",
        "",
        "| CPU share (≈ memory) | how limited | glyphmemory p50 / p90 | boto3 baseline p50 / p90 | × baseline (p50) | hook loaded memories | first try | hook wall p50 / p90 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for share, row in result["shares"].items():
        ours, base = row["cold"]["glyphmemory"], row["cold"]["boto3 baseline"]
        ratio = statistics.median(ours) / statistics.median(base)
        hook = row["hook"]
        lines.append(
            f"| {share:.2f} (≈ {share * MEMORY_MB_PER_CORE:.0f} MB) | {row['mode']} | "
            f"{statistics.median(ours) * 1000:.0f} / {percentile(ours, 90) * 1000:.0f} ms | "
            f"{statistics.median(base) * 1000:.0f} / {percentile(base, 90) * 1000:.0f} ms | {ratio:.2f}× | "
            f"{hook['loaded']}/{len(hook['walls'])} | {hook['first_try']}/{len(hook['walls'])} | "
            f"{statistics.median(hook['walls']) * 1000:.0f} / {percentile(hook['walls'], 90) * 1000:.0f} ms |"
        )
        verdicts.append((share, ratio, hook))
    low = min(verdicts, key=lambda v: v[0])
    all_loaded = all(h["loaded"] == len(h["walls"]) for _, _, h in verdicts)
    worst_p90 = max(percentile(h["walls"], 90) for _, _, h in verdicts)
    lines += [
        "",
        f"Goal: cold request p50 at the {low[0]:.2f} share ≤ 0.4× the baseline's: **{low[1]:.2f}×, "
        f"{'met' if low[1] <= 0.4 else 'NOT met'}**.",
        f"Goal: the hook loads memories in every cold start at every share, wall p90 ≤ 1.5 s: worst p90 "
        f"**{worst_p90 * 1000:.1f} ms, {'met' if all_loaded and worst_p90 <= 1.5 else 'NOT met'}** "
        f"({'every run loaded memories' if all_loaded else 'some runs loaded none'}).",
        "",
        *hook_report(result),
        "What a cold request costs by memory size (our process's time from start to answer, billed as INIT plus "
        "duration, at the arm64 list price):",
        "",
        "| memory | process time p50 | GB-s per cold request | $ per 1,000 cold requests |",
        "|---|---|---|---|",
    ]
    for share, row in result["shares"].items():
        mb = share * MEMORY_MB_PER_CORE
        process = statistics.median(row["process"]["glyphmemory"])
        gbs = mb / 1024 * process
        lines.append(f"| {mb:.0f} MB | {process * 1000:.0f} ms | {gbs:.3f} | ${gbs * GB_SECOND * 1000:.5f} |")
    lines += [
        "",
        "Slowest imports when the handler starts (`-X importtime`, self time at a full core, from the shipped bytecode):",
        "",
        "| module | self |",
        "|---|---|",
        *[f"| `{name}` | {ms:.1f} ms |" for name, ms in result["import_top"]],
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = [a for a in sys.argv[1:]]
    runs = int(args[0]) if args else 15
    hooks = int(args[1]) if len(args) > 1 else 20
    shares = tuple(float(a) for a in args[2:]) or SHARES
    print(report(measure(runs, hooks, shares)))
