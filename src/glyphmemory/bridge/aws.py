"""The bridge on AWS: an API Gateway WebSocket API and three small functions sharing one asset.

- `authorize` ($connect's REQUEST authorizer): the window token (`?t=`, scope rw) → the grant
  (key id, scope, expiry, key fingerprint) in the authorizer's context;
- `route` ($connect, $disconnect, $default): checks the grant again for each frame (a history
  needs r, a message rw; a revoked key or an expired token closes the connection, within the key
  cache's 30 s), checks and deduplicates the frame, stores the user's
  turn, invokes the worker asynchronously (InvocationType Event) and returns at once, well inside
  API Gateway's 29 s; a history, a replay or a refusal it answers itself;
- `work`: streams from Claude and posts batched deltas with post_to_connection; a gone connection
  (410) ends the posting quietly, and the reply is stored either way, so `history` recovers it.

Like the memory function, they call AWS (DynamoDB, SSM, Lambda Invoke, the WebSocket management
API) with signed HTTPS from the standard library; only the worker imports httpx, for Claude.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from ..aws_lambda import LambdaDoor, secure_parameter
from ..http import log
from ..tokens import Grant
from .core import Bridge, Closed, Gone, Prepared


class BridgeDoor:
    """The bridge's three functions (`authorize`, `route`, `work`) over one LambdaDoor, with
    what a container keeps between events: the signed-HTTPS clients and the Claude client."""

    def __init__(self, door: LambdaDoor | None = None):
        self.door = LambdaDoor("api") if door is None else door
        self._clients: dict = {}
        self._claude = None

    def _client(self, service: str, target: str = "", version: str = "1.1", endpoint: str | None = None):
        """One signed-HTTPS client per service and endpoint, kept for the container."""
        from ..aws.client import AwsJsonClient

        key = (service, endpoint)
        if key not in self._clients:
            self._clients[key] = AwsJsonClient(
                service, target, version, max_attempts=3, deadline_s=5.0, endpoint=endpoint
            )
        return self._clients[key]

    def _connection(self, context: dict) -> tuple:
        """(the management API's client, the connection's path) for this event's connection
        (AWS_ENDPOINT_URL_* is the AWS SDKs' variable, read as aws/client.py reads its own)."""
        endpoint = os.environ.get("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI") or (
            f"https://{context['domainName']}/{context['stage']}"
        )
        return self._client("execute-api", endpoint=endpoint), "/@connections/" + quote(
            context["connectionId"], safe=""
        )

    def poster(self, context: dict):
        """post(frame) to this event's connection; Gone when it is closed (410)."""
        from ..aws.client import AwsError, AwsUnreachable

        client, path = self._connection(context)

        def post(frame: dict) -> None:
            body = json.dumps(frame, ensure_ascii=False).encode()
            try:
                client.call_rest("POST", path, body, {"content-type": "application/json"})
            except AwsError as error:
                if error.status in (410, 403):
                    raise Gone() from None
                raise
            except AwsUnreachable:
                raise Gone() from None

        return post

    def _close(self, context: dict) -> None:
        """End this event's connection (DeleteConnection); already gone is fine."""
        from ..aws.client import AwsError, AwsUnreachable

        client, path = self._connection(context)
        try:
            client.call_rest("DELETE", path, b"", {})
        except (AwsError, AwsUnreachable):
            pass

    def _bridge(self, claude=None) -> Bridge:
        app, settings = self.door.app(), self.door.settings
        return Bridge(
            app.memories, claude, app.auth, budget=settings.bridge_budget, ttl_s=settings.bridge_ttl_s, log=log.event
        )

    # --- $connect's authorizer -------------------------------------------------------------------

    def authorize(self, event, context=None) -> dict:
        """The $connect REQUEST authorizer: `?t=` read by the App's query rules, as `glyph bridge`
        reads it (http.core.query_args on multiValueQueryStringParameters: queryStringParameters
        holds only a name's last value), then a window token of scope rw. Any refusal raises
        "Unauthorized": API Gateway answers the upgrade with 401."""
        from ..errors import Forbidden, InvalidInput, Unauthorized
        from ..http.core import query_args

        event = event or {}
        single = event.get("queryStringParameters") or {}
        values = event.get("multiValueQueryStringParameters") or {name: [v] for name, v in single.items()}
        try:
            token = query_args(values, frozenset({"t"}), ignore_unknown=True).get("t")
            if not token:
                raise PermissionError
            grant = self.door.app().auth.token(token, "rw")  # a message reads memories and writes turns
        except InvalidInput as error:  # its detail names the rule, never the value
            log.event("bridge_connect", level=30, status=401, detail=error.detail)
            raise Exception("Unauthorized") from None
        except (Unauthorized, Forbidden, PermissionError):
            log.event("bridge_connect", level=30, status=401)
            raise Exception("Unauthorized") from None  # API Gateway answers the upgrade with 401
        return {
            "principalId": grant.kid,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
            },
            "context": {"kid": grant.kid, "scope": grant.scope, "exp": grant.exp, "key": grant.key or ""},
        }

    # --- the route: quick, then the worker -------------------------------------------------------

    def route(self, event, context=None) -> dict:
        request = event.get("requestContext") or {}
        if request.get("routeKey") in ("$connect", "$disconnect"):
            return {"statusCode": 200}
        grant = _grant(request.get("authorizer") or {})
        if grant is None:
            return {"statusCode": 403}
        post = self.poster(request)
        try:
            bridge = self._bridge()
            prepared = bridge.prepare(grant, event.get("body"), post)
            if prepared is not None:
                self._invoke_worker(prepared, request, post)
        except Gone:
            pass
        except Closed:  # the grant ended: API Gateway closes the socket (its close code is its own)
            self._close(request)
        return {"statusCode": 200}

    def _invoke_worker(self, prepared: Prepared, request: dict, post) -> None:
        from ..aws.client import AwsError, AwsUnreachable

        payload = {
            "connection": {k: request[k] for k in ("connectionId", "domainName", "stage")},
            "prepared": prepared.to_json(),
        }
        name = quote(self.door.settings.bridge_worker or "", safe="")
        try:
            self._client("lambda").call_rest(
                "POST",
                f"/2015-03-31/functions/{name}/invocations",
                json.dumps(payload).encode(),
                {"content-type": "application/json", "x-amz-invocation-type": "Event"},
            )
        except (AwsError, AwsUnreachable):
            prepared.conversation.drop_turn(prepared.turn)
            prepared.conversation.release(prepared.msg_id)
            post(
                {"type": "error", "id": prepared.frame_id, "status": 503, "detail": "the bridge is busy: send it again"}
            )

    # --- the worker: Claude, streamed to the connection ------------------------------------------

    def _claude_client(self):
        if self._claude is None:
            from .claude import Claude

            self._claude = Claude.configured(_anthropic_key(self.door.settings), self.door.settings)
        return self._claude

    def work(self, event, context=None) -> dict:
        bridge = self._bridge(self._claude_client())
        prepared = Prepared.from_json(bridge, event["prepared"])
        bridge.answer(prepared, self.poster(event["connection"]))
        return {"ok": True}

    def close(self) -> None:
        self.door.close()


def _grant(authorizer: dict) -> Grant | None:
    """The connection's grant, as the authorizer put it in the context (values come back as
    strings or numbers); None for a context without one."""
    try:
        kid, scope, exp = authorizer["kid"], authorizer["scope"], int(str(authorizer["exp"]))
    except (KeyError, TypeError, ValueError):
        return None
    return Grant(str(kid), str(scope), exp, str(authorizer.get("key") or "") or None)


def _anthropic_key(settings) -> str:
    """From the SSM SecureString named by GLYPH_ANTHROPIC_KEY_PARAM (ANTHROPIC_API_KEY locally);
    Unavailable (503), as when SSM cannot be read, when neither is set."""
    param = settings.anthropic_key_param
    if not param:
        if not settings.anthropic_api_key:
            from ..errors import Unavailable

            raise Unavailable("the Anthropic API key is not configured", retry_after=60)
        return settings.anthropic_api_key
    return secure_parameter(param, "the Anthropic API key")
