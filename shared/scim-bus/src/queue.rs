//! The webhook queue on SQS (FIFO): the events function sends deliveries
//! ([`WebhookQueue`]), the webhooks function postpones failed ones and dead-letters those past
//! the retry window ([`DeliveryQueue`]), and reads the messages Lambda hands it
//! ([`messages_of`]).

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, SendMessageBatchRequestEntry,
};
use scim_ops::events::publish::{BusError, EntryOutcome};
use scim_ops::webhooks::{DeliveryQueue, EventRef, QueuedDelivery, QueuedMessage, WebhookQueue};
use serde_json::Value;

/// The message attributes of a queued delivery: the endpoint and the event it carries.
const ENDPOINT: &str = "endpoint";
const EVENT_ID: &str = "event_id";
const EVENT_TYPE: &str = "event_type";
const TENANT: &str = "tenant";
const EVENT_TIME: &str = "event_time";
/// On a dead-lettered delivery: why it was given up.
const LAST_ERROR: &str = "last_error";

/// The attributes of a delivery, by name.
fn attributes(endpoint: &str, event: &EventRef) -> [(&'static str, String); 5] {
    [
        (ENDPOINT, endpoint.to_string()),
        (EVENT_ID, event.id.clone()),
        (EVENT_TYPE, event.kind.clone()),
        (TENANT, event.tenant.clone()),
        (EVENT_TIME, event.time.clone()),
    ]
}

/// A FIFO queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct SqsWebhookQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letter_url: Option<String>,
}

fn attribute(value: &str) -> Result<MessageAttributeValue, BusError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| BusError(e.to_string()))
}

fn sqs_error<E: std::error::Error + 'static>(e: E) -> BusError {
    BusError(DisplayErrorContext(e).to_string())
}

impl SqsWebhookQueue {
    pub fn new(
        config: &aws_sdk_sqs::Config,
        queue_url: impl Into<String>,
        dead_letter_url: Option<String>,
    ) -> Self {
        Self {
            client: aws_sdk_sqs::Client::from_conf(config.clone()),
            queue_url: queue_url.into(),
            dead_letter_url,
        }
    }

    fn entry(index: usize, d: &QueuedDelivery) -> Result<SendMessageBatchRequestEntry, BusError> {
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(&d.body)
            .message_group_id(&d.group_id)
            .message_deduplication_id(&d.dedup_id);
        for (name, value) in attributes(&d.endpoint_id, &d.event) {
            entry = entry.message_attributes(name, attribute(&value)?);
        }
        entry.build().map_err(|e| BusError(e.to_string()))
    }
}

impl WebhookQueue for SqsWebhookQueue {
    async fn send(&self, messages: &[QueuedDelivery]) -> Result<Vec<EntryOutcome>, BusError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, d)| Self::entry(i, d))
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sqs_error)?;
        // Results come back by entry id, not in order.
        let mut outcomes = vec![EntryOutcome::Accepted; messages.len()];
        for failed in out.failed() {
            if let Some(slot) = failed
                .id()
                .parse::<usize>()
                .ok()
                .and_then(|i| outcomes.get_mut(i))
            {
                *slot = EntryOutcome::Refused(format!(
                    "{}: {}",
                    failed.code(),
                    failed.message().unwrap_or_default()
                ));
            }
        }
        Ok(outcomes)
    }
}

impl DeliveryQueue for SqsWebhookQueue {
    async fn postpone(&self, changes: &[(String, u32)]) -> Result<(), BusError> {
        for chunk in changes.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (receipt, seconds))| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .visibility_timeout(i32::try_from(*seconds).unwrap_or(i32::MAX))
                        .build()
                        .map_err(|e| BusError(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(sqs_error)?;
            if let Some(failed) = out.failed().first() {
                return Err(BusError(format!(
                    "{}: {}",
                    failed.code(),
                    failed.message().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &QueuedMessage, reason: &str) -> Result<(), BusError> {
        let Some(url) = &self.dead_letter_url else {
            return Err(BusError("no dead-letter queue is configured".into()));
        };
        // SQS takes attribute values of its allowed characters, and not empty.
        let reason: String = reason
            .chars()
            .take(1000)
            .map(|c| match c {
                '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' => c,
                c if c >= '\u{10000}' => c,
                _ => '?',
            })
            .collect();
        let reason = if reason.is_empty() {
            "unknown".into()
        } else {
            reason
        };
        let mut send = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(&message.body)
            .message_group_id(&message.group_id)
            .message_deduplication_id(scim_ops::webhooks::fanout::dedup_id(
                &message.endpoint_id,
                &message.event.id,
                Some(&message.message_id),
            ))
            .message_attributes(LAST_ERROR, attribute(&reason)?);
        for (name, value) in attributes(&message.endpoint_id, &message.event) {
            send = send.message_attributes(name, attribute(&value)?);
        }
        send.send().await.map_err(sqs_error)?;
        Ok(())
    }
}

/// A message's string attribute in Lambda's SQS event (`messageAttributes.<name>.stringValue`).
fn string_attribute<'a>(record: &'a Value, name: &str) -> Option<&'a str> {
    record
        .get("messageAttributes")?
        .get(name)?
        .get("stringValue")?
        .as_str()
}

/// The messages of a Lambda SQS event, and the ids of records that are not ours (no endpoint
/// or event attributes): those are reported back as failures, for the redrive policy to move.
pub fn messages_of(event: &Value) -> (Vec<QueuedMessage>, Vec<String>) {
    let mut messages = Vec::new();
    let mut unreadable = Vec::new();
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for record in records {
        let text = |name: &str| record.get(name).and_then(Value::as_str);
        let attributes = record.get("attributes");
        let attr = |name: &str| attributes.and_then(|a| a.get(name)).and_then(Value::as_str);
        let parsed = (|| {
            Some(QueuedMessage {
                message_id: text("messageId")?.to_string(),
                receipt_handle: text("receiptHandle")?.to_string(),
                group_id: attr("MessageGroupId")?.to_string(),
                sent_at: attr("SentTimestamp")?.parse::<u64>().ok()? / 1000,
                endpoint_id: string_attribute(record, ENDPOINT)?.to_string(),
                event: EventRef {
                    id: string_attribute(record, EVENT_ID)?.to_string(),
                    kind: string_attribute(record, EVENT_TYPE)?.to_string(),
                    tenant: string_attribute(record, TENANT)?.to_string(),
                    time: string_attribute(record, EVENT_TIME)?.to_string(),
                },
                body: text("body")?.to_string(),
            })
        })();
        match parsed {
            Some(message) => messages.push(message),
            None => {
                if let Some(id) = text("messageId") {
                    unreadable.push(id.to_string());
                }
            }
        }
    }
    (messages, unreadable)
}
