//! Delivery: the webhooks function POSTs each queued delivery to its endpoint, signed, and
//! decides what happens to a failure.
//!
//! - **Success** is a 2xx answer within the sender's timeout. Redirects are not followed.
//! - **A failure** (another status, a timeout, a refused address) is retried: the message is
//!   hidden for [`RetryPolicy::delay`] of its attempts (30 s doubling to 1 h by default) and
//!   reported failed, so the queue hands it out again then.
//! - **Giving up.** A delivery still failing [`RetryPolicy::window`] after it was queued (24 h
//!   by default) goes to the dead-letter queue, with its last error, and the group moves on.
//!   The window is counted from the time the message was queued rather than by attempts,
//!   because a FIFO queue hands a group's waiting messages out again with every retry of the
//!   first, which the queue's own receive count cannot tell from attempts.
//! - **Order per resource.** A batch's messages are grouped by message group; a group is
//!   delivered one message at a time, and after a failure the group's later messages are not
//!   tried but handed back at once (their visibility set to 0): the queue does not hand them
//!   out before the failed one, which keeps the group. Groups are delivered concurrently.
//! - **The delivery log** records every attempt: status, attempts, the last HTTP status and
//!   error ([`DeliveryLog`]).
//! - **A deleted endpoint's** messages are dropped without a request.
//! - **Time.** A group starts no further delivery once the batch has used its time budget
//!   (the invocation's time left less a delivery's longest); the rest are handed back like
//!   held ones.

use std::future::Future;
use std::time::Duration;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use super::endpoint::{validate_url, PayloadFormat, UrlPolicy, WebhookEndpoint};
use super::fanout::{CachedEndpoints, EndpointDirectory, EventRef};
use super::set::{security_event_token, SetIssuer, SET_CONTENT_TYPE};
use super::signing::{signature_header, WebhookKey};
use crate::events::publish::BusError;
use crate::events::ProvisioningEvent;
use crate::StoreError;

/// One message the queue handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub group_id: String,
    /// When it was queued (epoch seconds).
    pub sent_at: u64,
    pub endpoint_id: String,
    pub event: EventRef,
    pub body: String,
}

/// When failed deliveries are tried again, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The pause after the first failed attempt; it doubles after each further one.
    pub first: Duration,
    /// The longest pause (at most SQS's 12 hours of visibility).
    pub max: Duration,
    /// How long after it was queued a delivery is still tried.
    pub window: Duration,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, ... 1 h, then hourly, for 24 h: about 30 attempts.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            window: Duration::from_secs(24 * 3600),
        }
    }
}

/// SQS's longest visibility timeout.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

impl RetryPolicy {
    /// The pause after `attempts` failed attempts (1: the first).
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.first
            .saturating_mul(1u32 << doublings)
            .min(self.max)
            .min(MAX_VISIBILITY)
    }
}

/// What became of a delivery, as the log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    /// Failed; it will be tried again.
    Retrying,
    /// Failed for longer than the retry window; in the dead-letter queue.
    Failed,
}

/// One attempt, as the delivery log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt<'a> {
    pub endpoint_id: &'a str,
    pub event: &'a EventRef,
    pub status: DeliveryStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// RFC 3339.
    pub at: &'a str,
    /// When the log forgets it (epoch seconds).
    pub expires_at: u64,
}

/// One delivery as the log holds it (`webhooks.deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// `<event time>#<event id>`: pass the last one as `after` for the next page.
    pub cursor: String,
    pub event: EventRef,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub first_attempt_at: String,
    pub last_attempt_at: String,
}

