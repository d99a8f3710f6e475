#!/usr/bin/env python3
"""Checks that the local SQS (moto_server.py: moto with sqs_stand_in.py) does what SQS does with
the webhook FIFO queue, in what the events and webhooks functions rely on:

  (a) while a message of a group is in flight, no later message of that group is received;
      messages of other groups are;
  (b) ChangeMessageVisibility delays an in-flight message and keeps its group locked; a later
      message of the group made visible again (timeout 0) comes back only after the earlier
      one is deleted or visible again, in order;
  (c) a MessageDeduplicationId drops a second message for 5 minutes, even after the first was
      deleted, per message group with DeduplicationScope messageGroup, per queue without;
  (d) ApproximateReceiveCount counts receives, SequenceNumber increases within a group;
  (e) what SQS refuses is refused (sqs_stand_in.py);
  (f) a long poll neither holds up other requests nor misses a message sent while it waits.

It starts its own moto_server.py on a free port of 127.0.0.1 and stops it. It prints a line per
check and a last line "N passed, N failed", and exits 1 when a check failed.
Usage: check_sqs_stand_in.py (with the project's venv python: moto, boto3).
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

FIFO = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
    "VisibilityTimeout": "20",
}
RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print(json.dumps({"check": name, "ok": bool(ok), **({"detail": detail} if detail else {})}),
          flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server():
    port = free_port()
    here = os.path.dirname(os.path.abspath(__file__))
    server = subprocess.Popen(
        [sys.executable, os.path.join(here, "moto_server.py"), "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return server, url
        except OSError:
            time.sleep(0.25)
    server.kill()
    sys.exit(f"moto_server.py did not answer on {url}")


class Queue:
    def __init__(self, sqs, name, **attributes):
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName=name, Attributes={**FIFO, **attributes})["QueueUrl"]

    def send(self, group, dedup, body="{}", **extra):
        return self.sqs.send_message(QueueUrl=self.url, MessageBody=body, MessageGroupId=group,
                                     MessageDeduplicationId=dedup, **extra)

    def receive(self, count=10, wait=0):
        return self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=count, WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])

    def bodies(self, count=10):
        return [m["Body"] for m in self.receive(count)]

    def delete(self, message):
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def visibility(self, message, seconds):
        self.sqs.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=seconds
        )

    def release(self, messages):
        """Makes messages visible again at once, as the webhooks function does with the later
        messages of a failed one's group."""
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                   for i, m in enumerate(messages)]
        return self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)


def refused(call, code):
    """Whether `call` fails with the SQS error `code`, and what happened."""
    try:
        call()
    except ClientError as e:
        got = e.response["Error"]["Code"]  # "AWS.SimpleQueueService.<code>" for some codes
        return got.split(".")[-1] == code, f"{got}: {e.response['Error']['Message'][:120]}"
    return False, "accepted"


def group_lock(sqs):
    q = Queue(sqs, "check-a.fifo")
    for group, dedup in (("g", "1"), ("g", "2"), ("h", "3")):
        q.send(group, dedup, f"{group}{dedup}")
    first = q.bodies(1)
    rest = q.bodies()
    check("(a) an in-flight message locks its group, not others", first == ["g1"] and rest == ["h3"],
          f"{first} then {rest}")
    q2 = Queue(sqs, "check-a2.fifo")
    for dedup in "123":
        q2.send("g", dedup, dedup)
    check("(a) one receive returns a group's messages in order", q2.bodies() == ["1", "2", "3"])


def visibility(sqs):
    q = Queue(sqs, "check-b.fifo")
    for dedup in "123":
        q.send("g", dedup, dedup)
    m1, m2, m3 = q.receive()
    q.visibility(m1, 2)
    answer = q.release([m2, m3])
    check("(b) visibility 0 on later messages", len(answer.get("Successful", [])) == 2,
          answer.get("Failed"))
    locked = q.bodies()
    check("(b) the group stays locked while the first is in flight", locked == [], locked)
    time.sleep(2.2)
    again = q.receive()
    check("(b) after the first is visible again, all come back in order",
          [m["Body"] for m in again] == ["1", "2", "3"], [m["Body"] for m in again])
    q.delete(again[0])
    q.release(again[1:])
    after = q.receive()
    check("(b) after the first is deleted the next comes first",
          [m["Body"] for m in after] == ["2", "3"], [m["Body"] for m in after])
    counts = [m["Attributes"]["ApproximateReceiveCount"] for m in after]
    check("(d) ApproximateReceiveCount counts receives", counts == ["3", "3"], counts)
    ok, detail = refused(lambda: q.visibility(after[0], -1), "InvalidParameterValue")
    check("(e) ChangeMessageVisibility below 0 refused", ok, detail)
    ok, detail = refused(lambda: q.visibility(after[0], 43201), "InvalidParameterValue")
    check("(e) ChangeMessageVisibility over 43200 refused", ok, detail)
    entries = [{"Id": "low", "ReceiptHandle": after[0]["ReceiptHandle"], "VisibilityTimeout": -1},
               {"Id": "high", "ReceiptHandle": after[0]["ReceiptHandle"], "VisibilityTimeout": 43201},
               {"Id": "fine", "ReceiptHandle": after[1]["ReceiptHandle"], "VisibilityTimeout": 0}]
    answer = sqs.change_message_visibility_batch(QueueUrl=q.url, Entries=entries)
    failed = sorted((f["Id"], f["Code"]) for f in answer.get("Failed", []))
    check("(e) ChangeMessageVisibilityBatch fails out-of-range entries alone",
          failed == [("high", "InvalidParameterValue"), ("low", "InvalidParameterValue")]
          and [s["Id"] for s in answer.get("Successful", [])] == ["fine"],
          {k: answer.get(k) for k in ("Successful", "Failed")})
    ok, detail = refused(lambda: q.visibility(after[1], 5), "MessageNotInflight")
    check("(e) ChangeMessageVisibility of a message not in flight refused", ok, detail)


