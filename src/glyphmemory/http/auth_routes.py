"""Auth routes: exchange a TOTP code or a token for a window token; manage device keys."""

from __future__ import annotations

import time

from .. import names
from ..errors import Forbidden, InvalidInput, NotFound, Unauthorized
from ..keys import otpauth_uri
from ..tokens import SCOPES, mint_window_token, scope_covers, verify_window_token
from ..totp import check_code
from .app import App, Call, Response, require_json_body, token_from
from .routes import route

_TOKEN_FIELDS = {"code", "kid", "scope", "ttl_s"}
DEFAULT_TOKEN_TTL_S = 12 * 3600


def _ttl(body: dict) -> int:
    ttl = body.get("ttl_s", DEFAULT_TOKEN_TTL_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= names.MAX_TOKEN_TTL_S:
        raise InvalidInput(f"ttl_s must be whole seconds from 1 to {names.MAX_TOKEN_TTL_S} (30 days)")
    return ttl


@route("POST", "/v1/tokens", scope=None, query=("t",))
def exchange_token(app: App, call: Call) -> Response:
    body = require_json_body(call.request)
    unknown = sorted(set(body) - _TOKEN_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0][:40]!r}; this takes code, kid, scope, ttl_s")
    scope = body.get("scope")
    if scope not in SCOPES:
        raise InvalidInput("scope must be one of r, w, rw, a")
    ttl = _ttl(body)
    now = app.clock.now_s()
    presented = token_from(call.request, call.query)
    if presented is not None and body.keys() & {"code", "kid"}:
        raise InvalidInput("code and kid go with an authenticator code; with a token send only scope and ttl_s")
    if presented is not None:
        grant = verify_window_token(presented, app.keyring.secret_for, now)
        if not scope_covers(grant.scope, scope):
            raise Forbidden(f"a token of scope '{grant.scope}' cannot mint scope '{scope}'")
        kid, exp = grant.kid, min(int(now) + ttl, grant.exp)  # never outlives what authorised it
    elif "code" in body:
        if scope == "a":
            raise Forbidden("an authenticator code mints r, w or rw; admin tokens need the root key")
        kid = body.get("kid", app.keyring.root.kid)
        check_code(app.memories.store, app.keyring, kid, body["code"], now)
        exp = int(now) + ttl
    else:
        raise Unauthorized("send an authenticator code (code) or a token of wider scope")
    token = mint_window_token(kid, app.keyring.secret_for(kid), scope, exp)
    return Response.json({"token": token, "expires_at": exp, "scope": scope, "kid": kid}, 201)


def _require_root(app: App, call: Call) -> None:
    if call.grant is None or call.grant.kid != app.keyring.root.kid:
        raise Forbidden("only the root key manages keys")


@route("GET", "/v1/keys", scope="a")
def list_keys(app: App, call: Call) -> Response:
    _require_root(app, call)
    root = {"kid": app.keyring.root.kid, "name": "root", "created_at": None, "root": True}
    devices = [{**d, "root": False} for d in app.keyring.list_devices()]
    return Response.json({"items": [root, *devices]})


@route("POST", "/v1/keys", scope="a")
def add_key(app: App, call: Call) -> Response:
    _require_root(app, call)
    body = require_json_body(call.request)
    if set(body) - {"name"}:
        raise InvalidInput("a key takes only a name")
    key, info = app.keyring.add_device(body.get("name"), time.time())
    return Response.json(
        {**info, "secret": key.secret_b32, "otpauth_uri": otpauth_uri(key, f"{info['name']} ({key.kid})")},
        201,
    )


@route("DELETE", "/v1/keys/{kid}", scope="a")
def revoke_key(app: App, call: Call) -> Response:
    _require_root(app, call)
    kid = call.params["kid"]
    if kid == app.keyring.root.kid:
        raise InvalidInput("the root key cannot be revoked; rotate it with glyph init --force")
    if not app.keyring.revoke(kid):
        raise NotFound("no device key has that kid")
    return Response(204)