/// The delivery log port.
pub trait DeliveryLog: Send + Sync {
    /// Records an attempt and answers how many attempts the delivery has had, this one included.
    fn record_attempt(
        &self,
        attempt: &DeliveryAttempt<'_>,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// An endpoint's deliveries in event time order, after `after`, at most `limit`.
    fn deliveries(
        &self,
        endpoint_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;
}

/// The HTTP sender port: POSTs a body with headers and answers the status, or why no status
/// came back (a timeout, a refused address, a connection failure).
pub trait WebhookSender: Send + Sync {
    fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> impl Future<Output = Result<u16, String>> + Send;
}

/// The queue, as the deliverer acts on it.
pub trait DeliveryQueue: Send + Sync {
    /// Hides each message (by receipt handle) for the given number of seconds.
    fn postpone(
        &self,
        changes: &[(String, u32)],
    ) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Moves a message to the dead-letter queue, with why.
    fn dead_letter(
        &self,
        message: &QueuedMessage,
        reason: &str,
    ) -> impl Future<Output = Result<(), BusError>> + Send;
}

/// What one batch did; `failed` are the message ids to report as batch item failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub failed: Vec<String>,
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
    /// Messages of a deleted endpoint.
    pub dropped: usize,
    /// Messages not tried because an earlier one of their group failed.
    pub held: usize,
    pub last_error: Option<String>,
}

/// The delivery's clock: now as epoch seconds and as RFC 3339.
#[derive(Debug, Clone)]
pub struct Now {
    pub epoch: u64,
    pub rfc3339: String,
}

/// Delivers batches of queued messages.
#[derive(Debug)]
pub struct Deliverer<D, S, L, Q> {
    pub endpoints: CachedEndpoints<D>,
    pub key: WebhookKey,
    pub sender: S,
    pub log: L,
    pub queue: Q,
    pub retry: RetryPolicy,
    pub urls: UrlPolicy,
    /// How long the delivery log keeps a delivery (seconds).
    pub log_retention: u64,
    /// The issuer of the Security Event Tokens sent to `set` endpoints.
    pub set_issuer: SetIssuer,
}

/// A request's headers, by name.
type Headers = Vec<(&'static str, String)>;

/// What became of one message.
enum Outcome {
    Delivered,
    Dropped,
    /// Hide it for this long and report it failed.
    Retry(Duration, String),
    DeadLettered(String),
}

impl<D, S, L, Q> Deliverer<D, S, L, Q>
where
    D: EndpointDirectory,
    S: WebhookSender,
    L: DeliveryLog,
    Q: DeliveryQueue,
{
    /// Delivers a batch (see the module's documentation); no delivery starts once the batch has
    /// run for `budget` (the invocation's time left, less a delivery's longest): the rest are
    /// handed back, so slow endpoints cannot run the function past its timeout.
    pub async fn deliver(
        &self,
        messages: Vec<QueuedMessage>,
        now: &Now,
        budget: Duration,
    ) -> BatchReport {
        let mut groups: Vec<Vec<QueuedMessage>> = Vec::new();
        for message in messages {
            let same = |g: &&mut Vec<QueuedMessage>| {
                g.first().is_some_and(|m| m.group_id == message.group_id)
            };
            match groups.iter_mut().find(same) {
                Some(group) => group.push(message),
                None => groups.push(vec![message]),
            }
        }
        let results = join_all(
            groups
                .iter()
                .map(|group| self.deliver_group(group, now, budget)),
        )
        .await;
        let mut report = BatchReport::default();
        let mut hide = Vec::new();
        for (group, outcomes) in groups.iter().zip(results) {
            let mut outcomes = outcomes.into_iter();
            for message in group {
                match outcomes.next() {
                    Some(Outcome::Delivered) => report.delivered += 1,
                    Some(Outcome::Dropped) => report.dropped += 1,
                    Some(Outcome::DeadLettered(error)) => {
                        report.dead_lettered += 1;
                        report.last_error = Some(error);
                    }
                    Some(Outcome::Retry(delay, error)) => {
                        report.retried += 1;
                        report.last_error = Some(error);
                        report.failed.push(message.message_id.clone());
                        let seconds = u32::try_from(delay.as_secs()).unwrap_or(u32::MAX);
                        hide.push((message.receipt_handle.clone(), seconds));
                    }
                    // Not tried: handed back at once, behind the failed one.
                    None => {
                        report.held += 1;
                        report.failed.push(message.message_id.clone());
                        hide.push((message.receipt_handle.clone(), 0));
                    }
                }
            }
        }
        if !hide.is_empty() {
            if let Err(e) = self.queue.postpone(&hide).await {
                // They come back after the queue's visibility timeout instead.
                report.last_error = Some(format!("postponing failed deliveries: {e}"));
            }
        }
        report
    }

    /// Delivers a group's messages in order, stopping at the first that must be retried; the
    /// outcomes of the messages tried, in order.
    async fn deliver_group(
        &self,
        group: &[QueuedMessage],
        now: &Now,
        budget: Duration,
    ) -> Vec<Outcome> {
        let started = std::time::Instant::now();
        let mut out = Vec::new();
        for message in group {
            if !out.is_empty() && started.elapsed() >= budget {
                break;
            }
            let outcome = self.deliver_one(message, now).await;
            let stop = matches!(outcome, Outcome::Retry(..));
            out.push(outcome);
            if stop {
                break;
            }
        }
        out
    }

    /// The headers and body of a delivery: the event, or its Security Event Token; signed per
    /// Standard Webhooks either way.
    fn request(
        &self,
        endpoint: &WebhookEndpoint,
        message: &QueuedMessage,
        now: &Now,
    ) -> Result<(Headers, String), String> {
        let secrets: Vec<_> = endpoint
            .signing_generations(now.epoch)
            .into_iter()
            .map(|g| self.key.endpoint_secret(&endpoint.id, g))
            .collect();
        let (content_type, body) = match endpoint.format {
            PayloadFormat::Event => ("application/json", message.body.clone()),
            PayloadFormat::Set => {
                let event: ProvisioningEvent = serde_json::from_str(&message.body)
                    .map_err(|e| format!("the queued event is unreadable: {e}"))?;
                let key_id = format!("{}.{}", endpoint.id, endpoint.secret_generation);
                let current = secrets.first().ok_or("no signing secret")?;
                let token = security_event_token(
                    &event,
                    &endpoint.url,
                    now.epoch,
                    &self.set_issuer,
                    current,
                    &key_id,
                );
                (SET_CONTENT_TYPE, token)
            }
        };
        let signature = signature_header(&secrets, &message.event.id, now.epoch, &body);
        let headers = vec![
            ("content-type", content_type.to_string()),
            ("webhook-id", message.event.id.clone()),
            ("webhook-timestamp", now.epoch.to_string()),
            ("webhook-signature", signature),
        ];
        Ok((headers, body))
    }

    async fn deliver_one(&self, message: &QueuedMessage, now: &Now) -> Outcome {
        let endpoint = match self.endpoints.get(&message.endpoint_id).await {
            Ok(Some(endpoint)) => endpoint,
            Ok(None) => {
                tracing::info!(
                    endpoint = %message.endpoint_id,
                    event_id = %message.event.id,
                    "webhook dropped: the endpoint was deleted"
                );
                return Outcome::Dropped;
            }
            Err(e) => {
                let error = format!("reading the endpoint: {e}");
                return Outcome::Retry(self.retry.first, error);
            }
        };
        let result = match validate_url(&endpoint.url, self.urls) {
            Err(e) => Err(format!("endpoint URL refused: {e}")),
            Ok(_) => match self.request(&endpoint, message, now) {
                Ok((headers, body)) => self.sender.post(&endpoint.url, &headers, &body).await,
                Err(e) => Err(e),
            },
        };
        let (http_status, error) = match result {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) => (Some(status), Some(format!("HTTP {status}"))),
            Err(error) => (None, Some(error)),
        };
        let expired = now.epoch.saturating_sub(message.sent_at) >= self.retry.window.as_secs();
        let status = match (&error, expired) {
            (None, _) => DeliveryStatus::Delivered,
            (Some(_), false) => DeliveryStatus::Retrying,
            (Some(_), true) => DeliveryStatus::Failed,
        };
        let attempt = DeliveryAttempt {
            endpoint_id: &endpoint.id,
            event: &message.event,
            status,
            http_status,
            error: error.clone(),
            at: &now.rfc3339,
            expires_at: now.epoch + self.log_retention,
        };
        let attempts = match self.log.record_attempt(&attempt).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(endpoint = %endpoint.id, event_id = %message.event.id, error = %e, "webhook delivery log");
                1
            }
        };
        match (status, error) {
            (DeliveryStatus::Delivered, _) | (_, None) => Outcome::Delivered,
            (DeliveryStatus::Retrying, Some(error)) => {
                Outcome::Retry(self.retry.delay(attempts), error)
            }
            (DeliveryStatus::Failed, Some(error)) => {
                match self.queue.dead_letter(message, &error).await {
                    Ok(()) => Outcome::DeadLettered(error),
                    Err(e) => Outcome::Retry(
                        self.retry.first,
                        format!("{error}; dead-lettering failed: {e}"),
                    ),
                }
            }
        }
    }
}
