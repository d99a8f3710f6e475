//! Uniqueness guards: one item per unique value (userName, displayName, externalId), written in
//! the same transaction as the resource, so two resources can never hold the same value.
//!
//! Every create, replace and delete of a user or group moves its guards the same way (see
//! [`Writes::move_guard`]): nothing when the value keeps its guard, otherwise the old guard goes
//! (only if this resource owns it) and the new one comes (only if nobody owns it).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use scim_core::ids::TenantId;

use crate::error::{StoreError, UniqueAttribute};
use crate::items::{self, UniqueItem};
use crate::keys::{self, Unique};
use crate::store::{key, s, to_item, tx, Store, TransactError};

/// The condition of every create: the item is not there yet.
pub(crate) const NOT_EXISTS: &str = "attribute_not_exists(pk)";
/// The condition of a guard's delete: it still belongs to the resource letting it go.
const OWNED_BY: &str = "owner_id = :owner";

/// The writes of one transaction, remembering at which index each guard's put sits so that a
/// failed condition there is answered with the uniqueness rule it enforces.
#[derive(Debug, Clone)]
pub(crate) struct Writes<'a> {
    table: &'a str,
    pub(crate) items: Vec<TransactWriteItem>,
    guards: Vec<(usize, UniqueAttribute)>,
}

impl<'a> Writes<'a> {
    pub(crate) fn new(table: &'a str) -> Self {
        Self {
            table,
            items: Vec::new(),
            guards: Vec::new(),
        }
    }

    pub(crate) fn table(&self) -> &'a str {
        self.table
    }

    pub(crate) fn push(&mut self, item: TransactWriteItem) {
        self.items.push(item);
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The guard writes for a unique value of `owner` changing from `before` to `after` (either
    /// may be absent: a create, a delete, an externalId set or cleared). Nothing when both name
    /// the same guard (names compare case-insensitively, external ids exactly).
    pub(crate) fn move_guard(
        &mut self,
        tenant: &TenantId,
        kind: Unique,
        owner: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), StoreError> {
        let old = before.map(|v| keys::unique_pk(tenant, kind, v));
        let new = after.map(|v| keys::unique_pk(tenant, kind, v));
        if old == new {
            return Ok(());
        }
        if let Some(pk) = old {
            self.items.push(tx::delete(
                self.table,
                key(pk, keys::UNIQUE_SK),
                Some((OWNED_BY, HashMap::from([(":owner".to_string(), s(owner))]))),
            )?);
        }
        if let Some(pk) = new {
            let guard = UniqueItem {
                pk,
                sk: keys::UNIQUE_SK.into(),
                entity: items::UNIQUE.into(),
                owner_id: owner.to_string(),
            };
            self.guards.push((self.items.len(), kind.attribute()));
            self.items
                .push(tx::put(self.table, to_item(&guard)?, Some(NOT_EXISTS))?);
        }
        Ok(())
    }

    /// What a failed transaction of these writes (followed by any others) means: `Taken` when a
    /// guard's condition failed, `VersionConflict` for any other failed condition, else the
    /// transient error.
    pub(crate) fn classify(&self, err: TransactError) -> StoreError {
        match err.failed_condition() {
            Some(index) => self
                .guards
                .iter()
                .find(|(i, _)| *i == index)
                .map_or(StoreError::VersionConflict, |(_, attr)| {
                    StoreError::Taken(*attr)
                }),
            None => err.into_store_error(),
        }
    }
}

impl Store {
    /// Sends `writes` as one transaction; a failed guard condition is `Taken`.
    pub(crate) async fn transact_writes(&self, mut writes: Writes<'_>) -> Result<(), StoreError> {
        let items = std::mem::take(&mut writes.items);
        self.transact(items).await.map_err(|e| writes.classify(e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    /// (kind of write, pk) of each write.
    fn summary(w: &Writes<'_>) -> Vec<(&'static str, String)> {
        w.items
            .iter()
            .map(|i| {
                if let Some(p) = i.put() {
                    ("put", p.item()["pk"].as_s().unwrap().clone())
                } else if let Some(d) = i.delete() {
                    ("delete", d.key()["pk"].as_s().unwrap().clone())
                } else {
                    ("other", String::new())
                }
            })
            .collect()
    }

    #[test]
    fn a_name_that_only_changes_case_keeps_its_guard() {
        let mut w = Writes::new("t");
        w.move_guard(&tenant(), Unique::UserName, "o", Some("Ann"), Some("ann"))
            .unwrap();
        w.move_guard(&tenant(), Unique::UserExternalId, "o", None, None)
            .unwrap();
        w.move_guard(
            &tenant(),
            Unique::GroupExternalId,
            "o",
            Some("X"),
            Some("X"),
        )
        .unwrap();
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn external_ids_compare_exactly_and_a_change_deletes_then_puts() {
        let mut w = Writes::new("t");
        w.move_guard(&tenant(), Unique::UserExternalId, "o", Some("x"), Some("X"))
            .unwrap();
        assert_eq!(
            summary(&w),
            [
                ("delete", "TENANT#acme#UNIQUE#USEREXTID#x".to_string()),
                ("put", "TENANT#acme#UNIQUE#USEREXTID#X".to_string()),
            ]
        );
        let delete = w.items[0].delete().unwrap();
        assert_eq!(delete.condition_expression(), Some(OWNED_BY));
        assert_eq!(
            delete.expression_attribute_values().unwrap()[":owner"]
                .as_s()
                .unwrap(),
            "o"
        );
        assert_eq!(
            w.items[1].put().unwrap().condition_expression(),
            Some(NOT_EXISTS)
        );
    }

    #[test]
    fn creates_only_put_and_deletes_only_delete() {
        let mut w = Writes::new("t");
        w.push(tx::put("t", key("TENANT#acme#GROUP#g".into(), "GROUP"), None).unwrap());
        w.move_guard(&tenant(), Unique::GroupDisplayName, "g", None, Some("Eng"))
            .unwrap();
        w.move_guard(&tenant(), Unique::GroupExternalId, "g", Some("E-1"), None)
            .unwrap();
        assert_eq!(
            summary(&w)[1..],
            [
                ("put", "TENANT#acme#UNIQUE#GROUPNAME#eng".to_string()),
                ("delete", "TENANT#acme#UNIQUE#GROUPEXTID#E-1".to_string()),
            ]
        );
        assert_eq!(w.guards, [(1, UniqueAttribute::DisplayName)]);
    }
}
