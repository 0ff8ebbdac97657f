"""API: an HTTP API (payload 2.0): the MCP connector's paths go to the connector function,
every other route to the memory function."""

from __future__ import annotations

import json

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from glyphmemory.http.core import CONNECTOR_ROUTES

# Access log fields: who, what route, how it went. Never the query string: tokens live there.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTime",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, destination: apigwv2.IAccessLogDestination, fmt: apigw.AccessLogFormat):
        self._destination, self._format = destination, fmt

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


RATE_LIMIT, BURST_LIMIT = 20, 40  # ample for one person; caps the bill if a token leaks


class Api(Construct):
    def __init__(
        self, scope: Construct, id: str, *, function: lambda_.IFunction, connector: lambda_.IFunction | None = None
    ) -> None:
        super().__init__(scope, id)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            default_integration=integrations.HttpLambdaIntegration(
                "Handler", function, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
            ),
            create_default_stage=False,
        )
        if connector is not None:
            to_connector = integrations.HttpLambdaIntegration(
                "Connector", connector, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
            )
            for path in CONNECTOR_ROUTES:
                self.http_api.add_routes(path=path, methods=[apigwv2.HttpMethod.ANY], integration=to_connector)
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.TWO_WEEKS)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=_AccessLogs(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        self.url = self.stage.url
