//! The event log: every published event kept for a while (`SCIM_EVENT_RETENTION_DAYS`, 30 by
//! default) in its tenant's partition, in time order, so a platform can read what it missed
//! (`events.list`) and have a time range sent to the bus again (`events.replay`), with the
//! original ids. The `events` function appends each batch's events before publishing them.

use std::future::Future;

use scim_core::ids::TenantId;
use serde::{Deserialize, Serialize};

use super::model::ProvisioningEvent;
use super::publish::{publish, EventBus, Publication, PublishError, RecordEvents, Retry};
use crate::error::StoreError;

/// Days an event stays in the log when `SCIM_EVENT_RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u64 = 30;

/// One logged event with its place in the tenant's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvent {
    /// `<time>#<event id>`: time-ordered and unique. Pass the last one as `after` for the next
    /// page.
    pub cursor: String,
    pub event: ProvisioningEvent,
}

/// The event log port.
pub trait EventLog: Send + Sync {
    /// Appends events, kept until `expires_at` (epoch seconds); an event already logged is
    /// written again in place (a redelivered stream record logs nothing twice).
    fn append_events(
        &self,
        events: &[ProvisioningEvent],
        expires_at: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A tenant's events in time order: after `after` (a cursor, or a time or its prefix such
    /// as `2026-12-05T08`), before `before` (the same forms; none: up to now), at most `limit`.
    fn logged_events(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<LoggedEvent>, StoreError>> + Send;
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// Events sent again (to a webhook: those of the range it receives).
    pub replayed: usize,
    /// Where to continue (as `after`): set when the range holds more than `limit` events, or
    /// when the bus refused one (then it is the cursor before that event); `None` when the range
    /// is done.
    pub next: Option<String>,
    /// The bus's refusal that stopped the replay, if one did.
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Log(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Where a replay sends events: the bus ([`replay`]) or one webhook endpoint
/// ([`crate::webhooks::fanout::ToWebhook`]).
pub trait ReplaySink: Send + Sync {
    /// Sends the records' events in order, reporting the first record not sent.
    fn send(
        &self,
        records: &[RecordEvents],
    ) -> impl Future<Output = Result<Publication, PublishError>> + Send;
}

struct ToBus<'a, B> {
    bus: &'a B,
    retry: Retry,
}

impl<B: EventBus> ReplaySink for ToBus<'_, B> {
    async fn send(&self, records: &[RecordEvents]) -> Result<Publication, PublishError> {
        publish(self.bus, records, self.retry).await
    }
}

/// Sends the tenant's logged events of a range to the bus again, in order, with their original
/// ids (consumers that deduplicate on `id` see each once), at most `limit` per call.
pub async fn replay<L: EventLog, B: EventBus>(
    log: &L,
    bus: &B,
    tenant: &TenantId,
    after: Option<&str>,
    before: Option<&str>,
    limit: usize,
    retry: Retry,
) -> Result<Replay, ReplayError> {
    replay_to(log, &ToBus { bus, retry }, tenant, after, before, limit).await
}

/// [`replay`] to any [`ReplaySink`].
pub async fn replay_to<L: EventLog, S: ReplaySink>(
    log: &L,
    sink: &S,
    tenant: &TenantId,
    after: Option<&str>,
    before: Option<&str>,
    limit: usize,
) -> Result<Replay, ReplayError> {
    let logged = log.logged_events(tenant, after, before, limit).await?;
    let records: Vec<RecordEvents> = logged
        .iter()
        .map(|l| RecordEvents {
            sequence_number: l.cursor.clone(),
            events: vec![l.event.clone()],
        })
        .collect();
    let publication = sink.send(&records).await?;
    let Some(failed) = publication.failed_from else {
        let full = logged.len() >= limit;
        return Ok(Replay {
            replayed: publication.published,
            next: full
                .then(|| logged.last().map(|l| l.cursor.clone()))
                .flatten(),
            error: None,
        });
    };
    // Everything before the first refused event went out; continue from just before it.
    let index = logged.iter().position(|l| l.cursor == failed).unwrap_or(0);
    let next = match index {
        0 => after.map(str::to_string),
        i => Some(logged[i - 1].cursor.clone()),
    };
    Ok(Replay {
        replayed: index,
        next,
        error: publication.last_error,
    })
}
