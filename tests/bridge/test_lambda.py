"""The bridge's AWS functions with API Gateway WebSocket events, on moto: the $connect
authorizer, the route (which answers at once and invokes the worker asynchronously), and the
worker streaming through post_to_connection; a gone connection, history, replay, isolation."""

from __future__ import annotations

import json
import time

import boto3
import httpx
import pytest

from glyphmemory.bridge.aws import BridgeDoor
from glyphmemory.tokens import mint_window_token

from ..support.bridge_queries import token_queries, websocket_connect_event
from ..support.fake_claude import API_KEY, FakeClaude

DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"
bridge: BridgeDoor  # the three functions of this test's container (the `lambdas` fixture)


@pytest.fixture
def lambdas(dynamo_table, moto_url, root_key, monkeypatch):
    fake = FakeClaude(min_cache_tokens=50)
    boto3.client("ssm").put_parameter(Name="/glyph/anthropic-test", Value=API_KEY, Type="SecureString", Overwrite=True)
    for name, value in {
        "GLYPH_STORE": "dynamodb://" + dynamo_table,
        "GLYPH_KEY": f"{root_key.kid}:{root_key.secret_b32}",
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": moto_url,
        "GLYPH_BRIDGE_WORKER": "glyph-bridge-worker",
        "GLYPH_ANTHROPIC_KEY_PARAM": "/glyph/anthropic-test",
        "ANTHROPIC_BASE_URL": fake.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    global bridge
    bridge = BridgeDoor()  # a fresh container
    httpx.get(moto_url + "/_glyph/invocations")  # start with none recorded
    yield moto_url, fake, root_key
    fake.close()
    bridge.close()


def principal(key, scope: str = "rw", ttl_s: int = 600) -> dict:
    """The authorizer's context for a connection opened with a token of this key and scope."""
    token = mint_window_token(key.kid, key.secret, scope, int(time.time()) + ttl_s)
    return bridge.authorize({"methodArn": "arn", "queryStringParameters": {"t": token}})["context"]


def event(connection: str, who, frame) -> dict:
    """A $default event; `who` is a key (a connection opened with its rw token) or the
    authorizer's context itself."""
    context = {"routeKey": "$default", "connectionId": connection, "domainName": DOMAIN, "stage": "prod"}
    context["eventType"] = "MESSAGE"
    if who is not None:
        context["authorizer"] = {**(who if isinstance(who, dict) else principal(who)), "principalId": "x"}
    return {"requestContext": context, "body": json.dumps(frame)}


def frames(moto_url: str, connection: str) -> list[dict]:
    from urllib.parse import quote

    return [json.loads(f) for f in httpx.get(f"{moto_url}/_glyph/connections/{quote(connection, safe='')}").json()]


def invocations(moto_url: str) -> list[dict]:
    return httpx.get(moto_url + "/_glyph/invocations").json()


def test_connect_is_authorised_by_a_read_write_token(lambdas):
    _, _, key = lambdas
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect"

    def connect(token):
        return bridge.authorize({"type": "REQUEST", "methodArn": arn, "queryStringParameters": {"t": token}})

    allowed = connect(mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 60))
    assert {k: allowed["context"][k] for k in ("kid", "scope")} == {"kid": key.kid, "scope": "rw"}
    assert allowed["context"]["exp"] > time.time() and allowed["context"]["key"]  # what each frame re-checks
    assert allowed["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": arn,
    }
    scoped = [mint_window_token(key.kid, key.secret, scope, int(time.time()) + 60) for scope in ("r", "w")]
    for bad in (*scoped, "x.y.z", None):
        with pytest.raises(Exception, match="Unauthorized"):
            connect(bad)
    assert bridge.route({"requestContext": {"routeKey": "$connect", "connectionId": "c0"}}) == {"statusCode": 200}


def test_connect_reads_the_token_by_the_apps_query_rules(lambdas):
    """The authorizer applies the App's query rules as `glyph bridge` does, to the same query
    strings (support.bridge_queries, test_local's test_a_window_token_is_read_by_the_apps_query_rules):
    a t given twice (API Gateway's queryStringParameters held the last one, which was let in),
    empty, or not UTF-8 is refused; other names are ignored, percent-encoded bytes decoded. An
    authorizer can only refuse with 401 (its detail is in the log line, never the token)."""
    _, _, key = lambdas
    token = mint_window_token(key.kid, key.secret, "rw", int(time.time()) + 60)
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect"
    answered, expected = {}, {}
    for query, refused in token_queries(token):
        expected[query] = key.kid if refused is None else "Unauthorized"
        try:
            answered[query] = bridge.authorize(websocket_connect_event(query, arn))["context"]["kid"]
        except Exception as exc:  # an authorizer refuses by raising "Unauthorized"
            answered[query] = str(exc)
    assert answered == expected


