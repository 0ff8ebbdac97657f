"""Issue 13's attacks through the Lambda handler, on both stores: each answered with a 4xx
problem, nothing stored or changed by it, and every read still working."""

from __future__ import annotations

import json
import time

import pytest

from glyphmemory.model import Memory, content_hash, new_ulid
from glyphmemory.tokens import mint_window_token

from .conftest import Api


def ndjson(*lines: dict) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def import_(api: Api, body: bytes):
    return api.call("POST", "/v1/import", body=body, content_type="application/x-ndjson")


def count(api: Api) -> int:
    return len(api.json("GET", "/v1/memories", "limit=100")[1]["items"])


# --- 1: imported times are bounded, checked before anything is stored, and reads survive any value


@pytest.mark.parametrize(
    "line",
    [
        {"text": "from the far future", "epoch_us": 4611686018427387904},
        {"text": "past 64 bits", "epoch_us": 2**64},
        {"text": "before 1970", "created_at": "1969-12-31T23:59:59Z"},
        {"text": "epoch in ms from the future", "epoch_ms": int(time.time() * 1000) + 10 * 86400 * 1000},
        {"text": "expires in ten thousand years", "expires_at": 2**62},
    ],
)
def test_an_import_with_an_impossible_time_stores_nothing(api, line):
    result = import_(api, ndjson({"text": "a good first line"}, line))
    assert result["statusCode"] == 400 and "line 2" in json.loads(result["body"])["detail"]
    assert count(api) == 0


def stored_directly(api: Api, epoch_us: int, text: str) -> Memory:
    """What an import accepted before times were bounded: put straight into the store."""
    memory = Memory(
        id=new_ulid(max(0, min(epoch_us // 1000, 2**48 - 1))),
        namespace="default",
        text=text,
        tags=(),
        source="import",
        session=None,
        epoch_us=epoch_us,
        content_hash=content_hash("default", text),
    )
    assert api.call("GET", "/v1/health", scope=None)["statusCode"] == 200  # builds the app
    api.door.app().memories.store.put(memory, now_s=time.time(), keep_epoch=True)
    return memory


@pytest.mark.parametrize("epoch_us", [4611686018427387904, -5_000_000])
def test_reads_survive_a_stored_memory_with_any_epoch(api, epoch_us):
    for i in range(3):
        api.json("POST", "/v1/memories", body={"text": f"ordinary memory {i}"})
    odd = stored_directly(api, epoch_us, "an odd stored epoch")
    for path, query in [
        ("/v1/memories", "limit=2"),
        ("/v1/context", ""),
        ("/v1/search", "q=memory"),
        ("/v1/export", ""),
        (f"/v1/memories/{odd.id}", ""),
    ]:
        assert api.call("GET", path, query)["statusCode"] == 200, path
    assert api.call("GET", "/r", f"t={api.token('rw')}", scope=None)["statusCode"] == 200
    # Paging walks past it with the server's own cursors, each memory once.
    seen, query = [], "limit=2"
    while True:
        page = api.json("GET", "/v1/memories", query)[1]
        seen += [m["id"] for m in page["items"]]
        if not page["next"]:
            break
        query = "limit=2&before=" + page["next"]
    assert len(seen) == len(set(seen)) == 4 and odd.id in seen


# --- 7: control characters ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["clipboard \x1b]52;c;ZXZpbA==\x07 grab", "bell\x07", "nul\x00", "c1 \x9b31m"])
def test_text_with_control_characters_is_refused_everywhere(api, text):
    result = api.call("POST", "/v1/memories", body={"text": text})
    assert result["statusCode"] == 400 and "control character" in json.loads(result["body"])["detail"]
    assert import_(api, ndjson({"text": text}))["statusCode"] == 400
    assert count(api) == 0
    ok = api.json("POST", "/v1/memories", body={"text": "tabs\tand\nnew lines\r\nare fine"})
    assert ok[0] == 201 and ok[1]["text"] == "tabs\tand\nnew lines\nare fine"


# --- 8: deeply nested JSON --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/tokens", "/v1/memories", "/v1/keys"])
def test_deeply_nested_json_is_a_400(api, path):
    deep = b"[" * 100_000 + b"]" * 100_000
    result = api.call("POST", path, body=deep, scope="a")
    assert result["statusCode"] == 400, result["body"][:300]
    nested = b'{"text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n"
    assert import_(api, nested)["statusCode"] == 400


# --- 10: one spelling per token, admin tokens from the root key only ---------------------------------


def test_a_zero_padded_exp_is_another_spelling_and_refused(api):
    exp = int(time.time()) + 600
    good = mint_window_token(api.key.kid, api.key.secret, "r", exp)
    kid, scope, _, sig = good.split(".")
    padded = f"{kid}.{scope}.0{exp}.{sig}"
    assert api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {good}"})["statusCode"] == 200
    assert (
        api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {padded}"})["statusCode"] == 401
    )


def test_a_device_keys_admin_token_is_refused_everywhere(api):
    status, added = api.json("POST", "/v1/keys", body={"name": "phone"}, scope="a")
    assert status == 201
    from glyphmemory.keys import parse_key

    device = parse_key(f"{added['kid']}:{added['secret']}")
    admin = mint_window_token(device.kid, device.secret, "a", int(time.time()) + 600)
    for method, path in [("GET", "/v1/memories"), ("GET", "/v1/keys")]:
        assert api.call(method, path, scope=None, headers={"authorization": f"Bearer {admin}"})["statusCode"] == 403
    rw = mint_window_token(device.kid, device.secret, "rw", int(time.time()) + 600)
    assert api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {rw}"})["statusCode"] == 200
