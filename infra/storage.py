"""Storage: the single DynamoDB table, keyed by the shared names module."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from glyphmemory import names


class Storage(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=names.PK, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=names.SK, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # pennies at personal scale, no idle cost
            time_to_live_attribute=names.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,  # people's memories outlive the stack
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
        )
        # Sparse: only memory items carry the namespace and epoch attributes.
        self.table.add_global_secondary_index(
            index_name=names.GSI_BY_EPOCH,
            partition_key=dynamodb.Attribute(name=names.GSI_PARTITION, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=names.GSI_SORT, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.ALL,  # a page is one Query, no follow-up reads
        )
