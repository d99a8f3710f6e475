//! Publishing provisioning events to an event bus (EventBridge in AWS, through the
//! [`EventBus`] port; `scim-bus` is its adapter).
//!
//! The events of a batch of stream records go out in record order, packed into puts that keep
//! the bus's limits ([`MAX_ENTRIES_PER_PUT`] entries, [`MAX_PUT_BYTES`] bytes). Entries the bus
//! refuses, or a put that fails as a whole, are sent again up to [`Retry::attempts`] times
//! with a doubling pause. When some still fail, publishing stops there and reports the first
//! stream record with an unpublished event ([`Publication::failed_from`]): the stream consumer
//! reports that record as its batch item failure, so Lambda retries from it and never skips an
//! event. Delivery is therefore at least once: a retried record's events that had already gone
//! out go out again, with the same ids (a consumer deduplicates on `id`).

use std::time::Duration;

use super::model::ProvisioningEvent;

/// At most this many entries in one put (EventBridge's PutEvents limit).
pub const MAX_ENTRIES_PER_PUT: usize = 10;

/// At most this many bytes in one put (EventBridge's PutEvents limit, 256 KB), counted as
/// EventBridge counts an entry ([`BusEntry::size`]).
pub const MAX_PUT_BYTES: usize = 256 * 1024;

/// The `source` of every entry, for the platform's rules: `{"source": ["scim.provisioning"]}`.
pub const EVENT_SOURCE: &str = "scim.provisioning";

/// The events of one stream record, with the record's position in its shard.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEvents {
    /// The record's `SequenceNumber`, which identifies it in a batch item failure.
    pub sequence_number: String,
    pub events: Vec<ProvisioningEvent>,
}

/// One event as a bus entry: its type as the detail type, the whole event as the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEntry {
    /// The event's id, to name it in logs (the bus assigns its own entry id).
    pub event_id: String,
    pub detail_type: &'static str,
    /// The event as JSON.
    pub detail: String,
    /// When the change was made (RFC 3339).
    pub time: String,
}

impl BusEntry {
    pub fn of(event: &ProvisioningEvent) -> Result<Self, PublishError> {
        Ok(Self {
            event_id: event.id.clone(),
            detail_type: event.kind.as_str(),
            detail: serde_json::to_string(event)
                .map_err(|e| PublishError::Encode(format!("event {}: {e}", event.id)))?,
            time: event.time.clone(),
        })
    }

    /// The entry's size as EventBridge counts it against [`MAX_PUT_BYTES`]: 14 bytes for the
    /// time, plus the UTF-8 bytes of the source, the detail type and the detail.
    pub fn size(&self) -> usize {
        14 + EVENT_SOURCE.len() + self.detail_type.len() + self.detail.len()
    }
}

/// What the bus answered for one entry of a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    Accepted,
    /// Refused (throttled, an internal failure, or a malformed entry), with the bus's reason.
    Refused(String),
}

/// A put that failed as a whole: nothing of it is known to have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

/// The event bus port: puts entries, answering one outcome per entry, in order.
pub trait EventBus: Send + Sync {
    fn put(
        &self,
        entries: &[BusEntry],
    ) -> impl std::future::Future<Output = Result<Vec<EntryOutcome>, BusError>> + Send;
}

/// How often and how patiently refused entries are sent again within one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Puts of an entry in all, the first included.
    pub attempts: u32,
    /// The pause before the first resend; it doubles before each further one.
    pub first_pause: Duration,
}

impl Default for Retry {
    /// 4 puts over about 0.7 s: a throttled bus gets time to recover, and the stream consumer
    /// stays far inside its timeout (Lambda then retries the record itself).
    fn default() -> Self {
        Self {
            attempts: 4,
            first_pause: Duration::from_millis(100),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("event encoding: {0}")]
    Encode(String),
}

/// What a publishing run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publication {
    /// Events the bus accepted.
    pub published: usize,
    /// Events still refused after every attempt (0 when `failed_from` is `None`).
    pub failed: usize,
    /// Entries sent again after a refusal or a failed put.
    pub resent: usize,
    /// The sequence number of the first record with an event not published: Lambda must
    /// retry the batch from there. `None` when every event went out.
    pub failed_from: Option<String>,
    /// The bus's last refusal, for the log.
    pub last_error: Option<String>,
}

/// Publishes the events of `records`, in order; see the module's documentation.
pub async fn publish<B: EventBus>(
    bus: &B,
    records: &[RecordEvents],
    retry: Retry,
) -> Result<Publication, PublishError> {
    let mut entries: Vec<(usize, BusEntry)> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        for event in &record.events {
            entries.push((index, BusEntry::of(event)?));
        }
    }
    let limits = Limits {
        entries: MAX_ENTRIES_PER_PUT,
        bytes: MAX_PUT_BYTES,
    };
    Ok(send_in_order(&BusSink(bus), records, &entries, limits, retry).await)
}

