#!/usr/bin/env python3
"""The local stand-in for the webhooks function's event source mapping on the webhook FIFO queue
(template.yaml: WebhooksFunction, batch size 10, ReportBatchItemFailures).

It does with the queue $WEBHOOK_QUEUE_URL (moto) what the mapping does in AWS:

- receives up to 10 messages at a time (ReceiveMessage, long polling WaitTimeSeconds=1) with
  every system attribute (MessageGroupId, ApproximateReceiveCount, ...) and message attribute;
- invokes the function under `cargo lambda watch` with them in Lambda's SQS event shape,
  `{"Records": [{"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
  "md5OfBody", "eventSource": "aws:sqs", "eventSourceARN", "awsRegion"}]}`;
- deletes every message of the batch that the answer's `batchItemFailures` does not name. A
  function error, an answer that is not a JSON object, an `itemIdentifier` that is empty or not
  a message of the batch (Lambda takes these as the whole batch failing), or a function it
  cannot reach delete nothing: the messages come back once their visibility timeout is over, as
  in AWS, and after 100 receives the queue's redrive policy moves them to the dead-letter queue.
  Messages the function failed, it has given a visibility timeout of its own (its backoff).

In AWS the mapping polls with several pollers and invokes the function for several message
groups at once; here one poller hands one batch at a time to the function, which
`cargo lambda watch` runs as a single instance anyway. FIFO order holds either way: SQS gives
no message of a group while an earlier one is in flight.

A process of its own rather than a thread of stream_pump.py: the mapping reads a queue, not the
table's stream, and waits on nothing the stream's consumers do. Here too a webhooks function
that is slow or cannot be reached holds up neither the audit nor the events function, and the
deliveries have a log of their own ($STATE/queue-pump.log, a JSON line per batch with its
timings).

Configuration comes from the stack's environment (scripts/local.sh): AWS_ENDPOINT_URL,
AWS_REGION, WEBHOOK_QUEUE_URL, and SCIM_WEBHOOKS_INVOKE_URL (the function's Invoke API on cargo
lambda watch; unset, the pump does nothing). Usage: queue_pump.py
"""
import base64
import json
import os
import time
import urllib.error
import urllib.request

import boto3

BATCH = 10  # the mapping's BatchSize
WAIT_SECONDS = 1
INVOKE_TIMEOUT = 900  # Lambda's longest run
PAUSE_AFTER_FAILURE = 1.0  # before the next receive, while the function errs or is unreachable


def log(message, **fields):
    print(json.dumps({"msg": message, **fields}, default=str), flush=True)


def lambda_attribute(attribute):
    """A message attribute as Lambda gives it (boto3 gives a binary value as bytes)."""
    shaped = {"stringListValues": [], "binaryListValues": [], "dataType": attribute["DataType"]}
    if "BinaryValue" in attribute:
        shaped["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode()
    else:
        shaped["stringValue"] = attribute.get("StringValue")
    return shaped


def lambda_record(message, queue_arn, region):
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: lambda_attribute(a) for name, a in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def invoke(url, records):
    """("ok", ids of the failed messages), or ("error", None), or ("unreachable", None)."""
    body = json.dumps({"Records": records}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT) as response:
            text = response.read().decode("utf-8", "replace")
            failed = response.headers.get("x-amz-function-error")
    except urllib.error.HTTPError as e:  # cargo lambda answers a function error with a 500
        log("function error", status=e.code, answer=e.read().decode("utf-8", "replace")[:500])
        return "error", None
    except (urllib.error.URLError, OSError) as e:
        log("function unreachable", error=str(e))
        return "unreachable", None
    try:
        answer = json.loads(text) if text.strip() else None
    except ValueError:
        answer = text
    if answer is None and not failed:  # a function that returns nothing processed the batch
        return "ok", set()
    if failed or not isinstance(answer, dict) or "errorType" in answer or "errorMessage" in answer:
        log("function error", answer=text[:500])
        return "error", None
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None
           for f in answer.get("batchItemFailures") or []]
    batch = {r["messageId"] for r in records}
    if not all(isinstance(i, str) and i in batch for i in ids):
        log("function error", reason="an itemIdentifier not in the batch", answer=text[:500])
        return "error", None
    return "ok", set(ids)


def queue_arn(sqs, url):
    while True:
        try:
            return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        except Exception as e:  # the queue is created after the pump may start
            log("waiting for the queue", error=str(e))
        time.sleep(1)


def pump(sqs, url, arn, function_url, region):
    while True:
        started = time.monotonic()
        try:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=BATCH,
                WaitTimeSeconds=WAIT_SECONDS,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as e:  # the local AWS server is busy or restarting: poll again
            log("receive failed", error=str(e))
            time.sleep(PAUSE_AFTER_FAILURE)
            continue
        if not messages:
            continue
        read = time.monotonic()
        records = [lambda_record(m, arn, region) for m in messages]
        outcome, failed = invoke(function_url, records)
        invoked = time.monotonic()
        done = [] if failed is None else [r for r in records if r["messageId"] not in failed]
        undeleted = []
        if done:
            try:
                answer = sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)
                ])
                undeleted = answer.get("Failed", [])
            except Exception as e:  # the messages come back and are delivered again
                undeleted = [{"error": str(e)}]
        log("delivered", function="webhooks", messages=len(records), outcome=outcome,
            failed=len(records) if failed is None else len(failed),
            deleted=len(done) - len(undeleted),
            groups=len({m["Attributes"].get("MessageGroupId") for m in messages}),
            read_seconds=round(read - started, 3), invoke_seconds=round(invoked - read, 3),
            delete_seconds=round(time.monotonic() - invoked, 3),
            **({"undeleted": undeleted} if undeleted else {}))
        if failed is None:
            time.sleep(PAUSE_AFTER_FAILURE)


def main() -> None:
    function_url = os.environ.get("SCIM_WEBHOOKS_INVOKE_URL")
    if not function_url:
        log("SCIM_WEBHOOKS_INVOKE_URL is not set: nothing to deliver to")
        return
    url = os.environ["WEBHOOK_QUEUE_URL"]
    region = os.environ.get("AWS_REGION", "us-east-1")  # boto3 reads only AWS_DEFAULT_REGION
    sqs = boto3.client("sqs", region_name=region)
    arn = queue_arn(sqs, url)
    log("pumping", queue=url, function=function_url)
    pump(sqs, url, arn, function_url, region)


if __name__ == "__main__":
    main()
