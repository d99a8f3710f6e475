//! The events function: receives batches of the table's DynamoDB Streams records (user and
//! group items only, by the event source's filter), derives their provisioning events
//! (`scim_store::events`, rules in `scim_ops::events`), appends them to the tenant's event log
//! (`scim_ops::events::log`, kept `SCIM_EVENT_RETENTION_DAYS`) and puts them on the EventBridge
//! bus (`scim_ops::events::publish`, adapter `scim_bus`), then queues one webhook delivery per
//! endpoint that wants each event (`scim_ops::webhooks::fanout`, when `WEBHOOK_QUEUE_URL` is
//! set; endpoints re-read every `SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS`). Wiring only.
//!
//! It answers with the first record it could not publish as a batch item failure
//! (`ReportBatchItemFailures`), so Lambda retries from that record: no event is skipped, the
//! records before it are not sent again, and a record that keeps failing ends in the on-failure
//! queue after the mapping's retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::lambda_runtime::{self, service_fn, Error, LambdaEvent};
use scim_bus::queue::SqsWebhookQueue;
use scim_bus::EventBridgeBus;
use scim_ops::events::log::{EventLog, DEFAULT_RETENTION_DAYS};
use scim_ops::events::publish::RecordEvents;
use scim_ops::events::publish::{first_failed, publish, sent_prefix, Publication, Retry};
use scim_ops::webhooks::{enqueue, CachedEndpoints};
use scim_store::events::events_by_record;
use scim_store::Store;
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    scim_edge::lambda::init_tracing();
    let bus_name =
        std::env::var("EVENT_BUS_NAME").map_err(|_| Error::from("EVENT_BUS_NAME is not set"))?;
    let table = std::env::var("TABLE_NAME").map_err(|_| Error::from("TABLE_NAME is not set"))?;
    let retention_days =
        match std::env::var("SCIM_EVENT_RETENTION_DAYS") {
            Ok(v) => v.parse::<u64>().ok().filter(|d| *d > 0).ok_or_else(|| {
                Error::from("SCIM_EVENT_RETENTION_DAYS must be a positive number")
            })?,
            Err(_) => DEFAULT_RETENTION_DAYS,
        };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let bus = EventBridgeBus::new(&aws_sdk_eventbridge::Config::from(&sdk), bus_name);
    let log = Store::new(&aws_sdk_dynamodb::Config::from(&sdk), table);
    let cache_seconds = match std::env::var("SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS") {
        Ok(v) => v.parse::<u64>().map_err(|_| {
            Error::from("SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS must be a number of seconds")
        })?,
        Err(_) => 30,
    };
    let webhooks = std::env::var("WEBHOOK_QUEUE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .map(|url| Webhooks {
            queue: SqsWebhookQueue::new(&aws_sdk_sqs::Config::from(&sdk), url, None),
            endpoints: CachedEndpoints::new(log.clone(), Duration::from_secs(cache_seconds)),
        });
    let consumer = &Consumer {
        bus,
        log,
        webhooks,
        retention_seconds: retention_days * 86_400,
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(consumer, &event.payload).await
    }))
    .await
}

struct Consumer {
    bus: EventBridgeBus,
    log: Store,
    webhooks: Option<Webhooks>,
    retention_seconds: u64,
}

struct Webhooks {
    queue: SqsWebhookQueue,
    endpoints: CachedEndpoints<Store>,
}

impl Webhooks {
    /// Queues the deliveries of `records` (those the bus took); an endpoint read that fails
    /// counts as a failure of the first record.
    async fn queue(&self, records: &[RecordEvents]) -> Publication {
        let failed = |error: String| Publication {
            failed_from: records.first().map(|r| r.sequence_number.clone()),
            last_error: Some(error),
            ..Publication::default()
        };
        let endpoints = match self.endpoints.all().await {
            Ok(endpoints) => endpoints,
            Err(e) => return failed(format!("reading webhook endpoints: {e}")),
        };
        if endpoints.is_empty() {
            return Publication::default();
        }
        match enqueue(&self.queue, &endpoints, records, None, Retry::default()).await {
            Ok(p) => p,
            Err(e) => failed(e.to_string()),
        }
    }
}

/// Logs one `events batch` line per invocation with the batch's metrics
/// (`scim_edge::emf::EVENTS_BATCH`); event contents never reach the log.
async fn handle(consumer: &Consumer, event: &Value) -> Result<Value, Error> {
    let received = event
        .get("Records")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let (records, unread) = events_by_record(event);
    // Logged first: an event on the bus is always in the log, for `events.list` and replay.
    let events: Vec<_> = records.iter().flat_map(|r| r.events.clone()).collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Err(err) = consumer
        .log
        .append_events(&events, now + consumer.retention_seconds)
        .await
    {
        tracing::error!(function = "events", error = %err, records_received = received, "events batch");
        return Err(Error::from(err.to_string()));
    }
    let publication = publish(&consumer.bus, &records, Retry::default()).await;
    let publication = match publication {
        Ok(p) => p,
        Err(err) => {
            tracing::error!(function = "events", error = %err, records_received = received, "events batch");
            return Err(Error::from(err.to_string()));
        }
    };
    // Webhook deliveries for the records the bus took (Lambda retries the others).
    let published = sent_prefix(&records, &publication);
    let queued = match &consumer.webhooks {
        Some(webhooks) => webhooks.queue(&records[..published]).await,
        None => Publication::default(),
    };
    // The first record not published or queued, else an unreadable record.
    let first_failed = first_failed(&records, &[&publication, &queued]).map(str::to_string);
    let failed_from = match (&first_failed, &unread) {
        (Some(sequence), _) => Some(sequence.clone()),
        (None, Some(unread)) => match &unread.sequence_number {
            Some(sequence) => Some(sequence.clone()),
            // Nothing names the record: the whole batch is retried (and bisected).
            None => {
                tracing::error!(
                    function = "events",
                    error = %unread.error,
                    records_received = received,
                    events_published = publication.published as u64,
                    "events batch"
                );
                return Err(Error::from(unread.error.to_string()));
            }
        },
        (None, None) => None,
    };
    let error = publication
        .last_error
        .clone()
        .or_else(|| queued.last_error.clone())
        .or_else(|| unread.as_ref().map(|u| u.error.to_string()));
    let fields = (
        received,
        publication.published as u64,
        publication.failed as u64,
        publication.resent as u64,
        u64::from(failed_from.is_some()),
        queued.published as u64,
    );
    if failed_from.is_some() {
        tracing::warn!(
            function = "events",
            records_received = fields.0,
            events_published = fields.1,
            events_failed = fields.2,
            events_resent = fields.3,
            batch_item_failures = fields.4,
            webhooks_queued = fields.5,
            error = error.as_deref(),
            "events batch"
        );
    } else {
        tracing::info!(
            function = "events",
            records_received = fields.0,
            events_published = fields.1,
            events_failed = fields.2,
            events_resent = fields.3,
            batch_item_failures = fields.4,
            webhooks_queued = fields.5,
            error = error.as_deref(),
            "events batch"
        );
    }
    let failures: Vec<Value> = failed_from
        .into_iter()
        .map(|sequence| json!({"itemIdentifier": sequence}))
        .collect();
    Ok(json!({"batchItemFailures": failures}))
}
