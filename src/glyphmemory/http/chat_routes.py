"""Chat access by URL: GET /r reads context as markdown, GET /w writes from the query string.

Chat fetch tools send no headers and read text better than JSON: auth is `t=` or `code=`,
answers are text, and errors are one plain sentence (the App renders them for these paths).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from urllib.parse import quote

from .. import names
from ..codec import decode
from ..context import build_context, build_search_block, render_context
from ..errors import InvalidInput, Unauthorized
from ..model import validate_namespace, validate_tags
from ..tokens import mint_window_token, require_scope, verify_window_token
from ..totp import check_code
from .app import App, Call, Response
from .routes import int_param, route

CONVERSATION_TOKEN_TTL_S = 12 * 3600
ENV_PUBLIC_URL = "GLYPH_PUBLIC_URL"
_HOST_RE = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}


def public_base_url(app: App, call: Call) -> str:
    """Where this server is reached from outside: GLYPH_PUBLIC_URL, else the forwarded host."""
    configured = os.environ.get(ENV_PUBLIC_URL)
    if configured:
        return configured.rstrip("/")
    headers = call.request.headers
    host = headers.get("x-forwarded-host") or headers.get("host") or "127.0.0.1:8787"
    host = host.split(",")[0].strip()
    if not _HOST_RE.fullmatch(host):
        raise InvalidInput("the Host header is not a host name")
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    return f"{'https' if proto == 'https' else 'http'}://{host}"


def _authorise_read(app: App, call: Call) -> tuple[str | None, int]:
    """Check t or code; returns the write token to hand out (None if not allowed) and its exp."""
    q = call.query
    now = app.clock.now_s()
    if "t" in q:
        grant = verify_window_token(q["t"], app.keyring.secret_for, now)
        require_scope(grant, "r")
        if not grant.allows("w"):
            return None, grant.exp  # a read-only link stays read-only
        kid, exp = grant.kid, min(int(now) + CONVERSATION_TOKEN_TTL_S, grant.exp)
    elif "code" in q:
        kid = q.get("kid", app.keyring.root.kid)
        check_code(app.memories.store, app.keyring, kid, q["code"], now)
        exp = int(now) + CONVERSATION_TOKEN_TTL_S
    else:
        raise Unauthorized("add t=<token> or code=<6 digits from your authenticator app> to the URL")
    secret = app.keyring.secret_for(kid)
    return mint_window_token(kid, secret, "w", exp), exp


def _instructions(base: str, write_token: str | None, read_token: str | None, exp: int, ns: str) -> str:
    until = datetime.fromtimestamp(exp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    ns_part = "" if ns == names.DEFAULT_NAMESPACE else f"&ns={ns}"
    lines = ["---", "## Saving memories (instructions for the assistant)"]
    if write_token is None:
        lines.append("This link is read-only: it cannot save memories.")
    else:
        prefix = f"{base}/w?t={write_token}{ns_part}&m="
        lines += [
            "To save a memory, fetch this URL with the memory appended, percent-encoded:",
            f"{prefix}",
            f"Example: {prefix}{quote('User prefers concise answers')}",
            "Add &tags=a,b to tag it. For long text use z= instead of m=: base64url (no padding) "
            "of the gzip-compressed UTF-8 text. The answer is `saved <id>`; fetching the same URL "
            "again is harmless (it answers `already saved <id>`).",
            "If you cannot fetch a URL you wrote yourself, show it to the user as a link to open.",
            "Save what is worth knowing in a later session: decisions, preferences, facts about the "
            "user and their projects, unfinished work. Never save passwords, keys or other secrets.",
        ]
    if read_token:
        lines.append(f"Refresh this context: {base}/r?t={read_token}{ns_part}")
    lines.append(f"These links work until {until}.")
    return "\n".join(lines) + "\n"


@route("GET", "/r", scope=None, query=("t", "code", "kid", "n", "ns", "q", "budget"))
def read_by_url(app: App, call: Call) -> Response:
    q = call.query
    ns = validate_namespace(q.get("ns", names.DEFAULT_NAMESPACE))
    n = int_param(q, "n", names.DEFAULT_LIMIT, 1, names.MAX_LIMIT)
    budget = int_param(
        q, "budget", names.DEFAULT_CONTEXT_BUDGET, names.MIN_CONTEXT_BUDGET, names.MAX_CONTEXT_BUDGET
    )
    write_token, exp = _authorise_read(app, call)
    if "q" in q:
        block = build_search_block(app.memories, ns, q["q"], budget, limit=n)
    else:
        block = build_context(app.memories, ns, budget, limit=n)
    # After a code, hand out one read+write token for refreshing; after t=, refresh with it.
    read_token = q.get("t")
    if read_token is None and write_token is not None:
        kid = write_token.split(".")[0]
        read_token = mint_window_token(kid, app.keyring.secret_for(kid), "rw", exp)
    base = public_base_url(app, call)
    text = render_context(block) + "\n" + _instructions(base, write_token, read_token, exp, ns)
    response = Response.text(text, content_type="text/markdown")
    response.headers.update(_NO_STORE)
    return response


@route("GET", "/w", scope="w", query=("z", "m", "tags", "ns", "source"))
def write_by_url(app: App, call: Call) -> Response:
    q = call.query
    if ("z" in q) == ("m" in q):
        raise InvalidInput("give the memory as exactly one of m=<text> or z=<base64url gzip>")
    text = decode(q["z"]) if "z" in q else q["m"]
    tags = None
    if "tags" in q:
        tags = [t for t in q["tags"].split(",") if t.strip()]
        if len(tags) > names.MAX_TAGS:  # checked here too, so the sentence names the URL form
            raise InvalidInput(f"tags has {len(tags)} entries; at most {names.MAX_TAGS}")
        validate_tags(tags)
    memory, duplicate = app.memories.write(
        text=text,
        tags=tags,
        namespace=q.get("ns"),
        source=q.get("source"),
        default_source="chat",
    )
    word = "already saved" if duplicate else "saved"
    response = Response.text(f"{word} {memory.id}\n", 200 if duplicate else 201)
    response.headers.update(_NO_STORE)
    return response

