//! Fan-out: the events function turns each event into one queued delivery per endpoint that
//! wants it, on a FIFO queue ([`WebhookQueue`], SQS in AWS) that the webhooks function drains.
//!
//! - **Order.** A message's group is the endpoint and the resource whose `seq` orders the
//!   event (the user for `user.*` and membership events, the project for the other `project.*`
//!   events), so an endpoint receives each resource's events in order, one at a time, while
//!   other resources and other endpoints go on.
//! - **No duplicates from a redelivered stream record.** The deduplication id is a hash of the
//!   endpoint and the event id; the queue drops a repeat within its five-minute window.
//!   (A replay adds its own nonce, so a replay is always delivered.)
//! - **Order on the way in.** A send holds at most one message of a group, and a group's next
//!   message is sent only once the previous one was accepted: a refused message that is sent
//!   again can never land behind a later one of its group (a FIFO queue keeps the order of
//!   arrival). Messages of other groups fill the sends.
//! - **Limits.** At most [`MAX_MESSAGES_PER_SEND`] messages and [`MAX_SEND_BYTES`] bytes a
//!   send; refused messages are sent again, and the first record with a message not accepted
//!   is reported, as for the bus ([`crate::events::publish`]); what was accepted after it is
//!   sent again by Lambda's retry and dropped by the queue's deduplication.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::endpoint::WebhookEndpoint;
use crate::events::log::ReplaySink;
use crate::events::publish::{
    put_with_retries, BusError, EntryOutcome, Outgoing, Publication, PublishError, RecordEvents,
    Retry, Sink,
};
use crate::events::{ProvisioningEvent, Subject};
use crate::StoreError;

/// At most this many messages in one send (SQS SendMessageBatch).
pub const MAX_MESSAGES_PER_SEND: usize = 10;
/// At most this many bytes in one send (SQS: bodies and message attributes together).
pub const MAX_SEND_BYTES: usize = 256 * 1024;

/// The event a delivery carries, as its message's attributes name it (the delivery log and
/// the logs read these, never the body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub tenant: String,
    pub time: String,
}

impl EventRef {
    pub fn of(event: &ProvisioningEvent) -> Self {
        Self {
            id: event.id.clone(),
            kind: event.kind.as_str().to_string(),
            tenant: event.tenant.clone(),
            time: event.time.clone(),
        }
    }
}

/// One delivery waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    pub endpoint_id: String,
    /// `<endpoint id>:<u|p>:<resource id>` ([`message_group`]).
    pub group_id: String,
    /// 64 hex digits ([`dedup_id`]).
    pub dedup_id: String,
    pub event: EventRef,
    /// The event as JSON: exactly what is POSTed and signed.
    pub body: String,
}

impl QueuedDelivery {
    /// `replay`: a nonce of the replay that queues it again, so the queue does not take it for
    /// the original.
    pub fn new(
        endpoint: &WebhookEndpoint,
        event: &ProvisioningEvent,
        replay: Option<&str>,
    ) -> Result<Self, PublishError> {
        Ok(Self {
            endpoint_id: endpoint.id.clone(),
            group_id: message_group(&endpoint.id, event),
            dedup_id: dedup_id(&endpoint.id, &event.id, replay),
            event: EventRef::of(event),
            body: queueable_json(
                serde_json::to_string(event)
                    .map_err(|e| PublishError::Encode(format!("event {}: {e}", event.id)))?,
            ),
        })
    }

    /// The message's size as SQS counts it: the body and each attribute's name, type and value.
    pub fn size(&self) -> usize {
        const STRING: usize = "String".len();
        let attribute = |name: &str, value: &str| name.len() + STRING + value.len();
        self.body.len()
            + attribute("endpoint", &self.endpoint_id)
            + attribute("event_id", &self.event.id)
            + attribute("event_type", &self.event.kind)
            + attribute("tenant", &self.event.tenant)
            + attribute("event_time", &self.event.time)
    }
}

impl Outgoing for QueuedDelivery {
    fn size(&self) -> usize {
        QueuedDelivery::size(self)
    }
    fn event_id(&self) -> &str {
        &self.event.id
    }
}

/// JSON that SQS accepts as a message body: serde_json leaves the noncharacters U+FFFE and
/// U+FFFF as they are, and SQS refuses them, so they are written as the escapes that mean the
/// same JSON (they can only occur inside strings).
pub fn queueable_json(json: String) -> String {
    if !json.contains(['\u{fffe}', '\u{ffff}']) {
        return json;
    }
    json.replace('\u{fffe}', "\\ufffe")
        .replace('\u{ffff}', "\\uffff")
}

/// The message group of an event for an endpoint: the endpoint and the resource whose `seq`
/// orders it. Resource ids are ours (UUIDs); any other shape is hashed, so the group id always
/// keeps SQS's rules (at most 128 characters, no spaces).
pub fn message_group(endpoint_id: &str, event: &ProvisioningEvent) -> String {
    let (kind, resource) = match &event.subject {
        Subject::User(u) => ("u", u.id.as_str()),
        Subject::Membership(m) => ("u", m.user_id.as_str()),
        Subject::Project(p) => ("p", p.id.as_str()),
    };
    let plain = !resource.is_empty()
        && resource.len() <= 64
        && resource
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if plain {
        format!("{endpoint_id}:{kind}:{resource}")
    } else {
        format!("{endpoint_id}:{kind}:{}", &hex_sha256(resource)[..40])
    }
}

/// The deduplication id of an event for an endpoint (and a replay's nonce).
pub fn dedup_id(endpoint_id: &str, event_id: &str, replay: Option<&str>) -> String {
    hex_sha256(&format!(
        "{endpoint_id}\n{event_id}\n{}",
        replay.unwrap_or_default()
    ))
}

