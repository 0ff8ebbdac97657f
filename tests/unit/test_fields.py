"""A memory's fields are declared once (model.FIELDS): for every field, its check, each place
/openapi.json states it (a body's member, a query parameter) and each MCP tool argument that
takes it agree on members of every kind: at a limit and one past it, each refused character
class, each wrong type."""

from __future__ import annotations

import asyncio
import re

import pytest
from jsonschema import Draft202012Validator

from glyphmemory.errors import InvalidInput
from glyphmemory.http import auth_routes, chat_routes, routes
from glyphmemory.http.core import Router
from glyphmemory.http.openapi import openapi_document
from glyphmemory.model import FIELDS, KEY_NAME

# field: [(value, accepted)]; values that need no normalising (a schema does not trim or NFC).
MEMBERS = {
    "text": [
        ("x", True),
        ("line one\nline two\tand a tab\r\nthree", True),
        ("emoji 🎉 and ünïcode", True),
        ("", False),
        (" \n\t ", False),
        ("escape \x1b]52;c;x\x07", False),
        ("nul \x00", False),
        ("backspace \x08", False),
        ("C1 \x85 next line", False),
        ("DEL \x7f", False),
        (42, False),
        (["x"], False),
    ],
    "namespace": [
        ("a" * 64, True),
        ("a" * 65, False),
        ("default", True),
        ("0.x_y-z", True),
        ("", False),
        ("Upper", False),
        ("-dash-first", False),
        (".dot-first", False),
        ("with space", False),
        ("ünï", False),
        ("a/b", False),
        (7, False),
    ],
    "tag": [
        ("t" * 64, True),
        ("t" * 65, False),
        ("two words", True),
        ("café", True),
        ("🎉", True),
        ("", False),
        ("   ", False),
        ("a,b", False),
        ("bell\x07", False),
        ("new\nline", False),
        ("tab\there", False),
        ("C1\x9b", False),
        (["a"], False),
    ],
    "tags": [
        ([], True),
        ([f"t{i}" for i in range(16)], True),
        ([f"t{i}" for i in range(17)], False),
        (["ok", "t" * 64], True),
        (["ok", "t" * 65], False),
        (["ok", ""], False),
        (["ok", "a,b"], False),
        (["ok", "esc\x1b"], False),
        (["ok", 1], False),
        ("ok", False),
    ],
    "source": [
        ("s" * 64, True),
        ("s" * 65, False),
        ("chat bot", True),
        ("", False),
        ("   ", False),
        ("a\x00b", False),
        ("tab\tin", False),
        ("C1\x80", False),
        (1, False),
    ],
    "session": [
        ("s" * 128, True),
        ("s" * 129, False),
        ("2026-11-30 planning", True),
        ("", False),
        (" ", False),
        ("line\nbreak", False),
        ("DEL\x7f", False),
        (["s"], False),
    ],
    "ttl_days": [
        (1, True),
        (0.5, True),
        (3650, True),
        (3650.5, False),
        (3651, False),
        (0, False),
        (-1, False),
        ("7", False),
        (True, False),
    ],
}
# What a pattern cannot state, so only the check refuses it (the schema's description says it).
BEYOND_A_SCHEMA = {
    "text": ["\u200b\u2060\ufeff", "x" * (32 * 1024 + 1), "é" * (16 * 1024 + 1)],  # invisible only; over 32 KiB
}
# The query parameters that take a field as it is (/w's tags are one comma-separated string).
QUERY_NAMES = {"namespace": ("namespace", "ns"), "tag": ("tag",), "source": ("source",)}


def _openapi_places() -> dict[str, list[tuple[str, dict]]]:
    router = Router.joined([routes.ROUTER, auth_routes.ROUTER, chat_routes.ROUTER])
    document = openapi_document([r for r in router.routes if r.doc[0]], "http://127.0.0.1")
    places: dict[str, list[tuple[str, dict]]] = {name: [] for name in FIELDS}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for member, schema in body.get("properties", {}).items():
                if member in FIELDS:
                    places[member].append((f"{where} body {member}", schema))
            for param in operation.get("parameters", []):
                for name in FIELDS:
                    if param["name"] in QUERY_NAMES.get(name, ()) and param["in"] == "query":
                        places[name].append((f"{where} ?{param['name']}", param["schema"]))
    return places


