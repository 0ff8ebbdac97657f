"""The exact Lambda asset runs the service with only the standard library and boto3 beside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3

from glyphmemory.keys import new_key
from glyphmemory.stores.dynamodb import table_definition
from infra.bundling import build_lambda_asset

EVENT = json.loads((Path(__file__).parents[1] / "events" / "http_api_v2.json").read_text())
# boto3 and what it imports: the Lambda runtime ships exactly these.
BOTO_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

RUNNER = r"""
import json, sys
sys.path[:0] = [sys.argv[1]]          # the asset first, as Lambda's /var/task
sys.path.append(sys.argv[2])          # then boto3, as the runtime provides it
import handler
for event in json.loads(sys.stdin.read()):
    print(json.dumps(handler.lambda_handler(event, None)))
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""


def boto_only_dir(target: Path) -> Path:
    target.mkdir()
    for name in BOTO_PACKAGES:
        spec = __import__(name)
        source = Path(spec.__file__)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target


def event(method, path, query="", headers=None, body=None):
    e = json.loads(json.dumps(EVENT))
    e["rawPath"], e["rawQueryString"] = path, query
    e["requestContext"]["http"].update(method=method, path=path)
    e["headers"].update(headers or {})
    if body is not None:
        e["body"] = json.dumps(body)
    return e


def test_the_asset_is_self_contained(tmp_path, dynamo_table, moto_url):
    asset = build_lambda_asset(tmp_path / "asset")
    boto_dir = boto_only_dir(tmp_path / "runtime")
    key = new_key()
    boto3.client("ssm").put_parameter(Name="/glyph/asset-test", Value=f"{key.kid}:{key.secret_b32}", Type="SecureString")

    from glyphmemory.tokens import mint_window_token
    import time

    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 300)
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    events = [
        event("GET", "/v1/health"),
        event("POST", "/v1/memories", headers=auth, body={"text": "from the packaged Lambda"}),
        event("GET", "/v1/memories", "limit=5", headers=auth),
        event("GET", "/v1/memories"),
    ]
    env = {
        "PATH": "/usr/bin:/bin",
        "GLYPH_STORE": f"dynamodb://{dynamo_table}",
        "GLYPH_KEY_PARAM": "/glyph/asset-test",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_SSM": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # -I: isolated (no user site, no PYTHON* variables); -S: no site-packages at all.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(asset), str(boto_dir)],
        input=json.dumps(events), env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    *answers, loaded = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["statusCode"] for a in answers] == [200, 201, 200, 401], answers[0]["body"] + result.stderr[-1500:]
    assert json.loads(answers[2]["body"])["items"][0]["text"] == "from the packaged Lambda"
    assert "glyphmemory" in loaded and "pyotp" not in loaded  # TOTP imports only when used
    assert not {"platformdirs", "segno", "httpx", "moto"} & set(loaded)

    archive = tmp_path / "asset.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(asset.rglob("*")):
            zf.write(path, path.relative_to(asset))
    size = archive.stat().st_size
    print(f"\nLambda asset: {size / 1024:.0f} KiB zipped")
    assert size < 512 * 1024
