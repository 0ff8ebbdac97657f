"""Call the real Lambda handler in-process with API Gateway payload 2.0 events."""

from __future__ import annotations

import json
import time

import pytest

from glyphmemory.aws_lambda import LambdaDoor
from glyphmemory.tokens import mint_window_token

from ..support.lambda_events import make_event


class Api:
    """A tiny client over the Lambda handler: what API Gateway would send and get back."""

    def __init__(self, key, door: LambdaDoor):
        self.key, self.door = key, door

    def restart(self) -> None:
        """A new container: it reads the settings again (a door reads them once, at its start)."""
        self.door.close()
        self.door = LambdaDoor(self.door.kind)

    def token(self, scope="rw", ttl=600):
        return mint_window_token(self.key.kid, self.key.secret, scope, int(time.time()) + ttl)

    def call(
        self, method, path, query="", *, body=None, scope="rw", headers=None, content_type="application/json", b64=False
    ):
        hdrs = {}
        if scope:
            hdrs["authorization"] = "Bearer " + self.token(scope)
        if body is not None and content_type:
            hdrs["content-type"] = content_type
        hdrs.update(headers or {})
        result = self.door.handle(make_event(method, path, query, hdrs, body, b64), None)
        assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
        return result

    def json(self, *args, **kwargs):
        result = self.call(*args, **kwargs)
        return result["statusCode"], (json.loads(result["body"]) if result["body"] else None)


@pytest.fixture
def api(store_url, root_key, monkeypatch):
    monkeypatch.setenv("GLYPH_STORE", store_url)
    monkeypatch.setenv("GLYPH_KEY", f"{root_key.kid}:{root_key.secret_b32}")
    door = LambdaDoor("api")  # each test is a fresh container
    yield Api(root_key, door)
    door.close()
