"""`/ui`: a web page to read, search, correct and delete memories, from a phone or a desk.

Server-rendered HTML (Jinja2, autoescaped: every memory text is untrusted input) that works
with JavaScript off; one small script (`/ui/static/app.js`, allowed by the CSP as 'self')
shows dates in the reader's time zone. Every action is the JSON API's route, called in-process
on behalf of the session's grant (api_client.InProcess), so validation, redaction, dedup and the
409 of an edit are the API's own, and a refusal is its ApiError (status, detail, `other_id`…).
Forms that change data carry the session's CSRF token.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from .. import names, repeat, ui_session
from ..api_client import ApiError, InProcess
from ..errors import GlyphError
from ..keys import SUBKEY_UI_SESSION
from ..tokens import Grant
from . import params as p
from .core import Call, Request, Response, Router


def _error_page(request, error) -> Response:
    from .pages import error_page

    return error_page(request, error)


ROUTER = Router(render_error=_error_page, prefix="/ui")  # /ui/anything unknown is a page too
route = ROUTER.add

FORM = p.FormBody("A form.", limit=64 * 1024)
PAGE_SIZE = 25
PREVIEW_CHARS = 400
_REDACTED = re.compile(r"\[redacted:[a-z0-9-]+\]")
_STATIC = Path(__file__).resolve().parent.parent / "templates"
_LIST_PARAMS = tuple(p.Param(k, {"type": "string"}, k) for k in ("ns", "tag", "q", "before", "note", "next"))
# Where a sign-in may lead back to: a memory's page (the URL ChatGPT cites), nothing else.
_NEXT = re.compile(rf"/ui/m/{names.ULID_PATTERN}")


def _next_page(value: str | None) -> str:
    return value if value and _NEXT.fullmatch(value) else ""


# --- plumbing ------------------------------------------------------------------------------------


def _session(app, request: Request):
    """(sid, record) of the request's session while its grant is alive; a session whose key was
    revoked (or whose token expired) is ended here, at its first use after."""
    store = app.memories.store
    found = ui_session.current(
        store, app.keyring.subkey(SUBKEY_UI_SESSION), request.headers.get("cookie"), app.clock.now_s()
    )
    if found is not None and not app.auth.alive(ui_session.grant_of(found[1])):
        ui_session.end(store, found[0])
        return None
    return found


def _secure(request: Request) -> bool:
    from .core import public_base_url

    return public_base_url(request).startswith("https://")


def _render(template: str, values: dict, status: int = 200) -> Response:
    from .pages import render

    return render(template, values, status, script=True)


def _see_other(location: str, **headers: str) -> Response:
    return Response(303, b"", {"Location": location, **headers})


def _segments(text: str, matched: list[str] = ()) -> list[tuple[str, str]]:
    """The text in pieces, each marked "redacted" (a [redacted:KIND] marker), "hit" (a word a
    search matched, highlighted) or "" (plain)."""
    out, at = [], 0
    for match in _REDACTED.finditer(text):
        out += [*_hits(text[at : match.start()], matched), (match.group(), "redacted")]
        at = match.end()
    return [*out, *_hits(text[at:], matched)]


def _hits(text: str, matched: list[str]) -> list[tuple[str, str]]:
    """Pieces of a text, the search's matched words (any case, whole words where they are
    words of letters; stems are not traced back) marked "hit"."""
    if not matched:
        return [(text, "")]
    alternatives = sorted(
        (rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in matched if w), key=len, reverse=True
    )
    out, at = [], 0
    for match in re.finditer("|".join(alternatives), text, re.IGNORECASE):
        out += [(text[at : match.start()], ""), (match.group(), "hit")]
        at = match.end()
    return [*out, (text[at:], "")]


def _tags(raw: str) -> list[str]:
    return [t.strip() for t in raw.split(",") if t.strip()]


def _when(iso: str | None) -> str | None:
    return None if iso is None else iso[:16].replace("T", " ") + " UTC"  # app.js shows local time


def _view(memory: dict, *, preview: bool = False) -> dict:
    text = memory["text"]
    cut = preview and len(text) > PREVIEW_CHARS
    segments = _segments(text[:PREVIEW_CHARS] + "…" if cut else text, memory.get("matched") or [])
    return {
        **memory,
        "segments": segments,
        "cut": cut,
        "when": _when(memory["created_at"]),
        "edited": _when(memory.get("updated_at")),
    }


class _Page:
    """What every signed-in page shows: the session's namespace choice and CSRF token."""

    def __init__(self, app, call: Call, sid: str, record: dict):
        self.app, self.call, self.sid, self.record = app, call, sid, record
        self.grant = ui_session.grant_of(record)
        self.api = InProcess(app, self.grant)  # the JSON API's routes, on behalf of this session
        self.writer = self.grant.allows("w")

    def values(self, **more) -> dict:
        defaults = {"error": None, "note": None, "older": None, "q": "", "tag": "", "draft": None, "draft_tags": ""}
        defaults["other"] = None
        return {**defaults, "csrf": self.record["csrf"], "writer": self.writer, "kid": self.record["kid"], **more}


