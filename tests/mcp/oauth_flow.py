"""Helpers for the OAuth dance against a running server: the owner's TOTP codes, PKCE, and the
steps a connector takes, each as plain HTTP (httpx) so that every refusal can be aimed at."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from glyphmemory.keys import load_key_file

CALLBACK = "http://127.0.0.1:9/callback"  # loopback: allowed by default; nothing listens there


def owner_totp(home: str) -> pyotp.TOTP:
    return pyotp.TOTP(load_key_file(os.path.join(home, "key.json")).secret_b32)


EDGE_S = 10  # how late a sign-in may reach the server after its code was picked (a loaded machine)


def next_step(last: int, *, slow: bool = False) -> int | None:
    """The earliest 30 s step after `last` (a key accepts each step once, and only later ones)
    whose code the server still takes EDGE_S from now, or None: the server takes the previous,
    current and next step (totp.DRIFT_STEPS), the previous only until the current step ends, so
    not in its last EDGE_S (a code picked there reached a loaded server a step later and was
    refused). `slow`: the code is typed by a browser seconds from now, so never the previous."""
    now = time.time()
    step = int(now) // 30
    earliest = step if slow or now % 30 >= 30 - EDGE_S else step - 1
    for candidate in range(earliest, step + 2):
        if candidate > last:
            return candidate
    return None


def fresh_code(totp: pyotp.TOTP, used: set[str], *, slow: bool = False) -> str:
    """A code of a step later than any used before (next_step): three sign-ins fit in one
    30 s step; a fourth waits for the next."""
    while True:
        candidate = next_step(max((int(u.split(":")[0]) for u in used), default=0), slow=slow)
        if candidate is not None:
            code = totp.at(candidate * 30)
            used.add(f"{candidate}:{code}")
            return code
        time.sleep(max(0.2, 30 - time.time() % 30 + 0.1))


def pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(url: str, redirect: str = CALLBACK, name: str = "test connector") -> str:
    r = httpx.post(url + "/register", json={"redirect_uris": [redirect], "client_name": name})
    assert r.status_code == 201, r.text
    return r.json()["client_id"]


def authorize_fields(url: str, client_id: str, challenge: str, redirect: str = CALLBACK) -> dict:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-" + os.urandom(4).hex(),
        "resource": url + "/mcp",
    }


def sign_in(url: str, fields: dict, code: str | tuple[str, str]) -> httpx.Response:
    """Submit the page with a code, or a (kid, code) from Codes."""
    kid, code = code if isinstance(code, tuple) else (None, code)
    data = {**fields, "code": code, **({"kid": kid} if kid else {})}
    return httpx.post(url + "/authorize", data=data, follow_redirects=False)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0]


def exchange(url: str, client_id: str, code: str, verifier: str, redirect: str = CALLBACK) -> httpx.Response:
    return httpx.post(
        url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": redirect,
            "code_verifier": verifier,
            "resource": url + "/mcp",
        },
    )


def refresh(url: str, client_id: str, refresh_token: str) -> httpx.Response:
    return httpx.post(
        url + "/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    )


def tokens(url: str, totp: pyotp.TOTP | Codes, used: set[str] | None = None) -> tuple[str, dict]:
    """The whole dance without a browser: (client_id, token answer); codes from the owner's
    TOTP (and `used`) or from Codes."""
    client_id = register(url)
    verifier, challenge = pkce()
    typed = totp.next() if isinstance(totp, Codes) else fresh_code(totp, used)
    code = code_from(sign_in(url, authorize_fields(url, client_id, challenge), typed))
    answer = exchange(url, client_id, code, verifier)
    assert answer.status_code == 200, answer.text
    return client_id, answer.json()


def mcp_call(url: str, access_token: str | None, method: str = "tools/list", params: dict | None = None, **headers):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    auth = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return httpx.post(
        url + "/mcp",
        json=body,
        timeout=30,  # a tool call on a busy two-core machine
        headers={
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
            **auth,
            **headers,
        },
    )


class Codes:
    """Authenticator codes for many sign-ins without waiting: a key accepts each 30 s step once,
    so when the root key has no unused step left, a device key is added (POST /v1/keys, with an
    admin token of the root key) and its codes are used. `next()` -> (kid, code)."""

    def __init__(self, url: str, home: str):
        from glyphmemory.keys import load_key_file

        self.url = url
        self.root = load_key_file(os.path.join(home, "key.json"))
        self.keys = [(self.root.kid, pyotp.TOTP(self.root.secret_b32), set())]

    def next(self) -> tuple[str, str]:
        for kid, totp, used in self.keys:
            candidate = next_step(max((int(u.split(":")[0]) for u in used), default=0))
            if candidate is not None:
                code = totp.at(candidate * 30)
                used.add(f"{candidate}:{code}")
                return kid, code
        from glyphmemory.tokens import mint_window_token

        admin = mint_window_token(self.root.kid, self.root.secret, "a", int(time.time()) + 60)
        r = httpx.post(
            self.url + "/v1/keys", json={"name": f"test-{len(self.keys)}"}, headers={"Authorization": f"Bearer {admin}"}
        )
        assert r.status_code == 201, r.text
        self.keys.append((r.json()["kid"], pyotp.TOTP(r.json()["secret"]), set()))
        return self.next()
