//! Per-tenant counts of users and groups, kept in the transactions that create and delete
//! them, so `totalResults` costs one small Query whatever the tenant's size. A count is split
//! over [`keys::COUNT_SHARDS`] items (a resource adds to the shard its id picks), so concurrent
//! creates rarely write the same item; reading sums the shards.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use scim_core::ids::{ResourceId, TenantId};

use crate::entity::Entity;
use crate::error::{from_sdk, StoreError};
use crate::items;
use crate::keys;
use crate::store::{key, s, tx, Store};

/// The transaction write that adds `delta` (+1 on create, -1 on delete) to the tenant's count
/// of `E`: unconditional, so it never fails the transaction it rides in.
pub(crate) fn count_change<E: Entity>(
    table: &str,
    tenant: &TenantId,
    id: &ResourceId,
    delta: i64,
) -> Result<TransactWriteItem, StoreError> {
    tx::update(
        table,
        key(keys::counts_pk(tenant), &keys::count_sk(E::KIND, id)),
        "ADD n :d SET #t = :type",
        None,
        Some(HashMap::from([("#t".to_string(), "type".to_string())])),
        HashMap::from([
            (":d".to_string(), AttributeValue::N(delta.to_string())),
            (":type".to_string(), s(items::COUNT)),
        ]),
    )
}

impl Store {
    /// The tenant's count of `E`: one strongly consistent Query of the count shards.
    pub(crate) async fn count<E: Entity>(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :kind)")
            .expression_attribute_values(":pk", s(keys::counts_pk(tenant)))
            .expression_attribute_values(":kind", s(format!("{}#", E::KIND)))
            .return_consumed_capacity(self.rcc())
            .send()
            .await
            .map_err(from_sdk)?;
        self.note_capacity(out.consumed_capacity());
        let total: i64 = out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| item.get("n").and_then(|n| n.as_n().ok()))
            .filter_map(|n| n.parse::<i64>().ok())
            .sum();
        // A resource's create and delete add to the same shard; only resources created before
        // counts existed could take a shard, or the sum, below zero.
        Ok(usize::try_from(total).unwrap_or(0))
    }
}
