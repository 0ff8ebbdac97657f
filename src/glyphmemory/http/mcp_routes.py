"""The remote MCP connector: OAuth 2.1 metadata, registration, the sign-in page, the token
endpoint, and `POST /mcp` (Streamable HTTP, stateless, JSON answers) guarded by OAuth.

On AWS these routes are a function of their own (the memory function never imports the `mcp`
SDK or the page's template engine); `glyph serve` runs them beside the API. Their answers follow
their RFCs (OAuth errors are `{"error", "error_description"}`), so they stay out of /openapi.json.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from .. import oauth_clients
from ..errors import GlyphError, MethodNotAllowed, Unauthorized
from ..oauth import ACCESS_TTL_S, GRANT_SCOPE, SCOPE, OAuthError
from ..redirect_uris import csp_source
from ..tokens import Grant
from . import params as p
from .core import Call, Response, Router, public_base_url


def _oauth_answer(request, error) -> Response:
    """/register's and /token's refusals as their RFCs ask (RFC 7591 §3.2.2, RFC 6749 §5.2):
    `error`, `error_description` and the status; an OAuthError names its own `error`. Of another
    GlyphError, what the registration's body held is the metadata's fault; a method, a limit or
    a bug is not. Both RFCs answer a malformed request 400, whatever was wrong with it (a body
    not JSON included)."""
    if isinstance(error, OAuthError):
        code = error.error
    elif error.status >= 500:
        code = "server_error"
    elif request.path == "/register" and error.status in (400, 413, 415):
        code = "invalid_client_metadata"
    else:
        code = "invalid_request"
    status = 400 if error.status == 415 else error.status
    body = {"error": code, "error_description": error.detail, "status": status}
    return Response.json(body, status, **{"Cache-Control": "no-store"})


def _error_page(request, error) -> Response:
    from .pages import error_page

    return error_page(request, error)


_RESOURCE = Router()  # the metadata and /mcp: problem+json
_OAUTH = Router(render_error=_oauth_answer)  # /register, /token
_PAGE = Router(render_error=_error_page)  # /authorize, the sign-in page
route, oauth_route, page_route = _RESOURCE.add, _OAUTH.add, _PAGE.add

MAX_MCP_BODY = 1024 * 1024
FORM = p.FormBody("An OAuth form.", limit=16 * 1024)
CLIENT_METADATA = p.JsonBody("ClientMetadata", "a registration", None, limit=16 * 1024)  # RFC 7591 §2
# Streamable HTTP sends each message as application/json (MCP 2025-06-18, Transports): another type
# is this route's 415 problem, not the SDK transport's bare-text 400.
MCP_BODY = p.RawBody(
    "application/json",
    "A JSON-RPC message.",
    limit=MAX_MCP_BODY,
    accept=("application/json",),
    media_error="send the JSON-RPC message as application/json",
)
_AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
)


def resource_url(request) -> str:
    return public_base_url(request) + "/mcp"


# --- metadata (RFC 9728, RFC 8414) -----------------------------------------------------------


def _resource_metadata(app, call: Call) -> Response:
    base = public_base_url(call.request)
    return Response.json(
        {
            "resource": base + "/mcp",
            "authorization_servers": [base],
            "scopes_supported": [SCOPE],
            "bearer_methods_supported": ["header"],
            "resource_name": "GlyphMemory",
        },
        **{"Cache-Control": "public, max-age=300"},
    )


route("GET", "/.well-known/oauth-protected-resource", scope=None)(_resource_metadata)
route("GET", "/.well-known/oauth-protected-resource/mcp", scope=None)(_resource_metadata)


@route("GET", "/.well-known/oauth-authorization-server", scope=None)
def authorization_server_metadata(app, call: Call) -> Response:
    base = public_base_url(call.request)
    return Response.json(
        {
            "issuer": base,
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token",
            "registration_endpoint": base + "/register",
            "scopes_supported": [SCOPE],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "client_id_metadata_document_supported": True,
            "authorization_response_iss_parameter_supported": True,
        },
        **{"Cache-Control": "public, max-age=300"},
    )


# --- registration (RFC 7591) -----------------------------------------------------------------


@oauth_route("POST", "/register", scope=None, body=CLIENT_METADATA)
def register(app, call: Call) -> Response:
    answer = app.oauth().register(call.body, call.request.client)
    return Response.json(answer, 201, **{"Cache-Control": "no-store"})


# --- the sign-in page ------------------------------------------------------------------------


def _authorize_request(app, fields: dict[str, str], request) -> tuple[dict, dict]:
    """The checked authorization request and its client; OAuthError for what the page reports."""
    oauth = app.oauth()
    client_id = fields.get("client_id") or ""
    if not client_id:
        raise OAuthError("invalid_request", "client_id is missing")
    client = oauth.client(client_id)
    oauth.check_redirect(client, fields.get("redirect_uri") or "")
    if fields.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if fields.get("code_challenge_method") != "S256" or not 43 <= len(fields.get("code_challenge") or "") <= 128:
        raise OAuthError("invalid_request", "PKCE is required: code_challenge with code_challenge_method S256")
    resource = fields.get("resource") or resource_url(request)
    if resource != resource_url(request):
        raise OAuthError("invalid_target", f"this server grants access to {resource_url(request)} only")
    return {**{k: fields.get(k) or "" for k in _AUTHORIZE_FIELDS}, "resource": resource}, client


def _prefetch(request, query: dict[str, str]) -> None:
    """A client ID metadata document is fetched before the server's one-at-a-time section."""
    from ..cimd import prefetch

    client_id = query.get("client_id")
    if request.method == "POST":
        try:
            client_id = FORM.read(request).get("client_id", "")
        except GlyphError:  # the route refuses the form, in its door's terms
            return
    prefetch(client_id, oauth_clients.table(request.settings))