def test_the_route_returns_at_once_and_the_worker_streams_to_the_connection(lambdas):
    moto_url, fake, key = lambdas
    conn = "L0SM9cOFvHcCIhw="  # API Gateway's ids end in '=': signed with the path encoded twice
    message = {"type": "message", "session": "aws", "id": "q1", "text": "Hello from a phone"}
    started = time.perf_counter()
    assert bridge.route(event(conn, key, message)) == {"statusCode": 200}
    assert time.perf_counter() - started < 5 and fake.requests == []  # no Claude call in the route
    (invoked,) = invocations(moto_url)
    assert invoked["function"] == "glyph-bridge-worker" and invoked["type"] == "Event"
    assert frames(moto_url, conn) == []

    bridge.work(invoked["payload"])
    posted = frames(moto_url, conn)
    assert [f["type"] for f in posted][-1] == "done" and all(f["id"] == "q1" for f in posted)
    assert "".join(f["text"] for f in posted if f["type"] == "delta").startswith("Echo: Hello from a phone")
    assert fake.requests[0]["key_ok"]  # the API key came from SSM

    # Sent again (the phone lost the answer): replayed by the route, no worker, no Claude call.
    bridge.route(event(conn, key, message))
    assert invocations(moto_url) == [] and len(fake.requests) == 1
    assert frames(moto_url, conn)[-1]["replayed"] is True


def test_a_gone_connection_ends_quietly_and_history_recovers_the_reply(lambdas):
    moto_url, fake, key = lambdas
    bridge.route(event("gone-1", key, {"type": "message", "session": "s", "id": "g1", "text": "Still there?"}))
    (invoked,) = invocations(moto_url)
    httpx.post(moto_url + "/_glyph/gone", params={"connection": "gone-1"})
    assert bridge.work(invoked["payload"]) == {"ok": True}  # no exception: it just stops posting
    bridge.route(event("back-2", key, {"type": "history", "session": "s"}))
    (history,) = frames(moto_url, "back-2")
    assert [t["role"] for t in history["turns"]] == ["user", "assistant"]
    assert history["turns"][1]["text"].startswith("Echo: Still there?")


def test_sessions_are_isolated_between_keys(lambdas):
    moto_url, _, key = lambdas
    bridge.route(event("c-a", key, {"type": "message", "session": "mine", "text": "Private"}))
    invocations(moto_url)
    other = device_key("phone")
    bridge.route(event("c-b", other, {"type": "message", "session": "mine", "text": "Me too"}))
    bridge.route(event("c-b", other, {"type": "history", "session": "mine"}))
    answers = frames(moto_url, "c-b")
    assert [(a["type"], a["status"]) for a in answers] == [("error", 403), ("error", 403)]
    assert invocations(moto_url) == []
    assert bridge.route(event("c-x", None, {"type": "history", "session": "mine"})) == {"statusCode": 403}


def test_the_route_shares_the_frame_limit_and_the_rule_for_ids(lambdas):
    moto_url, fake, key = lambdas
    # An oversize message (still under API Gateway's 128 KB quota): an error frame, no worker.
    big = {"type": "message", "session": "lim", "id": "big", "text": "\u00e9" * 60_000}  # 120 KB as UTF-8
    assert bridge.route(event("c-lim", key, big) | {"body": json.dumps(big, ensure_ascii=False)}) == {"statusCode": 200}
    (refused,) = frames(moto_url, "c-lim")
    assert refused == {"type": "error", "id": "big", "status": 413, "detail": refused["detail"]}
    assert invocations(moto_url) == []
    fits = {"type": "message", "session": "lim", "id": "fits", "text": "\u00e9" * 11_000}  # 66 KB escaped
    bridge.route(event("c-lim", key, fits))
    assert len(invocations(moto_url)) == 1
    # Without ids: a second "yes" after the first was answered is a new message, not a replay.
    yes = {"type": "message", "session": "yes", "text": "yes"}
    bridge.route(event("c-yes", key, yes))
    (first,) = invocations(moto_url)
    bridge.route(event("c-yes", key, yes))  # a retry while the first is still unanswered
    assert invocations(moto_url) == [] and frames(moto_url, "c-yes")[-1]["status"] == 409
    bridge.work(first["payload"])
    bridge.route(event("c-yes", key, yes))  # answered: the same text again is a new message
    (second,) = invocations(moto_url)
    bridge.work(second["payload"])
    assert "replayed" not in frames(moto_url, "c-yes")[-1]
    assert sum(r["body"]["messages"][-1]["content"][-1]["text"] == "yes" for r in fake.replies()) == 2


