//! Webhook endpoints and their delivery log on the table ([`scim_ops::webhooks`]).
//!
//! - Endpoints are deployment configuration, all in one partition `WEBHOOKS` (sort key
//!   `ENDPOINT#<id>`), so the events function reads every endpoint in one Query (cached).
//!   An endpoint names its tenant (or none: every tenant); its id is ours, never a client's.
//! - Deliveries: one item per endpoint and event in `WEBHOOK#<id>#DELIVERIES`, sorted by
//!   `<event time>#<event id>`, updated in place by each attempt (ADD `attempts`), removed by
//!   TTL like the event log.

use aws_sdk_dynamodb::types::ReturnValue;
use scim_ops::webhooks::{
    DeliveryAttempt, DeliveryLog, DeliveryRecord, DeliveryStatus, EndpointDirectory, EventRef,
    WebhookEndpoint,
};
use serde::{Deserialize, Serialize};

use crate::error::{from_sdk, StoreError};
use crate::keys;
use crate::store::{n, s, to_item, Store};

const ENTITY_ENDPOINT: &str = "WebhookEndpoint";
const ENTITY_DELIVERY: &str = "WebhookDelivery";
/// The most of an endpoint's error text the log keeps.
const MAX_ERROR_CHARS: usize = 500;

#[derive(Debug, Serialize, Deserialize)]
struct EndpointItem {
    pk: String,
    sk: String,
    #[serde(rename = "type")]
    entity: String,
    /// A map attribute (not flattened: serde's flattening would read its numbers untyped).
    endpoint: WebhookEndpoint,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeliveryItem {
    sk: String,
    event_id: String,
    event_type: String,
    tenant_id: String,
    event_time: String,
    status: DeliveryStatus,
    attempts: u32,
    #[serde(default)]
    last_http_status: Option<u16>,
    #[serde(default)]
    last_error: Option<String>,
    first_attempt_at: String,
    last_attempt_at: String,
}

impl Store {
    /// Adds an endpoint (its id must be new).
    pub async fn put_webhook(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.write_webhook(endpoint, "attribute_not_exists(pk)")
            .await
    }

    /// Replaces an existing endpoint (a rotation); `NotFound` when it was deleted.
    pub async fn replace_webhook(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.write_webhook(endpoint, "attribute_exists(pk)")
            .await
            .map_err(|e| match e {
                StoreError::VersionConflict => StoreError::NotFound,
                other => other,
            })
    }

    async fn write_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        condition: &str,
    ) -> Result<(), StoreError> {
        let item = to_item(&EndpointItem {
            pk: keys::WEBHOOKS_PK.into(),
            sk: keys::webhook_sk(&endpoint.id),
            entity: ENTITY_ENDPOINT.into(),
            endpoint: endpoint.clone(),
        })?;
        self.client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }

    /// Deletes an endpoint; `NotFound` when there is none. Its queued deliveries are dropped
    /// when they come up, and its delivery log expires.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(self.table.as_ref())
            .key("pk", s(keys::WEBHOOKS_PK))
            .key("sk", s(keys::webhook_sk(id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(from_sdk)
            .map_err(|e| match e {
                StoreError::VersionConflict => StoreError::NotFound,
                other => other,
            })?;
        Ok(())
    }

    /// One endpoint, read consistently.
    pub async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        let item: Option<EndpointItem> = self
            .get(keys::WEBHOOKS_PK.into(), &keys::webhook_sk(id), true)
            .await?;
        Ok(item.map(|i| i.endpoint))
    }
}

impl EndpointDirectory for Store {
    async fn endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let items: Vec<EndpointItem> = self
            .query_partition(
                keys::WEBHOOKS_PK.into(),
                Some(keys::WEBHOOK_SK_PREFIX),
                true,
            )
            .await?;
        Ok(items.into_iter().map(|i| i.endpoint).collect())
    }
}

impl DeliveryLog for Store {
    /// One UpdateItem: sets the delivery's state, adds 1 to `attempts` and reads it back.
    async fn record_attempt(&self, attempt: &DeliveryAttempt<'_>) -> Result<u32, StoreError> {
        let event = attempt.event;
        let status = match attempt.status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Failed => "failed",
        };
        let mut set = vec![
            "#type = :type",
            "event_id = :event_id",
            "event_type = :event_type",
            "tenant_id = :tenant",
            "event_time = :event_time",
            "#status = :status",
            "last_attempt_at = :at",
            "first_attempt_at = if_not_exists(first_attempt_at, :at)",
            "expires_at = :expires",
        ];
        let mut remove = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .key("pk", s(keys::webhook_deliveries_pk(attempt.endpoint_id)))
            .key("sk", s(keys::events_sk(&event.time, &event.id)))
            .expression_attribute_names("#type", "type")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":type", s(ENTITY_DELIVERY))
            .expression_attribute_values(":event_id", s(&event.id))
            .expression_attribute_values(":event_type", s(&event.kind))
            .expression_attribute_values(":tenant", s(&event.tenant))
            .expression_attribute_values(":event_time", s(&event.time))
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":at", s(attempt.at))
            .expression_attribute_values(":expires", n(attempt.expires_at))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew);
        match attempt.http_status {
            Some(code) => {
                set.push("last_http_status = :code");
                request = request.expression_attribute_values(":code", n(u64::from(code)));
            }
            None => remove.push("last_http_status"),
        }
        match &attempt.error {
            Some(error) => {
                set.push("last_error = :error");
                // Bounded: an endpoint's error text is not ours to keep at any length.
                let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
                request = request.expression_attribute_values(":error", s(error));
            }
            None => remove.push("last_error"),
        }
        let mut update = format!("SET {} ADD attempts :one", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let out = request
            .update_expression(update)
            .send()
            .await
            .map_err(from_sdk)?;
        out.attributes()
            .and_then(|a| a.get("attempts"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| StoreError::Internal("the delivery's attempts were not returned".into()))
    }

    async fn deliveries(
        &self,
        endpoint_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let low = after.filter(|a| !a.is_empty()).unwrap_or("0");
        let query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression("pk = :pk AND sk > :low")
            .expression_attribute_values(":pk", s(keys::webhook_deliveries_pk(endpoint_id)))
            .expression_attribute_values(":low", s(low))
            .consistent_read(true)
            .scan_index_forward(true);
        let found: Vec<DeliveryItem> = self.query_up_to(query, None, limit).await?;
        Ok(found
            .into_iter()
            .map(|item| DeliveryRecord {
                cursor: item.sk,
                event: EventRef {
                    id: item.event_id,
                    kind: item.event_type,
                    tenant: item.tenant_id,
                    time: item.event_time,
                },
                status: item.status,
                attempts: item.attempts,
                last_http_status: item.last_http_status,
                last_error: item.last_error,
                first_attempt_at: item.first_attempt_at,
                last_attempt_at: item.last_attempt_at,
            })
            .collect())
    }
}
