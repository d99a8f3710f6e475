//! Groups as projects, and their members as one item each (the membership writes are in
//! [`crate::members`]).

use std::collections::HashMap;

use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_core::patch::MemberDelta;
use scim_ops::{Change, Group, GroupStore, Member};

use crate::entity::records;
use crate::error::StoreError;
use crate::guards::{Writes, NOT_EXISTS};
use crate::items::{GroupItem, MembershipItem};
use crate::keys::{self, Unique};
use crate::members::{bump_version, MemberOp, Membership, Rest};
use crate::store::{from_item, key, n, s, to_item, tx, Item, Store, TransactError};

impl Writes<'_> {
    /// The guard writes of a group whose item changes from `before` to `after` (either absent:
    /// a create, a delete): its displayName and externalId guards.
    fn move_group_guards(
        &mut self,
        tenant: &TenantId,
        owner: &str,
        before: Option<&GroupItem>,
        after: Option<&GroupItem>,
    ) -> Result<(), StoreError> {
        self.move_guard(
            tenant,
            Unique::GroupDisplayName,
            owner,
            before.map(|g| g.display_name.as_str()),
            after.map(|g| g.display_name.as_str()),
        )?;
        self.move_guard(
            tenant,
            Unique::GroupExternalId,
            owner,
            before.and_then(|g| g.external_id.as_deref()),
            after.and_then(|g| g.external_id.as_deref()),
        )
    }
}

fn membership(tenant: &TenantId, group: &Group) -> Membership {
    Membership {
        tenant: tenant.clone(),
        gid: group.id.clone(),
        role: group.project_role,
    }
}

fn sort_key(item: &Item) -> &str {
    item.get("sk")
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

impl GroupStore for Store {
    /// The group item, its guards and as many initial members as fit go in one transaction;
    /// the others follow in transactions of 49 that each bump the group's version, after every
    /// member was checked to exist (so an unknown member fails the create before any write).
    async fn create_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        members: &[ResourceId],
        change: Change<'_>,
    ) -> Result<Group, StoreError> {
        let item = GroupItem::from_record(tenant, group);
        let mut head = Writes::new(self.table.as_ref());
        head.push(tx::put(head.table(), to_item(&item)?, Some(NOT_EXISTS))?);
        head.move_group_guards(tenant, &item.id, None, Some(&item))?;
        let mut seen = std::collections::BTreeSet::new();
        let ops: Vec<MemberOp> = members
            .iter()
            .filter(|m| seen.insert(*m))
            .map(|m| (m.clone(), true))
            .collect();
        let bumps = self
            .write_members(
                &membership(tenant, group),
                head,
                ops,
                Rest::BumpEach,
                change,
            )
            .await?;
        let mut stored = group.clone();
        if bumps > 0 {
            stored.version += bumps;
            stored.last_modified = change.at.to_string();
            stored.modified_by = Some(change.by.to_string());
        }
        Ok(stored)
    }

    /// One strongly consistent GetItem: what `excludedAttributes=members` needs.
    async fn get_group(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<Group>, StoreError> {
        self.get_live::<GroupItem>(tenant, id)
            .await?
            .map(Group::try_from)
            .transpose()
    }

    /// One strongly consistent Query of the group's partition (paged by DynamoDB at 1 MB,
    /// about 6,000 members a page).
    async fn get_group_with_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<(Group, Vec<Member>)>, StoreError> {
        let raw = self
            .query_partition_items(keys::group_pk(tenant, id), None, true)
            .await?;
        let mut group = None;
        let mut members = Vec::new();
        for item in raw {
            let sk = sort_key(&item);
            if sk == keys::GROUP_SK {
                group = Some(from_item::<GroupItem>(item)?);
            } else if sk.starts_with(keys::MEMBER_PREFIX) {
                members.push(Member::try_from(from_item::<MembershipItem>(item)?)?);
            }
        }
        match group.filter(|g| g.deleted_at.is_none() && g.tenant_id == tenant.as_str()) {
            Some(g) => Ok(Some((Group::try_from(g)?, members))),
            None => Ok(None),
        }
    }

    /// A consistent Query of the group's partition, member items only.
    async fn group_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Vec<Member>, StoreError> {
        let items: Vec<MembershipItem> = self
            .query_partition(keys::group_pk(tenant, id), Some(keys::MEMBER_PREFIX), true)
            .await?;
        items.into_iter().map(Member::try_from).collect()
    }

    async fn find_groups(
        &self,
        tenant: &TenantId,
        key: &IndexKey,
    ) -> Result<Vec<Group>, StoreError> {
        records(self.find_items::<GroupItem>(tenant, key).await?)
    }

    /// With `after`, the write is conditional on `before.version` and moves the guards;
    /// otherwise the group's version is bumped unconditionally (membership changes commute, so
    /// concurrent PATCHes never conflict on a version, and each member item is written
    /// independently). The first transaction holds the group's write and as many member pairs
    /// as fit; the rest follow 50 a transaction.
    async fn update_group(
        &self,
        tenant: &TenantId,
        before: &Group,
        after: Option<&Group>,
        delta: &MemberDelta,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let old = GroupItem::from_record(tenant, before);
        let mut head = Writes::new(self.table.as_ref());
        match after {
            Some(after) => {
                let new = GroupItem::from_record(tenant, after);
                head.push(tx::put_if(
                    head.table(),
                    to_item(&new)?,
                    "attribute_exists(pk) AND version = :v AND attribute_not_exists(deleted_at)",
                    HashMap::from([(":v".to_string(), n(before.version))]),
                )?);
                head.move_group_guards(tenant, &old.id, Some(&old), Some(&new))?;
            }
            None => head.push(bump_version(head.table(), old.pk.clone(), change)?),
        }
        let ops: Vec<MemberOp> = delta
            .add
            .iter()
            .map(|u| (u.clone(), true))
            .chain(delta.remove.iter().map(|u| (u.clone(), false)))
            .collect();
        self.write_members(
            &membership(tenant, before),
            head,
            ops,
            Rest::PairsOnly,
            change,
        )
        .await
        .map(|_| ())
    }

    /// Every member leaves (in parallel transactions), then the group becomes a deleted marker
    /// for the platform and its name is free again. Safe to retry.
    async fn delete_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let item = GroupItem::from_record(tenant, group);
        let members: Vec<ResourceId> = self
            .group_members(tenant, &group.id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        self.remove_members(&membership(tenant, group), &members, change)
            .await?;
        let mut writes = Writes::new(self.table.as_ref());
        writes.push(tx::update(
            writes.table(),
            key(item.pk.clone(), keys::GROUP_SK),
            "SET deleted_at = :now, last_modified = :now, modified_by = :by, \
             version = version + :one REMOVE gsi1pk, gsi1sk",
            Some("attribute_exists(pk) AND attribute_not_exists(deleted_at)"),
            None,
            HashMap::from([
                (":now".to_string(), s(change.at)),
                (":by".to_string(), s(change.by)),
                (":one".to_string(), n(1)),
            ]),
        )?);
        writes.move_group_guards(tenant, &item.id, Some(&item), None)?;
        self.transact(writes.items)
            .await
            .map_err(TransactError::into_store_error)
    }

    async fn count_groups(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        self.count_live::<GroupItem>(tenant).await
    }

    async fn page_groups(
        &self,
        tenant: &TenantId,
        skip: usize,
        take: usize,
    ) -> Result<Vec<Group>, StoreError> {
        self.page_records::<GroupItem>(tenant, skip, take).await
    }

    async fn all_groups(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<Group>>, StoreError> {
        self.all_records::<GroupItem>(tenant, max).await
    }
}
