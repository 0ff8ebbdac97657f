"""Run a moto server on 127.0.0.1 that applies one request at a time; prints its port.

moto's backends take no locks: two conditional PutItems racing in its threads can both pass
their condition, which real DynamoDB never allows (it applies writes to one item atomically).
Serialising requests gives tests DynamoDB's atomicity while clients still race over HTTP.
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main() -> None:
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    server = make_server("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0, serial, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
