"""AWS Signature Version 4 for one HTTP request (header form), standard library only.

Checked against AWS's published test suite (tests/unit/test_sigv4.py) and botocore's signer.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials:
    """An access key pair and, for temporary credentials (Lambda's role), the session token."""

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None = None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Credentials(access_key={self.access_key[:4]}…, secret=<hidden>)"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC chain over date (YYYYMMDD), region, service and 'aws4_request'."""
    k_date = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(k_date, region), service), "aws4_request")


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in query))


def canonical_request(
    method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], payload_hash: str
) -> tuple[str, str]:
    """The canonical request and the signed-headers list. `path` is the decoded path."""
    lowered = sorted((k.lower().strip(), " ".join(str(v).split())) for k, v in headers.items())
    signed = ";".join(k for k, _ in lowered)
    lines = [
        method.upper(),
        quote(path or "/", safe="/-_.~"),
        canonical_query(query),
        "".join(f"{k}:{v}\n" for k, v in lowered),
        signed,
        payload_hash,
    ]
    return "\n".join(lines), signed


def authorization(
    credentials: Credentials,
    *,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    payload_hash: str,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The Authorization header for a request whose `headers` already hold host and x-amz-date
    (and x-amz-security-token, when the credentials carry one): every header given is signed."""
    request, signed = canonical_request(method, path, query, headers, payload_hash)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(request.encode('utf-8')).hexdigest()}"
    key = signing_key(credentials.secret_key, amz_date[:8], region, service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"


def sign_headers(
    credentials: Credentials,
    *,
    method: str,
    host: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    region: str,
    service: str,
    amz_date: str,
) -> dict[str, str]:
    """`headers` plus host, x-amz-date, the session token and Authorization, ready to send."""
    out = {**headers, "host": host, "x-amz-date": amz_date}
    if credentials.token:
        out["x-amz-security-token"] = credentials.token
    out["authorization"] = authorization(
        credentials,
        method=method,
        path=path,
        query=[],
        headers=out,
        payload_hash=hashlib.sha256(body).hexdigest(),
        region=region,
        service=service,
        amz_date=amz_date,
    )
    return out
