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
from ..settings import Settings
from ..tokens import Grant
from . import log
from .core import (
    CHAT_PATHS,
    DEFAULT_SETTINGS,
    OAUTH_PATHS,
    Call,
    Request,
    Response,
    Router,
    finish,
    guarded,
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
        settings: Settings = DEFAULT_SETTINGS,
    ):
        self.memories = memories
        self.basic_auth = basic_auth
        self.settings = settings  # read once at the door's start; each request carries them
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
        request.settings = self.settings
        matched = []  # the route, once known: its router answers the errors

        def run() -> Response:
            if len(request.path) + len(request.query) + 1 > names.MAX_URL_BYTES:
                raise UriTooLong(
                    f"the URL is longer than {names.MAX_URL_BYTES} bytes: shorten it, "
                    "or send the memory in a POST body (glyph write)"
                )
            if self.basic_auth is not None and request.path not in CHAT_PATHS and request.path not in OAUTH_PATHS:
                self.basic_auth.check(request.headers.get("authorization"), request.client)
            route, params = self.router.match(request.method, request.path)
            matched.append(route)
            query = self._query(request, route)
            if route.authorise is not None:  # a credential of the route's own (before its body is read)
                grant = route.authorise(self, request)
            else:
                grant = self._authorise(request, query, route.scope)
            if read_body is not None:
                request.body = read_body(None if route.body is None else route.body.limit)
            if route.prepare is not None:
                route.prepare(request, query)
            with lock:
                return self._run(route, request, params, query, grant)

        def render(error: GlyphError) -> Response:
            return self.router.error_response(request, error, matched[0] if matched else None)

        response = guarded(run, render, request_id=request.request_id, where=_where(matched))
        template = matched[0].template if matched else "-"
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
        scope enough for this route), but neither basic auth nor a window token, and no request
        line of its own (a bug's line, as `handle` logs it)."""
        request.request_id = request.request_id or os.urandom(8).hex()
        request.settings = self.settings
        matched = []

        def run() -> Response:
            route, params = self.router.match(request.method, request.path)
            matched.append(route)
            self.auth.check(grant, route.scope or "r")
            return self._run(route, request, params, self._query(request, route), grant)

        # Always problem+json: its callers (the page, the MCP tools) read the API's answers.
        response = guarded(
            run, lambda error: problem(error, request.request_id), request_id=request.request_id, where=_where(matched)
        )
        return finish(response)

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


def _where(matched: list):
    """The matched route's template, read when a bug is logged (the route may not be known yet)."""
    return lambda: matched[0].template if matched else "-"
