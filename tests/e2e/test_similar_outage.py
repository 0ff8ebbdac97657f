"""`similar` is advice (DESIGN §17): when the store cannot answer the look for similar memories
after the memory is stored (throttled reads on DynamoDB), the write still answers what happened,
201 and stored, with no similar ones, never a 503 for a memory that is in the store (its client
would retry it into an `already saved` it never saw saved). glyph serve as a real process on
DynamoDB through moto, behind an HTTP proxy that throttles the reads a search makes."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from ..support.forwarding_proxy import ForwardingProxy
from ..support.processes import clean_env, start_glyph_serve, stop
from .test_glyph_serve import bearer, glyph

pytestmark = pytest.mark.e2e
SEARCH_READS = {"DynamoDB_20120810.Query", "DynamoDB_20120810.BatchGetItem"}
THROTTLED = json.dumps(
    {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate of requests exceeds"}
).encode()


class ThrottlingProxy(ForwardingProxy):
    """Forwards to moto; while `throttle` is set, answers the calls in SEARCH_READS with 400
    ThrottlingException, as DynamoDB does, and counts them."""

    def __init__(self, target: str):
        self.throttle, self.throttled = False, 0
        super().__init__(target)

    def answer(self, request, body):
        if not (self.throttle and request.headers.get("X-Amz-Target") in SEARCH_READS):
            return None
        self.throttled += 1
        return 400, [("Content-Type", "application/x-amz-json-1.0")], THROTTLED


def test_a_write_is_answered_as_stored_when_the_look_for_similar_ones_is_throttled(dynamo_table, tmp_path):
    proxy = ThrottlingProxy(os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    env = clean_env(
        GLYPH_HOME=str(tmp_path / "home"),
        GLYPH_STORE="dynamodb://" + dynamo_table,
        AWS_ENDPOINT_URL_DYNAMODB=proxy.url,
    )
    proc, url = start_glyph_serve(env)
    env["GLYPH_URL"] = url
    try:
        glyph(env, "write", "The team standup is at 9:30 every weekday")
        proxy.throttle = True
        headers = bearer(tmp_path / "home")
        answer = httpx.post(
            f"{url}/v1/memories",
            json={"text": "Daily standup happens at 9:30 on weekdays"},
            headers=headers,
            timeout=60,
        )
        proxy.throttle = False
        assert proxy.throttled > 0  # the look for similar memories was throttled
        assert answer.status_code == 201, answer.text
        assert answer.json()["similar"] == [] and answer.json()["duplicate"] is False
        recent = glyph(env, "recent", "--json").stdout
        assert answer.json()["id"] in recent
    finally:
        stop(proc)
        proxy.close()
