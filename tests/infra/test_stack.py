"""The synthesized CloudFormation: storage, function, IAM, API, CloudFront, nag, cfn-lint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glyphmemory import names
from glyphmemory.keys import new_key

ROOT = Path(__file__).resolve().parents[2]
KNOWN_SECRET = new_key().secret_b32  # planted in the environment: must appear nowhere
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed policy ids
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CDK_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "1",
    "CDK_HOME": str(ROOT / ".cache" / "cdk"),
    "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(ROOT / ".cache" / "jsii"),
}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    """Synthesize the app once, with a secret in the environment that must not leak."""
    out = tmp_path_factory.mktemp("cdk.out")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **CDK_ENV,
        "GLYPH_KEY": f"root:{KNOWN_SECRET}",
        "GLYPH_BASIC_AUTH": f"owner:{KNOWN_SECRET}",
    }
    code = "import sys; from infra.app import build_app; build_app(sys.argv[1], keyParam='/glyph/test-key').synth()"
    subprocess.run(
        [sys.executable, "-c", code, str(out)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
    )
    return out


@pytest.fixture(scope="module")
def template(synthesized) -> dict:
    return json.loads((synthesized / "GlyphMemory.template.json").read_text())


def resources(template: dict, kind: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_table(template):
    (table,) = resources(template, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST" and props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": names.TTL_ATTRIBUTE, "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["KeySchema"] == [
        {"AttributeName": names.PK, "KeyType": "HASH"},
        {"AttributeName": names.SK, "KeyType": "RANGE"},
    ]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == names.GSI_BY_EPOCH and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["KeySchema"] == [
        {"AttributeName": names.GSI_PARTITION, "KeyType": "HASH"},
        {"AttributeName": names.GSI_SORT, "KeyType": "RANGE"},
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types[names.GSI_SORT] == "N"


def test_the_test_table_matches_the_stack(template):
    """tests and benchmarks create tables with table_definition(): it must be the deployed shape."""
    from glyphmemory.stores.dynamodb import table_definition

    (table,) = resources(template, "AWS::DynamoDB::Table")
    ours = table_definition("t")
    assert ours["KeySchema"] == table["Properties"]["KeySchema"]
    assert (
        ours["GlobalSecondaryIndexes"][0]["KeySchema"] == table["Properties"]["GlobalSecondaryIndexes"][0]["KeySchema"]
    )


def test_functions(template):
    """The memory function, the MCP connector's, and the bridge's authorizer, route and worker:
    one runtime, table and key; each its own size, timeout and settings."""
    functions = resources(template, "AWS::Lambda::Function")
    shape = sorted(
        (fn["Properties"]["Handler"], fn["Properties"]["MemorySize"], fn["Properties"]["Timeout"]) for fn in functions
    )
    assert shape == [
        ("handler.authorize", 256, 15),
        ("handler.lambda_handler", 512, 15),  # the memory function
        ("handler.lambda_handler", 1769, 15),  # the MCP connector: one whole core for the SDK's import
        ("handler.route", 512, 15),
        ("handler.work", 512, 300),
    ]
    for fn in functions:
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"]
        env = props["Environment"]["Variables"]
        assert {names.ENV_STORE, names.ENV_KEY_PARAM} <= set(env)
        assert env[names.ENV_KEY_PARAM] == "/glyph/test-key"
        extra = set(env) - {names.ENV_STORE, names.ENV_KEY_PARAM}
        assert extra == {
            "handler.route": {names.ENV_BRIDGE_WORKER},
            "handler.work": {names.ENV_ANTHROPIC_KEY_PARAM},
        }.get(props["Handler"], set())
    (group,) = [g for g in resources(template, "AWS::Logs::LogGroup") if g["Properties"].get("RetentionInDays") == 14][
        :1
    ]
    assert group


def _statements(template: dict) -> list[dict]:
    out = []
    for policy in resources(template, "AWS::IAM::Policy"):
        out += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in resources(template, "AWS::IAM::Role"):
        for policy in role["Properties"].get("Policies", []):
            out += policy["PolicyDocument"]["Statement"]
    return out


def test_iam_is_least_privilege(template):
    statements = _statements(template)
    assert statements
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not any(a == "*" or a.endswith(":*") for a in actions), actions
        resources_ = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        assert "*" not in resources_, s
    for role in resources(template, "AWS::IAM::Role"):
        assert not role["Properties"].get("ManagedPolicyArns"), "no managed policies"
    dynamo = [s for s in statements if any(str(a).startswith("dynamodb:") for a in s["Action"])]
    assert len(dynamo) == 5  # one statement per function
    for only in dynamo:
        assert sorted(only["Action"]) == [
            "dynamodb:BatchGetItem",  # the memories a search shows
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        ]
        assert json.dumps(only["Resource"]).count(f"/index/{names.GSI_BY_EPOCH}") == 1
    ssm = [s for s in statements if "ssm:GetParameter" in json.dumps(s["Action"])]
    assert ssm and ':parameter/glyph/test-key"' in json.dumps(ssm[0]["Resource"])
    kms_arn = json.dumps([s for s in statements if "kms:Decrypt" in json.dumps(s["Action"])][0]["Resource"])
    assert ":key/*" in kms_arn
    kms = [s for s in statements if "kms:Decrypt" in json.dumps(s["Action"])]
    assert kms and "kms:ViaService" in json.dumps(kms[0]["Condition"])


def test_api_throttles_and_logs_without_query_strings(template):
    (stage,) = [
        s for s in resources(template, "AWS::ApiGatewayV2::Stage") if s["Properties"]["StageName"] == "$default"
    ]
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] == 20
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 40
    log_format = props["AccessLogSettings"]["Format"]
    assert "requestId" in log_format and "query" not in log_format.lower()
    http_api = next(k for k, r in template["Resources"].items() if r["Properties"].get("ProtocolType") == "HTTP")
    integrations = [i for i in resources(template, "AWS::ApiGatewayV2::Integration") if http_api in json.dumps(i)]
    assert len(integrations) == 2 and all(i["Properties"]["PayloadFormatVersion"] == "2.0" for i in integrations)
    routes = {
        r["Properties"]["RouteKey"]: json.dumps(r["Properties"]["Target"])
        for r in resources(template, "AWS::ApiGatewayV2::Route")
        if http_api in json.dumps(r["Properties"]["ApiId"])
    }
    from glyphmemory.http.core import OAUTH_PATHS

    # The connector's paths and the page go to its own function; everything else to the memory function.
    connector = [*OAUTH_PATHS, "/ui", "/ui/{proxy+}"]
    assert set(routes) == {"$default"} | {f"ANY {path}" for path in connector}
    assert len({routes[f"ANY {path}"] for path in connector}) == 1
    assert routes["$default"] != routes["ANY /mcp"]


def test_the_bridge_is_a_websocket_api_authorised_at_connect(template):
    res = template["Resources"]
    ws_api = next(k for k, r in res.items() if r["Properties"].get("ProtocolType") == "WEBSOCKET")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(template, "AWS::ApiGatewayV2::Route")
        if ws_api in json.dumps(r["Properties"]["ApiId"])
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    (authorizer,) = resources(template, "AWS::ApiGatewayV2::Authorizer")
    assert authorizer["Properties"]["IdentitySource"] == ["route.request.querystring.t"]
    (stage,) = [s for s in resources(template, "AWS::ApiGatewayV2::Stage") if s["Properties"]["StageName"] == "prod"]
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert (
        settings["ThrottlingRateLimit"] == 10
        and "query" not in stage["Properties"]["AccessLogSettings"]["Format"].lower()
    )
    statements = _statements(template)
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert len(invoke) == 1 and ":*" not in json.dumps(invoke[0]["Resource"])  # the worker only
    manage = [s for s in statements if s["Action"] == "execute-api:ManageConnections"]
    assert len(manage) == 2 and all("/prod/POST/@connections/*" in json.dumps(s["Resource"]) for s in manage)
    params = json.dumps([s["Resource"] for s in statements if s["Action"] == "ssm:GetParameter"])
    assert "anthropic-api-key" in params  # the worker reads the Anthropic key; the template never holds it


def test_cloudfront_caches_reads_by_token_and_never_writes(template):
    (dist,) = resources(template, "AWS::CloudFront::Distribution")
    config = dist["Properties"]["DistributionConfig"]
    assert "Logging" not in config  # standard logs would record tokens in query strings
    default = config["DefaultCacheBehavior"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    from fnmatch import fnmatch

    from glyphmemory.http.core import OAUTH_PATHS

    # Never cached: writes, token and key routes, and every path of the MCP connector.
    never = ("/w", "/v1/tokens", "/v1/keys", "/v1/keys/k1", "/v1/connectors", "/v1/connectors/g1", "/ui", "/ui/m/x")
    for path in (*never, *OAUTH_PATHS):
        assert any(fnmatch(path, pattern) for pattern in behaviours), path
    for b in [default, *behaviours.values()]:
        assert b["ViewerProtocolPolicy"] == "https-only" and b["Compress"] is True
        assert b["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
        assert "ResponseHeadersPolicyId" in b
        assert b["CachedMethods"] == ["GET", "HEAD"]
    for b in behaviours.values():
        assert b["CachePolicyId"] == CACHING_DISABLED
    (policy,) = resources(template, "AWS::CloudFront::CachePolicy")
    cfg = policy["Properties"]["CachePolicyConfig"]
    key = cfg["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert sorted(key["HeadersConfig"]["Headers"]) == ["Authorization", "X-Glyph-Token"]
    assert cfg["DefaultTTL"] == 0 and cfg["MaxTTL"] <= 60
    assert key["EnableAcceptEncodingGzip"] and key["EnableAcceptEncodingBrotli"]
    (headers,) = resources(template, "AWS::CloudFront::ResponseHeadersPolicy")
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    (function,) = resources(template, "AWS::CloudFront::Function")
    assert "x-glyph-public-host" in function["Properties"]["FunctionCode"]


def test_alarms_and_outputs(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    metrics = sorted(a["Properties"]["MetricName"] for a in alarms)
    assert metrics == ["5xx", "Errors", "Errors", "Throttles", "Throttles"]  # both functions
    assert all(a["Properties"]["AlarmActions"] for a in alarms)
    assert set(template["Outputs"]) == {"CloudFrontUrl", "ApiUrl", "McpUrl", "BridgeUrl", "TableName"}


def test_cdk_nag_is_clean_and_every_acknowledgement_has_a_reason(synthesized):
    report = json.loads((synthesized / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success" and nag["violations"] == []
    from infra.nag import ACKNOWLEDGED

    suppressed = {v["ruleName"] for v in nag["suppressedViolations"]}
    assert suppressed == {rule.split("::", 1)[1] for rule in ACKNOWLEDGED}
    assert all(v["reason"] for v in nag["suppressedViolations"])
    assert all(len(reason) > 60 for reason in ACKNOWLEDGED.values())


def test_cfn_lint_has_no_errors(synthesized):
    # W3005: CDK adds an explicit DependsOn on the function's role beside the GetAtt; harmless.
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--ignore-checks",
            "W3005",
            "--",
            str(synthesized / "GlyphMemory.template.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_secret_in_any_synthesized_file(synthesized):
    checked = 0
    for path in synthesized.rglob("*"):
        if path.is_file():
            assert KNOWN_SECRET.encode() not in path.read_bytes(), path
            checked += 1
    assert checked > 10  # the template, manifests and the whole Lambda asset


def test_cdk_cli_synth_works_offline_without_credentials(tmp_path):
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    assert cdk.exists(), "run `make test`: it installs the pinned aws-cdk CLI with npm ci"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),  # no ~/.aws, no profile
        **CDK_ENV,
    }
    result = subprocess.run(
        [str(cdk), "synth", "--no-notices", "-q", "-o", str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    template = json.loads((tmp_path / "out" / "GlyphMemory.template.json").read_text())
    assert set(template["Outputs"]) == {"CloudFrontUrl", "ApiUrl", "McpUrl", "BridgeUrl", "TableName"}
    assert shutil.which("docker") is None or "docker" not in result.stderr.lower()