def deduplication(sqs):
    q = Queue(sqs, "check-c.fifo")
    q.send("g", "same", "first")
    q.send("g", "same", "again")
    q.send("h", "same", "other group")
    got = q.receive()
    check("(c) a duplicate in a group is dropped, another group's kept (messageGroup scope)",
          sorted(m["Body"] for m in got) == ["first", "other group"], [m["Body"] for m in got])
    for m in got:
        q.delete(m)
    q.send("g", "same", "after delete")
    got = q.bodies()
    check("(c) a duplicate is dropped after the first was deleted", got == [], got)
    sequence = [int(q.send("s", str(i))["SequenceNumber"]) for i in range(5)]
    check("(d) SequenceNumber increases within a group", sequence == sorted(sequence), sequence)
    per_queue = Queue(sqs, "check-c2.fifo", DeduplicationScope="queue",
                      FifoThroughputLimit="perQueue")
    per_queue.send("g", "same", "first")
    per_queue.send("h", "same", "other group")
    got = per_queue.bodies()
    check("(c) with queue scope a duplicate in another group is dropped", got == ["first"], got)


def refusals(sqs):
    q = Queue(sqs, "check-e.fifo")

    def batch(entries):
        return lambda: sqs.send_message_batch(QueueUrl=q.url, Entries=entries)

    def entry(i, body="{}", group="g", **extra):
        return {"Id": str(i), "MessageBody": body, "MessageGroupId": group,
                "MessageDeduplicationId": f"e{i}", **extra}

    cases = [
        ("SendMessageBatch of 11 entries", batch([entry(i) for i in range(11)]),
         "TooManyEntriesInBatchRequest"),
        # 600,000 characters, 1,200,000 bytes: moto counted characters.
        ("SendMessageBatch over 1 MiB in UTF-8 bytes",
         batch([entry(i, "é" * 300_000) for i in range(2)]), "BatchRequestTooLong"),
        ("SendMessage over 1 MiB in UTF-8 bytes", lambda: q.send("g", "n", "é" * 600_000),
         "InvalidParameterValue"),
        ("SendMessageBatch over 1 MiB with its message attributes", batch([
            entry(i, "x" * 104_000, MessageAttributes={
                "endpoint": {"DataType": "String", "StringValue": "y" * 1_000}})
            for i in range(10)]), "BatchRequestTooLong"),
        ("SendMessage without MessageGroupId to a FIFO queue",
         lambda: sqs.send_message(QueueUrl=q.url, MessageBody="{}", MessageDeduplicationId="n"),
         "MissingParameter"),
        ("SendMessageBatch entry without MessageGroupId",
         batch([{"Id": "0", "MessageBody": "{}", "MessageDeduplicationId": "n"}]),
         "MissingParameter"),
        ("MessageGroupId of 129 characters", lambda: q.send("g" * 129, "n"),
         "InvalidParameterValue"),
        ("MessageGroupId with a space", lambda: q.send("a b", "n"), "InvalidParameterValue"),
        ("MessageGroupId with a non-ASCII letter", lambda: q.send("é", "n"),
         "InvalidParameterValue"),
        ("MessageDeduplicationId of 129 characters", lambda: q.send("g", "d" * 129),
         "InvalidParameterValue"),
        ("MessageDeduplicationId with a space", lambda: q.send("g", "a b"),
         "InvalidParameterValue"),
        ("SendMessageBatch entry with a bad MessageGroupId", batch([entry(0), entry(1, group="a b")]),
         "InvalidParameterValue"),
        ("a message attribute with an empty value", lambda: q.send(
            "g", "n", MessageAttributes={"tenant": {"DataType": "String", "StringValue": ""}}),
         "InvalidParameterValue"),
        ("a body with U+FFFF", lambda: q.send("g", "n", "{\"name\": \"\uffff\"}"),
         "InvalidMessageContents"),
    ]
    for name, call, code in cases:
        ok, detail = refused(call, code)
        check(f"(e) {name} refused", ok, detail)
    check("(e) a refused batch queued nothing", q.bodies() == [])
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" + "a" * 96
    ok = q.send(punctuation, "a:u:1" * 25 + "abc").get("MessageId")  # both 128 characters
    check("(e) 128 characters of letters and punctuation accepted", bool(ok))
    small = Queue(sqs, "check-e2.fifo", MaximumMessageSize="1024")
    ok, detail = refused(lambda: small.send("g", "n", "é" * 600), "InvalidParameterValue")
    check("(e) a message over MaximumMessageSize in bytes refused", ok, detail)


def long_poll(sqs):
    q = Queue(sqs, "check-f.fifo")
    got = {}

    def poll():
        started = time.monotonic()
        got["bodies"] = [m["Body"] for m in q.receive(wait=3)]
        got["seconds"] = time.monotonic() - started

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.5)
    started = time.monotonic()
    sqs.list_queues()
    other = time.monotonic() - started
    check("(f) other requests are answered during a long poll", other < 0.5, round(other, 3))
    q.send("g", "late", "late")
    waiting.join()
    check("(f) a long poll returns a message sent while it waits",
          got["bodies"] == ["late"] and got["seconds"] < 2.5, got)


def main():
    server, url = start_server()
    try:
        sqs = boto3.client(
            "sqs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="local",
            aws_secret_access_key="local", config=Config(retries={"max_attempts": 1}),
        )
        for scenario in (group_lock, visibility, deduplication, refusals, long_poll):
            scenario(sqs)
    finally:
        server.terminate()
        server.wait(10)
    failed = RESULTS.count(False)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
