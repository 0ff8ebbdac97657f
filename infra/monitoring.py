"""Monitoring: alarms on function errors and throttles and API 5xx, to an SNS topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.Function,
        connector: lambda_.Function | None = None,
        http_api: apigwv2.HttpApi,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        period = Duration.minutes(5)
        metrics = {
            "FunctionErrors": function.metric_errors(period=period, statistic="Sum"),
            "FunctionThrottles": function.metric_throttles(period=period, statistic="Sum"),
            "Api5xx": http_api.metric_server_error(period=period, statistic="Sum"),
        }
        if connector is not None:
            metrics["ConnectorErrors"] = connector.metric_errors(period=period, statistic="Sum")
            metrics["ConnectorThrottles"] = connector.metric_throttles(period=period, statistic="Sum")
        self.alarms = []
        for name, metric in metrics.items():
            alarm = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms.append(alarm)
