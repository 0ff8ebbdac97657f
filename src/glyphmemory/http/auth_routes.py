"""Auth routes: exchange a TOTP code or a token for a window token; manage device keys."""

from __future__ import annotations

import time

from .. import names
from ..errors import Forbidden, InvalidInput, NotFound, Unauthorized
from ..keys import otpauth_uri
from ..model import KEY_NAME, FieldSpec
from ..tokens import SCOPES
from ..totp import unlock
from . import params as p
from .core import Call, Response, Router, token_from

ROUTER = Router()
route = ROUTER.add

_AUTH = [{"bearer": []}, {"tokenHeader": []}, {"tokenQuery": []}]


def _scope(scope: object) -> str:
    if scope not in SCOPES:
        raise InvalidInput("scope must be one of r, w, rw, a")
    return scope


def _ttl(ttl: object) -> int:
    if isinstance(ttl, float) and ttl.is_integer():
        ttl = int(ttl)  # JSON has one number type: 3600.0 is the whole number its schema allows
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= names.MAX_TOKEN_TTL_S:
        raise InvalidInput(f"ttl_s must be whole seconds from 1 to {names.MAX_TOKEN_TTL_S} (30 days)")
    return ttl


TOKEN_REQUEST = p.JsonBody(
    "TokenRequest",
    "a token request",
    {
        "code": {"type": "string", "pattern": f"^{names.CODE_PATTERN}$"},
        "kid": {"type": "string", "pattern": f"^{names.KID_PATTERN}$"},
        "scope": FieldSpec("scope", {"type": "string", "enum": list(SCOPES)}, "", _scope),
        "ttl_s": FieldSpec(
            "ttl_s",
            {"type": "integer", "minimum": 1, "maximum": names.MAX_TOKEN_TTL_S},
            f"Seconds the token lives (default {names.CHAT_TOKEN_TTL_S}).",
            _ttl,
        ),
    },
    required=("scope",),
)
KEY_REQUEST = p.JsonBody(
    "KeyRequest",
    "a key",
    {"name": KEY_NAME.json_schema()},
    required=("name",),
)


@route(
    "POST",
    "/v1/tokens",
    scope=None,
    params=(p.TOKEN,),
    body=TOKEN_REQUEST,
    errors=(401, 403, 415, 429, 503),
    security=[{}, *_AUTH],
    answers={201: ("TokenGrant", "Minted")},
    summary="Exchange an authenticator code, or a token of wider scope, for a window token",
    description="Authorised by `code` (TOTP, single use, throttled: 10 failures in 15 min or 30 a day "
    "lock the key with 429) or by a token in the usual places.",
)
def exchange_token(app, call: Call) -> Response:
    body = call.body
    scope, ttl = body["scope"], body.get("ttl_s", names.CHAT_TOKEN_TTL_S)
    presented = token_from(call.request, call.query)
    if presented is not None and body.keys() & {"code", "kid"}:
        raise InvalidInput("code and kid go with an authenticator code; with a token send only scope and ttl_s")
    if presented is not None:
        grant = app.auth.token(presented)
    elif "code" in body:
        if scope == "a":
            raise Forbidden("an authenticator code mints r, w or rw; admin tokens need the root key")
        grant = app.auth.code(body["code"], body.get("kid"), source=call.request.client, ttl_s=ttl)
    else:
        raise Unauthorized("send an authenticator code (code) or a token of wider scope")
    token, exp = app.auth.mint(grant, scope, ttl)  # never wider than, nor outliving, what authorised it
    kid = grant.kid
    return Response.json({"token": token, "expires_at": exp, "scope": scope, "kid": kid}, 201)


def _require_root(app, call: Call) -> None:
    if call.grant is None or call.grant.kid != app.keyring.root.kid:
        raise Forbidden("only the root key manages keys")


@route(
    "GET",
    "/v1/keys",
    scope="a",
    errors=(503,),
    summary="List keys (root key, admin scope)",
    answers={200: ("KeyList", "Keys")},
)
def list_keys(app, call: Call) -> Response:
    _require_root(app, call)
    root = {"kid": app.keyring.root.kid, "name": "root", "created_at": None, "root": True}
    devices = [{**d, "root": False} for d in app.keyring.list_devices()]
    return Response.json({"items": [root, *devices]})


@route(
    "POST",
    "/v1/keys",
    scope="a",
    body=KEY_REQUEST,
    errors=(415, 503),
    answers={201: ("NewKey", "Added")},
    summary="Add a device key; the secret and otpauth URI are shown only in this answer",
)
def add_key(app, call: Call) -> Response:
    _require_root(app, call)
    key, info = app.keyring.add_device(call.body["name"], time.time())
    return Response.json(
        {**info, "secret": key.secret_b32, "otpauth_uri": otpauth_uri(key, f"{info['name']} ({key.kid})")},
        201,
    )


@route(
    "DELETE",
    "/v1/keys/{kid}",
    scope="a",
    params=(p.KID,),
    errors=(404, 503),
    summary="Revoke a device key",
    answers={204: (None, "Revoked")},
)
def revoke_key(app, call: Call) -> Response:
    _require_root(app, call)
    kid = call.args["kid"]
    if kid == app.keyring.root.kid:
        raise InvalidInput("the root key cannot be revoked; rotate it with glyph init --force")
    if not app.keyring.revoke(kid):
        raise NotFound("no device key has that kid")
    return Response(204)


@route(
    "DELETE",
    "/v1/keys/{kid}/lockout",
    scope="a",
    params=(p.KID,),
    errors=(404, 503),
    summary="Unlock code sign-in for a key: every wrong-code window closed at once (glyph keys unlock)",
    answers={204: (None, "Unlocked")},
)
def unlock_key(app, call: Call) -> Response:
    _require_root(app, call)
    kid = call.args["kid"]
    if not app.auth.alive_key(kid):
        raise NotFound("no key has that kid")
    unlock(app.memories.store, kid)
    return Response(204)


@route(
    "GET",
    "/v1/connectors",
    scope="a",
    errors=(503,),
    summary="List the grants of remote MCP connectors (OAuth sign-ins), newest first (admin scope)",
    answers={200: ("ConnectorList", "Grants")},
)
def list_connectors(app, call: Call) -> Response:
    _require_root(app, call)
    return Response.json({"items": app.oauth().grants()})


@route(
    "DELETE",
    "/v1/connectors/{grant_id}",
    scope="a",
    params=(p.GRANT_ID,),
    errors=(404, 503),
    summary="Revoke a connector's grant: its access and refresh tokens stop working at once",
    answers={204: (None, "Revoked")},
)
def revoke_connector(app, call: Call) -> Response:
    _require_root(app, call)
    if not app.oauth().revoke(call.args["grant_id"]):
        raise NotFound("no connector grant has that id")
    return Response(204)
