"""The standard-library AWS client against a real local HTTP server: the SDK's retry rules,
error codes as AWS sends them, keep-alive, and the CA file it trusts for AWS's own endpoints."""

from __future__ import annotations

import json
import ssl
import time

import pytest

from glyphmemory.aws.client import AWS_ROOTS, AwsError, AwsJsonClient, AwsUnreachable

from ..support.fake_server import LocalServer, QuietHandler, send_body


class FakeAws(LocalServer):
    """Answers each call with the next (status, body) of `script`, recording what it got."""

    def __init__(self, script):
        self.script, self.calls, self.connections = list(script), [], set()
        super().__init__(_Handler)


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.calls.append(
            {
                "target": self.headers["X-Amz-Target"],
                "auth": self.headers["Authorization"],
                "token": self.headers.get("X-Amz-Security-Token"),
                "body": json.loads(body),
            }
        )
        self.server.connections.add(self.client_address)
        status, answer = self.server.script.pop(0)
        send_body(self, status, json.dumps(answer).encode(), "application/x-amz-json-1.0")


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-session-token")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


def client_for(server: FakeAws, monkeypatch, **options) -> AwsJsonClient:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    return AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0", **options)


def throttled(code="ThrottlingException"):
    return 400, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "slow down"}


def test_a_signed_call_over_one_kept_alive_connection(aws_env, monkeypatch):
    server = FakeAws([(200, {"Items": []}), (200, {"Items": [{"id": {"S": "x"}}]})])
    client = client_for(server, monkeypatch)
    assert client.call("Query", {"TableName": "t"}) == {"Items": []}
    assert client.call("Query", {"TableName": "t"})["Items"][0]["id"] == {"S": "x"}
    first = server.calls[0]
    assert first["target"] == "DynamoDB_20120810.Query" and first["body"] == {"TableName": "t"}
    assert (
        first["auth"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        and "/eu-west-1/dynamodb/aws4_request" in first["auth"]
    )
    assert first["token"] == "the-session-token"
    assert len(server.connections) == 1  # both calls on one connection


def test_throttling_and_5xx_are_retried_with_backoff_until_the_attempts_run_out(aws_env, monkeypatch):
    server = FakeAws([throttled(), (500, {"message": "internal"}), (200, {"ok": True})])
    assert client_for(server, monkeypatch, max_attempts=3).call("GetItem", {}) == {"ok": True}
    server = FakeAws([throttled("ProvisionedThroughputExceededException")] * 2)
    with pytest.raises(AwsError) as info:
        client_for(server, monkeypatch, max_attempts=2).call("GetItem", {})
    assert info.value.code == "ProvisionedThroughputExceededException" and len(server.calls) == 2


def test_a_client_error_is_not_retried_and_keeps_its_body(aws_env, monkeypatch):
    held = {"id": {"S": "01M7YSECJGJP6V29PGWMX1NE6V"}}
    server = FakeAws(
        [
            (
                400,
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                    "message": "no",
                    "Item": held,
                },
            )
        ]
    )
    with pytest.raises(AwsError) as info:
        client_for(server, monkeypatch).call("PutItem", {})
    assert info.value.code == "ConditionalCheckFailedException" and info.value.body["Item"] == held
    assert len(server.calls) == 1


def test_retries_stop_at_the_deadline(aws_env, monkeypatch):
    server = FakeAws([throttled()] * 10)
    client = client_for(server, monkeypatch, max_attempts=10, deadline_s=0.3, base_delay_s=0.2)
    started = time.monotonic()
    with pytest.raises(AwsError):
        client.call("GetItem", {})
    assert time.monotonic() - started < 0.6 and len(server.calls) < 10


def test_nothing_listening_is_unreachable(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    client = AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0", connect_timeout=0.2, max_attempts=2)
    with pytest.raises(AwsUnreachable):
        client.call("GetItem", {})


def test_no_region_is_a_clear_error(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(AwsUnreachable, match="AWS_REGION"):
        AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0")


def test_aws_endpoints_are_verified_against_amazons_roots_only(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    client = AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0")
    assert client.host == "dynamodb.eu-west-1.amazonaws.com" and client._cafile == AWS_ROOTS
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0")._cafile == "/etc/ssl/certs/ca-certificates.crt"


def test_the_shipped_roots_are_the_systems_own_amazon_and_starfield_roots():
    with open(AWS_ROOTS, encoding="ascii") as fh:
        pem = fh.read()
    blocks = [b.split("-----END CERTIFICATE-----")[0] for b in pem.split("-----BEGIN CERTIFICATE-----")[1:]]
    ours = {ssl.PEM_cert_to_DER_cert(f"-----BEGIN CERTIFICATE-----{b}-----END CERTIFICATE-----\n") for b in blocks}
    system = ssl.create_default_context()
    trusted = {cert for cert in system.get_ca_certs(binary_form=True)}
    assert len(ours) == 5 and ours <= trusted
    context = ssl.create_default_context(cafile=AWS_ROOTS)
    subjects = {dict(x[0] for x in c["subject"])["commonName"] for c in context.get_ca_certs()}
    assert subjects == {
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
        "Starfield Services Root Certificate Authority - G2",
    }


def test_a_429_is_retried_whatever_its_error_code(aws_env, monkeypatch):
    # The JSON calls retried a 429 only by its code, the REST calls by its status: one rule now.
    server = FakeAws([(429, {"__type": "SlowDown", "message": "later"}), (200, {"ok": True})])
    assert client_for(server, monkeypatch, max_attempts=2).call("GetItem", {}) == {"ok": True}
    assert len(server.calls) == 2
