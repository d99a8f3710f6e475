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

3b. EventBridge delivery to a target parses the target's eight default input paths with
   jsonpath_ng (a yacc parser built each time): about 6 ms of the ~10 ms an event takes to
   reach an SQS queue, under the lock above. The parses are cached (`_cache_jsonpath`); the
   delivered events are the same.

One DynamoDB behaviour moto lacks is added:

3. TransactWriteItems is idempotent per ClientRequestToken for 10 minutes: a repeat of a
   completed request with the same token and the same parameters returns success without writing
   again; the same token with other parameters is IdempotentParameterMismatchException
   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
   `ClientRequestToken`). The Rust SDK fills the token and reuses it when it retries, so a
   transaction whose response was lost is retried safely, as against DynamoDB.

EventBridge's PutEvents takes fault rules too (operation `PutEvents`, matched on the entries'
JSON, where each event's detail is an escaped string): `entries_failed` answers 200 with every
entry failed (FailedEntryCount), as EventBridge answers entries it could not take; `internal`
and `throttle` fail the whole put.

DynamoDB's request limits are checked before moto sees a request (`dynamodb_limits.py`): a
batch, transaction or item over its limit, two operations on one item, an empty key, a Query
filter on a key attribute are answered with DynamoDB's own ValidationException, as AWS would,
instead of being applied by moto. moto's own TransactGetItems limit (25, DynamoDB's before 2022)
is raised to DynamoDB's 100.

SQS (the webhook queue, FIFO) is patched where moto answers otherwise than SQS: deduplication,
sequence numbers, and requests SQS refuses (`sqs_stand_in.py` lists them). And a ReceiveMessage
that long-polls (WaitTimeSeconds > 0) waits outside the lock below, which moto's would hold for
the whole wait, stopping every other request: it is asked again without waiting, every
LONG_POLL_INTERVAL seconds, until it returns messages or the wait is over, as SQS answers.

And faults can be injected, for the tests of throttling and transient failures (`faults.rs`).
A rule names a DynamoDB operation and a substring of the request body (a tenant or resource id,
so parallel tests never meet each other's faults) and answers the next `times` matching
requests, after letting `skip` of them through, as DynamoDB does when it fails:

  POST   /_faults       {"operation": "TransactWriteItems", "match": "<substring>",
                         "fault": "throttle", "times": 2, "skip": 0}  -> 201 {"id": 1}
  GET    /_faults/<id>  -> {"id", "operation", "match", "fault", "times", "skip", "hits"}
  DELETE /_faults/<id>  (DELETE /_faults clears every rule; GET /_faults lists them)

Faults (see FAULTS): `throttle` (400 ThrottlingException), `provisioned` (400
ProvisionedThroughputExceededException), `internal` (500 InternalServerError), all without
touching the data; `lost_response`, which applies the request and then answers 500
InternalServerError, as when DynamoDB's response never reaches the caller; and
`transaction_conflict` (400 TransactionCanceledException, every reason TransactionConflict);
and, for BatchGetItem, `unprocessed` (200 with no items and every key in UnprocessedKeys, as
DynamoDB answers a batch it throttled as a whole).
`hits` counts the requests a rule answered, so a test can prove that the SDK retried.

Usage: moto_server.py HOST PORT
"""
import copy
import functools
import hashlib
import io
import json
import os
import re
import sys
import threading
import time
import uuid

import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.responses as dynamodb_responses
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

import dynamodb_limits
import sqs_stand_in


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


# Error shapes as DynamoDB sends them (JSON 1.0 protocol): (HTTP status, error type, message).
FAULTS = {
    "throttle": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "provisioned": (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    "internal": (500, "InternalServerError", "Internal server error"),
    # Applied first, then answered like `internal` (see FaultInjector.__call__).
    "lost_response": (500, "InternalServerError", "Internal server error"),
    "transaction_conflict": (
        400,
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons",
    ),
}
# BatchGetItem only, answered with a 200 rather than an error: see _fault_response.
UNPROCESSED = "unprocessed"
# EventBridge PutEvents only: a 200 in which every entry failed (FailedEntryCount), as
# EventBridge answers entries it could not take. `internal` and `throttle` also apply to
# PutEvents, failing the whole put.
ENTRIES_FAILED = "entries_failed"
EVENTS_TARGET = "AWSEvents.PutEvents"
STATUS_TEXT = {200: "200 OK", 201: "201 Created", 204: "204 No Content", 400: "400 Bad Request",
               404: "404 Not Found", 500: "500 Internal Server Error"}
TARGET_PREFIX = "DynamoDB_20120810."
SQS_RECEIVE = "AmazonSQS.ReceiveMessage"
LONG_POLL_INTERVAL = 0.05
MAX_WAIT_SECONDS = 20  # ReceiveMessage's WaitTimeSeconds; moto refuses more
# How long DynamoDB remembers a ClientRequestToken after the request completed.
IDEMPOTENCY_WINDOW_SECS = 600


def _json(status, payload):
    """A whole response, (status line, headers, body), with a JSON body as DynamoDB sends it."""
    body = json.dumps(payload).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    return STATUS_TEXT.get(status, f"{status} Error"), headers, body


def _send(start_response, response):
    status, headers, body = response
    start_response(status, headers)
    return [body]


def _error(status, kind, message):
    return _json(status, {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message})


# The region in a SigV4 Authorization header: Credential=<key>/<date>/<region>/dynamodb/...
_CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/")


def _schemas(environ):
    """The key schema of a table, as moto holds it, for the request's region."""
    match = _CREDENTIAL_REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
    region = match.group(1) if match else "us-east-1"
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables

    def schema_of(name):
        table = tables.get(name.rsplit("/", 1)[-1] if name.startswith("arn:") else name)
        if table is None:
            return None
        table_keys = [table.hash_key_attr]
        if table.range_key_attr:
            table_keys.append(table.range_key_attr)
        index_keys = {
            index.name: [key["AttributeName"] for key in index.schema]
            for index in table.indexes + table.global_indexes
        }
        return dynamodb_limits.KeySchema(table_keys, index_keys)

    return schema_of


def _refused(operation, body, environ):
    """DynamoDB's ValidationException for a request over one of its limits, or None."""
    refused = dynamodb_limits.refusal(operation, body, _schemas(environ))
    if refused is None:
        return None
    status, kind, message = refused
    # In the stand-in's log (.local/<stack>/moto.log), so a refusal our own code caused is found.
    print(f"refused {operation}: {message[:300]}", file=sys.stderr, flush=True)
    return _json(status, {"__type": kind, "message": message})


def _fault_response(fault, body):
    """The response of an injected fault to a request with this body."""
    if fault == UNPROCESSED:
        # A BatchGetItem that read nothing: every requested key comes back unprocessed.
        request_items = json.loads(body).get("RequestItems", {})
        return _json(200, {
            "Responses": {table: [] for table in request_items},
            "UnprocessedKeys": request_items,
        })
    status, kind, message = FAULTS[fault]
    payload = {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}
    if fault == "transaction_conflict":
        try:
            count = len(json.loads(body).get("TransactItems", []))
        except ValueError:
            count = 1
        payload["CancellationReasons"] = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        ] * count
    return _json(status, payload)


