"""`glyph url`: links for chats that can only fetch URLs (a read link, or one that saves a text)."""

from __future__ import annotations

import sys

from glyphmemory import names

from .base import (
    DEFAULT_TTL,
    EXIT_OK,
    EXIT_USAGE,
    PROJECT_NS,
    CliError,
    arg,
    command,
    emit,
    make_client,
    parse_duration,
)


@command(
    arg("action", choices=("read", "write"), help="a read link, or a link that saves TEXT"),
    arg("text", nargs="?", metavar="TEXT", help="for write: the memory (- or nothing: stdin)"),
    arg("--ttl", default=DEFAULT_TTL, help="how long the link works: 15m, 12h (default), 7d, 2w; at most 30d"),
    PROJECT_NS,
    arg("--tags", help="for write: comma-separated tags"),
)
def cmd_url(args) -> int:
    """Print a URL for a chat that can only fetch URLs: `url read` or `url write TEXT`.

    `url read` gives a link to paste into a chat: it answers with your recent memories and tells
    the assistant how to save new ones. `url write TEXT` gives the shortest link that saves TEXT
    (compressed z= or plain m=, whichever is shorter), or says why none fits 8,192 bytes.
    """
    import time
    from urllib.parse import quote, urlencode

    from glyphmemory.codec import encode
    from glyphmemory.tokens import mint_window_token

    client = make_client()  # for the server URL without any basic-auth userinfo
    key = client.key
    exp = int(time.time()) + parse_duration(args.ttl)
    extra = {} if args.ns == names.DEFAULT_NAMESPACE else {"ns": args.ns}
    if args.action == "read":
        token = mint_window_token(key.kid, key.secret, "rw", exp)
        url = f"{client.base_url}/r?" + urlencode({"t": token, **extra})
        emit(args, {"url": url, "expires_at": exp}, url)
        return EXIT_OK
    text = sys.stdin.read() if args.text in (None, "-") else args.text
    if not text or not text.strip():
        raise CliError("url write needs the TEXT to save", EXIT_USAGE)
    token = mint_window_token(key.kid, key.secret, "w", exp)
    if args.tags:
        extra["tags"] = args.tags
    base = f"{client.base_url}/w?" + urlencode({"t": token, **extra}, safe=",")
    forms = {"z": f"{base}&z={encode(text)}", "m": f"{base}&m={quote(text, safe='')}"}
    form, url = min(forms.items(), key=lambda item: len(item[1]))
    size = len(url.encode())
    if size > names.MAX_URL_BYTES:
        raise CliError(
            f"too long for a URL: even compressed it is {size} bytes, over the {names.MAX_URL_BYTES}-byte "
            "limit of CloudFront; save it with `glyph write` instead, or split it",
            EXIT_USAGE,
        )
    emit(args, {"url": url, "form": form, "bytes": size, "expires_at": exp}, url)
    return EXIT_OK
