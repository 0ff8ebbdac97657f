"""What a redirect URI may be at all, before any table says which ones a client may use.

RFC 6749 §3.1.2 and RFC 9700 §4.1: an absolute URI (RFC 3986), no fragment, compared by exact
string. Here also: visible ASCII only, no userinfo, at most MAX_REDIRECT_URI_CHARS. The raw
string is checked, never a parsed copy, because the raw string is what goes into the 302's
`Location` and the sign-in page's CSP.
"""

from __future__ import annotations

import re

MAX_REDIRECT_URI_CHARS = 2000
# RFC 3986: scheme ":" and the rest, only its characters (unreserved, reserved, "%" HEX HEX), so
# visible ASCII with no space, quote, angle bracket, backslash, caret, backtick, brace or bar.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*\Z")
# The authority of a redirect URI: a DNS name, IPv4 or bracketed IPv6 host (no zone, no
# userinfo), and an optional port.
_AUTHORITY = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{0,5})?\Z")


def valid_redirect_uri(uri: object) -> bool:
    """Whether `uri`, as the client sent it, may be a redirect URI: an absolute RFC 3986 URI of
    at most 2,000 visible ASCII characters, without userinfo and without a fragment (not even
    an empty `#`). Anything else (CR, LF, NUL, tab, space, `"`, `<`, `\\`, `€`…) is refused."""
    if not isinstance(uri, str) or len(uri) > MAX_REDIRECT_URI_CHARS or not _URI.match(uri) or "#" in uri:
        return False
    authority, rest = _authority(uri)
    if authority is not None and not _AUTHORITY.match(authority):
        return False  # userinfo ("@"), an empty or odd host, a port that is not a number
    return "[" not in rest and "]" not in rest  # brackets only around an IPv6 host


def csp_source(uri: str) -> str:
    """The CSP source expression of a valid redirect URI's origin (`scheme://host[:port]`), or
    its scheme alone (`http:`) where CSP's grammar has no host form for it (an IPv6 literal)."""
    scheme, authority = uri.split(":", 1)[0].lower(), _authority(uri)[0]
    if authority and not authority.startswith("["):
        return f"{scheme}://{authority.rstrip(':')}"
    return f"{scheme}:"


def _authority(uri: str) -> tuple[str | None, str]:
    """(authority or None, what follows it) of an absolute URI."""
    rest = uri.split(":", 1)[1]
    if not rest.startswith("//"):
        return None, rest
    end = min((i for i in (rest.find("/", 2), rest.find("?", 2)) if i >= 0), default=len(rest))
    return rest[2:end], rest[end:]
