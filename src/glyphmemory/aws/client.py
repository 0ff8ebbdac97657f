"""AWS JSON-protocol calls (DynamoDB, SSM, …) over signed HTTPS, standard library only.

botocore costs ~1 s of a cold start at a 512 MB function's CPU share; this costs a few ms. One
kept-alive connection per service per thread (a Lambda container has one thread, so one per
container), and the SDK's retry rules: throttling, 5xx and broken connections are retried with
full-jitter exponential backoff while attempts and the call's deadline last.
"""

from __future__ import annotations

import json
import os
import threading
import time
from urllib.parse import urlsplit

from ..errors import retried
from . import sigv4

# Error codes the SDKs retry (botocore's standard mode: throttling and transient errors).
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "RequestThrottled",
        "LimitExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)


class AwsError(Exception):
    """AWS answered with an error: `code` is the short error name, `body` the parsed answer."""

    def __init__(self, code: str, message: str, status: int, body: dict):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.body = code, message, status, body


class AwsUnreachable(Exception):
    """No answer: connection refused or reset, TLS failure or timeout."""


def _env_credentials() -> sigv4.Credentials | None:
    access, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if access and secret:
        return sigv4.Credentials(access, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    return None


def credentials_provider():
    """A function giving current credentials: the environment's (always so on Lambda, whose
    role credentials are there), else botocore's chain (profiles, SSO, instance roles) on a
    person's machine, where an SDK import at start is no cost anyone waits for."""
    if _env_credentials() is not None:
        return _env_credentials
    try:
        import botocore.session
    except ImportError:
        raise AwsUnreachable("no AWS credentials in the environment (AWS_ACCESS_KEY_ID)") from None
    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise AwsUnreachable("no AWS credentials found (environment, profile or role)")

    def frozen() -> sigv4.Credentials:
        now = found.get_frozen_credentials()  # refreshes temporary credentials when due
        return sigv4.Credentials(now.access_key, now.secret_key, now.token)

    return frozen


def region() -> str:
    name = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if name:
        return name
    try:
        import botocore.session

        name = botocore.session.get_session().get_config_variable("region")
    except ImportError:
        name = None
    if not name:
        raise AwsUnreachable("no AWS region: set AWS_REGION")
    return name


def endpoint_url(service: str, region_name: str) -> str:
    """AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL (as the SDKs honour them), else AWS's."""
    return (
        os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        or os.environ.get("AWS_ENDPOINT_URL")
        or f"https://{service}.{region_name}.amazonaws.com"
    )


# Amazon Trust Services' roots, which issue AWS's own endpoints' certificates: loading these 5
# costs ~5 ms of a cold start against 30-55 ms for the system's ~140 (bench/deployed_path.py).
AWS_ROOTS = os.path.join(os.path.dirname(__file__), "aws-roots.pem")
_tls: dict = {}
_tls_lock = threading.Lock()


def _tls_context(cafile: str | None):
    """One TLS context per CA file and process (loading certificates is the costly part)."""
    with _tls_lock:
        if cafile not in _tls:
            import ssl

            _tls[cafile] = ssl.create_default_context(cafile=cafile)
        return _tls[cafile]


class AwsJsonClient:
    """Calls one AWS service that speaks the JSON protocol (X-Amz-Target), e.g.
    AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0") or ("ssm", "AmazonSSM", "1.1")."""

    def __init__(
        self,
        service: str,
        target_prefix: str,
        json_version: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        max_attempts: int = 3,
        deadline_s: float = 10.0,
        base_delay_s: float = 0.05,
        endpoint: str | None = None,
    ):
        self.service = service
        self.target_prefix = target_prefix
        self.content_type = f"application/x-amz-json-{json_version}"
        self.region = region()
        parts = urlsplit(endpoint or endpoint_url(service, self.region))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AwsUnreachable(f"the {service} endpoint is not an http(s) URL")
        self._https = parts.scheme == "https"
        self._address = (parts.hostname, parts.port or (443 if self._https else 80))
        default_port = (self._https and parts.port in (None, 443)) or (not self._https and parts.port in (None, 80))
        self.host = parts.hostname if default_port else f"{parts.hostname}:{parts.port}"
        self.path = parts.path or "/"
        # AWS_CA_BUNDLE as the SDKs honour it; AWS's roots for AWS's endpoints; else the system's.
        aws_endpoint = self._https and parts.hostname.endswith(".amazonaws.com")
        self._cafile = os.environ.get("AWS_CA_BUNDLE") or (AWS_ROOTS if aws_endpoint else None)
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_attempts, self.deadline_s, self.base_delay_s = max_attempts, deadline_s, base_delay_s
        self._local = threading.local()
        self._all: list = []
        self._lock = threading.Lock()
        # Observers see every answered call: (operation, params, answer or AwsError). Benchmarks
        # weigh DynamoDB read and write units with it.
        self.observers: list = []
        self._credentials_now = None

    # --- connections ---------------------------------------------------------------------

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            import http.client
            import ssl

            host, port = self._address
            if self._https:
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.connect_timeout, context=_tls_context(self._cafile)
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
            try:
                conn.connect()
            except ssl.SSLCertVerificationError:
                if self._cafile != AWS_ROOTS:
                    raise
                # Should AWS ever serve a chain to another root, trust the system's roots instead.
                self._cafile = None
                return self._connection()
            conn.sock.settimeout(self.read_timeout)  # connect and read have their own bounds
            self._local.conn, self._local.used = conn, False
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # --- one call ------------------------------------------------------------------------

    def _credentials(self) -> sigv4.Credentials:
        if self._credentials_now is None:
            self._credentials_now = credentials_provider()
        return self._credentials_now()

    def _send_once(self, operation: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = {"content-type": self.content_type, "x-amz-target": f"{self.target_prefix}.{operation}"}
        return self._send("POST", self.path, body, headers)

    def _send(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, dict[str, str], bytes]:
        """One signed request; `path` as sent (percent-encoded), which SigV4 encodes once more
        for every service but S3, as the SDKs do."""
        import http.client

        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        headers = sigv4.sign_headers(
            self._credentials(),
            method=method,
            host=self.host,
            path=path,
            body=body,
            headers=headers,
            region=self.region,
            service=self.service,
            amz_date=amz_date,
        )
        for fresh_try in (False, True):
            reused = getattr(self._local, "used", False) and getattr(self._local, "conn", None) is not None
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop_connection()
                # A kept-alive connection the server (or a frozen container's NAT) closed while
                # idle fails on first use: send again on a new one, once, without counting a try.
                if reused and not fresh_try:
                    continue
                raise AwsUnreachable(f"{self.service}: {type(exc).__name__}") from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                raise AwsUnreachable(f"{self.service}: {type(exc).__name__}") from None
            self._local.used = True
            if response.will_close:
                self._drop_connection()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def call(self, operation: str, params: dict) -> dict:
        """One API call; raises AwsError for AWS's error answers, AwsUnreachable for no answer."""
        body = json.dumps(params, separators=(",", ":")).encode("utf-8")

        def once() -> dict:
            status, headers, data = self._send_once(operation, body)
            outcome = (json.loads(data) if data else {}) if status < 300 else _error_from(status, headers, data)
            for observe in self.observers:
                observe(operation, params, outcome)
            if isinstance(outcome, AwsError):
                raise outcome
            return outcome

        return self._retried(once)

    def call_rest(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        """A REST-protocol call (Lambda Invoke, API Gateway's post_to_connection) under the same
        retry rules; `path` percent-encoded, relative to the endpoint's path. Returns the status
        and headers of a 2xx; AwsError for an error answer, AwsUnreachable for none."""
        full = self.path.rstrip("/") + path

        def once() -> tuple[int, dict[str, str]]:
            status, reply_headers, data = self._send(method, full, body, headers)
            if status >= 300:
                raise _error_from(status, reply_headers, data)
            return status, reply_headers

        return self._retried(once)

    def _retried(self, once):
        # Full jitter, as the SDKs do: 0-50 ms, 0-100 ms, ... never past the deadline.
        return retried(
            once,
            retryable=retryable,
            attempts=self.max_attempts,
            deadline_s=self.deadline_s,
            base_delay_s=self.base_delay_s,
        )


def retryable(exc: Exception) -> bool:
    """What the SDKs retry: no answer, a throttling or transient error code, 429 or a 5xx."""
    return isinstance(exc, AwsUnreachable) or (
        isinstance(exc, AwsError) and (exc.code in RETRYABLE_CODES or exc.status >= 500 or exc.status == 429)
    )


def _error_from(status: int, headers: dict[str, str], data: bytes) -> AwsError:
    try:
        body = json.loads(data) if data else {}
        if not isinstance(body, dict):
            body = {}
    except ValueError:
        body = {}
    code = body.get("__type") or headers.get("x-amzn-errortype") or f"HTTP{status}"
    # "com.amazonaws.dynamodb.v20120810#ThrottlingException" or "ThrottlingException:http://…"
    code = code.rsplit("#", 1)[-1].split(":", 1)[0]
    message = str(body.get("message") or body.get("Message") or "")
    return AwsError(code, message, status, body)
