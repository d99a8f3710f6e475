#!/usr/bin/env python3
"""moto's server with its requests serialised.

moto's in-memory DynamoDB is not thread-safe: concurrent TransactWriteItems calls fail with
"dictionary changed size during iteration" (HTTP 500), which real DynamoDB never does. One lock
around the application makes the stand-in behave like a (slow) consistent database; the HTTP
server still accepts connections concurrently.

Usage: moto_server.py HOST PORT
"""
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