def _call(app, environ):
    """Runs the wrapped application and returns its whole response."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


class FaultInjector:
    """WSGI middleware in front of moto: the fault rules, their control endpoint, and
    TransactWriteItems idempotency. Called under the server's lock, so it needs none of its own."""

    def __init__(self, app):
        self.app = app
        self.rules = {}
        self.next_id = 1
        # ClientRequestToken -> (sha256 of the request body, response, completion time)
        self.tokens = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_faults" or path.startswith("/_faults/"):
            return self._control(environ, start_response, path)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == EVENTS_TARGET and self.rules:
            return self._put_events(environ, start_response)
        if not target.startswith(TARGET_PREFIX):
            return self.app(environ, start_response)
        operation = target[len(TARGET_PREFIX):]
        body = _read_body(environ)
        refused = _refused(operation, body, environ)
        if refused is not None:  # DynamoDB validates a request before anything else happens
            return _send(start_response, refused)
        rule = self._matching_rule(operation, body)
        if rule is not None and rule["fault"] != "lost_response":
            rule["hits"] += 1
            return _send(start_response, _fault_response(rule["fault"], body))
        if operation == "TransactWriteItems":
            response = self._transact(environ, body)
        else:
            response = _call(self.app, environ)
        if rule is not None:  # lost_response: the request was applied, the answer is lost
            rule["hits"] += 1
            response = _fault_response(rule["fault"], body)
        return _send(start_response, response)

    def _put_events(self, environ, start_response):
        """EventBridge's PutEvents, unless a fault rule for `PutEvents` matches its body."""
        body = _read_body(environ)
        rule = self._matching_rule("PutEvents", body)
        if rule is None:
            return self.app(environ, start_response)
        rule["hits"] += 1
        if rule["fault"] == ENTRIES_FAILED:
            entries = json.loads(body).get("Entries", [])
            failed = {"ErrorCode": "InternalFailure", "ErrorMessage": "Injected entry failure"}
            response = _json(200, {"FailedEntryCount": len(entries), "Entries": [failed] * len(entries)})
        else:
            status, kind, message = FAULTS[rule["fault"]]
            response = _json(status, {"__type": kind, "message": message})
        return _send(start_response, response)

    def _matching_rule(self, operation, body):
        if not self.rules:
            return None
        text = body.decode("utf-8", "replace")
        for rule in self.rules.values():
            if rule["operation"] != operation or rule["match"] not in text:
                continue
            if rule["skip"] > 0:
                rule["skip"] -= 1
                continue
            if rule["hits"] < rule["times"]:
                return rule
        return None

    def _transact(self, environ, body):
        """TransactWriteItems with DynamoDB's ClientRequestToken idempotency."""
        try:
            token = json.loads(body).get("ClientRequestToken")
        except ValueError:
            token = None
        if not token:
            return _call(self.app, environ)
        now = time.monotonic()
        for old in [t for t, (_, _, at) in self.tokens.items()
                    if now - at > IDEMPOTENCY_WINDOW_SECS]:
            del self.tokens[old]
        digest = hashlib.sha256(body).hexdigest()
        if token in self.tokens:
            seen_digest, response, _ = self.tokens[token]
            if seen_digest == digest:
                return response
            return _error(400, "IdempotentParameterMismatchException",
                          "The request uses the same client token as a previous, but "
                          "non-identical request.")
        response = _call(self.app, environ)
        if response[0].startswith("200"):
            # Only a completed transaction is remembered: a cancelled one wrote nothing.
            self.tokens[token] = (digest, response, time.monotonic())
        return response

    def _control(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD", "GET")
        rule_id = path[len("/_faults/"):] if path.startswith("/_faults/") else ""
        if not rule_id:
            if method == "POST":
                return self._add_rule(environ, start_response)
            if method == "DELETE":
                self.rules.clear()
                start_response("204 No Content", [("Content-Length", "0")])
                return [b""]
            return _send(start_response, _json(200, list(self.rules.values())))
        rule = self.rules.get(int(rule_id)) if rule_id.isdigit() else None
        if rule is None:
            return _send(start_response, _json(404, {"message": "no such rule"}))
        if method == "DELETE":
            del self.rules[rule["id"]]
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        return _send(start_response, _json(200, rule))

    def _add_rule(self, environ, start_response):
        try:
            spec = json.loads(_read_body(environ))
            rule = {
                "id": self.next_id,
                "operation": str(spec["operation"]),
                "match": str(spec["match"]),
                "fault": str(spec["fault"]),
                "times": int(spec.get("times", 1)),
                "skip": int(spec.get("skip", 0)),
                "hits": 0,
            }
        except (ValueError, KeyError, TypeError) as err:
            return _send(start_response, _json(400, {"message": f"bad rule: {err}"}))
        kinds = sorted([*FAULTS, UNPROCESSED, ENTRIES_FAILED])
        if rule["fault"] not in kinds or not rule["match"]:
            problem = f"fault must be one of {kinds}, match non-empty"
            return _send(start_response, _json(400, {"message": problem}))
        if rule["fault"] == UNPROCESSED and rule["operation"] != "BatchGetItem":
            problem = "unprocessed is for BatchGetItem only"
            return _send(start_response, _json(400, {"message": problem}))
        events_faults = (ENTRIES_FAILED, "internal", "throttle")
        if rule["operation"] == "PutEvents" and rule["fault"] not in events_faults:
            problem = f"PutEvents takes {list(events_faults)}"
            return _send(start_response, _json(400, {"message": problem}))
        if rule["fault"] == ENTRIES_FAILED and rule["operation"] != "PutEvents":
            problem = "entries_failed is for PutEvents only"
            return _send(start_response, _json(400, {"message": problem}))
        self.rules[rule["id"]] = rule
        self.next_id += 1
        return _send(start_response, _json(201, rule))


def _read_body(environ):
    """Reads the request body and puts it back, so the wrapped application can read it too."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    body = stream.read(int(length)) if length.isdigit() else stream.read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _long_polling(serialised):
    """`serialised`, with SQS long polls waiting outside its lock (the module docstring)."""

    def app(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET") != SQS_RECEIVE:
            return serialised(environ, start_response)
        body = _read_body(environ)
        try:
            request = json.loads(body)
            wait = int(request.get("WaitTimeSeconds") or 0)
        except (ValueError, TypeError, AttributeError):
            wait = 0
        if not 0 < wait <= MAX_WAIT_SECONDS:
            return serialised(environ, start_response)
        short = json.dumps({**request, "WaitTimeSeconds": 0}).encode()
        deadline = time.monotonic() + wait
        while True:
            environ["wsgi.input"] = io.BytesIO(short)
            environ["CONTENT_LENGTH"] = str(len(short))
            response = _call(serialised, environ)
            if (not response[0].startswith("200") or json.loads(response[2]).get("Messages")
                    or time.monotonic() >= deadline):
                return _send(start_response, response)
            time.sleep(LONG_POLL_INTERVAL)

    return app


def _cache_jsonpath():
    """moto's EventBridge target delivery calls `jsonpath_ng.ext.parse` for every path of every
    event; the expressions are a handful of constants, so parse each once."""
    import jsonpath_ng.ext

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    _patch_transactions()
    _cache_jsonpath()
    sqs_stand_in.patch()
    dynamodb_responses.TRANSACTION_MAX_ITEMS = dynamodb_limits.MAX_TRANSACT_ITEMS
    app = FaultInjector(DomainDispatcherApplication(create_backend_app))
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, _long_polling(serialised), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
