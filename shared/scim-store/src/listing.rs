//! Reading many items: partition queries, GSI1 lookups, counts and offset pages, all through
//! one paged Query loop ([`Store::query_pages`]) that differs only in when it stops.
//!
//! SCIM pages by offset (`startIndex`), DynamoDB by key. A page at offset k first runs a
//! `Select=COUNT` query with `Limit=k` to find the key after the k-th item (capacity is charged
//! for the skipped items, but no item crosses the network), then reads `count` items from there.
//! Order is GSI1's sort key: the folded userName/displayName, so pages are stable.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::Select;
use serde::de::DeserializeOwned;

use crate::error::{from_sdk, StoreError};
use crate::store::{from_item, s, Item, Store};

const GSI1: &str = "gsi1";

/// When a paged Query stops reading pages (besides running out of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// Read every page.
    End,
    /// Stop once this many items were read (or counted, with `Select=COUNT`); every page asks
    /// (`Limit`) only for what is still missing.
    Have(usize),
    /// Read every page, but give up as soon as more than this many items came back.
    NoMoreThan(usize),
}

/// What a paged Query read.
#[derive(Debug, Default)]
pub(crate) struct Pages {
    /// The items (none with `Select=COUNT`).
    pub(crate) items: Vec<Item>,
    /// How many items the pages held: `items.len()`, or the counts of a `Select=COUNT` query.
    pub(crate) count: usize,
    /// Where the next page would start; `None` when the query ran out of items.
    pub(crate) next: Option<Item>,
    /// The stop rule gave up: [`Until::NoMoreThan`] was exceeded.
    pub(crate) exceeded: bool,
}

impl Pages {
    fn items<T: DeserializeOwned>(self) -> Result<Vec<T>, StoreError> {
        self.items.into_iter().map(from_item).collect()
    }
}

impl Store {
    /// The one paged Query loop: runs `query` from `start` page after page until it runs out of
    /// items or `until` says stop.
    pub(crate) async fn query_pages(
        &self,
        query: QueryFluentBuilder,
        start: Option<Item>,
        until: Until,
    ) -> Result<Pages, StoreError> {
        let mut pages = Pages {
            next: start,
            ..Pages::default()
        };
        loop {
            let limit = match until {
                Until::Have(wanted) if pages.count >= wanted => return Ok(pages),
                Until::Have(wanted) => {
                    Some(i32::try_from(wanted - pages.count).unwrap_or(i32::MAX))
                }
                Until::End | Until::NoMoreThan(_) => None,
            };
            let q = query
                .clone()
                .set_exclusive_start_key(pages.next.take())
                .set_limit(limit);
            let resp = q
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map_err(from_sdk)?;
            self.note_capacity(resp.consumed_capacity());
            let items = resp.items.unwrap_or_default();
            // `Count` is the page's item count; a `Select=COUNT` page has no items.
            pages.count += items
                .len()
                .max(usize::try_from(resp.count).unwrap_or_default());
            pages.items.extend(items);
            if let Until::NoMoreThan(max) = until {
                if pages.items.len() > max {
                    pages.exceeded = true;
                    return Ok(pages);
                }
            }
            match resp.last_evaluated_key {
                Some(k) if !k.is_empty() => pages.next = Some(k),
                _ => return Ok(pages),
            }
        }
    }

    /// A Query of the table (not an index) on one partition, optionally restricted to a
    /// sort-key prefix.
    fn partition_query(
        &self,
        pk: String,
        sk_prefix: Option<&str>,
        consistent: bool,
    ) -> QueryFluentBuilder {
        let q = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .consistent_read(consistent)
            .expression_attribute_values(":pk", s(pk));
        match sk_prefix {
            Some(prefix) => q
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
            None => q.key_condition_expression("pk = :pk"),
        }
    }

    /// A Query of one GSI1 partition.
    fn gsi1_query(&self, gsi_pk: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(gsi_pk))
    }

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

    /// Every raw item of a partition (a group's partition mixes two item shapes).
    pub(crate) async fn query_partition_items(
        &self,
        pk: String,
        sk_prefix: Option<&str>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let query = self.partition_query(pk, sk_prefix, consistent);
        Ok(self.query_pages(query, None, Until::End).await?.items)
    }

    /// Items of a GSI1 partition whose sort key equals `sk`: one Query, one page.
    pub(crate) async fn query_gsi1_eq<T: DeserializeOwned>(
        &self,
        gsi_pk: &str,
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
            .map_err(from_sdk)?;
        self.note_capacity(resp.consumed_capacity());
        resp.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// How many items a GSI1 partition holds (a `Select=COUNT` query, paged).
    pub(crate) async fn count_gsi1(&self, gsi_pk: &str) -> Result<usize, StoreError> {
        let query = self.gsi1_query(gsi_pk).select(Select::Count);
        Ok(self.query_pages(query, None, Until::End).await?.count)
    }

    /// Up to `take` items of a GSI1 partition after skipping `skip` of them, in sort-key order.
    pub(crate) async fn page_gsi1<T: DeserializeOwned>(
        &self,
        gsi_pk: &str,
        skip: usize,
        take: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut start = None;
        if skip > 0 {
            let counting = self.gsi1_query(gsi_pk).select(Select::Count);
            let skipped = self.query_pages(counting, None, Until::Have(skip)).await?;
            match skipped.next {
                Some(key) if skipped.count >= skip => start = Some(key),
                _ => return Ok(Vec::new()), // no items after the first `skip`
            }
        }
        self.query_up_to(self.gsi1_query(gsi_pk), start, take).await
    }

    /// Runs `query` from `start` until `take` items are read or none are left (each page asks
    /// only for what is still missing).
    pub(crate) async fn query_up_to<T: DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
        start: Option<Item>,
        take: usize,
    ) -> Result<Vec<T>, StoreError> {
        self.query_pages(query, start, Until::Have(take))
            .await?
            .items()
    }

    /// Every item of a GSI1 partition, or `None` when there are more than `max`.
    pub(crate) async fn read_gsi1_bounded<T: DeserializeOwned>(
        &self,
        gsi_pk: &str,
        max: usize,
    ) -> Result<Option<Vec<T>>, StoreError> {
        let pages = self
            .query_pages(self.gsi1_query(gsi_pk), None, Until::NoMoreThan(max))
            .await?;
        if pages.exceeded {
            return Ok(None);
        }
        pages.items().map(Some)
    }
}