def _signed_in(app, call: Call) -> _Page | None:
    found = _session(app, call.request)
    return None if found is None else _Page(app, call, *found)


def _change(handler):
    """A POST from a signed-in page carrying its CSRF token: handler(app, call, page, form) runs;
    otherwise back to sign-in, or 403 for a missing or wrong token (nothing changed)."""

    def checked(app, call: Call) -> Response:
        page = _signed_in(app, call)
        form = call.body
        if page is None:
            return _see_other("/ui")
        if not ui_session.csrf_ok(page.record, form.get("csrf")):
            values = page.values(title="Form expired", message="Reload the page and try again.")
            return _render("ui_message.html", values, 403)
        return handler(app, call, page, form)

    return checked


# --- signing in and out ----------------------------------------------------------------------------


def _signin_page(error: str | None = None, status: int = 200, kid: str = "", next_page: str = "") -> Response:
    return _render("ui_signin.html", {"error": error, "kid": kid, "next_page": next_page}, status)


def _cross_site(request: Request) -> bool:
    """A sign-in sent by another site's page (login CSRF: it would swap the owner's session for
    one of its own). Sec-Fetch-Site, where the browser sends it (secure contexts), decides:
    same-origin, or none (typed by the user); else the Origin must be this server's (`null`,
    what a sandboxed or no-referrer page sends, is not). A request with neither header is no
    browser's form (curl, a script) and passes."""
    from .core import public_base_url

    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is not None and origin.strip().rstrip("/") != public_base_url(request)


_CROSS_SITE = "a sign-in sent from another site is refused: sign in on this page"


@route("POST", "/ui/sign-in", scope=None, body=FORM, page=True)
def sign_in(app, call: Call) -> Response:
    """By a TOTP code (a 12 h `rw` session) or a pasted token (a session of its scope, no longer
    than it lives); a token signs in once, on this form or as a link."""
    if _cross_site(call.request):
        return _signin_page(_CROSS_SITE, 403)
    form = call.body
    try:
        if form.get("token"):
            grant = app.auth.token(form["token"].strip(), once=True)
        else:
            code = form.get("code", "").strip()
            grant = app.auth.code(code, form.get("kid"), source=call.request.client, ttl_s=ui_session.SESSION_TTL_S)
    except GlyphError as error:
        response = _signin_page(error.detail, error.status, form.get("kid", ""), _next_page(form.get("next")))
        response.headers.update({k: v for k, v in error.headers.items() if k == "Retry-After"})
        return response
    return _open_session(app, call, grant, _next_page(form.get("next")) or "/ui")


@route("GET", "/ui/link", scope=None, params=(p.TOKEN,), page=True)
def sign_in_link(app, call: Call) -> Response:
    """`glyph ui`'s one-time link: a page asking to continue, so that a link another site sends
    the browser to signs nobody in by itself; nothing is used up until the owner continues."""
    token = call.args["t"] or ""
    try:
        app.auth.token(token, once="peek")
    except GlyphError as error:
        return _signin_page(error.detail, error.status)
    return _render("ui_link.html", {"token": token})


