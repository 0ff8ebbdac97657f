"""Run a moto server on 127.0.0.1 that applies one request at a time; prints its port.

moto's backends take no locks: two conditional PutItems racing in its threads can both pass
their condition, which real DynamoDB never allows (it applies writes to one item atomically).
Serialising requests gives tests DynamoDB's atomicity while clients still race over HTTP.

It speaks HTTP/1.1 with keep-alive, as DynamoDB does (werkzeug's server closes every connection),
so clients' kept-alive connections are exercised and latency tests pay one connect, not one a call.

Throttling can be switched on per table, for the outage tests: `POST /_glyph/throttle?table=T&on=1`
makes every DynamoDB request naming table T answer ThrottlingException (or `code=`, e.g.
ProvisionedThroughputExceededException) until `on=0`.

Write conflicts, which serial requests never meet: after `POST /_glyph/conflicts?count=N` the
next N TransactWriteItems naming a search index's stats item (`IXS#…`) are cancelled with
TransactionConflict on it, as DynamoDB cancels transactions that write one item at once.

For benchmarks that need a large table: `POST /_glyph/put_items` with `{"table", "items": [...]}`
(items in DynamoDB's JSON, as PutItem takes them) stores them straight into moto's backend, as an
unconditional PutItem each, ~5× faster than BatchWriteItem through moto's request layer.

For the bridge's functions: asynchronous Lambda invocations (`X-Amz-Invocation-Type: Event`) are
recorded, not run (moto would need Docker), and read back with `GET /_glyph/invocations`;
API Gateway's `POST /@connections/ID` frames are kept one by one (moto's own recording
concatenates them), read back with `GET /_glyph/connections/ID`; after
`POST /_glyph/gone?connection=ID` that connection answers 410 GoneException, as a closed one does;
`DELETE /@connections/ID` (the bridge closing a connection) makes it gone, and
`GET /_glyph/closed` lists the connections closed so.
"""

