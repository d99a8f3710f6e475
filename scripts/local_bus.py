#!/usr/bin/env python3
"""The local stack's EventBridge bus (moto), as template.yaml's EventBus, plus a tap for people.

  local_bus.py create [--tap]
                        creates the bus $EVENT_BUS_NAME; with --tap (the dev stack) also a rule
                        sending every provisioning event on it to the SQS queue
                        $EVENT_BUS_NAME-tap (local only: in AWS the platform adds its own
                        rules); idempotent
  local_bus.py tail     prints, one JSON line each, the events the tap queue holds, and empties it

The test stack has no tap (nobody would drain it): each test makes its own rule and queue for
its own tenant (tests/src/bus.rs), so parallel tests never take each other's events.
Configuration: AWS_ENDPOINT_URL, AWS_REGION and EVENT_BUS_NAME from the stack's environment.
"""
import json
import os
import sys

import boto3

SOURCE = "scim.provisioning"


def clients():
    region = os.environ.get("AWS_REGION", "us-east-1")  # boto3 reads only AWS_DEFAULT_REGION
    return boto3.client("events", region_name=region), boto3.client("sqs", region_name=region)


def create(bus, tap):
    events, sqs = clients()
    try:
        events.create_event_bus(Name=bus)
    except events.exceptions.ResourceAlreadyExistsException:
        pass
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