@page_route(
    "GET",
    "/authorize",
    scope=None,
    params=tuple(p.Param(k, {"type": "string"}, k) for k in _AUTHORIZE_FIELDS),
    page=True,
    prepare=_prefetch,
)
def authorize_page(app, call: Call) -> Response:
    fields = {k: v for k, v in call.args.items() if v is not None}
    try:
        checked, client = _authorize_request(app, fields, call.request)
    except OAuthError as error:
        return _page(call.request, {"failure": error.detail}, error.status)
    return _page(call.request, _page_values(app, checked, client), 200, redirect_uri=checked["redirect_uri"])


@page_route("POST", "/authorize", scope=None, body=FORM, page=True, prepare=_prefetch)
def authorize_submit(app, call: Call) -> Response:
    form = call.body
    try:
        checked, client = _authorize_request(app, form, call.request)
    except OAuthError as error:
        return _page(call.request, {"failure": error.detail}, error.status)
    values = _page_values(app, checked, client)
    try:
        # A registered client's failures are a budget of their own at this address (issue 21 §4).
        code, client_id = form.get("code", "").strip(), checked["client_id"]
        grant = app.auth.code(
            code, form.get("kid"), source=call.request.client, client_id=client_id, ttl_s=ACCESS_TTL_S
        )
    except GlyphError as error:  # wrong, replayed or throttled: the page again, saying which
        response = _page(
            call.request,
            {**values, "error": error.detail, "kid": form.get("kid") or app.auth.root_kid},
            error.status,
            redirect_uri=checked["redirect_uri"],
        )
        response.headers.update({k: v for k, v in error.headers.items() if k == "Retry-After"})
        return response
    code = app.oauth().issue_code(
        client_id=checked["client_id"],
        client=client,
        redirect_uri=checked["redirect_uri"],
        challenge=checked["code_challenge"],
        resource=checked["resource"],
        kid=grant.kid,
        key=grant.key,
    )
    answer = {"code": code, "iss": public_base_url(call.request)}
    if checked["state"]:
        answer["state"] = checked["state"]
    sep = "&" if urlsplit(checked["redirect_uri"]).query else "?"
    return Response(302, b"", {"Location": checked["redirect_uri"] + sep + urlencode(answer)})


