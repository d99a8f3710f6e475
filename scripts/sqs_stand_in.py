"""moto's SQS, patched where it answers otherwise than SQS does (`moto_server.py` applies it).

The webhook queue is FIFO (template.yaml; `local_bus.py create` makes the local one), and the
events and webhooks functions rely on what SQS does with it. moto 5.x gets some of it wrong, so
code that works locally could fail in AWS, or the other way round. Each point below was seen on
moto first (`check_sqs_stand_in.py` checks every one, and what moto already does right):

- Deduplication: moto forgets a MessageDeduplicationId once its message is deleted, and ignores
  DeduplicationScope=messageGroup (one id in two groups keeps only the first message). SQS keeps
  each id for 5 minutes "even after the message is received and deleted", per message group
  when the scope is messageGroup (API reference, SendMessage, MessageDeduplicationId).
- SequenceNumber: moto draws a random one per message; SQS's "continues to increase for a
  particular MessageGroupId". Here one counter numbers the messages of every FIFO queue.
- What SQS refuses and moto takes, refused here with SQS's error codes:
  - a MessageGroupId or MessageDeduplicationId over 128 characters, or with a character other
    than alphanumerics and `!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~` (InvalidParameterValue);
  - a message over the queue's MaximumMessageSize (1 MiB by default) and a SendMessageBatch over
    1 MiB in all, counted as SQS counts them: UTF-8 bytes of the body plus each message
    attribute's name, type and value. moto counts characters of the bodies only
    (InvalidParameterValue, BatchRequestTooLong);
  - a body with a character outside XML's (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD,
    #x10000-#x10FFFF), such as U+FFFF, which JSON serialisers write unescaped
    (InvalidMessageContents);
  - a message attribute with an empty value (InvalidParameterValue);
  - ChangeMessageVisibility(Batch) with a VisibilityTimeout below 0 (moto takes negative ones;
    above 43,200 it already refuses), or for a message that is not in flight, because its
    visibility timeout ran out or it was made visible again (MessageNotInflight; moto changes
    it). The batch answers each entry on its own, as SQS does.

A SendMessageBatch is refused whole when one of its entries is (as moto already does for a
missing MessageGroupId): nothing of it is queued. SQS may fail the entry alone in `Failed`;
either way the entry is not queued, and a request that fails locally also fails in AWS.
SendMessageBatch with more than 10 entries and FIFO sends without a MessageGroupId are refused
by moto already.
"""
import base64
import itertools
import re
import time

from moto.sqs import models as sqs_models
from moto.sqs.exceptions import BatchRequestTooLong, InvalidParameterValue, SQSException

MAX_BATCH_BYTES = 1024 * 1024  # SendMessageBatch, in all (the API reference)
MAX_ID_LENGTH = 128  # MessageGroupId, MessageDeduplicationId
MAX_VISIBILITY_TIMEOUT = 43200
DEDUPLICATION_SECONDS = 300
_ID_PATTERN = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_BAD_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _check_id(name, value):
    if value is not None and not _ID_PATTERN.fullmatch(str(value)):
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: {name} can only include "
            f"alphanumeric and punctuation characters. 1 to {MAX_ID_LENGTH} in length."
        )


def _attribute_bytes(name, attribute):
    """One message attribute as SQS counts it: name, data type and value."""
    value = attribute.get("StringValue")
    if value is not None:
        size = len(str(value).encode())
    else:
        binary = attribute.get("BinaryValue") or b""
        size = len(base64.b64decode(binary) if isinstance(binary, str) else binary)
    if size == 0:
        raise InvalidParameterValue(
            f"Message (user) attribute '{name}' must contain a non-empty value of type "
            f"'{attribute.get('DataType')}'."
        )
    return len(name.encode()) + len(str(attribute.get("DataType", "")).encode()) + size


def _message_bytes(queue, body, attributes, group_id, deduplication_id):
    """Checks one message as SQS does and returns its size."""
    if queue.fifo_queue:
        _check_id("MessageGroupId", group_id)
        _check_id("MessageDeduplicationId", deduplication_id)
    bad = _BAD_CHARACTER.search(body or "")
    if bad:
        raise SQSException(
            "InvalidMessageContents",
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message "
            "body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 "
            "to #xFFFD | #x10000 to #x10FFFF",
        )
    size = len((body or "").encode()) + sum(
        _attribute_bytes(name, value) for name, value in (attributes or {}).items()
    )
    limit = int(queue.maximum_message_size)
    if size > limit:
        raise InvalidParameterValue(
            "One or more parameters are invalid. Reason: Message must be shorter than "
            f"{limit} bytes."
        )
    return size


