"""What an anonymous caller can make the server keep or wait for: registrations are limited per
source and in all (429 with Retry-After, in OAuth's terms) and live hours until used; purging
expired auth records costs the same with 3,000 registrations as with none; a client ID metadata
document on a slow trusted host is fetched outside the server's one-at-a-time section, bounded
as a whole and its failure remembered, so /v1/health never waits for it. Through `glyph serve`
and the connector function on DynamoDB (moto over HTTP)."""

from __future__ import annotations

import json
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from glyphmemory import oauth

from ..support.fake_server import LocalServer, QuietHandler
from ..support.lambda_events import connector_function, make_event
from ..support.processes import clean_env, start_glyph_serve, stop
from . import oauth_flow as f


def _register(url: str, n: int = 0) -> httpx.Response:
    return httpx.post(url + "/register", json={"redirect_uris": [f"{f.CALLBACK}{n}"], "client_name": f"c{n}"})


@pytest.mark.e2e
def test_registrations_are_limited_and_live_hours_until_used(served_db):
    from glyphmemory.stores.sqlite import SqliteStore

    url, home, _, db = served_db
    answers = [_register(url, n) for n in range(oauth.REGISTER_PER_SOURCE + 2)]
    assert [a.status_code for a in answers[: oauth.REGISTER_PER_SOURCE]] == [201] * oauth.REGISTER_PER_SOURCE
    for refused in answers[oauth.REGISTER_PER_SOURCE :]:
        assert refused.status_code == 429
        assert (
            refused.json()["error"] == "temporarily_unavailable" and "retry in" in refused.json()["error_description"]
        )
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
    # Refused registrations stored nothing; a never-used one lives hours, not months.
    store = SqliteStore(db)
    clients = store.records_list("oauth-client")
    assert len(clients) == oauth.REGISTER_PER_SOURCE
    first_id = answers[0].json()["client_id"]
    record = store.records_get("oauth-client", first_id)[0]
    assert record["expires_at"] - time.time() <= oauth.UNUSED_CLIENT_TTL_S <= 12 * 3600
    # Used (a sign-in issued a code): it lives on, 90 days from then.
    verifier, challenge = f.pkce()
    redirect = f"{f.CALLBACK}0"
    fields = f.authorize_fields(url, first_id, challenge, redirect=redirect)
    f.code_from(f.sign_in(url, fields, f.owner_totp(home).now()))
    assert store.records_get("oauth-client", first_id)[0]["expires_at"] - time.time() > 89 * 86400
    store.close()


