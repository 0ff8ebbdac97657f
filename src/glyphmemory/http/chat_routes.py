"""Chat access by URL: GET /r reads context as markdown, GET /w writes from the query string.

Chat fetch tools send no headers and read text better than JSON: auth is `t=` or `code=`,
answers are text, and errors are one plain sentence (the App renders them for these paths).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from .. import names, repeat
from ..codec import decode
from ..context import build_context, build_search_block, render_context
from ..errors import InvalidInput, Unauthorized
from ..model import FIELDS, validate_tags
from ..tokens import Grant
from . import params as p
from .core import Call, Response, Router, public_base_url


def _sentence(request, error) -> Response:
    """A chat URL's refusal: one plain sentence, which a chat reads (never problem+json)."""
    return Response.text(f"Error {error.status}: {error.detail}.\n", error.status)


ROUTER = Router(render_error=_sentence)
route = ROUTER.add

_NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}
_MARKDOWN = {"text/markdown": {"type": "string"}}
_TEXT = {"text/plain": {"type": "string"}}


def _read_grant_and_write_token(app, call: Call) -> tuple[Grant, str | None, int]:
    """The grant of t (read scope) or code, the write token to hand out (None when the grant
    cannot write: a read-only link stays read-only), and until when the links work."""
    a = call.args
    if a["t"] is not None:
        grant = app.auth.token(a["t"], "r")
    elif a["code"] is not None:
        grant = app.auth.code(a["code"], a["kid"], source=call.request.client, ttl_s=names.CHAT_TOKEN_TTL_S)
    else:
        raise Unauthorized("add t=<token> or code=<6 digits from your authenticator app> to the URL")
    if not grant.allows("w"):
        return grant, None, grant.exp
    return grant, *app.auth.mint(grant, "w", names.CHAT_TOKEN_TTL_S)


def _instructions(base: str, write_token: str | None, read_token: str | None, exp: int, ns: str) -> str:
    until = datetime.fromtimestamp(exp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
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


_KID_QUERY = p.Param("kid", {"type": "string", "pattern": f"^{names.KID_PATTERN}$"}, "Key of the code (default root).")
_N = p.integer("n", 1, names.MAX_LIMIT, names.DEFAULT_LIMIT, "Most memories.")
_Q = p.Param("q", p.Q_SCHEMA, "Search instead of recency.")


@route(
    "GET",
    "/r",
    scope=None,
    params=(p.TOKEN, p.CODE, _KID_QUERY, _N, p.namespace("ns"), _Q, p.BUDGET),
    errors=(401, 403, 429, 503),
    summary="Chat read URL: markdown context plus write instructions",
    description="Authorised by `t` (read scope) or `code` (authenticator code, single use, throttled). "
    "Errors are one plain-text sentence.",
    answers={200: (_MARKDOWN, "Context")},
)
def read_by_url(app, call: Call) -> Response:
    a = call.args
    ns = a["ns"]
    grant, write_token, exp = _read_grant_and_write_token(app, call)
    if a["q"] is not None:
        block = build_search_block(app.memories, ns, a["q"], a["budget"], limit=a["n"])
    else:
        block = build_context(app.memories, ns, a["budget"], limit=a["n"])
    # After a code, hand out one read+write token for refreshing; after t=, refresh with it.
    read_token = a["t"] or app.auth.mint(grant, "rw", names.CHAT_TOKEN_TTL_S)[0]
    base = public_base_url(call.request)
    text = render_context(block) + "\n" + _instructions(base, write_token, read_token, exp, ns)
    response = Response.text(text, content_type="text/markdown")
    response.headers.update(_NO_STORE)
    return response


@route(
    "GET",
    "/w",
    scope="w",
    errors=(422, 503),
    params=(
        p.Param("z", {"type": "string"}, "base64url of gzip-compressed text."),
        p.Param("m", {"type": "string"}, "The text, percent-encoded."),
        p.Param("tags", {"type": "string"}, "Comma-separated tags."),
        p.Param("ns", FIELDS["namespace"].json_schema(description=""), FIELDS["namespace"].description),
        p.Param("source", FIELDS["source"].json_schema(description=""), "Who wrote it (default chat)."),
    ),
    summary="Chat write URL: the memory in the query string",
    description="`z` = base64url(gzip(UTF-8 text)), or `m` = percent-encoded text; exactly one. "
    "Idempotent: the same URL again answers `already saved <id>`, followed by what the repeat "
    "changed in parentheses, if anything (`now kept with no expiry`, `tags added: a, b`).",
    answers={201: (_TEXT, "saved <id>"), 200: (_TEXT, "already saved <id>")},
)
def write_by_url(app, call: Call) -> Response:
    a = call.args
    if (a["z"] is None) == (a["m"] is None):
        raise InvalidInput("give the memory as exactly one of m=<text> or z=<base64url gzip>")
    text = decode(a["z"]) if a["z"] is not None else a["m"]
    tags = None
    if a["tags"] is not None:
        tags = [t for t in a["tags"].split(",") if t.strip()]
        if len(tags) > names.MAX_TAGS:  # checked here too, so the sentence names the URL form
            raise InvalidInput(f"tags has {len(tags)} entries; at most {names.MAX_TAGS}")
        validate_tags(tags)
    written = app.memories.write(
        text=text,
        tags=tags,
        namespace=a["ns"],
        source=a["source"],
        default_source="chat",
        similar=call.grant.allows("r"),  # the memories close to it are read: not for a `w` link
    )
    memory, duplicate = written
    line = f"already saved {memory.id}{repeat.summary(written.to_json())}" if duplicate else f"saved {memory.id}"
    removed = ""
    if written.redacted:
        from ..redact import summary  # the write has loaded it; reads never pay for the rules

        removed = f" ({summary(written.redacted)})"
    from ..similar import lines

    response = Response.text(f"{line}{removed}\n{lines(written.similar)}", 200 if duplicate else 201)
    response.headers.update(_NO_STORE)
    return response
