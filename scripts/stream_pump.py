#!/usr/bin/env python3
"""The local stand-in for the event source mappings of the stream consumers (template.yaml:
AuditFunction and EventsFunction).

Polls the local table's DynamoDB stream (moto) and invokes each consumer function under
`cargo lambda watch` with batches in Lambda's event shape, `{"Records": [...]}`, as the event
source mappings do in AWS:

- from the oldest record (StartingPosition TRIM_HORIZON), in order, up to BATCH records a call,
  gathering records for up to BATCH_WINDOW seconds first (MaximumBatchingWindowInSeconds), which
  also keeps the pump from costing the serialised local server a round trip per change;
- only records of user and group items (the template's FilterCriteria, the same for both);
- a function that answers `{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}`
  (ReportBatchItemFailures, the events function) gets the batch again from that record;
- a batch a function fails on is retried with backoff; after RETRIES failures what is left of it
  is appended to $STATE/<function>-dlq.jsonl (the on-failure queue) and the pump moves on.
  While a function cannot be reached at all (cargo lambda watch still starting), the batch waits.

In AWS each mapping reads the stream on its own; here one reader hands each batch to a queue per
function, and each function's own thread delivers its batches in order.

Configuration comes from the stack's environment (scripts/local.sh): AWS_ENDPOINT_URL,
AWS_REGION, TABLE_NAME, and SCIM_AUDIT_INVOKE_URL and SCIM_EVENTS_INVOKE_URL (the functions'
Invoke API on cargo lambda watch; an unset one is skipped). Usage: stream_pump.py STATE_DIR
"""
import json
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.request

import boto3

BATCH = 100
BATCH_WINDOW = 1.0
READ_LIMIT = 1000  # GetRecords' maximum
RETRIES = 5
QUEUED_BATCHES = 50  # per consumer; the reader waits when a consumer is this far behind
AUDITED_TYPES = ("User", "Group")


def log(message, **fields):
    print(json.dumps({"msg": message, **fields}, default=str), flush=True)


def audited(record):
    """The template's FilterCriteria: the new or the old image is a user or group item."""
    data = record.get("dynamodb", {})
    for image in ("NewImage", "OldImage"):
        kind = data.get(image, {}).get("type", {}).get("S")
        if kind in AUDITED_TYPES:
            return True
    return False


def lambda_shape(record, stream_arn):
    """boto3 parses ApproximateCreationDateTime into a datetime; Lambda sends epoch seconds."""
    record = dict(record)
    data = dict(record["dynamodb"])
    when = data.get("ApproximateCreationDateTime")
    if hasattr(when, "timestamp"):
        data["ApproximateCreationDateTime"] = when.timestamp()
    record["dynamodb"] = data
    record["eventSourceARN"] = stream_arn
    return record


def invoke(name, url, records):
    """("ok", None) when the function processed the batch, ("retry_from", sequence number) when it
    reported a batch item failure, ("error", None) when it failed, ("unreachable", None)."""
    body = json.dumps({"Records": records}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode("utf-8", "replace")
            failed = response.headers.get("x-amz-function-error")
    except urllib.error.HTTPError as e:  # cargo lambda answers a function error with a 500
        log("function error", function=name, status=e.code,
            answer=e.read().decode("utf-8", "replace")[:500])
        return "error", None
    except (urllib.error.URLError, OSError) as e:
        log("function unreachable", function=name, error=str(e))
        return "unreachable", None
    try:
        answer = json.loads(text) if text else None
    except ValueError:
        answer = None
    if failed or not isinstance(answer, dict) or "errorType" in answer or "errorMessage" in answer:
        log("function error", function=name, answer=text[:500])
        return "error", None
    failures = answer.get("batchItemFailures") or []
    if failures:
        return "retry_from", failures[0].get("itemIdentifier")
    return "ok", None


def deliver(name, url, records, state):
    failures = 0
    while records:
        started = time.monotonic()
        outcome, sequence = invoke(name, url, records)
        log("delivered", function=name, records=len(records), outcome=outcome,
            seconds=round(time.monotonic() - started, 3))
        if outcome == "ok":
            return
        if outcome == "retry_from":
            # Lambda retries from the record named; one it cannot find fails the whole batch.
            at = next(
                (i for i, r in enumerate(records) if r["dynamodb"].get("SequenceNumber") == sequence),
                0,
            )
            records = records[at:]
            log("batch item failure", function=name, retry_from=sequence, records=len(records))
        if outcome in ("error", "retry_from"):
            failures += 1
            if failures >= RETRIES:
                with open(os.path.join(state, f"{name}-dlq.jsonl"), "a") as dlq:
                    dlq.write(json.dumps({"Records": records}, default=str) + "\n")
                log("batch sent to the local DLQ", function=name, records=len(records))
                return
        time.sleep(min(0.5 * 2 ** max(failures, 1), 8))


def consume(name, url, batches, state):
    while True:
        deliver(name, url, batches.get(), state)


def stream_arn(dynamodb, table):
    while True:
        try:
            arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
            if arn:
                return arn
        except Exception as e:  # the table is created after the pump may start
            log("waiting for the table", error=str(e))
        time.sleep(1)


def main() -> None:
    state = sys.argv[1]
    consumers = [
        (name, os.environ[var])
        for name, var in (("audit", "SCIM_AUDIT_INVOKE_URL"), ("events", "SCIM_EVENTS_INVOKE_URL"))
        if os.environ.get(var)
    ]
    table = os.environ["TABLE_NAME"]
    region = os.environ.get("AWS_REGION", "us-east-1")  # boto3 reads only AWS_DEFAULT_REGION
    dynamodb = boto3.client("dynamodb", region_name=region)
    streams = boto3.client("dynamodbstreams", region_name=region)
    arn = stream_arn(dynamodb, table)
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterators = {
        s["ShardId"]: streams.get_shard_iterator(
            StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for s in shards
    }
    log("pumping", stream=arn, shards=len(iterators), consumers=[n for n, _ in consumers])
    # One delivery thread per consumer, as each event source mapping reads on its own: a slow
    # or failing consumer delays only itself. Batches wait in its queue, in order.
    queues = {}
    for name, url in consumers:
        queues[name] = queue.Queue(maxsize=QUEUED_BATCHES)
        threading.Thread(
            target=consume, args=(name, url, queues[name], state), daemon=True
        ).start()
    while True:
        backlog = False
        for shard, iterator in list(iterators.items()):
            try:
                started = time.monotonic()
                out = streams.get_records(ShardIterator=iterator, Limit=READ_LIMIT)
                log("read", records=len(out["Records"]), seconds=round(time.monotonic() - started, 3))
            except Exception as e:  # the local AWS server is busy or restarting: poll again
                log("get_records failed", error=str(e))
                continue
            records = [lambda_shape(r, arn) for r in out["Records"] if audited(r)]
            for start in range(0, len(records), BATCH):
                for name in queues:
                    queues[name].put(records[start : start + BATCH])  # waits while it is full
            backlog = backlog or len(out["Records"]) == READ_LIMIT
            iterators[shard] = out["NextShardIterator"]
        if not backlog:
            # Also what keeps an idle pump gentle: moto keeps every shard iterator it hands out.
            time.sleep(BATCH_WINDOW)


if __name__ == "__main__":
    main()