@route("POST", "/ui/link", scope=None, body=FORM, page=True)
def sign_in_link_confirmed(app, call: Call) -> Response:
    """The link's page continued, from this server's own page: the token is used once (on every
    sign-in path), then a session starts and the address bar holds no token."""
    if _cross_site(call.request):
        return _signin_page(_CROSS_SITE, 403)
    try:
        grant = app.auth.token(call.body.get("t", ""), once=True)
    except GlyphError as error:
        return _signin_page(error.detail, error.status)
    return _open_session(app, call, grant)


def _open_session(app, call: Call, grant: Grant, location: str = "/ui") -> Response:
    now = app.clock.now_s()
    set_cookie, _ = ui_session.start(
        app.memories.store, app.keyring.subkey(SUBKEY_UI_SESSION), grant, now, secure=_secure(call.request)
    )
    return _see_other(location, **{"Set-Cookie": set_cookie})


@route("POST", "/ui/sign-out", scope=None, body=FORM, page=True)
@_change
def sign_out(app, call: Call, page: _Page, form: dict) -> Response:
    ui_session.end(app.memories.store, page.sid)
    return _see_other("/ui", **{"Set-Cookie": ui_session.cookie("", 0, secure=_secure(call.request))})


# --- reading ---------------------------------------------------------------------------------------


@route("GET", "/ui", scope=None, params=_LIST_PARAMS, page=True)
def home(app, call: Call) -> Response:
    page = _signed_in(app, call)
    if page is None:
        return _signin_page(next_page=_next_page(call.args["next"]))
    a = call.args
    ns = a["ns"] or names.DEFAULT_NAMESPACE
    try:
        if a["q"]:
            data = page.api.call("GET", "/v1/search", query={"q": a["q"], "namespace": ns, "limit": 50})
        else:  # an empty field of the form is no filter
            query = {"namespace": ns, "limit": PAGE_SIZE, "tag": a["tag"] or None, "before": a["before"] or None}
            data = page.api.call("GET", "/v1/memories", query=query)
    except ApiError as error:
        return _render(
            "ui_list.html",
            page.values(ns=ns, tag=a["tag"] or "", q=a["q"] or "", items=[], error=error.detail),
            error.status,
        )
    older = None
    if data.get("next"):
        older = "/ui?" + urlencode({k: v for k, v in (("ns", ns), ("tag", a["tag"]), ("before", data["next"])) if v})
    values = page.values(
        ns=ns,
        tag=a["tag"] or "",
        q=a["q"] or "",
        items=[_view(m, preview=True) for m in data["items"]],
        older=older,
        note=a["note"],
    )
    return _render("ui_list.html", values)


@route(
    "GET", "/ui/m/{memory_id}", scope=None, params=(p.MEMORY_ID, p.Param("note", {"type": "string"}, "note")), page=True
)
def memory(app, call: Call) -> Response:
    return _one_memory(
        app,
        call,
        "ui_memory.html",
        lambda m: {"text": m["text"], "tags": ", ".join(m["tags"]), "note": call.args["note"]},
    )


def _one_memory(app, call: Call, template: str, more=lambda m: {}) -> Response:
    """A page about one memory (to read and correct, or to confirm its deletion)."""
    page = _signed_in(app, call)
    if page is None:  # sign in, then back to this memory (a cited URL lands where it points)
        return _see_other("/ui?" + urlencode({"next": f"/ui/m/{call.args['memory_id']}"}))
    try:
        data = page.api.call("GET", f"/v1/memories/{call.args['memory_id']}")
    except ApiError as error:
        return _render("ui_message.html", page.values(title="Not found", message=error.detail), error.status)
    return _render(template, page.values(m=_view(data), **more(data)))


