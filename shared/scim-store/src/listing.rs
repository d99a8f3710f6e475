//! Reading many items: partition queries, GSI1 lookups, counts and offset pages.
//!
//! SCIM pages by offset (`startIndex`), DynamoDB by key. A page at offset k first runs a
//! `Select=COUNT` query with `Limit=k` to find the key after the k-th item (capacity is charged
//! for the skipped items, but no item crosses the network), then reads `count` items from there.
//! Order is GSI1's sort key: the folded userName/displayName, so pages are stable.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use serde::de::DeserializeOwned;

use crate::error::StoreError;
use crate::store::{from_item, s, Item, Store};

const GSI1: &str = "gsi1";

impl Store {
    /// Every item of a partition, optionally restricted to a sort-key prefix.
    pub(crate) async fn query_partition<T: DeserializeOwned>(
        &self,
        pk: String,
        sk_prefix: Option<&str>,
        consistent: bool,
    ) -> Result<Vec<T>, StoreError> {
        self.query_partition_items(pk, sk_prefix, consistent)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Every raw item of a partition, optionally restricted to a sort-key prefix.
    pub(crate) async fn query_partition_items(
        &self,
        pk: String,
        sk_prefix: Option<&str>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .consistent_read(consistent)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(self.rcc());
            q = match sk_prefix {
                Some(prefix) => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix)),
                None => q.key_condition_expression("pk = :pk"),
            };
            let resp = q.send().await.map_err(StoreError::from_sdk)?;
            self.note_capacity(resp.consumed_capacity());
            out.extend(resp.items.unwrap_or_default());
            match resp.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Items of a GSI1 partition whose sort key equals `sk`.
    pub(crate) async fn query_gsi1_eq<T: DeserializeOwned>(
        &self,
        gsi_pk: String,
        gsi_sk: String,
    ) -> Result<Vec<T>, StoreError> {
        let resp = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :pk AND gsi1sk = :sk")
            .expression_attribute_values(":pk", s(gsi_pk))
            .expression_attribute_values(":sk", s(gsi_sk))
            .return_consumed_capacity(self.rcc())
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        self.note_capacity(resp.consumed_capacity());
        resp.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// How many items a GSI1 partition holds (a `Select=COUNT` query, paged).
    pub(crate) async fn count_gsi1(&self, gsi_pk: &str) -> Result<usize, StoreError> {
        let mut total = 0usize;
        let mut start: Option<Item> = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", s(gsi_pk))
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            self.note_capacity(resp.consumed_capacity());
            total += usize::try_from(resp.count).unwrap_or_default();
            match resp.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(total),
            }
        }
    }

    /// Up to `take` items of a GSI1 partition after skipping `skip` of them, in sort-key order.
    pub(crate) async fn page_gsi1<T: DeserializeOwned>(
        &self,
        gsi_pk: &str,
        skip: usize,
        take: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut start: Option<Item> = None;
        let mut skipped = 0usize;
        while skipped < skip {
            let resp = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", s(gsi_pk))
                .select(Select::Count)
                .limit(i32::try_from(skip - skipped).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            self.note_capacity(resp.consumed_capacity());
            skipped += usize::try_from(resp.count).unwrap_or_default();
            match resp.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(Vec::new()), // fewer than `skip` items
            }
        }
        let query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(gsi_pk));
        self.query_up_to(query, start, take).await
    }

    /// Runs `query` from `start` page after page until `take` items are read or none are left
    /// (each page asks only for what is still missing).
    pub(crate) async fn query_up_to<T: DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
        mut start: Option<Item>,
        take: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(take.min(1000));
        while out.len() < take {
            let resp = query
                .clone()
                .limit(i32::try_from(take - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            self.note_capacity(resp.consumed_capacity());
            for item in resp.items.unwrap_or_default() {
                out.push(from_item(item)?);
            }
            match resp.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Every item of a GSI1 partition, failing with `None` when there are more than `max`.
    pub(crate) async fn read_gsi1_bounded<T: DeserializeOwned>(
        &self,
        gsi_pk: &str,
        max: usize,
    ) -> Result<Option<Vec<T>>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(gsi_pk.to_string()))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            self.note_capacity(resp.consumed_capacity());
            for item in resp.items.unwrap_or_default() {
                if out.len() >= max {
                    return Ok(None);
                }
                out.push(from_item(item)?);
            }
            match resp.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(Some(out)),
            }
        }
    }
}
