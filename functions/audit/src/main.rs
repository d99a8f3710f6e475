//! The audit function: receives batches of the table's DynamoDB Streams records (only user and
//! group items reach it, by the event source's filter) and writes one audit record per change into
//! the tenant's audit partition. The mapping is `scim_store::audit`; this is wiring only.
//!
//! Failure returns an error, so Lambda retries the batch (bisecting it to isolate a bad record)
//! and finally sends it to the on-failure queue. Writes are idempotent (keyed by the stream
//! event id), so a retried or redelivered record never doubles an audit item.

use lambda_http::lambda_runtime::{self, service_fn, Error, LambdaEvent};
use scim_store::audit::{audit_records, DEFAULT_RETENTION_DAYS};
use scim_store::AuditTrail;
use scim_store::Store;
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
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(store, retention_days, &event.payload).await
    }))
    .await
}

async fn handle(store: &Store, retention_days: u64, event: &Value) -> Result<Value, Error> {
    let received = event
        .get("Records")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let records = audit_records(event, retention_days).map_err(|e| {
        tracing::error!(error = %e, received, "audit batch refused");
        Error::from(e.to_string())
    })?;
    store.append(&records).await.map_err(|e| {
        tracing::error!(error = %e, received, "audit write failed");
        Error::from(e.to_string())
    })?;
    tracing::info!(received, written = records.len(), "audit batch");
    Ok(json!({"received": received, "written": records.len()}))
}