@route("GET", "/ui/export", scope=None, params=(p.Param("ns", {"type": "string"}, "ns"),), page=True)
def export(app, call: Call) -> Response:
    """The namespace as NDJSON, every page of /v1/export joined (a download, never cached)."""
    page = _signed_in(app, call)
    if page is None:
        return _see_other("/ui")
    ns = call.args["ns"] or names.DEFAULT_NAMESPACE
    parts, before = [], None
    while True:
        try:
            answer = page.api.request("GET", "/v1/export", query={"namespace": ns, "before": before})
        except ApiError as error:
            values = page.values(title="Export failed", message=error.detail)
            return _render("ui_message.html", values, error.status)
        parts.append(answer.body)
        before = answer.next_cursor
        if before is None:
            break
    disposition = f'attachment; filename="glyphmemory-{ns}.ndjson"'
    return Response(
        200,
        b"".join(parts),
        {"Content-Type": "application/x-ndjson; charset=utf-8", "Content-Disposition": disposition},
    )


@route("GET", "/ui/static/app.js", scope=None, page=True)
def script(app, call: Call) -> Response:
    body = (_STATIC / "app.js").read_bytes()
    return Response(
        200, body, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=3600"}
    )


# --- changing ----------------------------------------------------------------------------------------


def _note(kinds: list[str]) -> str:
    return "saved" + (": removed before saving: " + ", ".join(kinds) if kinds else "")


@route("POST", "/ui/new", scope=None, body=FORM, page=True)
@_change
def write(app, call: Call, page: _Page, form: dict) -> Response:
    ns = form.get("ns") or names.DEFAULT_NAMESPACE
    payload = {"text": form.get("text", ""), "namespace": ns, "source": "web"}
    if _tags(form.get("tags", "")):
        payload["tags"] = _tags(form.get("tags", ""))
    try:
        data = page.api.call("POST", "/v1/memories", payload=payload)
    except ApiError as error:
        values = page.values(
            ns=ns, items=[], error=error.detail, draft=form.get("text", ""), draft_tags=form.get("tags", "")
        )
        return _render("ui_list.html", values, error.status)
    note = "already saved" + repeat.summary(data) if data["duplicate"] else _note(data["redacted"])
    if data.get("similar"):
        from ..similar import ADVICE, lines

        note += "; " + "; ".join(lines(data["similar"]).splitlines()) + f" ({ADVICE})"
    return _see_other("/ui?" + urlencode({"ns": ns, "note": note}))


@route("POST", "/ui/m/{memory_id}/edit", scope=None, params=(p.MEMORY_ID,), body=FORM, page=True)
@_change
def edit(app, call: Call, page: _Page, form: dict) -> Response:
    mid = call.args["memory_id"]
    payload = {"text": form.get("text", ""), "tags": _tags(form.get("tags", ""))}
    try:
        data = page.api.call("PATCH", f"/v1/memories/{mid}", payload=payload)
    except ApiError as error:
        try:
            current = page.api.call("GET", f"/v1/memories/{mid}")
        except ApiError:
            return _render("ui_message.html", page.values(title="Not found", message=error.detail), error.status)
        values = page.values(
            m=_view(current),
            text=form.get("text", ""),
            tags=form.get("tags", ""),
            error=error.detail,
            other=error.extensions.get("other_id") if error.status == 409 else None,
        )
        return _render("ui_memory.html", values, error.status)
    return _see_other(f"/ui/m/{mid}?" + urlencode({"note": _note(data["redacted"])}))


@route("GET", "/ui/m/{memory_id}/delete", scope=None, params=(p.MEMORY_ID,), page=True)
def confirm_delete(app, call: Call) -> Response:
    return _one_memory(app, call, "ui_delete.html")


@route("POST", "/ui/m/{memory_id}/delete", scope=None, params=(p.MEMORY_ID,), body=FORM, page=True)
@_change
def delete(app, call: Call, page: _Page, form: dict) -> Response:
    try:
        page.api.call("DELETE", f"/v1/memories/{call.args['memory_id']}")
    except ApiError as error:
        return _render("ui_message.html", page.values(title="Not deleted", message=error.detail), error.status)
    return _see_other("/ui?" + urlencode({"ns": form.get("ns") or names.DEFAULT_NAMESPACE, "note": "deleted"}))
