//! The event log ([`scim_ops::events::log`]) on the table: one item per provisioning event in
//! its tenant's partition `TENANT#<t>#EVENTS`, sorted by `<time>#<event id>`, removed by TTL.
//! Appends are BatchWriteItem puts keyed by the event, so a redelivered batch logs nothing twice;
//! a read is one Query of the tenant's partition, following pages up to the limit.

use scim_core::ids::TenantId;
use scim_ops::events::log::{EventLog, LoggedEvent};
use scim_ops::events::ProvisioningEvent;

use crate::error::{corrupt, StoreError};
use crate::items::{self, EventLogItem};
use crate::keys;
use crate::store::{s, Store};

/// Below every time (`2...`), and above every time and id (`~` sorts after digits and letters):
/// the open ends of a range.
const LOWEST: &str = "0";
const HIGHEST: &str = "~";

impl EventLogItem {
    fn of(event: &ProvisioningEvent, expires_at: u64) -> Result<Self, StoreError> {
        let tenant = TenantId::parse(&event.tenant)
            .ok_or_else(|| StoreError::Internal(format!("event {}: bad tenant", event.id)))?;
        Ok(Self {
            pk: keys::events_pk(&tenant),
            sk: keys::events_sk(&event.time, &event.id),
            entity: items::EVENT_LOG.into(),
            tenant_id: event.tenant.clone(),
            event: serde_json::to_string(event).map_err(corrupt)?,
            expires_at,
        })
    }
}

impl EventLog for Store {
    async fn append_events(
        &self,
        events: &[ProvisioningEvent],
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let logged = events
            .iter()
            .map(|e| EventLogItem::of(e, expires_at))
            .collect::<Result<Vec<_>, _>>()?;
        self.put_all(logged.iter().map(|i| (i.pk.as_str(), i.sk.as_str(), i)))
            .await
    }

    /// `after` and `before` are compared with the sort key `<time>#<event id>`: a time or its
    /// prefix bounds by time, a cursor continues after that event. One consistent Query:
    /// `sk BETWEEN after AND before`, the `after` item itself dropped.
    async fn logged_events(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let low = after.filter(|a| !a.is_empty()).unwrap_or(LOWEST);
        let high = before.filter(|b| !b.is_empty()).unwrap_or(HIGHEST);
        if low >= high {
            return Ok(Vec::new());
        }
        let query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s(keys::events_pk(tenant)))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .consistent_read(true)
            .scan_index_forward(true);
        // One more than asked, for the `after` item BETWEEN includes.
        let found: Vec<EventLogItem> = self.query_up_to(query, None, limit + 1).await?;
        found
            .into_iter()
            .filter(|item| item.sk != low && item.sk != high)
            .take(limit)
            .map(|item| {
                Ok(LoggedEvent {
                    event: serde_json::from_str(&item.event).map_err(corrupt)?,
                    cursor: item.sk,
                })
            })
            .collect()
    }
}
