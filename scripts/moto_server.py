#!/usr/bin/env python3
"""moto's server, made a faithful enough DynamoDB stand-in for this project's tests.

Two defects of moto 5.x are worked around here, in the test harness only:

1. Its in-memory DynamoDB is not thread-safe: concurrent TransactWriteItems fail with
   "dictionary changed size during iteration" (HTTP 500), which real DynamoDB never does.
   One lock around the application serialises requests; connections are still accepted
   concurrently.
2. TransactWriteItems deep-copies the whole table once per item, to roll back on failure: a
   100-item transaction on a table of N items costs 100 x N, so a 5,000-member group takes
   hours. Here the transaction snapshots only the items it touches and restores those on
   failure, which is the same all-or-nothing outcome (requests are serialised by the lock).

Usage: moto_server.py HOST PORT
"""
import copy
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple


class _NoTableCopy:
    """Stands in for the `copy` module inside moto's DynamoDB models: tables are not copied."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, dynamodb_models.Table):
            return value
        return copy.deepcopy(value, memo)


def _item_key(backend, op_type, op):
    table = backend.get_table(op["TableName"])
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _patch_transactions():
    original = dynamodb_models.DynamoDBBackend.transact_write_items
    dynamodb_models.copy = _NoTableCopy()

    def transact_write_items(self, transact_items):
        snapshots = []
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                key = _item_key(self, op_type, op)
                current = self.get_item(op["TableName"], key)
            except Exception:  # malformed input: let moto's own code raise its error
                continue
            snapshots.append((op["TableName"], key, copy.deepcopy(current)))
        # A cancelled transaction leaves no stream records (real DynamoDB emits none): remember
        # each touched table's stream length and cut the partial apply and rollback off again.
        shards = {t: self.get_table(t).stream_shard for t, _, _ in snapshots}
        stream_lengths = {t: len(s.items) for t, s in shards.items() if s is not None}
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, before in reversed(snapshots):
                try:
                    self.delete_item(table_name, key)
                except Exception:
                    pass
                if before is not None:
                    self.put_item(table_name, before.to_json()["Attributes"])
            for table_name, length in stream_lengths.items():
                del shards[table_name].items[length:]
            raise

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    _patch_transactions()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
