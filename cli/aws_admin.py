"""AWS administration for `glyph init --aws`: the root key in SSM, the stack's outputs.

The only place outside the Lambda that imports boto3, and only when --aws is given.
"""

from __future__ import annotations

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from glyphmemory import names
from glyphmemory.errors import GlyphError, InvalidInput, Unavailable
from glyphmemory.keys import Key, new_key, parse_key

DEFAULT_STACK = names.STACK_NAME


def _aws_error(exc: Exception) -> GlyphError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "error")
        return InvalidInput(f"AWS refused: {code}. Check your credentials, region and permissions")
    return Unavailable("AWS cannot be reached: check your network and AWS configuration")


def ensure_root_key(param_name: str, *, force: bool = False, client=None) -> tuple[Key, bool]:
    """The root key in the SSM SecureString `param_name`, created when missing (or forced).

    Returns the key and whether this call created it. The value never leaves SSM and this
    machine: CloudFormation only ever sees the parameter's name.
    """
    ssm = client or boto3.client("ssm")
    try:
        if not force:
            try:
                value = ssm.get_parameter(Name=param_name, WithDecryption=True)["Parameter"]["Value"]
                return parse_key(value), False
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
                    raise
        key = new_key()
        ssm.put_parameter(
            Name=param_name,
            Value=f"{key.kid}:{key.secret_b32}",
            Type="SecureString",
            Overwrite=force,
            Description="GlyphMemory root key (kid:secret); read by the Lambda at cold start",
        )
        return key, True
    except (ClientError, BotoCoreError) as exc:
        raise _aws_error(exc) from None


def stack_outputs(stack_name: str = DEFAULT_STACK, *, client=None) -> dict[str, str]:
    cfn = client or boto3.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise InvalidInput(f"no stack named {stack_name}: deploy first (npx cdk deploy)") from None
        raise _aws_error(exc) from None
    except BotoCoreError as exc:
        raise _aws_error(exc) from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
