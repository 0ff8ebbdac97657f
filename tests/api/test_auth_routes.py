"""/v1/tokens and /v1/keys through the Lambda handler, on both stores."""

from __future__ import annotations

import json
import time

import pyotp
import pytest

from glyphmemory.tokens import mint_window_token

from .test_routes import assert_problem


def code_now(api, secret_b32=None) -> str:
    return pyotp.TOTP(secret_b32 or api.key.secret_b32).now()


def test_exchange_a_code_for_a_window_token(api):
    code = code_now(api)
    status, grant = api.json("POST", "/v1/tokens", body={"code": code, "scope": "rw"}, scope=None)
    assert status == 201 and grant["scope"] == "rw" and grant["kid"] == "root"
    assert 12 * 3600 - 5 <= grant["expires_at"] - time.time() <= 12 * 3600
    assert len(grant["token"]) <= 64
    result = api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {grant['token']}"})
    assert result["statusCode"] == 200
    # The same code again is a replay (the same string: a new code_now() is the next step's once
    # the step has ended meanwhile, which the server takes).
    problem = assert_problem(api.call("POST", "/v1/tokens", body={"code": code, "scope": "r"}, scope=None), 401)
    assert "code" in problem["detail"]


def test_a_code_cannot_mint_admin(api):
    assert_problem(api.call("POST", "/v1/tokens", body={"code": code_now(api), "scope": "a"}, scope=None), 403)


def test_exchange_a_wider_token_for_a_narrower_one_that_does_not_outlive_it(api):
    outer = api.token("rw", ttl=600)
    status, grant = api.json(
        "POST",
        "/v1/tokens",
        body={"scope": "r", "ttl_s": 30 * 86400},
        scope=None,
        headers={"authorization": f"Bearer {outer}"},
    )
    assert status == 201 and grant["expires_at"] <= int(outer.split(".")[2])
    assert_problem(api.call("POST", "/v1/tokens", body={"scope": "a"}, scope="rw"), 403)
    assert_problem(api.call("POST", "/v1/tokens", body={"scope": "rw"}, scope="r"), 403)


@pytest.mark.parametrize(
    "body,status",
    [
        ({"code": "12345", "scope": "r"}, 400),
        ({"code": "1234567", "scope": "r"}, 400),
        ({"code": "abcdef", "scope": "r"}, 400),
        ({"code": "", "scope": "r"}, 400),
        ({"code": 123456, "scope": "r"}, 400),
        ({"code": "123456", "scope": "x"}, 400),
        ({"code": "123456"}, 400),
        ({"code": "123456", "scope": "r", "ttl_s": 0}, 400),
        ({"code": "123456", "scope": "r", "ttl_s": -5}, 400),
        ({"code": "123456", "scope": "r", "ttl_s": 30 * 86400 + 1}, 400),
        ({"code": "123456", "scope": "r", "ttl_s": "60"}, 400),
        ({"code": "123456", "scope": "r", "extra": 1}, 400),
        ({"code": "123456", "scope": "r", "kid": "../etc"}, 400),
        ({"scope": "r"}, 401),
        ({"code": "000000", "scope": "r", "kid": "nobody"}, 401),
    ],
)
def test_bad_token_requests(api, body, status):
    assert_problem(api.call("POST", "/v1/tokens", body=body, scope=None), status)


def test_malformed_tokens_on_the_exchange(api):
    for bad in (
        "root.rw",
        "root.rw.notanumber.AAAAAAAAAAAAAAAAAAAAAA",
        "root.rw.99999999999999999999.x",
        "x" * 10_000,
        "röot.r.1.a",
    ):
        assert_problem(
            api.call("POST", "/v1/tokens", body={"scope": "r"}, scope=None, headers={"authorization": f"Bearer {bad}"}),
            401,
        )


def test_device_keys_lifecycle_and_revocation(api):
    status, added = api.json("POST", "/v1/keys", body={"name": "phone"}, scope="a")
    assert status == 201 and added["otpauth_uri"].startswith("otpauth://totp/") and added["secret"]
    kid, secret = added["kid"], added["secret"]
    status, listing = api.json("GET", "/v1/keys", scope="a")
    assert [k["kid"] for k in listing["items"]] == ["root", kid]
    assert "secret" not in json.dumps(listing) or secret not in json.dumps(listing)
    # The device's own token and its authenticator code work...
    import base64

    device_token = mint_window_token(
        kid, base64.b32decode(secret + "=" * (-len(secret) % 8)), "rw", int(time.time()) + 60
    )
    assert (
        api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {device_token}"})["statusCode"]
        == 200
    )
    status, grant = api.json(
        "POST", "/v1/tokens", body={"code": code_now(api, secret), "kid": kid, "scope": "r"}, scope=None
    )
    assert status == 201 and grant["kid"] == kid
    # ...a device cannot administer keys, even with scope a...
    admin_by_device = mint_window_token(
        kid, base64.b32decode(secret + "=" * (-len(secret) % 8)), "a", int(time.time()) + 60
    )
    assert_problem(api.call("GET", "/v1/keys", scope=None, headers={"authorization": f"Bearer {admin_by_device}"}), 403)
    # ...and once revoked, nothing of it works, at once.
    assert api.call("DELETE", f"/v1/keys/{kid}", scope="a")["statusCode"] == 204
    assert_problem(
        api.call("GET", "/v1/memories", scope=None, headers={"authorization": f"Bearer {device_token}"}), 401
    )
    assert_problem(
        api.call(
            "POST", "/v1/tokens", body={"scope": "r"}, scope=None, headers={"authorization": f"Bearer {grant['token']}"}
        ),
        401,
    )
    assert_problem(api.call("DELETE", f"/v1/keys/{kid}", scope="a"), 404)


def test_key_admin_needs_scope_a_and_refuses_bad_input(api):
    assert_problem(api.call("GET", "/v1/keys", scope="rw"), 403)
    assert_problem(api.call("POST", "/v1/keys", body={"name": ""}, scope="a"), 400)
    assert_problem(api.call("POST", "/v1/keys", body={"name": "x" * 65}, scope="a"), 400)
    assert_problem(api.call("POST", "/v1/keys", body={"name": "ok", "secret": "mine"}, scope="a"), 400)
    assert_problem(api.call("DELETE", "/v1/keys/root", scope="a"), 400)
