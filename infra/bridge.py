"""The conversation bridge on AWS: an API Gateway WebSocket API with a Lambda authorizer on
$connect (the window token in the query string), a route function that answers at once and
starts a worker asynchronously, and the worker that streams Claude's answer back through
post_to_connection. The Anthropic API key is an SSM SecureString the stack only names."""

from __future__ import annotations

import json

from aws_cdk import Arn, ArnComponents, ArnFormat, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from glyphmemory import names

from .api import ACCESS_LOG_FORMAT, _AccessLogs
from .function import Function
from .key_param import KeyParameter

STAGE = "prod"
# 10 messages a second, bursts of 20: ample for one person; caps the bill if a token leaks.
RATE_LIMIT, BURST_LIMIT = 10, 20
WORKER_TIMEOUT_S = 300  # a long answer streams for a minute or two; Claude's own limit is far above


class Bridge(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.Table,
        secrets: KeyParameter,
        anthropic_key_param: str,
        model: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        anthropic = KeyParameter(self, "AnthropicKey", key_param_name=anthropic_key_param)
        common = {"table": table, "secrets": secrets, "kind": "bridge"}
        worker_env = {names.ENV_ANTHROPIC_KEY_PARAM: anthropic.key_param_name}
        if model:
            worker_env[names.ENV_BRIDGE_MODEL] = model
        self.worker = Function(
            self, "Worker", handler="handler.work", timeout_s=WORKER_TIMEOUT_S, environment=worker_env, **common
        )
        self.route = Function(
            self,
            "Route",
            handler="handler.route",
            environment={names.ENV_BRIDGE_WORKER: self.worker.function.function_name},
            **common,
        )
        self.authorizer = Function(self, "Authorizer", handler="handler.authorize", memory_size=256, **common)
        anthropic.grant_read(self.worker.role)
        # The function itself, not grant_invoke's "ARN:*" (every version and alias).
        self.route.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.worker.function.function_arn])
        )

        to_route = integrations.WebSocketLambdaIntegration("Route", self.route.function)
        self.api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            description="GlyphMemory conversation bridge",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=to_route,
                authorizer=authorizers.WebSocketLambdaAuthorizer(
                    "Token", self.authorizer.function, identity_source=["route.request.querystring.t"]
                ),
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=to_route),
            default_route_options=apigwv2.WebSocketRouteOptions(integration=to_route),
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.TWO_WEEKS)
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=_AccessLogs(
                apigwv2.LogGroupLogDestination(self.access_logs),
                # No query string: the token rides in it at $connect.
                apigw.AccessLogFormat.custom(json.dumps({**ACCESS_LOG_FORMAT, "route": "$context.routeKey"})),
            ),
        )
        connections = Arn.format(
            ArnComponents(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{STAGE}/POST/@connections/*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
            Stack.of(self),
        )
        for function in (self.route, self.worker):
            function.role.add_to_policy(
                iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=[connections])
            )
        self.url = self.stage.url
