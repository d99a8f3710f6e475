//! Messaging adapters: the EventBridge adapter of the event bus port
//! ([`scim_ops::events::publish::EventBus`], this module), the webhook queue on SQS
//! ([`queue`]) and the webhook HTTP sender ([`sender`]).
//!
//! The EventBridge adapter holds every EventBridge type: the operations core packs, orders and retries the entries,
//! this puts them on the bus and reads back which were accepted.
//!
//! Each event becomes one entry: `source` [`EVENT_SOURCE`], `detail-type` the event type
//! (`user.created`), `detail` the event as JSON, `time` the change's time. A platform routes
//! them with its own rules, for example `{"source": ["scim.provisioning"], "detail-type":
//! ["user.deactivated"]}` or by tenant, `{"detail": {"tenant": ["acme"]}}`.

pub mod queue;
pub mod sender;

use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_smithy_types::date_time::{DateTime, Format};
use scim_ops::events::publish::{BusEntry, BusError, EntryOutcome, EventBus, EVENT_SOURCE};

/// One EventBridge bus.
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgeBus {
    /// The bus named `bus_name` (a name or an ARN), through a client built from `config`.
    pub fn new(config: &aws_sdk_eventbridge::Config, bus_name: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::from_conf(config.clone()),
            bus_name: bus_name.into(),
        }
    }

    fn entry(&self, entry: &BusEntry) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(EVENT_SOURCE)
            .detail_type(entry.detail_type)
            .detail(&entry.detail)
            // An unreadable time is left to the bus, which stamps the put's own time.
            .set_time(DateTime::from_str(&entry.time, Format::DateTime).ok())
            .build()
    }
}

impl EventBus for EventBridgeBus {
    async fn put(&self, entries: &[BusEntry]) -> Result<Vec<EntryOutcome>, BusError> {
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries.iter().map(|e| self.entry(e)).collect()))
            .send()
            .await
            .map_err(|e| BusError(DisplayErrorContext(&e).to_string()))?;
        // One result per entry, in the request's order; a failed one carries an error code.
        Ok(out
            .entries()
            .iter()
            .map(|result| match result.error_code() {
                Some(code) => EntryOutcome::Refused(format!(
                    "{code}: {}",
                    result.error_message().unwrap_or_default()
                )),
                None => EntryOutcome::Accepted,
            })
            .collect())
    }
}
