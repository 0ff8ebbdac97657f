"""The GlyphMemory stack: storage, secrets, function, API, CDN and monitoring."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from glyphmemory import names

from .api import Api
from .bridge import Bridge
from .cdn import Cdn
from .function import Function
from .key_param import DEFAULT_KEY_PARAM, KeyParameter
from .monitoring import Monitoring
from .nag import acknowledge_findings
from .storage import Storage


class GlyphMemoryStack(Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        key_param = self.node.try_get_context("keyParam") or DEFAULT_KEY_PARAM
        storage = Storage(self, "Storage")
        secrets = KeyParameter(self, "KeyParameter", key_param_name=key_param)
        function = Function(self, "Function", table=storage.table, secrets=secrets)
        connector = Function(self, "Connector", table=storage.table, secrets=secrets, kind="mcp")
        api = Api(self, "Api", function=function.function, connector=connector.function)
        bridge = Bridge(
            self,
            "Bridge",
            table=storage.table,
            secrets=secrets,
            anthropic_key_param=self.node.try_get_context("anthropicKeyParam") or names.DEFAULT_ANTHROPIC_KEY_PARAM,
            model=self.node.try_get_context("bridgeModel"),
        )
        cdn = Cdn(self, "Cdn", http_api=api.http_api)
        Monitoring(
            self,
            "Monitoring",
            function=function.function,
            connector=connector.function,
            http_api=api.http_api,
            alarm_email=self.node.try_get_context("alarmEmail"),
        )
        CfnOutput(self, "CloudFrontUrl", value=cdn.url, description="Point GLYPH_URL here")
        CfnOutput(
            self, "BridgeUrl", value=bridge.url, description="glyph chat: set GLYPH_BRIDGE_URL (or bridge_url) to this"
        )
        CfnOutput(self, "McpUrl", value=cdn.url + "/mcp", description="claude.ai: add a custom connector with this URL")
        CfnOutput(self, "ApiUrl", value=api.http_api.api_endpoint, description="The API behind CloudFront")
        CfnOutput(self, "TableName", value=storage.table.table_name)
        acknowledge_findings(self)