import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def cheap_transaction_rollback() -> None:
    """TransactWriteItems in O(items it names), as in DynamoDB, instead of moto's O(table).

    moto deep-copies a whole table per action of a transaction to roll back on a cancelled
    one, so a transaction on a table of 100,000 items took minutes. Here it copies nothing and
    a cancelled transaction puts back the items it named, as they were before it."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class _NoTableCopy:
        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = _NoTableCopy()
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        before = []
        for action in transact_items:
            for kind, op in action.items():
                table = self.tables.get(op.get("TableName"))
                if table is None:
                    continue
                if kind == "Put":
                    attrs = op["Item"]
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                try:
                    held = self.get_item(op["TableName"], key)
                except Exception:  # a malformed key: moto answers it itself
                    continue
                before.append((op["TableName"], key, held.to_json()["Attributes"] if held else None))
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attrs in reversed(before):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


def cheap_queries() -> None:
    """Query in O(items of the partition) on the table, and without sorting the whole table on
    a GSI, as in DynamoDB, instead of moto's sort of every item of the table per Query (a
    search's few Queries took seconds each at 10,000 memories).

    moto's Query starts from `all_items()`, the whole table sorted by key, then keeps the
    items of the partition and sorts them again by the Query's keys: the first order is never
    used. Here a table Query starts from its partition, a GSI Query from the table unsorted."""
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def query(self, hash_key, *args, **kwargs):
        # moto's backend passes index_name as the eighth positional argument (hash_key first).
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        self._glyph_partition = (index_name is None, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            self._glyph_partition = None

    def all_items(self):
        partition = getattr(self, "_glyph_partition", None)
        if partition is None:
            return original_all_items(self)
        on_table, hash_key = partition
        if not self.range_key_attr:
            return list(self.items.values())
        if on_table and hash_key is not None:
            return list(self.items[hash_key].values()) if hash_key in self.items else []
        return [item for by_range in self.items.values() for item in by_range.values()]

    def sorted_items(self, hash_key_attrs, range_key_attrs, items):
        # By the keys' plain values (a number as a number): DynamoType's own comparisons made
        # sorting 10,000 items take a second.
        attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)

        def plain(value):
            return float(value.value) if value.type == "N" else value.value

        items.sort(key=lambda x: tuple(plain(x.attrs[a]) for a in attrs))
        return items

    Table.query, Table.all_items, Table.sorted_items = query, all_items, sorted_items


def throttled_answer(code: str) -> bytes:
    return json.dumps(
        {
            "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
            "message": "Rate of requests exceeds the allowed throughput.",
        }
    ).encode()


class KeepAliveHandler(BaseHTTPRequestHandler):
    """A WSGI adapter on http.server that keeps connections open between requests."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave as two writes: without TCP_NODELAY the body waits 40 ms for the
    # client's delayed ACK on every kept-alive answer.
    disable_nagle_algorithm = True
    app = None

    def log_message(self, *args) -> None:
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        environ = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        payload = b"".join(self.app(environ, start_response))
        code, _, reason = answer["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer["headers"]:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


def main() -> None:
    cheap_transaction_rollback()
    cheap_queries()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    throttled: dict[str, str] = {}  # table -> error code

    def throttle_control(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if query.get("on") == "1":
            throttled[query["table"]] = query.get("code", "ThrottlingException")
        else:
            throttled.pop(query["table"], None)
        start_response("204 No Content", [])
        return []

    def throttle_code(environ) -> str | None:
        if not throttled or not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return None
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        return throttled.get(json.loads(body or b"{}").get("TableName"))

    conflicts = [0]  # how many more transactions naming a stats item to cancel

    def conflict_control(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with lock:
            conflicts[0] = int(query.get("count", "0"))
        start_response("204 No Content", [])
        return []

    def conflict_answer(environ) -> bytes | None:
        """TransactionCanceledException with TransactionConflict on the search index's stats item
        (`IXS#…`), as DynamoDB answers a transaction whose item another transaction is writing
        (moto applies one request at a time, so it never does), while `conflicts` lasts."""
        if not conflicts[0] or not environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
            return None
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        actions = json.loads(body or b"{}").get("TransactItems", [])
        keys = [(op.get("Key") or op.get("Item") or {}) for action in actions for op in action.values()]
        hot = [key.get("pk", {}).get("S", "").startswith("IXS#") for key in keys]
        with lock:
            if not any(hot) or not conflicts[0]:
                return None
            conflicts[0] -= 1
        reasons = [{"Code": "TransactionConflict"} if h else {"Code": "None"} for h in hot]
        return json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                "CancellationReasons": reasons,
            }
        ).encode()

    def put_items(environ, start_response):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][body.get("region", "us-east-1")]
        with lock:
            for item in body["items"]:
                backend.put_item(body["table"], item)
        start_response("204 No Content", [])
        return []

    invocations: list[dict] = []
    frames: dict[str, list[str]] = {}
    gone: set[str] = set()
    closed: list[str] = []

    def reply(start_response, status: str, body, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers])
        return [data]

    def bridge_parts(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/_glyph/invocations":
            taken = invocations[:]
            invocations.clear()
            return reply(start_response, "200 OK", taken)
        if path.startswith("/_glyph/connections/"):
            return reply(start_response, "200 OK", frames.get(unquote(path.rsplit("/", 1)[1]), []))
        if path == "/_glyph/closed":
            return reply(start_response, "200 OK", closed)
        if path == "/_glyph/gone":
            gone.add(query["connection"])
            return reply(start_response, "204 No Content", None)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        if method == "POST" and path.startswith("/2015-03-31/functions/") and path.endswith("/invocations"):
            kind = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
            invocations.append({"function": path.split("/")[3], "type": kind, "payload": json.loads(body or b"{}")})
            return reply(start_response, "202 Accepted", None)
        if method in ("DELETE", "POST") and "/@connections/" in path:
            connection = unquote(path.rsplit("/", 1)[1])
            if connection in gone:
                headers = [("x-amzn-errortype", "GoneException")]
                return reply(start_response, "410 Gone", {"message": "Gone"}, headers)
            if method == "DELETE":
                gone.add(connection)
                closed.append(connection)
                return reply(start_response, "204 No Content", None)
            frames.setdefault(connection, []).append(body.decode())
            return reply(start_response, "200 OK", None)
        return None

    def serial(environ, start_response):
        if environ.get("PATH_INFO") == "/_glyph/throttle":
            return throttle_control(environ, start_response)
        if environ.get("PATH_INFO") == "/_glyph/conflicts":
            return conflict_control(environ, start_response)
        if environ.get("PATH_INFO") == "/_glyph/put_items":
            return put_items(environ, start_response)
        with lock:
            handled = bridge_parts(environ, start_response)
        if handled is not None:
            return handled
        code = throttle_code(environ)
        answer = throttled_answer(code) if code else conflict_answer(environ)
        if answer:
            start_response(
                "400 Bad Request",
                [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(answer)))],
            )
            return [answer]
        with lock:
            return list(app(environ, start_response))

    KeepAliveHandler.app = staticmethod(serial)
    # socketserver listens with a backlog of 5: a burst of new connections (50 writes at once
    # through glyph serve, each thread with its own connection to DynamoDB) overflowed it on a
    # loaded machine and some were reset (ConnectionResetError, twice in a row: a 503). DynamoDB
    # accepts them; so does the emulator.
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), KeepAliveHandler)
    server.daemon_threads = True
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
