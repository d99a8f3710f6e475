//! Groups as projects, and their members as one item each.
//!
//! A membership change writes two items per member in one transaction: the membership item in
//! the group's partition, and the user's `group_ids` set (so reading a user, with its groups, is
//! one GetItem). A transaction holds 100 items, so k member changes cost about k/49 write round
//! trips; a change of up to 49 members, together with any attribute change, is atomic.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use scim_core::ids::{ResourceId, TenantId};
use serde_json::Value;

use crate::error::{StoreError, UniqueAttribute};
use crate::items::{self, Change, GroupItem, MembershipItem, UniqueItem};
use crate::keys::{self, Unique};
use crate::store::{key, n, s, to_item, tx, Store, TransactError, MAX_TRANSACTION_ITEMS};
use crate::users::{unique_item, Guards, NOT_EXISTS, OWNED_BY};

/// Concurrent transactions used to dissolve a large group.
const DELETE_PARALLELISM: usize = 4;

/// Members moved by one request, already folded so that no user appears twice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberDelta {
    pub add: Vec<ResourceId>,
    pub remove: Vec<ResourceId>,
}

impl MemberDelta {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// A member as read from the group's partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: String,
    pub project_role: String,
}

impl GroupItem {
    /// A group item for `doc` at `version`, stamped with `change` (when and by whom).
    pub fn build(
        tenant: &TenantId,
        id: &ResourceId,
        doc: Value,
        project_role: String,
        version: u64,
        created: String,
        change: Change<'_>,
    ) -> Self {
        let display_name = doc
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Self {
            pk: keys::group_pk(tenant, id),
            sk: keys::GROUP_SK.into(),
            gsi1pk: Some(keys::groups_gsi(tenant)),
            gsi1sk: Some(keys::name_sk(&display_name)),
            entity: items::GROUP.into(),
            tenant_id: tenant.to_string(),
            id: id.to_string(),
            display_name,
            external_id: scim_core::codec::external_id(&doc).map(str::to_string),
            project_role,
            doc,
            version,
            created,
            last_modified: change.at.to_string(),
            modified_by: Some(change.by.to_string()),
            deleted_at: None,
        }
    }

    pub fn resource_id(&self) -> Option<ResourceId> {
        ResourceId::parse(&self.id)
    }
}

impl Store {
    /// Creates a group (project) and, atomically, up to 48 initial members.
    pub async fn create_group(
        &self,
        tenant: &TenantId,
        group: &GroupItem,
        members: &[ResourceId],
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let table = self.table.as_ref();
        let mut writes = vec![tx::put(table, to_item(group)?, Some(NOT_EXISTS))?];
        let mut guards = Guards(vec![(1, UniqueAttribute::DisplayName)]);
        writes.push(tx::put(
            table,
            to_item(&unique_item(
                tenant,
                Unique::GroupDisplayName,
                &group.display_name,
                &group.id,
            ))?,
            Some(NOT_EXISTS),
        )?);
        if let Some(ext) = &group.external_id {
            guards.0.push((writes.len(), UniqueAttribute::ExternalId));
            writes.push(tx::put(
                table,
                to_item(&unique_item(
                    tenant,
                    Unique::GroupExternalId,
                    ext,
                    &group.id,
                ))?,
                Some(NOT_EXISTS),
            )?);
        }
        let delta = MemberDelta {
            add: members.to_vec(),
            remove: Vec::new(),
        };
        self.write_members(tenant, group, writes, guards, &delta, change)
            .await
    }

