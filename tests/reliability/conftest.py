"""Real servers for the reliability suite: `glyph serve` on a SQLite file or on moto's DynamoDB."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from glyphmemory.aws_lambda import LambdaDoor
from glyphmemory.keys import Key, load_key_file
from glyphmemory.tokens import mint_window_token

from ..support.lambda_events import make_event
from ..support.processes import clean_env, start_glyph_serve, stop


class Served:
    """A running `glyph serve` and what a client needs to talk to it."""

    def __init__(self, proc, url: str, env: dict, home):
        self.proc, self.url, self.env, self.home = proc, url, env, home

    @property
    def key(self) -> Key:
        return load_key_file(str(self.home / "key.json"))

    def token(self, scope: str = "rw") -> str:
        return mint_window_token(self.key.kid, self.key.secret, scope, int(time.time()) + 3600)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": "Bearer " + self.token()}, timeout=30, **kwargs
        )

    def all_memories(self) -> list[dict]:
        with self.client() as client:
            return read_all(lambda query: client.get("/v1/memories?" + query).json())


def read_all(get) -> list[dict]:
    """Every memory of the default namespace, newest first, page by page through the API."""
    items, query = [], "limit=100"
    while True:
        page = get(query)
        items += page["items"]
        if not page["next"]:
            return items
        query = "limit=100&before=" + page["next"]


def serve(home, **extra: str) -> Served:
    env = clean_env(GLYPH_HOME=str(home), **extra)
    proc, url = start_glyph_serve(env)
    return Served(proc, url, env, home)


@pytest.fixture(params=["sqlite", "dynamodb"])
def served(request, tmp_path):
    """glyph serve on each store: its SQLite default, or a fresh DynamoDB table on moto."""
    extra = {}
    if request.param == "dynamodb":
        table = request.getfixturevalue("dynamo_table")
        extra = {
            "GLYPH_STORE": f"dynamodb://{table}",
            "AWS_ENDPOINT_URL_DYNAMODB": os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
        }
    server = serve(tmp_path / "home", **extra)
    yield server
    stop(server.proc)


@pytest.fixture
def lambda_env(dynamo_table, root_key, monkeypatch):
    """The Lambda handler's configuration on a fresh moto table, for this process and its children."""
    env = {"GLYPH_STORE": f"dynamodb://{dynamo_table}", "GLYPH_KEY": f"{root_key.kid}:{root_key.secret_b32}"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return clean_env(**env)


def lambda_get(root_key: Key, path: str, query: str) -> dict:
    token = mint_window_token(root_key.kid, root_key.secret, "r", int(time.time()) + 600)
    door = LambdaDoor("api")
    try:
        result = door.handle(make_event("GET", path, query, {"authorization": "Bearer " + token}), None)
    finally:
        door.close()
    assert result["statusCode"] == 200, result["body"]
    return json.loads(result["body"])
