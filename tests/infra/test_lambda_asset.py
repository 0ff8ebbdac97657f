"""The exact Lambda asset runs the service on the runtime's Python with only the standard library
beside it (no boto3), from its own bytecode."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from glyphmemory.keys import new_key
from infra.bundling import LAMBDA_PYTHON, build_lambda_asset, lambda_python

from ..support.lambda_events import make_event

RUNNER = r"""
import importlib._bootstrap_external as external, json, sys
sys.path[:0] = [sys.argv[1]]          # the asset, as Lambda's /var/task; nothing else
compiled = []                         # modules compiled from source: none, with bytecode shipped
to_code = external.SourceLoader.source_to_code
external.SourceLoader.source_to_code = lambda self, data, path, **kw: compiled.append(path) or to_code(self, data, path, **kw)
import handler
entry = getattr(handler, sys.argv[2])
for event in json.loads(sys.stdin.read()):
    print(json.dumps(entry(event, None)))
print(json.dumps({"modules": sorted(m.split(".")[0] for m in sys.modules), "all": sorted(sys.modules), "compiled": compiled}))
"""


def run_asset(
    asset: Path, events: list[dict], env: dict, entry: str = "lambda_handler"
) -> tuple[list[dict], dict, str]:
    """Each event through the asset's handler in one fresh process of the runtime's version:
    -I isolated (no user site, no PYTHON* variables); -S no site-packages at all, so no boto3;
    -B no bytecode written, as on Lambda's read-only disk. Returns the answers, what was loaded
    and compiled, and the process's stderr (the logs)."""
    result = subprocess.run(
        [lambda_python(), "-I", "-S", "-B", "-c", RUNNER, str(asset), entry],
        input=json.dumps(events),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    *answers, loaded = [json.loads(line) for line in result.stdout.splitlines()]
    return answers, loaded, result.stderr


def test_the_asset_is_self_contained(tmp_path, dynamo_table, moto_url):
    asset = build_lambda_asset(tmp_path / "asset")
    key = new_key()
    boto3.client("ssm").put_parameter(
        Name="/glyph/asset-test", Value=f"{key.kid}:{key.secret_b32}", Type="SecureString"
    )

    import time

    from glyphmemory.tokens import mint_window_token

    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 300)
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    events = [
        make_event("GET", "/v1/health"),
        make_event("POST", "/v1/memories", headers=auth, body={"text": "from the packaged Lambda"}),
        make_event("GET", "/v1/memories", "limit=5", headers=auth),
        make_event("GET", "/v1/memories"),
    ]
    env = {
        "PATH": "/usr/bin:/bin",
        "GLYPH_STORE": f"dynamodb://{dynamo_table}",
        "GLYPH_KEY_PARAM": "/glyph/asset-test",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_SSM": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "session-token-as-lambda-gives-its-role",
        "AWS_REGION": "us-east-1",
    }
    answers, loaded, stderr = run_asset(asset, events, env)
    assert [a["statusCode"] for a in answers] == [200, 201, 200, 401], answers[0]["body"] + stderr[-1500:]
    assert json.loads(answers[2]["body"])["items"][0]["text"] == "from the packaged Lambda"
    assert "glyphmemory" in loaded["modules"] and "pyotp" not in loaded["modules"]  # TOTP only when used
    assert not {"boto3", "botocore", "platformdirs", "segno", "httpx", "moto"} & set(loaded["modules"])
    assert loaded["compiled"] == []  # every module came from the shipped bytecode
    # Only what the function runs: the CLI's client, spool, paths and AWS admin live in cli/.
    assert not {"client.py", "spool.py", "config.py", "aws_admin.py"} & {
        p.name for p in (asset / "glyphmemory").iterdir()
    }
    # Nor the bridge's modules or the page's files: other functions serve those.
    assert not (asset / "glyphmemory" / "bridge").exists() and not (asset / "glyphmemory" / "templates").exists()
    shipped = {p.name for p in asset.rglob("*.py")}
    assert not {"mcp_tools.py", "mcp_first.py", "mcp_routes.py", "ui_routes.py", "ui_session.py", "pages.py"} & shipped
    pycs = list(asset.rglob(f"*.cpython-{LAMBDA_PYTHON.replace('.', '')}.pyc"))
    assert len(pycs) == len(list(asset.rglob("*.py")))

    archive = tmp_path / "asset.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(asset.rglob("*")):
            zf.write(path, path.relative_to(asset))
    size = archive.stat().st_size
    print(f"\nLambda asset: {size / 1024:.0f} KiB zipped")
    assert size < 512 * 1024


