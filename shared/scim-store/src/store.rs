//! The DynamoDB adapter: the client, call accounting, and the few generic operations the
//! per-entity modules build on. All `AttributeValue` mapping happens in this crate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, KeysAndAttributes, PutRequest, ReturnConsumedCapacity,
    TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{corrupt, from_sdk, StoreError};

pub type Item = HashMap<String, AttributeValue>;

/// Most items one TransactWriteItems call may hold.
pub(crate) const MAX_TRANSACTION_ITEMS: usize = 100;

/// Most keys one BatchGetItem call may hold.
const MAX_BATCH_GET_KEYS: usize = 100;

/// Tries of a BatchGetItem whose keys DynamoDB left unprocessed, before answering `Throttled`.
const BATCH_GET_ATTEMPTS: u32 = 8;

/// Counts DynamoDB operations (executions, not retried attempts) made through one client.
/// The per-request delta is logged and, in local runs, returned to tests as a header.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Accumulated consumed capacity units (reads and writes, as DynamoDB reports them).
#[derive(Debug, Clone, Default)]
pub struct CapacityCounter(Arc<AtomicU64>);

impl CapacityCounter {
    /// Total capacity units consumed so far.
    pub fn get(&self) -> f64 {
        self.0.load(Ordering::Relaxed) as f64 / 1000.0
    }

    pub(crate) fn add(&self, units: f64) {
        if units.is_finite() && units > 0.0 {
            self.0
                .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        }
    }
}

/// The table and its client. Cheap to clone; build once per cold start.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: Arc<str>,
    calls: CallCounter,
    pub(crate) capacity: CapacityCounter,
}

impl Store {
    /// Wraps an SDK config; registers the call counter on the client.
    pub fn new(config: &aws_sdk_dynamodb::Config, table: impl Into<Arc<str>>) -> Self {
        let calls = CallCounter::default();
        let config = config.to_builder().interceptor(calls.clone()).build();
        Self {
            client: Client::from_conf(config),
            table: table.into(),
            calls,
            capacity: CapacityCounter::default(),
        }
    }

    /// The SDK client (for administrative tools that create the table).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// DynamoDB operations made so far by this store.
    pub fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// Capacity units consumed so far by this store.
    pub fn consumed_capacity(&self) -> f64 {
        self.capacity.get()
    }

    pub(crate) fn rcc(&self) -> ReturnConsumedCapacity {
        ReturnConsumedCapacity::Total
    }

    pub(crate) fn note_capacity<'a>(
        &self,
        capacity: impl IntoIterator<Item = &'a aws_sdk_dynamodb::types::ConsumedCapacity>,
    ) {
        for c in capacity {
            self.capacity.add(c.capacity_units().unwrap_or_default());
        }
    }

    /// GetItem by key; `None` when absent.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: &str,
        consistent: bool,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table.as_ref())
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk.to_string()))
            .consistent_read(consistent)
            .return_consumed_capacity(self.rcc())
            .send()
            .await
            .map_err(from_sdk)?;
        self.note_capacity(out.consumed_capacity());
        out.item.map(from_item).transpose()
    }

    /// Runs one TransactWriteItems; a cancellation is returned with its per-item reasons.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), TransactError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(self.rcc())
            .send()
            .await;
        match result {
            Ok(out) => {
                self.note_capacity(out.consumed_capacity());
                Ok(())
            }
            Err(err) => {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                let canceled = match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                        Some(e.cancellation_reasons().to_vec())
                    }
                    _ => None,
                };
                match canceled {
                    Some(reasons) => Err(TransactError::Canceled(reasons)),
                    None => Err(TransactError::Store(from_sdk(err))),
                }
            }
        }
    }

    /// BatchGetItem over any keys (100 a call, strongly consistent), following UnprocessedKeys.
    /// No keys, no call.
    pub(crate) async fn batch_get<T: DeserializeOwned>(
        &self,
        keys: impl Iterator<Item = Item>,
    ) -> Result<Vec<T>, StoreError> {
        let all: Vec<Item> = keys.collect();
        let mut out = Vec::with_capacity(all.len());
        for chunk in all.chunks(MAX_BATCH_GET_KEYS) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            );
            let mut attempts = 0;
            while let Some(request) = pending.take() {
                attempts += 1;
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(self.table.as_ref(), request)
                    .return_consumed_capacity(self.rcc())
                    .send()
                    .await
                    .map_err(from_sdk)?;
                self.note_capacity(resp.consumed_capacity());
                if let Some(mut responses) = resp.responses {
                    for item in responses.remove(self.table.as_ref()).unwrap_or_default() {
                        out.push(from_item(item)?);
                    }
                }
                pending = resp
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.table.as_ref()))
                    .filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    if attempts >= BATCH_GET_ATTEMPTS {
                        return Err(StoreError::Throttled);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempts)).await;
                }
            }
        }
        Ok(out)
    }
}

