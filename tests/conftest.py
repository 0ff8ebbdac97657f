"""Fixtures that build real things: a moto DynamoDB server over HTTP, SQLite files, stores."""

from __future__ import annotations

import os
import uuid

import pytest

from glyphmemory.keys import Key, new_key
from glyphmemory.model import Clock

from .support.processes import clean_env, glyph_served, start_moto, stop

# boto3 must never find real credentials or a profile from the machine running the tests.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
)


@pytest.fixture(scope="session")
def moto_url():
    """A moto server on 127.0.0.1 (free port); boto3 reaches it over HTTP."""
    proc, url = start_moto()
    # Every AWS service the tests touch (DynamoDB, SSM, CloudFormation) goes to moto.
    os.environ["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = url
    yield url
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    stop(proc)


@pytest.fixture
def dynamo_table(moto_url):
    """A fresh table, created as the CDK app defines it, per test."""
    return new_dynamo_table()


def new_dynamo_table() -> str:
    """Create a table as the CDK app defines it (moto must be running) and return its name."""
    import boto3

    from glyphmemory.stores.dynamodb import table_definition

    name = f"glyph-{uuid.uuid4().hex[:12]}"
    boto3.client("dynamodb").create_table(**table_definition(name))
    return name


def make_store(kind: str, request, tmp_path):
    if kind == "sqlite":
        from glyphmemory.stores.sqlite import SqliteStore

        return SqliteStore(str(tmp_path / "glyph.db"))
    from glyphmemory.stores.dynamodb import DynamoStore

    return DynamoStore(request.getfixturevalue("dynamo_table"))


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):
    """Each test that takes `store` runs on both stores: the contract."""
    s = make_store(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/glyph.db"
    return "dynamodb://" + request.getfixturevalue("dynamo_table")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def root_key() -> Key:
    return new_key()


@pytest.fixture
def served_home(tmp_path):
    """glyph serve (a real process) on its own GLYPH_HOME under tmp_path, with its default
    store: (its URL, the home, the CLI's environment naming it)."""
    home = str(tmp_path / "home")
    env = clean_env(GLYPH_HOME=home)
    with glyph_served(env) as url:
        yield url, home, env
