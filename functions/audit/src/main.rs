//! The audit function: receives batches of the table's DynamoDB Streams records (only user and
//! group items reach it, by the event source's filter) and writes one audit record per change into
//! the tenant's audit partition. The mapping is `scim_store::audit`; this is wiring only.
//!
//! Failure returns an error, so Lambda retries the batch (bisecting it to isolate a bad record)
//! and finally sends it to the on-failure queue. Writes are idempotent (keyed by the stream
//! event id), so a retried or redelivered record never doubles an audit item.

use std::collections::HashSet;
use std::sync::Mutex;

use lambda_http::lambda_runtime::{self, service_fn, Error, LambdaEvent};
use scim_store::audit::{audit_records, AuditError, DEFAULT_RETENTION_DAYS};
use scim_store::{AuditRecord, AuditTrail, Store, StoreError};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    scim_edge::lambda::init_tracing();
    let table = std::env::var("TABLE_NAME").map_err(|_| Error::from("TABLE_NAME is not set"))?;
    let retention_days =
        match std::env::var("SCIM_AUDIT_RETENTION_DAYS") {
            Ok(v) => v.parse::<u64>().ok().filter(|d| *d > 0).ok_or_else(|| {
                Error::from("SCIM_AUDIT_RETENTION_DAYS must be a positive number")
            })?,
            Err(_) => DEFAULT_RETENTION_DAYS,
        };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let store = Store::new(&aws_sdk_dynamodb::Config::from(&sdk), table);
    let store = &store;
    let redeliveries = &Redeliveries::default();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(store, retention_days, redeliveries, &event.payload).await
    }))
    .await
}

#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error("audit batch refused: {0}")]
    Refused(#[from] AuditError),
    #[error("audit write failed: {0}")]
    Write(#[from] StoreError),
}

/// Logs one `audit batch` line per invocation, whatever the outcome, with the batch's metrics
/// (`scim_edge::emf::AUDIT_BATCH`), and one `audit record` line per record written, so Logs
/// Insights can follow a user or group through its changes (names of attributes, never values).
async fn handle(
    store: &Store,
    retention_days: u64,
    redeliveries: &Redeliveries,
    event: &Value,
) -> Result<Value, Error> {
    let ids = event_ids(event);
    let received = event
        .get("Records")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let retried = redeliveries.seen(&ids);
    match write(store, retention_days, event).await {
        Ok(records) => {
            redeliveries.forget(&ids);
            for record in &records {
                log_record(record);
            }
            tracing::info!(
                function = "audit",
                records_received = received,
                records_written = records.len() as u64,
                records_failed = 0u64,
                records_retried = retried,
                "audit batch"
            );
            Ok(json!({"received": received, "written": records.len()}))
        }
        Err(err) => {
            redeliveries.remember(&ids);
            tracing::error!(
                function = "audit",
                error = %err,
                records_received = received,
                records_written = 0u64,
                records_failed = received,
                records_retried = retried,
                "audit batch"
            );
            Err(Error::from(err.to_string()))
        }
    }
}

async fn write(
    store: &Store,
    retention_days: u64,
    event: &Value,
) -> Result<Vec<AuditRecord>, BatchError> {
    let records = audit_records(event, retention_days)?;
    store.append(&records).await?;
    Ok(records)
}

fn log_record(record: &AuditRecord) {
    let list = |ids: &[String]| (!ids.is_empty()).then(|| ids.join(","));
    tracing::info!(
        tenant = record.tenant_id.as_str(),
        action = record.action.as_str(),
        resource_type = record.resource_type.as_str(),
        resource_id = record.resource_id.as_str(),
        actor = record.actor.as_str(),
        at = record.at.as_str(),
        version = record.version,
        attributes = list(&record.attributes),
        groups_added = list(&record.groups_added),
        groups_removed = list(&record.groups_removed),
        "audit record"
    );
}

/// The stream event ids of a batch (`Records[].eventID`).
fn event_ids(event: &Value) -> Vec<String> {
    event
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .filter_map(|r| r.get("eventID").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Event ids of records in batches this instance failed, to count them when they come back:
/// Lambda retries a failed batch (split in halves) on the shard's next invocation, usually this
/// same warm instance, so `records_retried` is a lower bound of the retries.
#[derive(Debug, Default)]
struct Redeliveries {
    failed: Mutex<HashSet<String>>,
}

/// Ids remembered at most (10 full batches); beyond it the memory starts over.
const MAX_REMEMBERED: usize = 1000;

impl Redeliveries {
    fn seen(&self, ids: &[String]) -> u64 {
        self.failed.lock().map_or(0, |failed| {
            ids.iter().filter(|id| failed.contains(*id)).count() as u64
        })
    }

    fn remember(&self, ids: &[String]) {
        if let Ok(mut failed) = self.failed.lock() {
            if failed.len() + ids.len() > MAX_REMEMBERED {
                failed.clear();
            }
            failed.extend(ids.iter().cloned());
        }
    }

    fn forget(&self, ids: &[String]) {
        if let Ok(mut failed) = self.failed.lock() {
            for id in ids {
                failed.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_batch_counts_as_retried_when_it_comes_back_and_is_forgotten_once_written() {
        let r = Redeliveries::default();
        let batch = vec!["a".to_string(), "b".to_string()];
        assert_eq!(r.seen(&batch), 0);
        r.remember(&batch);
        // Lambda bisects: the first half comes back alone.
        assert_eq!(r.seen(&batch[..1]), 1);
        r.forget(&batch[..1]);
        assert_eq!(r.seen(&batch), 1);
    }
}
