"""The Lambda door: API Gateway HTTP API events (payload format 2.0) in and out of the App.

Each function's entry module (lambda/*.py) holds one `LambdaDoor`, which owns what a container
keeps between events: the App (built at the first event), whether the next event is the cold
one, and when the root key was last read from SSM."""

from __future__ import annotations

import base64
import binascii
import time

from . import names
from .errors import GlyphError, InvalidInput, Unavailable
from .http import log
from .http.app import App
from .http.core import Request, finish, problem
from .settings import Settings, SettingsError

ROOT_KEY_TTL_S = 60  # a rotated root key is picked up within a minute
_ssm = None  # the SSM client, kept for the container (signed HTTPS, no SDK)


def secure_parameter(name: str, what: str) -> str:
    """An SSM SecureString's value (GetParameter, decrypted): every function reads its secrets
    this way. Unavailable (503, Retry-After 5 s) naming `what` (never the parameter's name nor
    value) when SSM cannot be reached or answers without a value."""
    from .aws.client import AwsError, AwsJsonClient, AwsUnreachable

    global _ssm
    try:
        if _ssm is None:
            _ssm = AwsJsonClient("ssm", "AmazonSSM", "1.1", max_attempts=2, deadline_s=5.0)
        value = _ssm.call("GetParameter", {"Name": name, "WithDecryption": True})["Parameter"]["Value"]
    except (AwsError, AwsUnreachable, KeyError, TypeError):
        value = None
    if not isinstance(value, str):
        raise Unavailable(f"{what} cannot be read right now", retry_after=5)
    return value


class LambdaDoor:
    """One Lambda function's door onto the App. `kind` picks the routes (runtime.routers): "api"
    for the memory function (never loads the MCP SDK nor the page's modules), "all" for the
    connector function (/mcp, OAuth and the page; CloudFront sends it only those paths)."""

    def __init__(self, kind: str = "api", settings: Settings | None = None, *, root_key_ttl_s: float = ROOT_KEY_TTL_S):
        self.kind = kind
        self._settings = settings
        self.root_key_ttl_s = root_key_ttl_s
        self._app: App | None = None
        self._cold = True
        self._root_checked_at = 0.0

    @property
    def settings(self) -> Settings:
        """The function's settings: those given, else read from its environment once, at its
        first event (the container's start; never again for the container's life). Unavailable
        (503) naming the setting when one does not parse."""
        if self._settings is None:
            try:
                self._settings = Settings.load()
            except SettingsError as exc:
                raise Unavailable(f"the function is not configured: {exc.detail}", retry_after=60) from None
        return self._settings

    def app(self) -> App:
        """The App, built at the first call from GLYPH_STORE and the root key (GLYPH_KEY, or the
        SSM parameter GLYPH_KEY_PARAM names, re-read at most every `root_key_ttl_s` so a rotation
        reaches a warm container). Unavailable (503) when the function is not configured or SSM
        cannot be read."""
        from .keys import parse_key
        from .runtime import build_app, root_key

        settings = self.settings
        param = settings.key_param
        now = time.monotonic()
        if self._app is not None and (not param or now - self._root_checked_at < self.root_key_ttl_s):
            return self._app
        key = root_key(settings) or (parse_key(secure_parameter(param, "the signing key")) if param else None)
        self._root_checked_at = now
        if self._app is not None:
            self._app.use_root_key(key)
            return self._app
        if key is None or not settings.store:
            raise Unavailable(f"the function is not configured ({names.ENV_STORE}, key)", retry_after=60)
        # Device keys are cached 30 s per container: a revocation holds within 60 s.
        self._app = build_app(settings.store, key, key_cache_s=30, kind=self.kind, settings=settings)
        return self._app

    def close(self) -> None:
        """Close the App's store and forget the App (the next event builds it again)."""
        if self._app is not None:
            self._app.memories.store.close()
            self._app = None

    def handle(self, event, context=None) -> dict:
        """The function's handler: an API Gateway payload 2.0 event → its answer."""
        cold, self._cold = self._cold, False
        try:
            request = _request_from_event(event)
            request.cold_start = cold
            response = self.app().handle(request)
        except GlyphError as error:
            response = finish(problem(error))
            log.event(
                "request",
                level=log.level_of(response.status),
                status=response.status,
                cold_start=cold,
                error=error.slug,
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
    path, query = event.get("rawPath") or http.get("path") or "/", event.get("rawQueryString") or ""
    if not isinstance(path, str) or not isinstance(query, str):
        raise InvalidInput("the event's rawPath and rawQueryString must be strings")
    headers = event.get("headers") or {}
    headers = {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    return Request(
        method=http["method"].upper(),
        path=path,
        query=query,
        headers=headers,
        body=raw,
        request_id=str(context.get("requestId", "")),
        scheme="https",  # API Gateway and CloudFront speak nothing else
        # Set by CloudFront's viewer-request function, which overwrites what a client sent.
        public_host=headers.get(names.PUBLIC_HOST_HEADER),
        client=str(http.get("sourceIp", "")),
    )