fn hex_sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The webhook queue port: sends messages, answering one outcome per message, in order.
pub trait WebhookQueue: Send + Sync {
    fn send(
        &self,
        messages: &[QueuedDelivery],
    ) -> impl std::future::Future<Output = Result<Vec<EntryOutcome>, BusError>> + Send;
}

struct QueueSink<'a, Q>(&'a Q);

impl<Q: WebhookQueue> Sink<QueuedDelivery> for QueueSink<'_, Q> {
    async fn put(&self, entries: &[QueuedDelivery]) -> Result<Vec<EntryOutcome>, BusError> {
        self.0.send(entries).await
    }
}

/// Queues one delivery per event of `records` and endpoint that wants it, in record order.
/// `replay` marks a replay ([`QueuedDelivery::new`]).
pub async fn enqueue<Q: WebhookQueue>(
    queue: &Q,
    endpoints: &[WebhookEndpoint],
    records: &[RecordEvents],
    replay: Option<&str>,
    retry: Retry,
) -> Result<Publication, PublishError> {
    let mut entries = Vec::new();
    for (index, record) in records.iter().enumerate() {
        for event in &record.events {
            for endpoint in endpoints.iter().filter(|e| e.wants(event)) {
                entries.push((index, QueuedDelivery::new(endpoint, event, replay)?));
            }
        }
    }
    Ok(send_by_group(&QueueSink(queue), records, entries, retry).await)
}

/// Sends `entries` in sends of at most one message per group (see the module's documentation).
async fn send_by_group<Q: WebhookQueue>(
    sink: &QueueSink<'_, Q>,
    records: &[RecordEvents],
    entries: Vec<(usize, QueuedDelivery)>,
    retry: Retry,
) -> Publication {
    let mut out = Publication::default();
    let mut pending = entries;
    while !pending.is_empty() {
        let mut send: Vec<(usize, QueuedDelivery)> = Vec::new();
        let mut later = Vec::new();
        let mut groups: HashSet<String> = HashSet::new();
        let mut bytes = 0;
        let mut full = false;
        for entry in pending {
            let size = entry.1.size();
            full = full
                || send.len() == MAX_MESSAGES_PER_SEND
                || (!send.is_empty() && bytes + size > MAX_SEND_BYTES);
            // A group already in this send, or one of whose messages waits: this one waits too.
            if full || !groups.insert(entry.1.group_id.clone()) {
                later.push(entry);
                continue;
            }
            bytes += size;
            send.push(entry);
        }
        let refused = put_with_retries(sink, &send, retry, &mut out).await;
        if !refused.is_empty() {
            let first = refused
                .iter()
                .map(|(index, _)| *index)
                .chain(later.iter().map(|(index, _)| *index))
                .min();
            out.failed = refused.len();
            out.failed_from = first
                .and_then(|i| records.get(i))
                .map(|r| r.sequence_number.clone());
            return out;
        }
        pending = later;
    }
    out
}

/// A replay to one endpoint (`events.replay` with a webhook): its deliveries are queued again
/// with the original event ids, under a nonce of this replay so the queue takes them as new.
#[derive(Debug)]
pub struct ToWebhook<'a, Q> {
    pub queue: &'a Q,
    pub endpoint: &'a WebhookEndpoint,
    pub nonce: String,
    pub retry: Retry,
}

impl<Q: WebhookQueue> ReplaySink for ToWebhook<'_, Q> {
    async fn send(&self, records: &[RecordEvents]) -> Result<Publication, PublishError> {
        let endpoints = std::slice::from_ref(self.endpoint);
        enqueue(
            self.queue,
            endpoints,
            records,
            Some(&self.nonce),
            self.retry,
        )
        .await
    }
}

/// The configured endpoints (the store adapter reads them in one query).
pub trait EndpointDirectory: Send + Sync {
    fn endpoints(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<WebhookEndpoint>, StoreError>> + Send;
}

/// The endpoints, read at most once per `ttl`: a new or changed endpoint takes effect within
/// it (`SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS`, 30 s by default).
#[derive(Debug)]
pub struct CachedEndpoints<D> {
    directory: D,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Arc<Vec<WebhookEndpoint>>)>>,
}

impl<D: EndpointDirectory> CachedEndpoints<D> {
    pub fn new(directory: D, ttl: Duration) -> Self {
        Self {
            directory,
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// Every endpoint, from the cache while it is younger than `max_age`.
    async fn read(&self, max_age: Duration) -> Result<Arc<Vec<WebhookEndpoint>>, StoreError> {
        let fresh = self
            .cached
            .lock()
            .ok()
            .and_then(|c| c.as_ref().filter(|(at, _)| at.elapsed() < max_age).cloned());
        if let Some((_, endpoints)) = fresh {
            return Ok(endpoints);
        }
        let endpoints = Arc::new(self.directory.endpoints().await?);
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), endpoints.clone()));
        }
        Ok(endpoints)
    }

    /// Every endpoint (cached).
    pub async fn all(&self) -> Result<Arc<Vec<WebhookEndpoint>>, StoreError> {
        self.read(self.ttl).await
    }

    /// One endpoint; one that the cache does not know is looked for again in the store when the
    /// cache is older than a second (it may have been created since).
    pub async fn get(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        let find = |all: &[WebhookEndpoint]| all.iter().find(|e| e.id == id).cloned();
        if let Some(found) = find(&self.all().await?) {
            return Ok(Some(found));
        }
        Ok(find(&self.read(Duration::from_secs(1)).await?))
    }
}