/// Why a transaction failed.
#[derive(Debug)]
pub(crate) enum TransactError {
    /// Cancelled, with one reason per item in request order (`None` code = that item was fine).
    Canceled(Vec<CancellationReason>),
    Store(StoreError),
}

impl TransactError {
    /// The index of the first item whose condition failed.
    pub(crate) fn failed_condition(&self) -> Option<usize> {
        match self {
            Self::Canceled(reasons) => reasons
                .iter()
                .position(|r| r.code() == Some("ConditionalCheckFailed")),
            Self::Store(_) => None,
        }
    }

    /// The indexes of every item whose condition failed (DynamoDB reports all of them).
    pub(crate) fn failed_conditions(&self) -> Vec<usize> {
        match self {
            Self::Canceled(reasons) => reasons
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect(),
            Self::Store(_) => Vec::new(),
        }
    }

    /// Converts a cancellation without a failed condition into the retryable/transient error.
    pub(crate) fn into_store_error(self) -> StoreError {
        match self {
            Self::Store(err) => err,
            Self::Canceled(reasons) => {
                let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
                if codes.contains(&"TransactionConflict") {
                    StoreError::TransactionConflict
                } else if codes
                    .iter()
                    .any(|c| c.contains("Throughput") || c.contains("Throttl"))
                {
                    StoreError::Throttled
                } else if codes.contains(&"ConditionalCheckFailed") {
                    StoreError::VersionConflict
                } else {
                    StoreError::Internal(format!("transaction canceled: {codes:?}"))
                }
            }
        }
    }
}

impl From<TransactError> for StoreError {
    fn from(err: TransactError) -> Self {
        err.into_store_error()
    }
}

/// Most items one BatchWriteItem call may hold (DynamoDB's limit).
const BATCH_WRITE_MAX: usize = 25;

impl Store {
    /// Puts every item with BatchWriteItem (25 a call), sending unprocessed items again with a
    /// growing pause (8 tries, then `Throttled`). Items are `(pk, sk, item)`; a key given twice
    /// is written once (a batch may not name a key twice). Puts overwrite: writing the same
    /// items again is harmless, which is what makes the stream consumers idempotent.
    pub(crate) async fn put_all<'a, T: Serialize + 'a>(
        &self,
        items: impl IntoIterator<Item = (&'a str, &'a str, &'a T)>,
    ) -> Result<(), StoreError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut requests = Vec::new();
        for (pk, sk, item) in items {
            if !seen.insert((pk, sk)) {
                continue;
            }
            let put = PutRequest::builder()
                .set_item(Some(to_item(item)?))
                .build()
                .map_err(|e| StoreError::Internal(format!("request build: {e}")))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut pending = chunk.to_vec();
            let mut attempts = 0;
            while !pending.is_empty() {
                attempts += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.as_ref(), pending)
                    .return_consumed_capacity(self.rcc())
                    .send()
                    .await
                    .map_err(from_sdk)?;
                self.note_capacity(out.consumed_capacity());
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(self.table.as_ref()))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    if attempts >= 8 {
                        return Err(StoreError::Throttled);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempts)).await;
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(corrupt)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(corrupt)
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// Builds TransactWriteItems elements without repeating the SDK builder chains.
pub(crate) mod tx {
    use super::*;
    use aws_sdk_dynamodb::types::{Delete, Put, Update};

    fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
        r.map_err(|e| StoreError::Internal(format!("request build: {e}")))
    }

    pub(crate) fn put(
        table: &str,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = built(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_string))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A Put whose condition uses expression values.
    pub(crate) fn put_if(
        table: &str,
        item: Item,
        condition: &str,
        values: Item,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = built(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression(condition)
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub(crate) fn delete(
        table: &str,
        key: Item,
        condition: Option<(&str, Item)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut b = Delete::builder().table_name(table).set_key(Some(key));
        if let Some((expr, values)) = condition {
            b = b.condition_expression(expr);
            if !values.is_empty() {
                b = b.set_expression_attribute_values(Some(values));
            }
        }
        Ok(TransactWriteItem::builder()
            .delete(built(b.build())?)
            .build())
    }

    pub(crate) fn update(
        table: &str,
        key: Item,
        update: &str,
        condition: Option<&str>,
        names: Option<HashMap<String, String>>,
        values: Item,
    ) -> Result<TransactWriteItem, StoreError> {
        let u = built(
            Update::builder()
                .table_name(table)
                .set_key(Some(key))
                .update_expression(update)
                .set_condition_expression(condition.map(str::to_string))
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(if values.is_empty() {
                    None
                } else {
                    Some(values)
                })
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(u).build())
    }
}
