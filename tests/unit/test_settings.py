"""The settings: read once at a door's start (argument > environment > config file > default),
and never again from os.environ while requests are answered."""

from __future__ import annotations

import json
import os
import time

import pytest

from glyphmemory import names
from glyphmemory.aws_lambda import LambdaDoor
from glyphmemory.http import log
from glyphmemory.settings import FIELDS, ConfigFileError, Settings, SettingsError
from glyphmemory.tokens import mint_window_token

from ..support.lambda_events import make_event


def test_an_argument_beats_the_environment_which_beats_the_config_file(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"url": "http://from-file", "bridge_url": "ws://from-file", "anthropic_api_key": "sk-file"})
    )
    env = {names.ENV_URL: "http://from-env", names.ENV_ANTHROPIC_API_KEY: "sk-env"}
    s = Settings.load({"url": "http://from-argument"}, env, str(config))
    assert (s.url, s.anthropic_api_key, s.bridge_url) == ("http://from-argument", "sk-env", "ws://from-file")
    assert s.source == {"url": "argument", "anthropic_api_key": "ANTHROPIC_API_KEY", "bridge_url": str(config)}
    s = Settings.load(None, env, str(config))
    assert (s.url, s.source["url"]) == ("http://from-env", names.ENV_URL)
    s = Settings.load({"url": None}, {names.ENV_URL: ""}, str(config))  # None and "" are "not given"
    assert (s.url, s.source["url"]) == ("http://from-file", str(config))
    s = Settings.load(None, {}, str(tmp_path / "missing.json"))  # no file is no error
    assert (s.url, s.log_level, s.trust_forwarded, s.oauth_redirects, s.source) == (None, "INFO", False, (), {})


def test_the_config_file_gives_only_its_own_keys(tmp_path):
    """config.json holds url, bridge_url and anthropic_api_key; a store or key there is not read."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"store": "sqlite:///elsewhere.db", "key": "root:" + "A" * 32, "url": 7}))
    s = Settings.load(None, {}, str(config))
    assert (s.store, s.key, s.url) == (None, None, None)


def test_the_config_files_place_may_depend_on_the_environment(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"url": "http://home"}))
    seen = []

    def where(early: Settings) -> str:
        seen.append(early.home)
        return os.path.join(early.home, "config.json")

    assert Settings.load(None, {names.ENV_HOME: str(tmp_path)}, where).url == "http://home"
    assert seen == [str(tmp_path)]


@pytest.mark.parametrize("content", ["{oops", "[1, 2]", '"url"', "[" * 100_000])
def test_a_config_file_that_is_not_a_json_object_is_named_where_it_is_needed(tmp_path, content):
    config = tmp_path / "config.json"
    config.write_text(content)
    s = Settings.load(None, {names.ENV_BRIDGE_URL: "ws://from-env"}, str(config))
    with pytest.raises(ConfigFileError) as raised:
        s.given("url")
    assert str(config) in raised.value.detail
    assert (s.given("bridge_url"), s.given("store"), s.url) == ("ws://from-env", None, None)  # not from the file


@pytest.mark.parametrize(
    ("env", "value"),
    [(names.ENV_BRIDGE_TTL_S, "six"), (names.ENV_BRIDGE_BUDGET, "3e3"), (names.ENV_BRIDGE_TIMEOUT_S, "fast")],
)
def test_a_number_that_does_not_parse_names_its_variable(env, value):
    with pytest.raises(SettingsError) as raised:
        Settings.load(None, {env: value})
    assert env in raised.value.detail


def test_values_parse_by_kind():
    s = Settings.load(
        None,
        {
            names.ENV_TRUST_FORWARDED: "1",
            names.ENV_OAUTH_REDIRECTS: " https://a.example/cb ,, https://b.example/x ",
            names.ENV_BRIDGE_TTL_S: " 6 ",
            names.ENV_BRIDGE_TIMEOUT_S: "1.5",
            names.ENV_REDACT: "refuse",
        },
    )
    assert s.trust_forwarded is True and s.oauth_redirects == ("https://a.example/cb", "https://b.example/x")
    assert (s.bridge_ttl_s, s.bridge_timeout_s, s.refuse_secrets) == (6, 1.5, True)
    assert Settings.load(None, {names.ENV_TRUST_FORWARDED: "yes"}).trust_forwarded is False  # only "1"


def test_settings_are_frozen_and_never_show_a_secret():
    s = Settings.load(None, {names.ENV_KEY: "root:" + "S" * 32, names.ENV_BASIC_AUTH: "u:hunter2", "GLYPH_URL": "x"})
    with pytest.raises(AttributeError):
        s.url = "y"
    assert "S" * 32 not in repr(s) and "hunter2" not in repr(s) and "url='x'" in repr(s)
    changed = s.replace(url="z")
    assert (changed.url, s.url, changed.source["url"], changed.key) == ("z", "x", "argument", s.key)
    assert changed != s and s.replace(url="x") == s
    with pytest.raises(TypeError):
        Settings.load({"ulr": "typo"}, {})


def test_every_setting_is_named_in_names():
    """Each variable is a constant of glyphmemory.names, and no two settings share one."""
    constants = {v for k, v in vars(names).items() if k.startswith("ENV_")}
    envs = [env for _, env, *_ in FIELDS]
    assert set(envs) <= constants and len(set(envs)) == len(envs)


class _NoEnvironment(dict):
    """os.environ after the start: any read fails the test."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError(f"os.environ read while answering a request: {args[:1]}")

    __getitem__ = get = __contains__ = __iter__ = keys = items = copy = _refuse


