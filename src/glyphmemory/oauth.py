"""OAuth 2.1 for one owner, as remote MCP clients (claude.ai's connectors) expect it.

Clients register (RFC 7591) or name a client ID metadata document on a trusted host; the owner
signs in on /authorize with an authenticator code; the client redeems the code with its PKCE
verifier (S256 only) for an access token bound to the `/mcp` resource (24 h) and a refresh token.

State lives in the store's auth records, each with its own expiry (checked here too: emulators
never expire items): `oauth-client` (registrations: 6 hours until a sign-in uses one, then 90
days from the last sign-in; anonymous, so counted in `oauth-register`: 10 an hour from one
address, 100 in all),
`oauth-code` (single use, 5 minutes, keyed by the code's SHA-256) and `oauth-grant` (one per
sign-in, what `glyph connectors` lists and revokes). Tokens are HMAC-signed with a key derived
from the root secret and name their grant, so revoking the grant ends them at once. A refresh
token carries its grant's generation: using it moves the generation on, and presenting an older
one again (a stolen token, or a replay) revokes the whole grant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time

from . import b64url, names
from .errors import GlyphError
from .oauth_clients import TABLE, cimd_row, redirect_allowed, redirect_matches, split_redirects
from .redirect_uris import MAX_REDIRECT_URI_CHARS, valid_redirect_uri

ACCESS_TTL_S = 24 * 3600  # claude.ai is known not to refresh reliably: a day, revocable at once
REFRESH_TTL_S = 30 * 86400  # a grant unused for 30 days ends
CODE_TTL_S = 300
CLIENT_TTL_S = 90 * 86400  # a client that signed in: from its last sign-in
UNUSED_CLIENT_TTL_S = 6 * 3600  # a registration nobody signed in with
# /register is anonymous: at most this many registrations an hour from one source, and in all.
REGISTER_WINDOW_S, REGISTER_PER_SOURCE, REGISTER_IN_ALL = 3600, 10, 100
SCOPE = "memory"
GRANT_SCOPE = "rw"  # what an MCP grant may do with memories: read and write, never admin
USED_AT_EVERY_S = 3600  # "last used" is written at most hourly, not at every call

CLIENT, CODE, GRANT, CIMD = "oauth-client", "oauth-code", "oauth-grant", "oauth-cimd"
REGISTRATIONS = "oauth-register"  # the registration counters (quota.py)
MAX_REDIRECT_URIS = 10  # older VS Code registers six at once
CIMD_FRESH_S = 300  # a metadata document is fetched again after 5 minutes...
CIMD_STALE_S = 24 * 3600  # ...and while its host cannot answer, a copy up to a day old serves
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}\Z")
_ID = re.compile(names.OAUTH_ID_PATTERN + r"\Z")  # with match(): the whole string


class OAuthError(GlyphError):
    """An OAuth error (RFC 6749 §5.2): `error` and `error_description`, as clients expect."""

    status, title, slug = 400, "OAuth error", "oauth"

    def __init__(self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(description, headers=headers)
        self.error, self.status = error, status


def _now() -> int:
    return int(time.time())


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _new_id() -> str:
    return b64url.encode(os.urandom(16))


class OAuth:
    """The authorization server and the resource's token check, over a store and a signing key."""

    def __init__(self, store, key: bytes, *, alive=lambda grant: True, clients: tuple = TABLE):
        """`alive(grant record)`: whether the key that signed the grant in still holds (the App's
        auth component answers it); a grant that is not alive is neither listed nor refreshed,
        and its access tokens are refused. `clients`: the trusted-client table with the owner's
        rows (oauth_clients.table(settings))."""
        self.store = store
        self.key = key
        self.alive = alive
        self.clients = clients

    # --- clients ------------------------------------------------------------------------------

    def register(self, metadata: object, source: str = "") -> dict:
        """RFC 7591 for public clients. `source`: the caller's address (its quota's bucket).
        OAuthError 400 for metadata refused, 429 when a quota is spent."""
        if not isinstance(metadata, dict):
            raise OAuthError("invalid_client_metadata", "the registration must be a JSON object")
        uris = metadata.get("redirect_uris")
        if (
            not isinstance(uris, list)
            or not 1 <= len(uris) <= MAX_REDIRECT_URIS
            or not all(isinstance(u, str) for u in uris)
        ):
            raise OAuthError("invalid_redirect_uri", f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs")
        for i, uri in enumerate(uris):
            if not valid_redirect_uri(uri):
                raise OAuthError(
                    "invalid_redirect_uri",
                    f"redirect_uris[{i}] is not an absolute URI of at most {MAX_REDIRECT_URI_CHARS} visible ASCII "
                    "characters without userinfo or fragment",
                )
        uris, dropped = split_redirects(list(dict.fromkeys(uris)), clients=self.clients)
        if not uris:
            raise OAuthError(
                "invalid_redirect_uri", f"this server redirects to none of these: {', '.join(dropped)[:300]!r}"
            )
        method = metadata.get("token_endpoint_auth_method", "none")
        if method != "none":
            raise OAuthError("invalid_client_metadata", "only public clients: token_endpoint_auth_method none")
        grants = metadata.get("grant_types", ["authorization_code", "refresh_token"])
        if not _strings(grants) or not set(grants) <= {"authorization_code", "refresh_token"}:
            raise OAuthError("invalid_client_metadata", "grant_types: authorization_code and refresh_token only")
        if metadata.get("response_types", ["code"]) != ["code"]:
            raise OAuthError("invalid_client_metadata", "response_types: code only")
        name = _client_name(metadata.get("client_name"))
        client_id = _new_id()
        now = _now()
        self._count_registration(source, now)
        record = {
            "client_name": name,
            "redirect_uris": uris,
            "created_at": now,
            "expires_at": now + UNUSED_CLIENT_TTL_S,
        }
        self.store.records_put_if(CLIENT, client_id, record, expected_version=0, expires_at=record["expires_at"])
        answer = {
            "client_id": client_id,
            "client_id_issued_at": now,
            "client_name": name,
            "redirect_uris": uris,
            "token_endpoint_auth_method": "none",
            "grant_types": grants,
            "response_types": ["code"],
        }
        if dropped:  # RFC 7591 §3.2.1: the server may replace requested values; it says which
            answer["dropped_redirect_uris"] = dropped
        return answer

    def _count_registration(self, source: str, now: int) -> None:
        from .quota import take

        buckets = [(f"source:{_hash(source)[:32]}", REGISTER_PER_SOURCE), ("all", REGISTER_IN_ALL)]
        wait = take(self.store, REGISTRATIONS, buckets, REGISTER_WINDOW_S, now)
        if wait:
            raise OAuthError(
                "temporarily_unavailable",
                f"too many clients registered in the last hour (at most {REGISTER_PER_SOURCE} from one address, "
                f"{REGISTER_IN_ALL} in all): retry in {wait} s",
                429,
                headers={"Retry-After": str(wait)},
            )

    def client(self, client_id: str) -> dict:
        """A registered client, or the metadata document a URL client_id names (trusted hosts only)."""
        if client_id.startswith("https://"):
            return self._cimd_client(client_id)
        record = self.store.records_get(CLIENT, client_id)[0] if _ID.match(client_id) else None
        if record is None or record.get("expires_at", 0) <= _now():
            raise OAuthError("invalid_client", "this client is not registered here (or its registration expired)", 401)
        return record

    def check_redirect(self, client: dict, redirect_uri: str) -> None:
        """The authorization request's redirect URI is one the client registered (a loopback one
        on any port) and one the trusted-client table still allows."""
        registered = any(redirect_matches(r, redirect_uri) for r in client["redirect_uris"])
        if not registered or not redirect_allowed(redirect_uri, clients=self.clients):
            raise OAuthError("invalid_request", "the redirect_uri is not one this client registered")

    def _cimd_client(self, url: str) -> dict:
        """The client a metadata document describes, with the redirect URIs its row of the
        trusted-client table allows. Fetched again after CIMD_FRESH_S; when its host cannot
        answer, the copy kept in the store (at most CIMD_STALE_S old) serves."""
        from .cimd import MAX_CACHED, fetch_document

        row = cimd_row(url, self.clients) if valid_redirect_uri(url) else None  # the same URI rule: visible ASCII
        if row is None:
            raise OAuthError("invalid_client", "client ID documents are fetched only from trusted hosts", 401)
        cached = _cimd_cache.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        name = _hash(url)
        try:
            document = fetch_document(url)
        except OAuthError:  # unreachable, or not a document naming itself: the kept copy serves
            kept = self.store.records_get(CIMD, name)[0]
            if kept is None or kept.get("fetched_at", 0) + CIMD_STALE_S <= _now():
                raise
            return kept["client"]
        client = _client_from_document(url, document, row, self.clients)  # a document read and refused is final
        if len(_cimd_cache) >= MAX_CACHED:
            _cimd_cache.clear()
        _cimd_cache[url] = (time.monotonic() + CIMD_FRESH_S, client)
        data, version = self.store.records_get(CIMD, name)
        if data is None or data.get("client") != client or data.get("fetched_at", 0) + CIMD_FRESH_S <= _now():
            now = _now()
            record = {"url": url, "client": client, "fetched_at": now}
            self.store.records_put_if(CIMD, name, record, expected_version=version, expires_at=now + CIMD_STALE_S)
        return client

    # --- authorization codes ------------------------------------------------------------------

    def issue_code(self, *, client_id, client, redirect_uri, challenge, resource, kid, key=None) -> str:
        code = b64url.encode(os.urandom(32))
        now = _now()
        record = {
            "client_id": client_id,
            "client_name": client["client_name"],
            "redirect_uri": redirect_uri,
            "challenge": challenge,
            "resource": resource,
            "kid": kid,
            "key": key,
            "expires_at": now + CODE_TTL_S,
        }
        self.store.records_put_if(CODE, _hash(code), record, expected_version=0, expires_at=now + CODE_TTL_S)
        if not client_id.startswith("https://"):  # a registration in use lives on
            data, version = self.store.records_get(CLIENT, client_id)
            if data is not None:
                data["expires_at"] = now + CLIENT_TTL_S
                self.store.records_put_if(
                    CLIENT, client_id, data, expected_version=version, expires_at=data["expires_at"]
                )
        return code

    def redeem_code(self, *, code, client_id, redirect_uri, verifier, resource) -> dict:
        """Tokens for a code: once only, within 5 minutes, for its client, redirect URI,
        PKCE challenge and resource."""
        if not isinstance(code, str) or not 20 <= len(code) <= 128:
            raise OAuthError("invalid_grant", "the authorization code is not valid")
        name = _hash(code)
        record = self.store.records_get(CODE, name)[0]
        # Deleting first makes the code single-use even when two redemptions race.
        if record is None or not self.store.records_delete(CODE, name) or record["expires_at"] <= _now():
            raise OAuthError("invalid_grant", "the authorization code is unknown, used or expired")
        if record["client_id"] != client_id:
            raise OAuthError("invalid_grant", "the code was issued to another client")
        if record["redirect_uri"] != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the one the code was issued for")
        if not isinstance(verifier, str) or not _VERIFIER.match(verifier):
            raise OAuthError("invalid_grant", "code_verifier must be 43 to 128 unreserved characters")
        if not hmac.compare_digest(s256(verifier), record["challenge"]):
            raise OAuthError("invalid_grant", "the code_verifier does not match the code_challenge")
        if resource is not None and resource != record["resource"]:
            raise OAuthError("invalid_target", "resource differs from the one the code was issued for")
        now = _now()
        grant_id = _new_id()
        grant = {
            "client_id": client_id,
            "client_name": record["client_name"],
            "kid": record["kid"],
            "key": record.get("key"),
            "resource": record["resource"],
            "generation": 1,
            "created_at": now,
            "used_at": now,
            "expires_at": now + REFRESH_TTL_S,
        }
        self.store.records_put_if(GRANT, grant_id, grant, expected_version=0, expires_at=grant["expires_at"])
        return self._tokens(grant_id, grant)

    # --- tokens ---------------------------------------------------------------------------------

    def refresh(self, *, refresh_token, client_id, resource) -> dict:
        grant_id, generation = self._open(refresh_token, "refresh")
        data, version = self.store.records_get(GRANT, grant_id)
        if data is None or data["expires_at"] <= _now() or not self.alive(data):
            raise OAuthError("invalid_grant", "the grant was revoked or has expired: sign in again")
        if data["client_id"] != client_id:
            raise OAuthError("invalid_grant", "the refresh token belongs to another client")
        if resource is not None and resource != data["resource"]:
            raise OAuthError("invalid_target", "resource differs from the grant's")
        if int(generation) != data["generation"]:
            self.store.records_delete(GRANT, grant_id)  # an old refresh token came back: revoke it all
            raise OAuthError("invalid_grant", "this refresh token was already used; the grant is revoked")
        now = _now()
        data.update(generation=data["generation"] + 1, used_at=now, expires_at=now + REFRESH_TTL_S)
        if not self.store.records_put_if(
            GRANT, grant_id, data, expected_version=version, expires_at=data["expires_at"]
        ):
            self.store.records_delete(GRANT, grant_id)  # two refreshes with one token: the same reuse
            raise OAuthError("invalid_grant", "this refresh token was already used; the grant is revoked")
        return self._tokens(grant_id, data)

    def _tokens(self, grant_id: str, grant: dict) -> dict:
        exp = _now() + ACCESS_TTL_S
        access = self._seal("access", grant_id, str(exp), grant["resource"])
        refresh = self._seal("refresh", grant_id, str(grant["generation"]))
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL_S,
            "refresh_token": refresh,
            "scope": SCOPE,
        }

    def verify_access(self, token: str, resource: str) -> tuple[str, dict, int]:
        """(grant id, grant, the token's expiry) for an access token meant for this resource, whose
        grant is alive; OAuthError 401 otherwise."""
        grant_id, exp = self._open(token, "access", resource, status=401)
        if int(exp) <= _now():
            raise OAuthError("invalid_token", "the access token has expired", 401)
        data, version = self.store.records_get(GRANT, grant_id)
        if data is None or data["expires_at"] <= _now() or not self.alive(data):
            raise OAuthError("invalid_token", "the grant behind this token was revoked", 401)
        if _now() - data.get("used_at", 0) >= USED_AT_EVERY_S:
            data["used_at"] = _now()
            self.store.records_put_if(GRANT, grant_id, data, expected_version=version, expires_at=data["expires_at"])
        return grant_id, data, int(exp)

    def _seal(self, kind: str, grant_id: str, value: str, bound: str = "") -> str:
        mac = hmac.new(self.key, f"{kind}.{grant_id}.{value}.{bound}".encode(), hashlib.sha256).digest()
        return f"{kind[0]}1.{grant_id}.{value}.{b64url.encode(mac[:24])}"

    def _open(self, token: object, kind: str, bound: str = "", *, status: int = 400) -> tuple[str, str]:
        error = "invalid_token" if kind == "access" else "invalid_grant"
        parts = token.split(".") if isinstance(token, str) and len(token) <= 200 else []
        if len(parts) != 4 or parts[0] != f"{kind[0]}1" or not parts[2].isdigit():
            raise OAuthError(error, f"not a GlyphMemory {kind} token", status)
        expected = self._seal(kind, parts[1], parts[2], bound)
        if not hmac.compare_digest(expected.encode(), token.encode()):
            raise OAuthError(error, f"the {kind} token is not valid for this server and resource", status)
        return parts[1], parts[2]

    # --- grants, for glyph connectors ----------------------------------------------------------

    def grants(self) -> list[dict]:
        from .model import iso_from_epoch_us

        def iso(seconds):
            return None if seconds is None else iso_from_epoch_us(int(seconds) * 1_000_000)

        now = _now()
        out = [
            {
                "id": grant_id,
                "client_id": g["client_id"],
                "client_name": g.get("client_name"),
                "resource": g["resource"],
                "created_at": iso(g["created_at"]),
                "used_at": iso(g.get("used_at")),
                "expires_at": iso(g["expires_at"]),
            }
            for grant_id, g in self.store.records_list(GRANT)
            if g.get("expires_at", 0) > now and self.alive(g)
        ]
        return sorted(out, key=lambda g: g["created_at"], reverse=True)

    def revoke(self, grant_id: str) -> bool:
        return bool(_ID.match(grant_id)) and self.store.records_delete(GRANT, grant_id)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _strings(value: object) -> bool:
    """Whether value is a JSON array of strings (any other shape is refused, never hashed)."""
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _client_name(value: object) -> str:
    if value is None:
        return "an unnamed client"
    if not isinstance(value, str) or not 1 <= len(value) <= 100 or not value.isprintable():
        raise OAuthError("invalid_client_metadata", "client_name must be 1 to 100 printable characters")
    return value


_cimd_cache: dict[str, tuple[float, dict]] = {}  # at most cimd.MAX_CACHED entries


# A public client authenticates with nothing but PKCE. ChatGPT's document declares
# private_key_jwt beside none: a server of public clients treats it as none.
_PUBLIC_METHODS = (None, "none", "private_key_jwt")


def _client_from_document(url: str, doc: dict, row, clients: tuple) -> dict:
    """The client a fetched document describes: its name and the redirect URIs its row allows."""
    if doc.get("token_endpoint_auth_method") not in _PUBLIC_METHODS:
        raise OAuthError("invalid_client", "only public clients: token_endpoint_auth_method none", 401)
    uris = [u for u in doc["redirect_uris"] if isinstance(u, str)]
    return {
        "client_name": _client_name(doc.get("client_name")),
        "redirect_uris": split_redirects(uris, row, clients)[0],
    }