/// How many of `records`, from the first, `publication` sent every event of: all of them, or
/// those before the record it failed on (none, should it name a record not in `records`).
pub fn sent_prefix(records: &[RecordEvents], publication: &Publication) -> usize {
    match &publication.failed_from {
        None => records.len(),
        Some(failed) => records
            .iter()
            .position(|r| &r.sequence_number == failed)
            .unwrap_or(0),
    }
}

/// The first record, in `records`' order, that any of `publications` failed on: where Lambda
/// must retry from when one consumer (the bus) and another (the webhook queue) each stopped.
pub fn first_failed<'a>(
    records: &'a [RecordEvents],
    publications: &[&Publication],
) -> Option<&'a str> {
    publications
        .iter()
        .filter(|p| p.failed_from.is_some())
        .map(|p| sent_prefix(records, p))
        .min()
        .and_then(|i| records.get(i))
        .map(|r| r.sequence_number.as_str())
}

/// An entry of an ordered, batched send: a bus entry, a queued webhook delivery.
pub trait Outgoing: Clone + Send + Sync {
    /// Its size as the receiving service counts it against [`Limits::bytes`].
    fn size(&self) -> usize;
    /// The event it carries, to name it in logs.
    fn event_id(&self) -> &str;
}

impl Outgoing for BusEntry {
    fn size(&self) -> usize {
        BusEntry::size(self)
    }
    fn event_id(&self) -> &str {
        &self.event_id
    }
}

/// Where [`send_in_order`] puts its batches: one outcome per entry, in order.
pub trait Sink<E>: Send + Sync {
    fn put(
        &self,
        entries: &[E],
    ) -> impl std::future::Future<Output = Result<Vec<EntryOutcome>, BusError>> + Send;
}

struct BusSink<'a, B>(&'a B);

impl<B: EventBus> Sink<BusEntry> for BusSink<'_, B> {
    async fn put(&self, entries: &[BusEntry]) -> Result<Vec<EntryOutcome>, BusError> {
        self.0.put(entries).await
    }
}

/// The most one batch holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub bytes: usize,
}

/// Sends `entries` (each tagged with the index of its record in `records`) in order, in
/// batches within `limits`, sending refused entries again per `retry`; stops at the first batch
/// with an entry still refused and names that entry's record in [`Publication::failed_from`].
pub async fn send_in_order<E: Outgoing, S: Sink<E>>(
    sink: &S,
    records: &[RecordEvents],
    entries: &[(usize, E)],
    limits: Limits,
    retry: Retry,
) -> Publication {
    let mut out = Publication::default();
    for batch in batches(entries, limits) {
        let failed = put_with_retries(sink, batch, retry, &mut out).await;
        if let Some(first) = failed.iter().map(|(index, _)| *index).min() {
            out.failed = failed.len();
            out.failed_from = records.get(first).map(|r| r.sequence_number.clone());
            return out;
        }
    }
    out
}

/// Splits `entries` into batches within `limits`, in order. An entry larger than a whole
/// batch goes alone, and the receiver refuses it.
fn batches<E: Outgoing>(entries: &[(usize, E)], limits: Limits) -> Vec<&[(usize, E)]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, entry)) in entries.iter().enumerate() {
        let size = entry.size();
        if i > start && (i - start == limits.entries || bytes + size > limits.bytes) {
            out.push(&entries[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < entries.len() {
        out.push(&entries[start..]);
    }
    out
}

/// Sends one batch, then its refused entries again, up to `retry.attempts` puts; returns the
/// entries still refused.
pub(crate) async fn put_with_retries<'a, E: Outgoing, S: Sink<E>>(
    sink: &S,
    batch: &'a [(usize, E)],
    retry: Retry,
    out: &mut Publication,
) -> Vec<&'a (usize, E)> {
    let mut pending: Vec<&(usize, E)> = batch.iter().collect();
    let mut pause = retry.first_pause;
    for attempt in 1..=retry.attempts.max(1) {
        if attempt > 1 {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
            out.resent += pending.len();
        }
        let put: Vec<E> = pending.iter().map(|(_, e)| e.clone()).collect();
        let outcomes = match sink.put(&put).await {
            Ok(outcomes) if outcomes.len() == put.len() => outcomes,
            Ok(outcomes) => {
                out.last_error = Some(format!(
                    "{} outcomes answered for {} entries",
                    outcomes.len(),
                    put.len()
                ));
                continue;
            }
            Err(e) => {
                out.last_error = Some(e.to_string());
                continue;
            }
        };
        let mut still = Vec::new();
        for (entry, outcome) in pending.into_iter().zip(outcomes) {
            match outcome {
                EntryOutcome::Accepted => out.published += 1,
                EntryOutcome::Refused(reason) => {
                    out.last_error = Some(format!("event {}: {reason}", entry.1.event_id()));
                    still.push(entry);
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
    }
    pending
}
