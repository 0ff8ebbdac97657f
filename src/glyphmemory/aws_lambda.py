"""The Lambda door: API Gateway HTTP API events (payload format 2.0) in and out of the App."""

from __future__ import annotations

import base64
import binascii
import os
import time

from . import names
from .errors import GlyphError, InvalidInput, Unavailable
from .http import log
from .http.app import App
from .http.core import Request, finish, problem

_app: App | None = None
_cold = True
_root_checked_at = 0.0
_ssm = None
ROOT_KEY_TTL_S = 60  # a rotated root key is picked up within a minute
_routers = "api"  # which routes this function serves: "api" (the memory function) or "all"


def serve_routes(kind: str) -> None:
    """Make this function serve the remote MCP connector too ("all"): its tools call the API's
    routes in-process; CloudFront sends it only /mcp and the OAuth paths."""
    global _routers
    _routers = kind


def _root_key_from_ssm(name: str):
    """The root key from an SSM SecureString holding `kid:SECRET` (signed HTTPS, no SDK)."""
    from .aws.client import AwsError, AwsJsonClient, AwsUnreachable
    from .keys import parse_key

    global _ssm
    try:
        if _ssm is None:  # kept for the container: the key is read again every minute
            _ssm = AwsJsonClient("ssm", "AmazonSSM", "1.1", max_attempts=2, deadline_s=5.0)
        value = _ssm.call("GetParameter", {"Name": name, "WithDecryption": True})["Parameter"]["Value"]
    except (AwsError, AwsUnreachable, KeyError, TypeError):
        raise Unavailable("the signing key cannot be read right now", retry_after=5) from None
    return parse_key(value)


def _load_app() -> App:
    """The app, built at cold start; the root key is re-read from SSM at most every minute."""
    global _app, _root_checked_at
    from .runtime import build_app, key_from_env

    param = os.environ.get(names.ENV_KEY_PARAM)
    now = time.monotonic()
    if _app is not None and (not param or now - _root_checked_at < ROOT_KEY_TTL_S):
        return _app
    key = key_from_env() or (_root_key_from_ssm(param) if param else None)
    _root_checked_at = now
    if _app is not None:
        _app.use_root_key(key)
        return _app
    store_url = os.environ.get(names.ENV_STORE)
    if key is None or not store_url:
        raise Unavailable(f"the function is not configured ({names.ENV_STORE}, key)", retry_after=60)
    # Device keys are cached 30 s per container: a revocation holds within 60 s.
    _app = build_app(store_url, key, key_cache_s=30, kind=_routers)
    return _app


def _request_from_event(event: object) -> Request:
    if not isinstance(event, dict) or event.get("version") != "2.0":
        raise InvalidInput("expected an API Gateway HTTP API event, payload format 2.0")
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict) or not isinstance(http.get("method"), str):
        raise InvalidInput("the event has no requestContext.http.method")
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise InvalidInput("the event body is not a string")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the event body is flagged base64 but is not base64") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    headers = event.get("headers") or {}
    headers = {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    return Request(
        method=http["method"].upper(),
        path=event.get("rawPath") or http.get("path") or "/",
        query=event.get("rawQueryString") or "",
        headers=headers,
        body=raw,
        request_id=str(context.get("requestId", "")),
        scheme="https",  # API Gateway and CloudFront speak nothing else
        # Set by CloudFront's viewer-request function, which overwrites what a client sent.
        public_host=headers.get(names.PUBLIC_HOST_HEADER),
        client=str(http.get("sourceIp", "")),
    )


def lambda_handler(event, context=None) -> dict:
    global _cold
    cold, _cold = _cold, False
    try:
        request = _request_from_event(event)
        request.cold_start = cold
        response = _load_app().handle(request)
    except GlyphError as error:
        response = finish(problem(error))
        log.event(
            "request", level=log.level_of(response.status), status=response.status, cold_start=cold, error=error.slug
        )
    try:
        body, is_b64 = response.body.decode("utf-8"), False
    except UnicodeDecodeError:
        body, is_b64 = base64.b64encode(response.body).decode("ascii"), True
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": body,
        "isBase64Encoded": is_b64,
    }
