//! Reading many items: partition queries, GSI1 lookups and pages, all through one paged Query
//! loop ([`Store::query_pages`]) that differs only in when it stops.
//!
//! SCIM pages by offset (`startIndex`) or cursor, DynamoDB by key. A full page remembers, for a
//! few minutes, the key it ended at under its end offset, so the next page of a sequential
//! import (Okta and Entra page `startIndex` 1, 101, 201, ...) starts there: one GetItem instead
//! of counting the offset. A client that jumps gets the old way: a `Select=COUNT` query with
//! `Limit=k` finds the key after the k-th item (capacity is charged for the skipped items, but
//! none crosses the network). A cursor holds the position itself. Order is GSI1's sort key: the
//! folded userName/displayName, so pages are stable.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::Select;
use scim_core::ids::{ResourceId, TenantId};
use scim_ops::{Page, PageStart};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::entity::Entity;
use crate::error::{from_sdk, StoreError};
use crate::items::{self, PagePositionItem};
use crate::keys;
use crate::store::{from_item, s, to_item, Item, Store};

const GSI1: &str = "gsi1";

/// How long a page position is remembered: an import pages far faster than this.
const POSITION_SECONDS: i64 = 15 * 60;

/// Where a page ended: the last item's id and GSI1 sort key, as `<id> <gsi1sk>`. A client
/// holding one (inside a cursor) can only move within its own tenant's index: the tenant's
/// keys are rebuilt around it.
fn position_of(last_key: &Item) -> Result<String, StoreError> {
    let text = |name: &str| {
        last_key
            .get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Internal(format!("page key without {name}")))
    };
    let pk = text("pk")?;
    let id = pk
        .rsplit('#')
        .next()
        .ok_or_else(|| StoreError::Internal("page key without an id".into()))?;
    Ok(format!("{id} {}", text("gsi1sk")?))
}

/// The start key a position stands for, in `tenant`'s index of `E`.
pub(crate) fn position_key<E: Entity>(
    tenant: &TenantId,
    position: &str,
) -> Result<Item, StoreError> {
    let (id, name) = position
        .split_once(' ')
        .ok_or(StoreError::InvalidPosition)?;
    let id = ResourceId::parse(id).ok_or(StoreError::InvalidPosition)?;
    if name.is_empty() || name.len() > keys::MAX_SORT_KEY_LEN {
        return Err(StoreError::InvalidPosition);
    }
    Ok(Item::from([
        ("pk".to_string(), s(E::pk(tenant, &id))),
        ("sk".to_string(), s(E::SK)),
        ("gsi1pk".to_string(), s(E::gsi(tenant))),
        ("gsi1sk".to_string(), s(name)),
    ]))
}

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

    /// A page of `E` in name order (GSI1) from `start`. An offset page starts where an earlier
    /// page remembered it ended (one GetItem), else skips with a `Select=COUNT` query; a full
    /// page remembers where it ends, so sequential offset paging costs the page, not the offset.
    pub(crate) async fn page_gsi1<E: Entity>(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> Result<Page<E>, StoreError> {
        let gsi = E::gsi(tenant);
        let empty = || Page {
            items: Vec::new(),
            next: None,
        };
        if take == 0 {
            return Ok(empty());
        }
        let (from, offset) = match start {
            PageStart::After(position) => (Some(position_key::<E>(tenant, position)?), None),
            PageStart::Offset(0) => (None, Some(0)),
            PageStart::Offset(skip) => match self.remembered::<E>(tenant, *skip).await? {
                Some(from) => (Some(from), Some(*skip)),
                None => {
                    let counting = self.gsi1_query(&gsi).select(Select::Count);
                    let skipped = self.query_pages(counting, None, Until::Have(*skip)).await?;
                    match skipped.next {
                        Some(key) if skipped.count >= *skip => (Some(key), Some(*skip)),
                        _ => return Ok(empty()), // no items after the first `skip`
                    }
                }
            },
        };
        self.read_page(tenant, from, offset, take).await
    }

    /// Up to `take` of `E` in name order from the start key `from` (the beginning when `None`);
    /// a full page read at a known `offset` remembers where it ends (see [`Self::page_gsi1`]).
    pub(crate) async fn read_page<E: Entity>(
        &self,
        tenant: &TenantId,
        from: Option<Item>,
        offset: Option<usize>,
        take: usize,
    ) -> Result<Page<E>, StoreError> {
        let gsi = E::gsi(tenant);
        let pages = self
            .query_pages(self.gsi1_query(&gsi), from, Until::Have(take))
            .await?;
        let full = pages.items.len() >= take;
        let next = match pages.next.as_ref() {
            Some(last) if full => Some(position_of(last)?),
            _ => None,
        };
        let items: Vec<E> = pages.items()?;
        if let (Some(offset), Some(position)) = (offset, next.as_ref()) {
            self.remember::<E>(tenant, offset + items.len(), position)
                .await?;
        }
        Ok(Page { items, next })
    }

    /// The position remembered for `offset`, as a start key; `None` when there is none (never
    /// written, or expired).
    async fn remembered<E: Entity>(
        &self,
        tenant: &TenantId,
        offset: usize,
    ) -> Result<Option<Item>, StoreError> {
        let item: Option<PagePositionItem> = self
            .get(
                keys::paging_pk(tenant),
                &keys::paging_sk(E::KIND, offset),
                false,
            )
            .await?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match item {
            Some(p) if p.expires_at > now => position_key::<E>(tenant, &p.position).map(Some),
            _ => Ok(None),
        }
    }

    /// Remembers that the page ending at `offset` ended at `position`, for a few minutes.
    async fn remember<E: Entity>(
        &self,
        tenant: &TenantId,
        offset: usize,
        position: &str,
    ) -> Result<(), StoreError> {
        let item = PagePositionItem {
            pk: keys::paging_pk(tenant),
            sk: keys::paging_sk(E::KIND, offset),
            entity: items::PAGE_POSITION.into(),
            position: position.to_string(),
            expires_at: OffsetDateTime::now_utc().unix_timestamp() + POSITION_SECONDS,
        };
        let out = self
            .client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(to_item(&item)?))
            .return_consumed_capacity(self.rcc())
            .send()
            .await
            .map_err(from_sdk)?;
        self.note_capacity(out.consumed_capacity());
        Ok(())
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