def device_key(name: str):
    key, _ = bridge.door.app().keyring.add_device(name, time.time())
    return key


def closed(moto_url: str) -> list[str]:
    return httpx.get(moto_url + "/_glyph/closed").json()


def test_every_frame_is_checked_against_the_connections_grant(lambdas):
    """Scope per frame type (a history needs r, a message rw), and a grant that ended closes the
    connection: its token expired, or its key was revoked (in this container at once; in others
    within the key cache's 30 s)."""
    moto_url, fake, key = lambdas
    bridge.route(event("own", key, {"type": "message", "session": "cli", "text": "My private plan"}))
    bridge.work(invocations(moto_url)[0]["payload"])
    write_only = {**principal(key), "scope": "w"}  # as a connection opened with a chat link's token
    bridge.route(event("w-1", write_only, {"type": "history", "session": "cli"}))
    bridge.route(event("w-1", write_only, {"type": "message", "session": "cli", "text": "Recall it"}))
    read_only = {**principal(key), "scope": "r"}
    bridge.route(event("r-1", read_only, {"type": "message", "session": "cli", "text": "Recall it"}))
    bridge.route(event("r-1", read_only, {"type": "history", "session": "cli"}))
    refused = frames(moto_url, "w-1") + frames(moto_url, "r-1")[:1]
    assert [(f["type"], f["status"]) for f in refused] == [("error", 403)] * 3
    assert [t["role"] for t in frames(moto_url, "r-1")[1]["turns"]] == ["user", "assistant"]  # r reads history
    assert invocations(moto_url) == [] and len(fake.requests) == 1 and closed(moto_url) == []

    expired = {**principal(key), "exp": int(time.time()) - 1}
    bridge.route(event("old-1", expired, {"type": "history", "session": "cli"}))
    phone = device_key("phone")
    opened = principal(phone)
    bridge.route(event("phone-1", opened, {"type": "message", "session": "p", "text": "Hi"}))
    bridge.work(invocations(moto_url)[0]["payload"])
    bridge.door.app().keyring.revoke(phone.kid)
    bridge.route(event("phone-1", opened, {"type": "message", "session": "p", "text": "Still here?"}))
    assert [(f["type"], f["status"]) for f in frames(moto_url, "old-1")] == [("error", 401)]
    assert frames(moto_url, "phone-1")[-1]["status"] == 401 and "revoked" in frames(moto_url, "phone-1")[-1]["detail"]
    assert closed(moto_url) == ["old-1", "phone-1"] and invocations(moto_url) == []
    assert bridge.route(event("c-y", {"kid": key.kid}, {"type": "history", "session": "cli"})) == {"statusCode": 403}


def test_a_busy_session_stays_its_owners_on_dynamodb(lambdas, monkeypatch):
    """The owner record lives as long as the newest turn; when it lapses, every turn and message
    id under it lapses with it."""
    moto_url, fake, key = lambdas
    monkeypatch.setenv("GLYPH_BRIDGE_TTL_S", "6")
    phone = device_key("phone")

    def say(who, conn: str, text: str, msg: str) -> dict:
        bridge.route(event(conn, who, {"type": "message", "session": "cli", "id": msg, "text": text}))
        for invoked in invocations(moto_url):
            bridge.work(invoked["payload"])
        return frames(moto_url, conn)[-1]

    assert say(key, "a", "The safe's code is 4711", "owner-1")["type"] == "done"
    first = time.time()  # the session's record was written before this: it expired by first + 6
    time.sleep(3)
    assert say(key, "a", "Noted?", "owner-2")["type"] == "done"
    time.sleep(max(0.0, first + 6.3 - time.time()))  # past the session's first expiry
    taken = say(phone, "b", "Let me in", "owner-2")  # the owner's own message id
    assert taken["type"] == "error" and taken["status"] == 403
    time.sleep(7)  # idle: the session lapses with every turn and message id under it
    claimed = say(phone, "b", "Anything here?", "owner-2")
    assert claimed["type"] == "done" and not claimed.get("replayed")
    bridge.route(event("b", phone, {"type": "history", "session": "cli"}))
    turns = frames(moto_url, "b")[-1]["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"] and "4711" not in json.dumps(turns)
    assert "4711" not in json.dumps(fake.replies()[-1]["body"]["messages"])
