#!/usr/bin/env python3
"""The local stack's EventBridge bus and webhook queues (moto), as template.yaml's EventBus and
webhook queues, plus a tap for people.

  local_bus.py create [--tap]
                        creates the bus $EVENT_BUS_NAME, and the webhook FIFO queue
                        $WEBHOOK_QUEUE_URL with its FIFO dead-letter queue $WEBHOOK_DLQ_URL;
                        with --tap (the dev stack) also a rule sending every provisioning event
                        on the bus to the SQS queue $EVENT_BUS_NAME-tap (local only: in AWS the
                        platform adds its own rules); idempotent
  local_bus.py tail     prints, one JSON line each, the events the tap queue holds, and empties it

The test stack has no tap (nobody would drain it): each test makes its own rule and queue for
its own tenant (tests/src/bus.rs), so parallel tests never take each other's events.
The webhook queues are named by the last part of their URL in the stack's environment, the URLs
the functions use, and `create` fails unless moto answers those very URLs. In AWS the template
creates them; WEBHOOK_VISIBILITY_TIMEOUT is the local one, short so that a delivery the webhooks
function did not finish (it crashed) comes back within seconds.
Configuration: AWS_ENDPOINT_URL, AWS_REGION, EVENT_BUS_NAME, WEBHOOK_QUEUE_URL and
WEBHOOK_DLQ_URL from the stack's environment.
"""
import json
import os
import sys

import boto3

SOURCE = "scim.provisioning"
# Both webhook queues: ordered per message group (endpoint and resource), deduplicated per group
# on the ids the events function gives, at FIFO's high throughput (per group, not per queue).
WEBHOOK_FIFO = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
}
WEBHOOK_VISIBILITY_TIMEOUT = "20"
WEBHOOK_MAX_RECEIVE_COUNT = 100  # the webhooks function gives up itself, long before
DLQ_RETENTION_SECONDS = "1209600"  # 14 days, SQS's longest


def clients():
    region = os.environ.get("AWS_REGION", "us-east-1")  # boto3 reads only AWS_DEFAULT_REGION
    return boto3.client("events", region_name=region), boto3.client("sqs", region_name=region)


def create_queue(sqs, url, attributes):
    """Creates the queue `url` names (the same again is no error) and checks moto's URL for it."""
    answer = sqs.create_queue(QueueName=url.rsplit("/", 1)[-1], Attributes=attributes)["QueueUrl"]
    if answer != url:
        sys.exit(f"moto's URL for the queue is {answer}, the stack's environment says {url}")
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def create(bus, tap):
    events, sqs = clients()
    try:
        events.create_event_bus(Name=bus)
    except events.exceptions.ResourceAlreadyExistsException:
        pass
    dlq = create_queue(
        sqs,
        os.environ["WEBHOOK_DLQ_URL"],
        {**WEBHOOK_FIFO, "MessageRetentionPeriod": DLQ_RETENTION_SECONDS},
    )
    redrive = {"deadLetterTargetArn": dlq, "maxReceiveCount": WEBHOOK_MAX_RECEIVE_COUNT}
    create_queue(
        sqs,
        os.environ["WEBHOOK_QUEUE_URL"],
        {
            **WEBHOOK_FIFO,
            "VisibilityTimeout": WEBHOOK_VISIBILITY_TIMEOUT,
            "RedrivePolicy": json.dumps(redrive),
        },
    )
    if not tap:
        return
    queue = sqs.create_queue(QueueName=f"{bus}-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name=f"{bus}-tap", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]})
    )
    events.put_targets(Rule=f"{bus}-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])


def tail(bus):
    _, sqs = clients()
    queue = sqs.get_queue_url(QueueName=f"{bus}-tap")["QueueUrl"]
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return
        for message in messages:
            envelope = json.loads(message["Body"])
            print(json.dumps(envelope.get("detail", envelope)))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def main():
    bus = os.environ["EVENT_BUS_NAME"]
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "create":
        create(bus, "--tap" in sys.argv[2:])
    elif command == "tail":
        tail(bus)
    else:
        sys.exit("usage: local_bus.py create|tail")


if __name__ == "__main__":
    main()
