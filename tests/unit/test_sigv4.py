"""Signature Version 4: AWS's published test-suite vectors, and agreement with botocore's signer
on the requests this project really sends (DynamoDB and SSM, with a session token)."""

from __future__ import annotations

import hashlib
import json

import pytest

from glyphmemory.aws import sigv4

# The aws-sig-v4-test-suite's example credentials, time, region and service.
SUITE = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
AMZ_DATE = "20150830T123600Z"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
PREFIX = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="


@pytest.mark.parametrize(
    ("name", "method", "path", "query", "signature"),
    [
        ("get-vanilla", "GET", "/", [], "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (
            "get-vanilla-query-order-key-case",
            "GET",
            "/",
            [("Param2", "value2"), ("Param1", "value1")],
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        ("get-utf8", "GET", "/\u1234", [], "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        ("post-vanilla", "POST", "/", [], "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ],
)
def test_the_aws_sigv4_test_suite(name, method, path, query, signature):
    header = sigv4.authorization(
        SUITE,
        method=method,
        path=path,
        query=query,
        headers={"Host": "example.amazonaws.com", "X-Amz-Date": AMZ_DATE},
        payload_hash=EMPTY_SHA256,
        region="us-east-1",
        service="service",
        amz_date=AMZ_DATE,
    )
    assert header == PREFIX + signature, name


def test_the_signing_key_of_the_documented_derivation_example():
    # AWS's "deriving the signing key" example (IAM, 2012-02-15).
    key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


@pytest.mark.parametrize(
    ("service", "target", "content_type", "params"),
    [
        ("dynamodb", "DynamoDB_20120810.Query", "application/x-amz-json-1.0", {"TableName": "t", "Limit": 21}),
        ("ssm", "AmazonSSM.GetParameter", "application/x-amz-json-1.1", {"Name": "/glyph/key", "WithDecryption": True}),
    ],
)
def test_agrees_with_botocore_on_what_the_function_sends(service, target, content_type, params):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps(params).encode()
    host = f"{service}.eu-west-1.amazonaws.com"
    creds = sigv4.Credentials("ASIAEXAMPLE", "c2VjcmV0LWtleS1leGFtcGxl", "IQoJb3JpZ2luX2VjE-session")
    request = AWSRequest(
        method="POST",
        url=f"https://{host}/",
        data=body,
        headers={"Content-Type": content_type, "X-Amz-Target": target},
    )
    SigV4Auth(Credentials(creds.access_key, creds.secret_key, creds.token), service, "eu-west-1").add_auth(request)
    amz_date = request.headers["X-Amz-Date"]  # botocore reads the clock itself: sign at its time
    ours = sigv4.sign_headers(
        creds,
        method="POST",
        host=host,
        path="/",
        body=body,
        headers={"content-type": content_type, "x-amz-target": target},
        region="eu-west-1",
        service=service,
        amz_date=amz_date,
    )
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-security-token"] == creds.token


def test_a_different_body_or_secret_changes_the_signature():
    def sign(body: bytes, secret: str) -> str:
        return sigv4.sign_headers(
            sigv4.Credentials("AKIDEXAMPLE", secret),
            method="POST",
            host="h",
            path="/",
            body=body,
            headers={},
            region="us-east-1",
            service="dynamodb",
            amz_date=AMZ_DATE,
        )["authorization"]

    assert len({sign(b"{}", "a"), sign(b"{ }", "a"), sign(b"{}", "b")}) == 3


def test_credentials_never_print_the_secret():
    assert "wJalr" not in repr(SUITE) and "wJalr" not in str(SUITE)


@pytest.mark.parametrize(
    ("service", "host", "path", "headers"),
    [
        # post_to_connection: API Gateway's connection ids end in '=', sent as %3D
        ("execute-api", "abc123.execute-api.eu-west-1.amazonaws.com", "/prod/@connections/L0SM9cOFvHcCIhw%3D", {}),
        # an asynchronous Lambda invocation (the bridge's route starting its worker)
        (
            "lambda",
            "lambda.eu-west-1.amazonaws.com",
            "/2015-03-31/functions/glyph-bridge-worker/invocations",
            {"X-Amz-Invocation-Type": "Event"},
        ),
    ],
)
def test_agrees_with_botocore_on_the_bridges_rest_calls(service, host, path, headers):
    """REST paths are signed as the SDKs sign them: the sent (percent-encoded) path, encoded once more."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b'{"type":"delta","id":"q1","text":"hi"}'
    creds = sigv4.Credentials("ASIAEXAMPLE", "c2VjcmV0LWtleS1leGFtcGxl", "IQoJb3JpZ2luX2VjE-session")
    request = AWSRequest(
        method="POST", url=f"https://{host}{path}", data=body, headers={"Content-Type": "application/json", **headers}
    )
    SigV4Auth(Credentials(creds.access_key, creds.secret_key, creds.token), service, "eu-west-1").add_auth(request)
    ours = sigv4.sign_headers(
        creds,
        method="POST",
        host=host,
        path=path,
        body=body,
        headers={"content-type": "application/json", **{k.lower(): v for k, v in headers.items()}},
        region="eu-west-1",
        service=service,
        amz_date=request.headers["X-Amz-Date"],
    )
    assert ours["authorization"] == request.headers["Authorization"]
