"""Functions: the memory function (the API), the connector function (/mcp and its OAuth routes)
and the bridge's three, each bundled locally (no Docker), each with its own role and log group."""

from __future__ import annotations

import jsii
from aws_cdk import BundlingOptions, DockerImage, Duration, ILocalBundling
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from glyphmemory import names

from .bundling import (
    ASSETS,
    LAMBDA_PYTHON,
    ROOT,
    RUNTIME_PACKAGES,
    build_lambda_asset,
    package_sources,
    pinned_versions,
)
from .key_param import KeyParameter

# 3.12: the fastest Python cold start measured (71-80 ms mean on arm64, against 109-129 ms for
# 3.14; maxday/lambda-perf, Dec 2025). The asset's bytecode is compiled for exactly this version.
RUNTIME = lambda_.Runtime.PYTHON_3_12
if RUNTIME.name != f"python{LAMBDA_PYTHON}":
    raise RuntimeError(f"infra/bundling.py compiles for Python {LAMBDA_PYTHON}, the function runs {RUNTIME.name}")


CONNECTOR_MEMORY_MB = 1769  # Lambda's one full vCPU


@jsii.implements(ILocalBundling)
class _LocalBundling:
    def __init__(self, kind: str):
        self.kind = kind

    def try_bundle(self, output_dir: str, *, image=None, **_options) -> bool:
        build_lambda_asset(output_dir, kind=self.kind)
        return True


# Every function reads and writes the one table: GetItem, PutItem, DeleteItem, Query, UpdateItem
# for edits and the search index (inside TransactWriteItems, which needs each action it runs),
# and BatchGetItem for the memories a search shows.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
)


class Function(Construct):
    """kind "api": the memory function (standard library only; 512 MB: 0.29 of a core, with no SDK
    and bytecode shipped a cold request takes 0.61 s p50 and 0.23 GB-s, against 0.52 s and
    0.33 GB-s at 884 MB, bench/deployed_path.py). kind "mcp": the connector function, whose
    MCP SDK import is ~1.4 s of CPU: at 1,769 MB (one whole core) its first `initialize`
    answers in 2.0 s p50, against 3.3 s at 1,024 MB and ~6 s at 512 MB, and claude.ai waits ~10 s
    (bench/mcp_cold.py); its calls are rare, so the core costs pennies. kind "bridge": the
    bridge's functions, one asset with several entry points (`handler`)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.Table,
        secrets: KeyParameter,
        kind: str = "api",
        handler: str = "handler.lambda_handler",
        memory_size: int | None = None,
        timeout_s: int = 15,  # the API's worst case: three DynamoDB attempts of 5 s each
        environment: dict | None = None,
    ) -> None:
        super().__init__(scope, id)
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.TWO_WEEKS)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.function = lambda_.Function(
            self,
            "Handler",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,  # ~20% cheaper per GB-s than x86
            handler=handler,
            code=lambda_.Code.from_asset(
                str(ROOT),
                bundling=BundlingOptions(
                    image=DockerImage.from_registry("local-bundling-only"),  # never pulled
                    local=_LocalBundling(kind),
                ),
                exclude=["**"],  # the local bundler picks its own files; hash them below
                asset_hash=_source_hash(kind),
            ),
            memory_size=memory_size or (CONNECTOR_MEMORY_MB if kind == "mcp" else 512),
            timeout=Duration.seconds(timeout_s),
            role=role,
            log_group=log_group,
            environment={
                names.ENV_STORE: f"dynamodb://{table.table_name}",
                names.ENV_KEY_PARAM: secrets.key_param_name,
                **(environment or {}),
            },
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(TABLE_ACTIONS),
                resources=[table.table_arn, f"{table.table_arn}/index/{names.GSI_BY_EPOCH}"],
            )
        )
        secrets.grant_read(role)
        self.role = role
        self.log_group = log_group


def _source_hash(kind: str = "api") -> str:
    """Hash of what goes into the asset, so a code change makes a new asset."""
    import hashlib

    entry, requirements = ASSETS[kind]
    # The memory function copies the installed RUNTIME_PACKAGES instead: their versions count too.
    copied = () if requirements else pinned_versions(*RUNTIME_PACKAGES)
    digest = hashlib.sha256(f"bytecode for python{LAMBDA_PYTHON}".encode())
    digest.update(" ".join(requirements + copied).encode())
    handler = ROOT / "lambda" / entry
    for path in sorted([handler, *package_sources(ROOT)]):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
