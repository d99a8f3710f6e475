//! Groups as projects, and their members as one item each (the membership writes are in
//! [`crate::members`]).

use std::collections::HashMap;

use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_core::patch::MemberDelta;
use scim_ops::{Change, Group, GroupStore, Member, Page, PageStart};

use crate::counts::count_change;
use crate::entity::records;
use crate::entity::Entity;
use crate::error::StoreError;
use crate::guards::{Writes, NOT_EXISTS};
use crate::items::{GroupItem, MembershipItem, UserItem};
use crate::keys::{self, Unique};
use crate::members::{bump_version, Head, MemberOp, Membership};
use crate::store::{from_item, key, n, s, to_item, tx, Item, Store};

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

/// How often a group delete reads the members again when members keep arriving meanwhile.
const DELETE_ATTEMPTS: usize = 4;

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
        head.push(count_change::<GroupItem>(
            head.table(),
            tenant,
            &group.id,
            1,
        )?);
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
                Head::Required,
                ops,
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

    /// `members.value eq` reads the user's own group list (one GetItem), then those groups
    /// (BatchGetItem, 100 a call): never a Query per group.
    async fn find_groups(
        &self,
        tenant: &TenantId,
        index: &IndexKey,
    ) -> Result<Vec<Group>, StoreError> {
        let IndexKey::Member(user) = index else {
            return records(self.find_items::<GroupItem>(tenant, index).await?);
        };
        let Some(user) = ResourceId::parse(user) else {
            return Ok(Vec::new());
        };
        let Some(user) = self.get_live::<UserItem>(tenant, &user).await? else {
            return Ok(Vec::new());
        };
        let mut groups: Vec<GroupItem> = self
            .batch_get(user.group_ids.iter().filter_map(|gid| {
                ResourceId::parse(gid).map(|gid| key(keys::group_pk(tenant, &gid), keys::GROUP_SK))
            }))
            .await?;
        groups.retain(|g| g.is_live(tenant));
        records(groups)
    }

    /// The membership items of these users (BatchGetItem, 100 a call).
    async fn members_among(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        users: &[ResourceId],
    ) -> Result<Vec<ResourceId>, StoreError> {
        let found: Vec<MembershipItem> = self
            .batch_get(
                users
                    .iter()
                    .map(|u| key(keys::group_pk(tenant, id), &keys::member_sk(u))),
            )
            .await?;
        found
            .into_iter()
            .map(|m| crate::records::stored_id(&m.user_id))
            .collect()
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
        let head_kind = if after.is_some() {
            Head::Required
        } else {
            Head::BumpOnly
        };
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
        self.write_members(&membership(tenant, before), head, head_kind, ops, change)
            .await
            .map(|_| ())
    }

    /// Every member leaves (in parallel transactions), then the group becomes a deleted marker
    /// for the platform and its name is free again, conditional on the version read with the
    /// members: a member added meanwhile moved the version (every member transaction bumps it),
    /// so the delete reads the members again rather than leave one behind. Safe to retry.
    async fn delete_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        for _ in 0..DELETE_ATTEMPTS {
            let Some((current, members)) = self.get_group_with_members(tenant, &group.id).await?
            else {
                return Err(StoreError::VersionConflict);
            };
            let item = GroupItem::from_record(tenant, &current);
            let members: Vec<ResourceId> = members.into_iter().map(|m| m.user_id).collect();
            self.remove_members(&membership(tenant, &current), &members, change)
                .await?;
            let mut writes = Writes::new(self.table.as_ref());
            writes.push(tx::update(
                writes.table(),
                key(item.pk.clone(), keys::GROUP_SK),
                "SET deleted_at = :now, last_modified = :now, modified_by = :by, \
                 version = version + :one REMOVE gsi1pk, gsi1sk",
                Some("version = :v AND attribute_not_exists(deleted_at)"),
                None,
                HashMap::from([
                    (":now".to_string(), s(change.at)),
                    (":by".to_string(), s(change.by)),
                    (":one".to_string(), n(1)),
                    (":v".to_string(), n(current.version)),
                ]),
            )?);
            writes.move_group_guards(tenant, &item.id, Some(&item), None)?;
            writes.push(count_change::<GroupItem>(
                writes.table(),
                tenant,
                &group.id,
                -1,
            )?);
            match self.transact(writes.items).await {
                Ok(()) => return Ok(()),
                // The marker's condition: the group changed (or went) since its members were
                // read; read again.
                Err(err) if err.failed_condition() == Some(0) => continue,
                Err(err) => return Err(err.into_store_error()),
            }
        }
        Err(StoreError::TransactionConflict)
    }

    async fn count_groups(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        self.count::<GroupItem>(tenant).await
    }

    async fn page_groups(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> Result<Page<Group>, StoreError> {
        self.page_records::<GroupItem>(tenant, start, take).await
    }

    async fn all_groups(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<Group>>, StoreError> {
        self.all_records::<GroupItem>(tenant, max).await
    }
}