def test_a_cold_start_that_does_not_search_or_write_loads_nothing_of_search(tmp_path, dynamo_table, moto_url):
    """The search index's modules (analyzer, stemmer, the index) are loaded by the first search
    or write only: a session-start context block, a page of recent memories and the health
    check cold-start as before the index (issue 25: the cold path for all but search unchanged)."""
    asset = build_lambda_asset(tmp_path / "asset")
    key = new_key()
    boto3.client("ssm").put_parameter(
        Name="/glyph/asset-cold", Value=f"{key.kid}:{key.secret_b32}", Type="SecureString"
    )
    import time

    from glyphmemory.tokens import mint_window_token

    auth = {"authorization": "Bearer " + mint_window_token(key.kid, key.secret, "r", int(time.time()) + 300)}
    env = {
        "PATH": "/usr/bin:/bin",
        "GLYPH_STORE": f"dynamodb://{dynamo_table}",
        "GLYPH_KEY_PARAM": "/glyph/asset-cold",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_SSM": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    events = [
        make_event("GET", "/v1/health"),
        make_event("GET", "/v1/context", "budget=9000&format=md", headers=auth),
        make_event("GET", "/v1/memories", "limit=5", headers=auth),
    ]
    answers, loaded, stderr = run_asset(asset, events, env)
    assert [a["statusCode"] for a in answers] == [200, 200, 200], stderr[-1500:]
    search_modules = {  # glyphmemory.search itself is light (context.py imports it, as before)
        "glyphmemory.text_index",
        "glyphmemory.stemming",
        "glyphmemory.stopwords",
        "glyphmemory.similar",
        "glyphmemory.stores.dynamodb_index",
        "snowballstemmer",
    }
    assert not search_modules & set(loaded["all"])
    searched, loaded, _ = run_asset(asset, [make_event("GET", "/v1/search", "q=anything", headers=auth)], env)
    assert searched[0]["statusCode"] == 200 and "glyphmemory.stores.dynamodb_index" in loaded["all"]


def test_the_build_refuses_bytecode_of_another_python(tmp_path, monkeypatch):
    monkeypatch.setenv("GLYPH_LAMBDA_PYTHON", sys.executable)
    with pytest.raises(RuntimeError, match="Python 3.99"):
        build_lambda_asset(tmp_path / "asset", python_version="3.99")


def test_the_asset_hash_changes_with_every_kind_of_file_the_asset_ships(tmp_path, monkeypatch):
    """A new asset for any change the function would see (templates/app.js was left out once)."""
    import shutil

    import infra.function as function
    from infra.bundling import ROOT

    for folder in ("src/glyphmemory", "lambda"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    monkeypatch.setattr(function, "ROOT", tmp_path)
    shipped = [p for p in (tmp_path / "src" / "glyphmemory").rglob("*") if p.is_file()]
    one_of_each = {p.suffix: p for p in sorted(shipped)}
    assert {".py", ".html", ".css", ".js"} <= set(one_of_each)
    for path in one_of_each.values():
        before = function._source_hash()
        path.write_bytes(path.read_bytes() + b"\n")
        assert function._source_hash() != before, path.name
    # The memory function copies its dependencies from this machine: what it copies counts too.
    before = function._source_hash()
    monkeypatch.setattr(function, "RUNTIME_PACKAGES", (*function.RUNTIME_PACKAGES, "jinja2"))
    assert function._source_hash() != before