    /// Reads a group item alone (one GetItem): what `excludedAttributes=members` needs.
    pub async fn get_group(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<GroupItem>, StoreError> {
        let group: Option<GroupItem> = self
            .get(keys::group_pk(tenant, id), keys::GROUP_SK, true)
            .await?;
        Ok(group.filter(|g| g.deleted_at.is_none() && g.tenant_id == tenant.as_str()))
    }

    /// Reads a group with all its members: one strongly consistent Query of its partition
    /// (paged by DynamoDB at 1 MB, about 6,000 members a page).
    pub async fn get_group_with_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<(GroupItem, Vec<Member>)>, StoreError> {
        let raw: Vec<HashMap<String, AttributeValue>> =
            self.query_partition_raw(keys::group_pk(tenant, id)).await?;
        let mut group = None;
        let mut members = Vec::new();
        for item in raw {
            let sk = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if sk == keys::GROUP_SK {
                group = Some(crate::store::from_item::<GroupItem>(item)?);
            } else if sk.starts_with(keys::MEMBER_PREFIX) {
                let m: MembershipItem = crate::store::from_item(item)?;
                members.push(Member {
                    user_id: m.user_id,
                    project_role: m.project_role,
                });
            }
        }
        Ok(group
            .filter(|g| g.deleted_at.is_none() && g.tenant_id == tenant.as_str())
            .map(|g| (g, members)))
    }

    /// The members of a group (a consistent Query of its partition).
    pub async fn group_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Vec<Member>, StoreError> {
        let items: Vec<MembershipItem> = self
            .query_partition(keys::group_pk(tenant, id), Some(keys::MEMBER_PREFIX), true)
            .await?;
        Ok(items
            .into_iter()
            .map(|m| Member {
                user_id: m.user_id,
                project_role: m.project_role,
            })
            .collect())
    }

    /// `displayName eq "x"`: one Query on GSI1.
    pub async fn find_group_by_display_name(
        &self,
        tenant: &TenantId,
        display_name: &str,
    ) -> Result<Option<GroupItem>, StoreError> {
        let found: Vec<GroupItem> = self
            .query_gsi1_eq(keys::groups_gsi(tenant), keys::name_sk(display_name))
            .await?;
        Ok(found.into_iter().find(|g| g.deleted_at.is_none()))
    }

    /// `externalId eq "x"` for groups.
    pub async fn find_group_id_by_external_id(
        &self,
        tenant: &TenantId,
        external_id: &str,
    ) -> Result<Option<ResourceId>, StoreError> {
        let pk = keys::unique_pk(tenant, Unique::GroupExternalId, external_id);
        let owner: Option<UniqueItem> = self.get(pk, keys::UNIQUE_SK, true).await?;
        Ok(owner.and_then(|o| ResourceId::parse(&o.owner_id)))
    }

    pub async fn count_groups(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        self.count_gsi1(&keys::groups_gsi(tenant)).await
    }

    pub async fn page_groups(
        &self,
        tenant: &TenantId,
        skip: usize,
        take: usize,
    ) -> Result<Vec<GroupItem>, StoreError> {
        self.page_gsi1(&keys::groups_gsi(tenant), skip, take).await
    }

    pub async fn all_groups(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<GroupItem>>, StoreError> {
        self.read_gsi1_bounded(&keys::groups_gsi(tenant), max).await
    }

    /// Applies an attribute change (`after`, when given) and a member delta to a group. With
    /// `after`, the write is conditional on `before.version`; otherwise the group's version is
    /// bumped unconditionally (membership changes commute, so concurrent PATCHes never conflict
    /// on a version, and each member item is written independently).
    pub async fn update_group(
        &self,
        tenant: &TenantId,
        before: &GroupItem,
        after: Option<&GroupItem>,
        delta: &MemberDelta,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let (writes, guards) = match after {
            Some(after) => self.group_replace_writes(tenant, before, after)?,
            None => (
                vec![tx::update(
                    self.table.as_ref(),
                    key(before.pk.clone(), keys::GROUP_SK),
                    "SET version = version + :one, last_modified = :now, modified_by = :by",
                    Some("attribute_exists(pk) AND attribute_not_exists(deleted_at)"),
                    None,
                    HashMap::from([
                        (":one".to_string(), n(1)),
                        (":now".to_string(), s(change.at)),
                        (":by".to_string(), s(change.by)),
                    ]),
                )?],
                Guards(Vec::new()),
            ),
        };
        self.write_members(tenant, before, writes, guards, delta, change)
            .await
    }

    /// The writes replacing a group's document, with its uniqueness items.
    fn group_replace_writes(
        &self,
        tenant: &TenantId,
        before: &GroupItem,
        after: &GroupItem,
    ) -> Result<(Vec<TransactWriteItem>, Guards), StoreError> {
        let table = self.table.as_ref();
        let v = HashMap::from([(":v".to_string(), n(before.version))]);
        let mut writes = vec![tx::put_if(
            table,
            to_item(after)?,
            "attribute_exists(pk) AND version = :v AND attribute_not_exists(deleted_at)",
            v,
        )?];
        let mut guards = Guards(Vec::new());
        let owner = HashMap::from([(":owner".to_string(), s(before.id.clone()))]);
        if keys::fold(&before.display_name) != keys::fold(&after.display_name) {
            writes.push(tx::delete(
                table,
                key(
                    keys::unique_pk(tenant, Unique::GroupDisplayName, &before.display_name),
                    keys::UNIQUE_SK,
                ),
                Some((OWNED_BY, owner.clone())),
            )?);
            guards.0.push((writes.len(), UniqueAttribute::DisplayName));
            writes.push(tx::put(
                table,
                to_item(&unique_item(
                    tenant,
                    Unique::GroupDisplayName,
                    &after.display_name,
                    &after.id,
                ))?,
                Some(NOT_EXISTS),
            )?);
        }
        if before.external_id != after.external_id {
            if let Some(old) = &before.external_id {
                writes.push(tx::delete(
                    table,
                    key(
                        keys::unique_pk(tenant, Unique::GroupExternalId, old),
                        keys::UNIQUE_SK,
                    ),
                    Some((OWNED_BY, owner.clone())),
                )?);
            }
            if let Some(new) = &after.external_id {
                guards.0.push((writes.len(), UniqueAttribute::ExternalId));
                writes.push(tx::put(
                    table,
                    to_item(&unique_item(
                        tenant,
                        Unique::GroupExternalId,
                        new,
                        &after.id,
                    ))?,
                    Some(NOT_EXISTS),
                )?);
            }
        }
        Ok((writes, guards))
    }

    /// Sends `head` (the group's own writes) with as many member pairs as fit, then the rest of
    /// the delta in further transactions. When the delta spans several transactions, every user
    /// to add is checked first, so a bad member id fails the request before anything is written.
    async fn write_members(
        &self,
        tenant: &TenantId,
        group: &GroupItem,
        head: Vec<TransactWriteItem>,
        guards: Guards,
        delta: &MemberDelta,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let gid = group
            .resource_id()
            .ok_or_else(|| StoreError::Internal("stored group id is malformed".into()))?;
        let mut ops: Vec<(ResourceId, bool)> = delta
            .add
            .iter()
            .map(|u| (u.clone(), true))
            .chain(delta.remove.iter().map(|u| (u.clone(), false)))
            .collect();
        let first_capacity = (MAX_TRANSACTION_ITEMS - head.len()) / 2;
        if ops.len() > first_capacity && !delta.add.is_empty() {
            let found: BTreeSet<String> = self
                .get_users(tenant, &delta.add)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
            if let Some(missing) = delta.add.iter().find(|u| !found.contains(u.as_str())) {
                return Err(StoreError::MissingReference(missing.to_string()));
            }
        }
        let rest = ops.split_off(first_capacity.min(ops.len()));
        self.member_transaction(tenant, group, &gid, head, &guards, ops, change)
            .await?;
        for chunk in rest.chunks(MAX_TRANSACTION_ITEMS / 2) {
            self.member_transaction(
                tenant,
                group,
                &gid,
                Vec::new(),
                &Guards(Vec::new()),
                chunk.to_vec(),
                change,
            )
            .await?;
        }
        Ok(())
    }

    /// One transaction of `head` plus member pairs. Each pair is conditional: an add only when
    /// the user is not yet a member, a remove only when it is. DynamoDB names every item whose
    /// condition failed, so the no-ops (re-adding a member, removing a non-member or an id that
    /// is no user) are dropped and the rest is sent again: a no-op writes nothing, not even a
    /// new user version. An add whose user does not exist is a `MissingReference`.
    #[allow(clippy::too_many_arguments)]
    async fn member_transaction(
        &self,
        tenant: &TenantId,
        group: &GroupItem,
        gid: &ResourceId,
        head: Vec<TransactWriteItem>,
        guards: &Guards,
        mut ops: Vec<(ResourceId, bool)>,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        loop {
            let mut writes = head.clone();
            let base = writes.len();
            for (uid, add) in &ops {
                writes.extend(self.member_pair(tenant, group, gid, uid, *add, change)?);
            }
            if writes.is_empty() {
                return Ok(());
            }
            let err = match self.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(err) => err,
            };
            let failed = err.failed_conditions();
            if failed.is_empty() {
                return Err(err.into_store_error());
            }
            if failed.iter().any(|i| *i < base) {
                return Err(guards.classify(err));
            }
            let mut drop = BTreeSet::new();
            for i in failed {
                let pair = (i - base) / 2;
                let user_item = (i - base) % 2 == 1;
                if let Some((uid, add)) = ops.get(pair) {
                    if *add && user_item {
                        return Err(StoreError::MissingReference(uid.to_string()));
                    }
                    drop.insert(pair);
                }
            }
            ops = ops
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, op)| op)
                .collect();
        }
    }

    /// The two writes of one membership change: the membership item and the user's group set.
    fn member_pair(
        &self,
        tenant: &TenantId,
        group: &GroupItem,
        gid: &ResourceId,
        uid: &ResourceId,
        add: bool,
        change: Change<'_>,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let table = self.table.as_ref();
        let member_key = key(keys::group_pk(tenant, gid), &keys::member_sk(uid));
        let user_key = key(keys::user_pk(tenant, uid), keys::USER_SK);
        let set = AttributeValue::Ss(vec![gid.to_string()]);
        let common = HashMap::from([
            (":g".to_string(), set),
            (":now".to_string(), s(change.at)),
            (":by".to_string(), s(change.by)),
            (":one".to_string(), n(1)),
        ]);
        if add {
            let member = tx::update(
                table,
                member_key,
                "SET #t = :type, tenant_id = :tenant, group_id = :gid, user_id = :uid, \
                 project_role = :role, added_at = :now",
                Some("attribute_not_exists(pk)"),
                Some(HashMap::from([("#t".to_string(), "type".to_string())])),
                HashMap::from([
                    (":type".to_string(), s(items::MEMBERSHIP)),
                    (":tenant".to_string(), s(tenant.as_str())),
                    (":gid".to_string(), s(gid.as_str())),
                    (":uid".to_string(), s(uid.as_str())),
                    (":role".to_string(), s(group.project_role.clone())),
                    (":now".to_string(), s(change.at)),
                ]),
            )?;
            let user = tx::update(
                table,
                user_key,
                "ADD group_ids :g SET last_modified = :now, modified_by = :by, version = version + :one",
                Some("attribute_exists(pk) AND attribute_not_exists(deleted_at)"),
                None,
                common,
            )?;
            Ok([member, user])
        } else {
            let member = tx::delete(
                table,
                member_key,
                Some(("attribute_exists(pk)", HashMap::new())),
            )?;
            let user = tx::update(
                table,
                user_key,
                "DELETE group_ids :g SET last_modified = :now, modified_by = :by, \
                 version = version + :one",
                Some("attribute_exists(pk)"),
                None,
                common,
            )?;
            Ok([member, user])
        }
    }

    /// Deletes a group: every member leaves (in parallel transactions), then the group becomes a
    /// deleted marker for the platform and its name is free again. Safe to retry.
    pub async fn delete_group(
        &self,
        tenant: &TenantId,
        group: &GroupItem,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let gid = group
            .resource_id()
            .ok_or_else(|| StoreError::Internal("stored group id is malformed".into()))?;
        let members = self.group_members(tenant, &gid).await?;
        let ids: Vec<ResourceId> = members
            .iter()
            .filter_map(|m| ResourceId::parse(&m.user_id))
            .collect();
        let mut chunks = ids
            .chunks(MAX_TRANSACTION_ITEMS / 2)
            .map(<[ResourceId]>::to_vec);
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < DELETE_PARALLELISM {
                let Some(chunk) = chunks.next() else { break };
                let (store, tenant, group, gid, at, by) = (
                    self.clone(),
                    tenant.clone(),
                    group.clone(),
                    gid.clone(),
                    change.at.to_string(),
                    change.by.to_string(),
                );
                running.spawn(async move {
                    let ops = chunk.into_iter().map(|u| (u, false)).collect();
                    store
                        .member_transaction(
                            &tenant,
                            &group,
                            &gid,
                            Vec::new(),
                            &Guards(Vec::new()),
                            ops,
                            Change { at: &at, by: &by },
                        )
                        .await
                });
            }
            match running.join_next().await {
                Some(Ok(result)) => result?,
                Some(Err(join)) => {
                    return Err(StoreError::Internal(format!("delete task: {join}")))
                }
                None => break,
            }
        }
        let table = self.table.as_ref();
        let owner = HashMap::from([(":owner".to_string(), s(group.id.clone()))]);
        let mut writes = vec![tx::update(
            table,
            key(group.pk.clone(), keys::GROUP_SK),
            "SET deleted_at = :now, last_modified = :now, modified_by = :by, \
             version = version + :one REMOVE gsi1pk, gsi1sk",
            Some("attribute_exists(pk) AND attribute_not_exists(deleted_at)"),
            None,
            HashMap::from([
                (":now".to_string(), s(change.at)),
                (":by".to_string(), s(change.by)),
                (":one".to_string(), n(1)),
            ]),
        )?];
        writes.push(tx::delete(
            table,
            key(
                keys::unique_pk(tenant, Unique::GroupDisplayName, &group.display_name),
                keys::UNIQUE_SK,
            ),
            Some((OWNED_BY, owner.clone())),
        )?);
        if let Some(ext) = &group.external_id {
            writes.push(tx::delete(
                table,
                key(
                    keys::unique_pk(tenant, Unique::GroupExternalId, ext),
                    keys::UNIQUE_SK,
                ),
                Some((OWNED_BY, owner)),
            )?);
        }
        self.transact(writes)
            .await
            .map_err(TransactError::into_store_error)
    }

    /// Every item of a partition, unparsed (a group's partition mixes two item shapes).
    async fn query_partition_raw(
        &self,
        pk: String,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        self.query_partition_items(pk, None, true).await
    }
}