def test_a_door_answers_requests_without_reading_the_environment(tmp_path, monkeypatch, root_key, capsys):
    """The settings are read at the door's first event; every request after that (a write that
    hits the secret rule, the links /r hands out, forwarded headers, a page of memories, the log
    line) reads none of os.environ."""
    for name, value in {
        names.ENV_STORE: f"sqlite:///{tmp_path}/glyph.db",
        names.ENV_KEY: f"{root_key.kid}:{root_key.secret_b32}",
        names.ENV_REDACT: "refuse",
        names.ENV_TRUST_FORWARDED: "1",
        names.ENV_LOG_LEVEL: "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(log, "_threshold", log._threshold)  # the level this test's door sets goes back
    door = LambdaDoor("api")

    def call(method, path, query="", body=None, headers=None):
        token = mint_window_token(root_key.kid, root_key.secret, "rw", int(time.time()) + 600)
        hdrs = {"authorization": f"Bearer {token}", "content-type": "application/json", **(headers or {})}
        result = door.handle(make_event(method, path, query, hdrs, body))
        return result["statusCode"], result["body"]

    assert call("GET", "/v1/memories")[0] == 200  # the first event: the container's start
    monkeypatch.setattr(os, "environ", _NoEnvironment())
    try:
        assert call("POST", "/v1/memories", body={"text": "uses pytest"})[0] == 201
        status, body = call("POST", "/v1/memories", body={"text": "key AKIAIOSFODNN7EXAMPLE"})
        assert status == 422 and "aws-access-key" in body  # GLYPH_REDACT=refuse, as read at the start
        forwarded = {"x-forwarded-host": "memory.example.org", "x-forwarded-proto": "https"}
        link = "t=" + mint_window_token(root_key.kid, root_key.secret, "rw", int(time.time()) + 600)
        status, body = call("GET", "/r", link, headers=forwarded)
        assert status == 200 and "https://memory.example.org/w?t=" in body  # GLYPH_TRUST_FORWARDED=1
        assert call("GET", "/v1/memories", "limit=1")[0] == 200
        assert call("GET", "/v1/nothing-here")[0] == 404
    finally:
        monkeypatch.undo()
        door.close()
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [line["status"] for line in logged if line["msg"] == "request"] == [422, 404]  # WARNING, as read


def test_forwarded_headers_and_the_public_url_come_from_the_start(tmp_path, monkeypatch, root_key):
    """GLYPH_TRUST_FORWARDED and GLYPH_PUBLIC_URL changed after the start change nothing: the
    links /r hands out follow what the door read (a new container reads them again)."""
    monkeypatch.setenv(names.ENV_STORE, f"sqlite:///{tmp_path}/glyph.db")
    monkeypatch.setenv(names.ENV_KEY, f"{root_key.kid}:{root_key.secret_b32}")
    monkeypatch.setenv(names.ENV_TRUST_FORWARDED, "1")
    forwarded = {"x-forwarded-host": "memory.example.org", "x-forwarded-proto": "https"}

    def links(door) -> str:
        token = mint_window_token(root_key.kid, root_key.secret, "rw", int(time.time()) + 600)
        return door.handle(make_event("GET", "/r", f"t={token}", forwarded))["body"]

    door = LambdaDoor("api")
    assert "https://memory.example.org/w?t=" in links(door)
    monkeypatch.setenv(names.ENV_PUBLIC_URL, "https://glyph.example.net")
    assert "https://memory.example.org/w?t=" in links(door)  # read at the start, not now
    door.close()
    door = LambdaDoor("api")
    assert "https://glyph.example.net/w?t=" in links(door)
    door.close()


def test_a_setting_that_does_not_parse_is_a_503_naming_it(tmp_path, monkeypatch, root_key):
    monkeypatch.setenv(names.ENV_STORE, f"sqlite:///{tmp_path}/glyph.db")
    monkeypatch.setenv(names.ENV_KEY, f"{root_key.kid}:{root_key.secret_b32}")
    monkeypatch.setenv(names.ENV_BRIDGE_TTL_S, "soon")
    door = LambdaDoor("api")
    result = door.handle(make_event("GET", "/v1/memories"))
    assert result["statusCode"] == 503 and names.ENV_BRIDGE_TTL_S in json.loads(result["body"])["detail"]
    assert root_key.secret_b32 not in result["body"]
