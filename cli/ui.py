"""`glyph ui`: a one-time sign-in link to the web page, printed and opened in the browser."""

from __future__ import annotations

import sys
import time
from urllib.parse import urlsplit

from .base import EXIT_OK, arg, command, emit, load_key, server_url

LINK_TTL_S = 12 * 3600  # the page's session lives no longer than the token that opened it


@command(arg("--no-open", action="store_true", help="only print the link"))
def cmd_ui(args) -> int:
    """Open the web page (/ui) signed in: prints a one-time link and opens it.

    The link carries a 12 h token that signs in once (then it is spent, on every sign-in path);
    the page keeps a session cookie as long as that token lives, and the address bar holds no token.
    """
    from glyphmemory.keys import SUBKEY_SIGN_IN, derive_subkey
    from glyphmemory.tokens import mint_window_token

    key = load_key()
    # Signed by the key's sign-in subkey: the link signs in (once), and is a token nowhere else.
    link_key = derive_subkey(key.secret, SUBKEY_SIGN_IN)
    token = mint_window_token(key.kid, link_key, "rw", int(time.time()) + LINK_TTL_S)
    parts = urlsplit(server_url())  # never the basic-auth password of a user:password@host URL
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    url = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}/ui/link?t={token}"
    emit(args, {"url": url, "expires_in": LINK_TTL_S}, url)
    if not args.no_open and not args.json:
        import webbrowser

        try:
            webbrowser.open(url)
        except Exception:  # no browser here: the printed link is enough
            print("glyph: open the link above in your browser", file=sys.stderr)
    return EXIT_OK
