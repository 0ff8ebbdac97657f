"""The application: one object both doors (local server, Lambda) hand a Request to."""

from __future__ import annotations

import os
import time
from contextlib import nullcontext

from .. import names
from ..auth import Auth
from ..basic_auth import BasicAuth
from ..errors import GlyphError, Unauthorized, UriTooLong
from ..keys import SUBKEY_CURSOR, Keyring
from ..model import Clock
from ..service import Memories
from ..tokens import Grant
from . import log
from .core import (
    CHAT_PATHS,
    OAUTH_PATHS,
    Call,
    Request,
    Response,
    Router,
    finish,
    is_page_path,
    parse_query,
    problem,
    token_from,
)

_NO_LOCK = nullcontext()


class App:
    """The routes over one `Memories` and one `Keyring`. The optional parts, OAuth for the remote
    connector and its MCP server, are built by the functions `runtime.build_app` passes
    (`oauth(app)`, `mcp(app)`) on first use, and owned here: `app.oauth()`, `app.mcp_server()`."""

    def __init__(
        self,
        memories: Memories,
        keyring: Keyring,
        *,
        routers,
        basic_auth: BasicAuth | None = None,
        oauth=None,
        mcp=None,
    ):
        self.memories = memories
        self.basic_auth = basic_auth
        self.router = Router.joined(routers)
        self.has_pages = any(route.page for route in self.router.routes)
        self._build_oauth, self._build_mcp = oauth, mcp
        self._mcp_server = None
        self._use_keyring(keyring)

    def _use_keyring(self, keyring: Keyring) -> None:
        self.keyring = keyring
        # Every door turns its credential into a grant, and checks it at each use, here.
        self.auth = Auth(keyring, self.memories.store, self.memories.clock)
        # Cursors are signed with a key derived from the root secret, never the secret itself.
        self.cursor_key = keyring.subkey(SUBKEY_CURSOR)
        # OAuth's tokens are signed with a subkey of the root: a rotated root key ends every one.
        self._oauth = None

    def use_root_key(self, root) -> None:
        """Switch to a rotated root key (the Lambda re-reads it from SSM every minute)."""
        if root != self.keyring.root:
            self._use_keyring(Keyring(root, self.keyring.store, cache_s=self.keyring.cache_s))

    def oauth(self):
        """The remote connector's OAuth (oauth.OAuth: clients, codes, grants, tokens), built on
        first use for the current root key."""
        if self._oauth is None:
            if self._build_oauth is None:
                raise RuntimeError("this App was built without OAuth")
            self._oauth = self._build_oauth(self)
        return self._oauth

    def mcp_server(self):
        """The MCP server behind POST /mcp (its tools call this App's routes), built by the first
        request that needs it: importing the SDK costs ~1 s, which `initialize` never pays."""
        if self._mcp_server is None:
            if self._build_mcp is None:
                raise RuntimeError("this App was built without the MCP connector")
            self._mcp_server = self._build_mcp(self)
        return self._mcp_server

    @property
    def clock(self) -> Clock:
        return self.memories.clock

    def handle(self, request: Request, *, read_body=None, lock=_NO_LOCK) -> Response:
        """Answer a request. A door that streams (the local server) passes `read_body(limit)`,
        called only once the route, its body limit and the request's credentials allow a body,
        and `lock`, held only while the route runs: the credential checks (scrypt, HMAC) and the
        body's reading happen outside it, so neither wrong passwords nor slow uploads stall others."""
        started = time.perf_counter()
        request.request_id = request.request_id or os.urandom(8).hex()
        template = "-"
        try:
            if len(request.path) + len(request.query) + 1 > names.MAX_URL_BYTES:
                raise UriTooLong(
                    f"the URL is longer than {names.MAX_URL_BYTES} bytes: shorten it, "
                    "or send the memory in a POST body (glyph write)"
                )
            if self.basic_auth is not None and request.path not in CHAT_PATHS and request.path not in OAUTH_PATHS:
                self.basic_auth.check(request.headers.get("authorization"), request.client)
            route, params = self.router.match(request.method, request.path)
            template = route.template
            query = self._query(request, route)
            grant = self._authorise(request, query, route.scope)
            if read_body is not None:
                request.body = read_body(None if route.body is None else route.body.limit)
            if route.prepare is not None:
                route.prepare(request, query)
            with lock:
                response = self._run(route, request, params, query, grant)
        except GlyphError as error:
            response = error_response(request, error, pages=self.has_pages)
        except Exception as exc:  # a bug, not bad input: answer 500 without internals
            log.event("error", level=40, request_id=request.request_id, route=template, error=type(exc).__name__)
            internal = _Internal("an internal error occurred; it has been logged")
            response = error_response(request, internal, pages=self.has_pages)
        finish(response)
        log.event(
            "request",
            level=log.level_of(response.status),
            request_id=request.request_id,
            method=request.method,
            route=template,
            status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            **({} if request.cold_start is None else {"cold_start": request.cold_start}),
        )
        return response

    def handle_inside(self, request: Request, grant: Grant) -> Response:
        """Answer a request made on behalf of a grant a door of its own opened (a page session,
        the MCP tools): the route's parsing and answers, the grant checked again (alive, and its
        scope enough for this route), but neither basic auth nor a window token, and no log line
        of its own."""
        try:
            route, params = self.router.match(request.method, request.path)
            self.auth.check(grant, route.scope or "r")
            return finish(self._run(route, request, params, self._query(request, route), grant))
        except GlyphError as error:
            return finish(problem(error, request.request_id))

    @staticmethod
    def _query(request: Request, route) -> dict[str, str]:
        allowed = {q.name for q in route.params if q.where == "query"} | ({"t"} if route.scope else set())
        return parse_query(request.query, frozenset(allowed), ignore_unknown=route.page)

    def _run(self, route, request: Request, params: dict, query: dict, grant: Grant | None) -> Response:
        args = {q.name: q.read(params.get(q.name) if q.where == "path" else query.get(q.name)) for q in route.params}
        body = None if route.body is None else route.body.read(request)  # a refusal is the route's door's 4xx
        return route.handler(self, Call(request, params, query, args, grant, body))

    def _authorise(self, request: Request, query: dict[str, str], scope: str | None) -> Grant | None:
        if scope is None:
            return None
        token = token_from(request, query)
        if token is None:
            raise Unauthorized(
                "this route needs a token: send Authorization: Bearer <token> (the glyph command does this for you)",
                headers={"WWW-Authenticate": 'Bearer realm="glyphmemory"'},
            )
        return self.auth.token(token, scope)