def _opcodes(store, action) -> int:
    """SQLite virtual-machine steps `action` runs on the store's connection (deterministic,
    unlike a time): a statement that scans a table runs steps for every row."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn = store._conn()
    conn.set_progress_handler(count, 1)
    try:
        action()
    finally:
        conn.set_progress_handler(None, 1)
    return steps[0]


def test_purging_expired_auth_records_does_not_scan_the_table(tmp_path):
    """Every auth write (a sign-in's session, a code) purges expired records: its cost must not
    grow with the registrations a stranger left behind."""
    from glyphmemory.stores.sqlite import SqliteStore

    store = SqliteStore(str(tmp_path / "g.db"))
    later = int(time.time()) + 3600

    def one_session(i: int):
        return lambda: store.records_put_if(
            "ui-session", f"s{i}", {"kid": "root"}, expected_version=0, expires_at=later
        )

    empty = _opcodes(store, one_session(0))
    record = {"client_name": "x", "redirect_uris": [f.CALLBACK] * 5}
    for i in range(3000):
        store.records_put_if("oauth-client", f"client-{i:06d}", record, expected_version=0, expires_at=later)
    full = _opcodes(store, one_session(1))
    assert full < empty * 2 + 200, (empty, full)  # a scan would add steps for each of 3,000 rows
    store.close()


class _TlsHost:
    """A TLS host (trustme) serving `bodies` by path; any other path answers one byte every
    `drip_s` seconds for at most `for_s` (a Content-Length it never reaches), so per-read
    timeouts never fire: only a deadline on the whole fetch ends it."""

    def __init__(self, tmp_path, bodies: dict[str, bytes] | None = None, drip_s: float = 0.5, for_s: float = 20):
        import trustme

        ca = trustme.CA()
        self.ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.requests = 0
        host = self

        class Handler(QuietHandler):
            def do_GET(self):
                host.requests += 1
                body = (bodies or {}).get(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)) if body is not None else "4000")
                self.end_headers()
                if body is not None:
                    self.wfile.write(body)
                    return
                ends = time.monotonic() + for_s
                try:
                    while time.monotonic() < ends:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(drip_s)
                except OSError:
                    pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.httpd = LocalServer(Handler, tls=context)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.close()


@pytest.mark.e2e
def test_metadata_documents_nested_deep_or_with_bad_redirect_uris(tmp_path):
    """A document nested 5,000 deep is a clear refusal, not a RecursionError; a redirect URI of a
    document is checked as sent like a registered one (a split header is never used)."""
    bodies: dict[str, bytes] = {}
    tls = _TlsHost(tmp_path, bodies)
    base = f"https://{tls.host}"
    deep = base + "/deep.json"
    bodies["/deep.json"] = b'{"client_id": "' + deep.encode() + b'", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    bodies["/deeper.json"] = b"[" * 2500 + b"]" * 2500
    mixed = base + "/mixed.json"
    split = "http://127.0.0.1:9/cb\r\nSet-Cookie: glyph_ui=X"
    bodies["/mixed.json"] = json.dumps(
        {"client_id": mixed, "client_name": "Mixed", "redirect_uris": [split, f.CALLBACK]}
    ).encode()
    home = str(tmp_path / "home")
    env = clean_env(GLYPH_HOME=home, GLYPH_OAUTH_CIMD_HOSTS=tls.host, SSL_CERT_FILE=str(tls.ca_file))
    proc, url = start_glyph_serve(env)
    try:
        _, challenge = f.pkce()
        for client_id in (deep, base + "/deeper.json"):
            page = httpx.get(url + "/authorize", params=f.authorize_fields(url, client_id, challenge))
            assert page.status_code == 401 and "could not be read" in page.text
            assert page.headers["content-type"].startswith("text/html")
        fields = f.authorize_fields(url, mixed, challenge)
        assert httpx.get(url + "/authorize", params=fields).status_code == 200
        bad = httpx.get(url + "/authorize", params={**fields, "redirect_uri": split})
        assert bad.status_code == 400 and "set-cookie" not in bad.headers
        assert httpx.get(url + "/v1/health").status_code in (200, 401)
    finally:
        stop(proc)
        tls.close()


@pytest.mark.e2e
def test_a_slow_metadata_host_stalls_no_one(tmp_path):
    from glyphmemory.cimd import CIMD_DEADLINE_S

    slow = _TlsHost(tmp_path)
    home = str(tmp_path / "home")
    env = clean_env(GLYPH_HOME=home, GLYPH_OAUTH_CIMD_HOSTS=slow.host, SSL_CERT_FILE=str(slow.ca_file))
    proc, url = start_glyph_serve(env)
    try:
        _, challenge = f.pkce()

        def authorize(n: int) -> tuple[int, float, str]:
            client_id = f"https://{slow.host}/client-{n}.json"
            started = time.monotonic()
            r = httpx.get(url + "/authorize", params=f.authorize_fields(url, client_id, challenge), timeout=30)
            return r.status_code, time.monotonic() - started, r.text

        with ThreadPoolExecutor(3) as pool:
            pages = [pool.submit(authorize, n) for n in range(3)]
            time.sleep(0.5)  # the three fetches are under way
            health = []
            while not all(p.done() for p in pages):
                started = time.monotonic()
                httpx.get(url + "/v1/health", timeout=30)
                health.append(time.monotonic() - started)
                time.sleep(0.2)
        assert max(health) < 1.0, health  # not held behind the fetches
        for page in pages:
            status, took, text = page.result()
            assert status == 401 and "could not be read" in text
            assert took < CIMD_DEADLINE_S + 2  # the whole fetch is bounded, not each read
        # The failure is remembered: the same document again answers at once, without a fetch.
        fetched = slow.requests
        status, took, _ = authorize(0)
        assert status == 401 and took < 1.0 and slow.requests == fetched
    finally:
        stop(proc)
        slow.close()


@pytest.fixture
def handler(dynamo_table, root_key, monkeypatch):
    door = connector_function(monkeypatch, dynamo_table, root_key)

    def call(path, body, source):
        event = make_event("POST", path, "", {"content-type": "application/json"}, json.dumps(body).encode())
        event["requestContext"]["http"]["sourceIp"] = source
        result = door.handle(event, None)
        return result["statusCode"], result["headers"], json.loads(result["body"])

    call.door = door
    yield call
    door.close()


def test_registration_quotas_through_the_connector_function(handler, monkeypatch):
    """On DynamoDB, where each registration is a paid write: per source, then in all."""
    monkeypatch.setattr(oauth, "REGISTER_PER_SOURCE", 3)
    monkeypatch.setattr(oauth, "REGISTER_IN_ALL", 7)
    body = {"redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]}
    statuses = [handler("/register", body, "198.51.100.1")[0] for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    statuses += [handler("/register", body, "198.51.100.2")[0] for _ in range(3)]  # another source: its own 3
    assert statuses[4:] == [201, 201, 201]
    status, headers, answer = handler("/register", body, "198.51.100.3")  # 6 stored; the total allows 7
    assert status == 201
    status, headers, answer = handler("/register", body, "198.51.100.4")
    assert status == 429 and answer["error"] == "temporarily_unavailable" and int(headers["Retry-After"]) >= 1
    app = handler.door.app()
    clients = app.memories.store.records_list("oauth-client")
    assert len(clients) == 7
    assert all(c["expires_at"] - time.time() <= oauth.UNUSED_CLIENT_TTL_S for _, c in clients)