def _page_values(app, checked: dict, client: dict) -> dict:
    return {
        "client_name": client["client_name"],
        "redirect_host": urlsplit(checked["redirect_uri"]).netloc,
        "hidden": {k: checked[k] for k in _AUTHORIZE_FIELDS},
        "kid": app.keyring.root.kid,
    }


def _page(request, values: dict, status: int, *, redirect_uri: str | None = None) -> Response:
    from .pages import render

    # The form posts here, then redirects to the client: form-action must allow both.
    target = "" if redirect_uri is None else " " + csp_source(redirect_uri)
    return render("authorize.html", values, status, form_action="'self'" + target)


# --- tokens ----------------------------------------------------------------------------------


@oauth_route("POST", "/token", scope=None, body=FORM)
def token(app, call: Call) -> Response:
    form = call.body
    oauth = app.oauth()
    grant_type = form.get("grant_type")
    resource = form.get("resource")
    if grant_type == "authorization_code":
        tokens = oauth.redeem_code(
            code=form.get("code"),
            client_id=form.get("client_id"),
            redirect_uri=form.get("redirect_uri"),
            verifier=form.get("code_verifier"),
            resource=resource,
        )
    elif grant_type == "refresh_token":
        tokens = oauth.refresh(
            refresh_token=form.get("refresh_token"), client_id=form.get("client_id"), resource=resource
        )
    else:
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
    return Response.json(tokens, **{"Cache-Control": "no-store", "Pragma": "no-cache"})


# --- /mcp ------------------------------------------------------------------------------------


def _bearer_grant(app, request) -> Grant:
    """The grant the request's access token acts with; Unauthorized with the RFC 9728 challenge for a
    missing, expired, revoked or foreign token, whatever the method (so a client refreshes)."""
    metadata = public_base_url(request) + "/.well-known/oauth-protected-resource/mcp"
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        raise Unauthorized(
            "sign in first: this connector uses OAuth (see the resource metadata)",
            headers={"WWW-Authenticate": f'Bearer resource_metadata="{metadata}"'},
        )
    try:  # the token, its grant, and the key that signed in (the OAuth's `alive`)
        _, data, exp = app.oauth().verify_access(header[7:].strip(), resource_url(request))
    except OAuthError as error:
        challenge = f'Bearer error="invalid_token", error_description="{error.detail}", resource_metadata="{metadata}"'
        raise Unauthorized(error.detail, headers={"WWW-Authenticate": challenge}) from None
    return Grant(data["kid"], GRANT_SCOPE, exp, data.get("key"))


@route("POST", "/mcp", scope=None, body=MCP_BODY, authorise=_bearer_grant)
def mcp_post(app, call: Call) -> Response:
    grant = call.grant
    from ..mcp_first import first_answer

    # A client's first messages (initialize, ping) without the SDK's ~1.4 s import (issue 24 §5).
    base_url = public_base_url(call.request)
    answer = first_answer(call.request, base_url)
    if answer is not None:
        return answer
    from ..mcp_http import handle_mcp

    # The tools act with this grant, checked again (alive, scope) at each API call they make.
    return handle_mcp(app, call.request, base_url, grant)


def _no_stream(app, call: Call) -> Response:
    # Stateless JSON mode has no server-to-client stream and no session to end: answer at once
    # (in the SDK, GET would open a stream that never ends). The token is checked first: after a
    # long idle ChatGPT sends GET with an expired token, and only a 401 makes it refresh.
    raise MethodNotAllowed("this MCP endpoint is stateless: POST JSON-RPC messages", headers={"Allow": "POST"})


for _method in ("GET", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"):
    route(_method, "/mcp", scope=None, authorise=_bearer_grant)(_no_stream)

ROUTER = Router.joined((_RESOURCE, _OAUTH, _PAGE))
