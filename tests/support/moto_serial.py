"""Run a moto server on 127.0.0.1 that applies one request at a time; prints its port.

moto's backends take no locks: two conditional PutItems racing in its threads can both pass
their condition, which real DynamoDB never allows (it applies writes to one item atomically).
Serialising requests gives tests DynamoDB's atomicity while clients still race over HTTP.

Throttling can be switched on per table, for the outage tests: `POST /_glyph/throttle?table=T&on=1`
makes every DynamoDB request naming table T answer ThrottlingException until `on=0`.
"""

import io
import json
import sys
import threading
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

THROTTLED = json.dumps(
    {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."}
).encode()


def main() -> None:
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    throttled: set[str] = set()

    def throttle_control(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        (throttled.add if query.get("on") == "1" else throttled.discard)(query["table"])
        start_response("204 No Content", [])
        return []

    def is_throttled(environ) -> bool:
        if not throttled or not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return False
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        return json.loads(body or b"{}").get("TableName") in throttled

    def serial(environ, start_response):
        if environ.get("PATH_INFO") == "/_glyph/throttle":
            return throttle_control(environ, start_response)
        if is_throttled(environ):
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(THROTTLED)))])
            return [THROTTLED]
        with lock:
            return list(app(environ, start_response))

    server = make_server("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0, serial, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