def _mcp_places() -> dict[str, list[tuple[str, dict]]]:
    from glyphmemory.mcp_tools import build_server

    tools = asyncio.run(build_server(None).list_tools())
    places: dict[str, list[tuple[str, dict]]] = {name: [] for name in FIELDS}
    for tool in tools:
        for member, schema in tool.input_schema.get("properties", {}).items():
            if member in FIELDS:
                places[member].append((f"tool {tool.name}({member})", schema))
    return places


@pytest.fixture(scope="module")
def places():
    openapi, mcp = _openapi_places(), _mcp_places()
    return {name: openapi[name] + mcp[name] for name in FIELDS}, openapi, mcp


def _checked(name: str, value) -> bool:
    try:
        FIELDS[name].check(value)
    except InvalidInput:
        return False
    return True


def test_every_field_is_stated_where_a_door_takes_it(places):
    _, openapi, mcp = places
    assert set(MEMBERS) == set(FIELDS)
    assert all(openapi[name] for name in FIELDS), {n: p for n, p in openapi.items() if not p}
    # The MCP tools take these (source is the tool's own, mcp; sessions and expiry are not asked of a model).
    assert {name for name, found in mcp.items() if found} == {"text", "namespace", "tags", "tag"}


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_the_check_and_every_schema_agree_on_each_kind_of_member(places, name):
    everywhere, _, _ = places
    for value, accepted in MEMBERS[name]:
        assert _checked(name, value) is accepted, (name, value, "the check")
        for where, schema in everywhere[name]:
            assert Draft202012Validator(schema).is_valid(value) is accepted, (where, value, schema)


@pytest.mark.parametrize("name", sorted(BEYOND_A_SCHEMA))
def test_what_no_pattern_can_state_is_refused_by_the_check_and_described(places, name):
    everywhere, _, _ = places
    for value in BEYOND_A_SCHEMA[name]:
        assert not _checked(name, value), value[:20]
        assert all(Draft202012Validator(schema).is_valid(value) for _, schema in everywhere[name])
    assert "bytes of UTF-8" in FIELDS["text"].description


def test_the_checks_answer_the_sentences_every_door_shows():
    sentences = {
        "namespace": ("Not Valid", "namespace must be 1-64 characters of lower-case letters"),
        "tag": ("a,b", "a tag may not contain commas or control characters"),
        "tags": (["t"] * 17, "tags has 17 entries; at most 16 are allowed"),
        "source": ("", "source must be a non-empty string of at most 64 characters"),
        "session": ("a\x00", "session may not contain control characters"),
        "ttl_days": (0, "ttl_days must be more than 0 and at most 3650"),
        "text": ("a\x1b", "text contains the control character U+001B"),
    }
    assert set(sentences) == set(FIELDS)
    for name, (value, sentence) in sentences.items():
        with pytest.raises(InvalidInput, match=re.escape(sentence)):
            FIELDS[name].check(value)


def test_a_device_keys_name_is_one_label_rule_too():
    router = Router.joined([auth_routes.ROUTER])
    document = openapi_document([r for r in router.routes if r.doc[0]], "http://127.0.0.1")
    body = document["paths"]["/v1/keys"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = body["properties"]["name"]
    members = [("n" * 64, True), ("n" * 65, False), ("phone", True), ("", False), ("  ", False), ("a\x1bb", False)]
    for value, accepted in members + [(3, False)]:
        try:
            KEY_NAME.check(value)
            checked = True
        except InvalidInput:
            checked = False
        assert checked is accepted and Draft202012Validator(schema).is_valid(value) is accepted, value


def test_a_token_requests_checked_members_agree_with_its_schema():
    """A body's members given as a FieldSpec are checked as the App reads the body, by the rule
    its schema states (the token request's scope and ttl_s)."""
    schema = auth_routes.TOKEN_REQUEST.schema()["properties"]
    checks = auth_routes.TOKEN_REQUEST.checks
    members = {
        "scope": [("r", True), ("rw", True), ("a", True), ("x", False), ("", False), (["r"], False), (None, False)],
        "ttl_s": [(1, True), (30 * 86400, True), (30 * 86400 + 1, False), (0, False), (-5, False), ("60", False)],
    }
    assert set(members) == set(checks)
    for name, values in members.items():
        for value, accepted in values:
            try:
                checks[name](value)
                checked = True
            except InvalidInput:
                checked = False
            assert checked is accepted and Draft202012Validator(schema[name]).is_valid(value) is accepted, value
    assert checks["ttl_s"](3600.0) == 3600 and isinstance(checks["ttl_s"](3600.0), int)
