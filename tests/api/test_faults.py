"""Storage faults through the Lambda handler: throttling and outages are 503, never 500."""

from __future__ import annotations

import json

import pytest

from glyphmemory.aws_lambda import LambdaDoor

from ..support.processes import set_throttle
from .conftest import Api


@pytest.fixture
def dynamo_api(dynamo_table, root_key, monkeypatch):
    monkeypatch.setenv("GLYPH_STORE", f"dynamodb://{dynamo_table}")
    monkeypatch.setenv("GLYPH_KEY", f"{root_key.kid}:{root_key.secret_b32}")
    door = LambdaDoor("api")
    yield Api(root_key, door)
    door.close()


def assert_503(result):
    assert result["statusCode"] == 503, result["body"]
    assert result["headers"]["Content-Type"] == "application/problem+json"
    assert int(result["headers"]["Retry-After"]) > 0
    assert "Traceback" not in result["body"] and json.loads(result["body"])["detail"]


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_throttling_is_503_with_retry_after(dynamo_api, dynamo_table, code):
    set_throttle(dynamo_table, True, code)
    try:
        assert_503(dynamo_api.call("GET", "/v1/memories", scope="r"))
        assert_503(dynamo_api.call("POST", "/v1/memories", body={"text": "during a throttle"}))
    finally:
        set_throttle(dynamo_table, False)
    assert dynamo_api.call("GET", "/v1/memories", scope="r")["statusCode"] == 200


def test_a_stopped_dynamodb_is_503(dynamo_api, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # nothing listens there
    assert_503(dynamo_api.call("GET", "/v1/memories", scope="r"))
    assert_503(dynamo_api.call("POST", "/v1/memories", body={"text": "during an outage"}))
    result = dynamo_api.call("GET", "/r", f"t={dynamo_api.token('r')}", scope=None)
    assert result["statusCode"] == 503 and result["body"].startswith("Error 503:")
