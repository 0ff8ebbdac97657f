"""The query strings a client may open the bridge with (`?t=TOKEN`), and what both doors do with
each: `glyph bridge` (the whole query, by the App's rules) and the AWS $connect authorizer (what
API Gateway made of it: decoded values by name). Each door's test runs the same list."""

from __future__ import annotations

from urllib.parse import parse_qsl


def token_queries(token: str) -> list[tuple[str, tuple[int, str] | None]]:
    """(query string, None when the connection opens, else (glyph bridge's status, a phrase of
    its detail)); the authorizer can only answer 401 (raise "Unauthorized") for each refusal."""
    dotted = token.replace(".", "%2E")  # the same token, percent-encoded where it needs not be
    return [
        (f"t={token}&t={token}", (400, "more than once")),
        (f"t={token}&t=other", (400, "more than once")),
        (f"t=other&t={token}", (400, "more than once")),  # API Gateway's queryStringParameters: the last
        (f"t=&t={token}", (400, "more than once")),
        (f"t={token}%FF", (400, "not valid UTF-8")),
        (f"t=%C3&x={token}", (400, "not valid UTF-8")),
        ("t=", (401, "token is invalid")),
        (f"x={token}", (401, "connect with ?t=TOKEN")),
        (f"v=1&t={token}", None),
        (f"t={dotted}", None),
    ]


def websocket_connect_event(query: str, method_arn: str) -> dict:
    """The REQUEST authorizer's event for a $connect with this query string, as API Gateway
    builds it (docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html):
    `multiValueQueryStringParameters` every decoded value of a name, `queryStringParameters`
    the last one, null when there are none. How it decodes bytes that are not UTF-8 is not
    documented: here as U+FFFD."""
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        multi.setdefault(name, []).append(value)
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "queryStringParameters": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
    }