def error_response(request: Request, error: GlyphError, *, pages: bool = False) -> Response:
    """problem+json for the API; one plain sentence for the chat URLs, which chats read; OAuth's
    error object for /register and /token; an HTML page for the page's paths (/ui, /authorize)
    where the App serves them (`pages`)."""
    if request.path in OAUTH_ERROR_PATHS:  # RFC 7591 §3.2.2, RFC 6749 §5.2
        # What the body held is the metadata's fault; a method, a limit or a bug is not.
        metadata = request.path == "/register" and error.status in (400, 413, 415)
        error_code = (
            "server_error" if error.status >= 500 else "invalid_client_metadata" if metadata else "invalid_request"
        )
        # Both RFCs answer a malformed request 400, whatever was wrong with it (a body not JSON included).
        status = 400 if error.status == 415 else error.status
        body = {"error": error_code, "error_description": error.detail, "status": status}
        response = Response.json(body, status, **{"Cache-Control": "no-store"})
    elif pages and is_page_path(request.path):
        from .pages import render

        response = render("ui_message.html", {"title": error.title, "message": error.detail}, error.status, script=True)
    elif request.path not in CHAT_PATHS:
        return problem(error, request.request_id)
    else:
        response = Response.text(f"Error {error.status}: {error.detail}.\n", error.status)
    response.headers.update(error.headers)
    return response


OAUTH_ERROR_PATHS = frozenset({"/register", "/token"})


class _Internal(GlyphError):
    status, title, slug = 500, "Internal error", "internal"
