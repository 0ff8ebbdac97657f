"""`glyph init --aws` against moto's SSM and CloudFormation, run as a real command."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from glyphmemory.keys import load_key_file

from ..support.processes import clean_env
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e

STACK_TEMPLATE = {
    "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    "Outputs": {
        "CloudFrontUrl": {"Value": "https://d111example.cloudfront.net"},
        "ApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com"},
        "TableName": {"Value": "GlyphMemory-Table"},
    },
}


def aws_env(home, moto_url):
    return clean_env(
        GLYPH_HOME=str(home),
        AWS_ENDPOINT_URL=moto_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )


def test_init_aws_creates_the_key_in_ssm_and_reads_the_stack(tmp_path, moto_url):
    param = f"/glyph/{tmp_path.name}/root"
    env = aws_env(tmp_path / "laptop", moto_url)
    first = json.loads(glyph(env, "init", "--aws", "--param", param, "--json").stdout)
    assert first["created"] is True and first["key_param"] == param
    stored = boto3.client("ssm").get_parameter(Name=param, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString"
    local = load_key_file(str(tmp_path / "laptop" / "key.json"))
    assert stored["Value"] == f"{local.kid}:{local.secret_b32}"

    # Again: nothing is replaced. On another machine: the same key arrives from SSM.
    assert json.loads(glyph(env, "init", "--aws", "--param", param, "--json").stdout)["created"] is False
    other = aws_env(tmp_path / "phone-laptop", moto_url)
    glyph(other, "init", "--aws", "--param", param, "--json")
    assert load_key_file(str(tmp_path / "phone-laptop" / "key.json")).secret == local.secret

    # After deploy: the stack's outputs point the CLI at CloudFront.
    boto3.client("cloudformation").create_stack(StackName="GlyphMemory", TemplateBody=json.dumps(STACK_TEMPLATE))
    out = json.loads(glyph(env, "init", "--aws", "--param", param, "--stack", "GlyphMemory", "--json").stdout)
    assert out["url"] == "https://d111example.cloudfront.net"
    config = json.loads((tmp_path / "laptop" / "config.json").read_text())
    assert config["url"] == out["url"] and config["stack"] == "GlyphMemory"
    assert oct(os.stat(tmp_path / "laptop" / "config.json").st_mode & 0o777) == "0o600"

    # --force rotates the key in SSM and locally.
    rotated = json.loads(glyph(env, "init", "--aws", "--param", param, "--force", "--json").stdout)
    assert rotated["created"] is True
    assert load_key_file(str(tmp_path / "laptop" / "key.json")).secret != local.secret


def test_init_aws_errors(tmp_path, moto_url):
    env = aws_env(tmp_path / "h", moto_url)
    missing = glyph(env, "init", "--aws", "--param", f"/glyph/{tmp_path.name}/k", "--stack", "NoSuchStack", check=False)
    assert missing.returncode == 1 and "NoSuchStack" in missing.stderr
    # A different local key is never overwritten silently.
    glyph(aws_env(tmp_path / "mine", moto_url), "init")
    clash = glyph(
        aws_env(tmp_path / "mine", moto_url), "init", "--aws", "--param", f"/glyph/{tmp_path.name}/k", check=False
    )
    assert clash.returncode == 1 and "--force" in clash.stderr


def test_the_cli_reads_without_importing_boto3(tmp_path):
    code = "import sys; from glyph_cli.main import main; main(['recent']); print('boto3' in sys.modules)"
    import subprocess
    import sys

    env = clean_env(GLYPH_HOME=str(tmp_path), GLYPH_URL="http://127.0.0.1:9", GLYPH_KEY="root:" + "A" * 32)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "False"