def _patch_sends():
    backend = sqs_models.SQSBackend
    send_message, send_message_batch = backend.send_message, backend.send_message_batch

    def checked_send_message(self, queue_name, message_body, message_attributes=None,
                             delay_seconds=None, deduplication_id=None, group_id=None,
                             **kwargs):
        _message_bytes(self.get_queue(queue_name), message_body, message_attributes, group_id,
                       deduplication_id)
        return send_message(self, queue_name, message_body, message_attributes, delay_seconds,
                            deduplication_id, group_id, **kwargs)

    def checked_send_message_batch(self, queue_name, entries):
        queue = self.get_queue(queue_name)
        if len(entries) <= 10:  # more: moto's TooManyEntriesInBatchRequest
            total = sum(
                _message_bytes(queue, e["MessageBody"], e.get("MessageAttributes"),
                               e.get("MessageGroupId"), e.get("MessageDeduplicationId"))
                for e in entries.values()
            )
            if total > MAX_BATCH_BYTES:
                raise BatchRequestTooLong(total)
        return send_message_batch(self, queue_name, entries)

    backend.send_message = checked_send_message
    backend.send_message_batch = checked_send_message_batch


def _patch_deduplication():
    """SQS's deduplication window and scope, and increasing sequence numbers."""
    add_message = sqs_models.Queue.add_message
    sequence = itertools.count(10**19)  # 20 digits, as SQS's

    def add_message_once(self, message):
        if not self.fifo_queue:
            return add_message(self, message)
        # A message received before is being redriven to this dead-letter queue: not a send.
        if message.deduplication_id and message.receipt_handle is None:
            seen = self.__dict__.setdefault("_sent_deduplication_ids", {})
            now = time.monotonic()
            while seen and next(iter(seen.values())) < now - DEDUPLICATION_SECONDS:
                del seen[next(iter(seen))]
            per_group = self.attributes.get("DeduplicationScope") == "messageGroup"
            key = (message.group_id if per_group else None, message.deduplication_id)
            if key in seen:
                return
            seen[key] = now
            message.sequence_number = str(next(sequence))
            # moto's own check (messages still held, whatever their group) must not run again.
            deduplication_id, message.deduplication_id = message.deduplication_id, None
            try:
                return add_message(self, message)
            finally:
                message.deduplication_id = deduplication_id
        return add_message(self, message)

    sqs_models.Queue.add_message = add_message_once


def _in_flight_message(queue, receipt_handle):
    for message in queue._messages:
        if message.had_receipt_handle(receipt_handle):
            if message.visible:
                raise SQSException("MessageNotInflight", "The specified message isn't in flight.")
            return message
    return None  # moto answers ReceiptHandleIsInvalid


def _check_visibility_timeout(value):
    if not 0 <= int(value) <= MAX_VISIBILITY_TIMEOUT:
        raise InvalidParameterValue(
            f"Value {value} for parameter VisibilityTimeout is invalid. Reason: Must be between "
            f"0 and {MAX_VISIBILITY_TIMEOUT}."
        )


def _patch_visibility():
    backend = sqs_models.SQSBackend
    change = backend.change_message_visibility

    def checked_change(self, queue_name, receipt_handle, visibility_timeout):
        _check_visibility_timeout(visibility_timeout)
        _in_flight_message(self.get_queue(queue_name), receipt_handle)
        return change(self, queue_name, receipt_handle, visibility_timeout)

    def change_batch(self, queue_name, entries):
        """Each entry on its own, every refusal in `Failed` (moto's reports only some)."""
        success, failed = [], []
        for entry in entries:
            try:
                checked_change(self, queue_name, entry["ReceiptHandle"],
                               entry["VisibilityTimeout"])
                success.append(entry["Id"])
            except (SQSException, ValueError, TypeError, KeyError) as error:
                failed.append({
                    "Id": entry.get("Id"),
                    "SenderFault": True,
                    "Code": getattr(error, "code", "InvalidParameterValue"),
                    "Message": getattr(error, "message", str(error)),
                })
        return success, failed

    backend.change_message_visibility = checked_change
    backend.change_message_visibility_batch = change_batch


def patch():
    _patch_sends()
    _patch_deduplication()
    _patch_visibility()
