"""The root key lives in an SSM SecureString the stack only names, never holds."""

from __future__ import annotations

from aws_cdk import Arn, ArnComponents, ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from glyphmemory import names

DEFAULT_KEY_PARAM = names.DEFAULT_KEY_PARAM


class KeyParameter(Construct):
    def __init__(self, scope: Construct, id: str, *, key_param_name: str) -> None:
        super().__init__(scope, id)
        if not key_param_name.startswith("/"):
            raise ValueError("keyParam must be an SSM parameter path such as /glyphmemory/root-key")
        stack = Stack.of(self)
        self.key_param_name = key_param_name
        # ArnComponents, not a dict: jsii drops dict keys it does not map (resource_name).
        self.key_param_arn = Arn.format(
            ArnComponents(
                service="ssm",
                resource="parameter",
                resource_name=key_param_name.lstrip("/"),
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
            stack,
        )
        self._kms_keys_arn = Arn.format(
            ArnComponents(service="kms", resource="key", resource_name="*", arn_format=ArnFormat.SLASH_RESOURCE_NAME),
            stack,
        )

    def grant_read(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[self.key_param_arn])
        )
        # SecureStrings use the account's aws/ssm key, whose id the stack cannot know; the
        # condition limits decryption to calls SSM makes on the function's behalf.
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self._kms_keys_arn],
                conditions={"StringEquals": {"kms:ViaService": f"ssm.{Stack.of(self).region}.amazonaws.com"}},
            )
        )
