//! Membership writes. A membership change writes two items per member in one transaction: the
//! membership item in the group's partition, and the user's `group_ids` set (so reading a user,
//! with its groups, is one GetItem). A transaction holds 100 items, so k member changes cost
//! about k/49 write round trips; a change of up to 48 members, together with any attribute
//! change, is atomic. When a change needs more than one transaction, every user to add is
//! checked first (BatchGetItem), so a bad member id fails the request before anything is written,
//! and every transaction bumps the group's version, so none lands on a deleted group and a
//! delete racing it sees its members (see `GroupStore::delete_group`).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use scim_core::ids::{ResourceId, TenantId};
use scim_core::ProjectRole;
use scim_ops::Change;

use crate::error::StoreError;
use crate::guards::Writes;
use crate::items;
use crate::keys;
use crate::store::{key, n, s, tx, Store, MAX_TRANSACTION_ITEMS};

/// Concurrent transactions used to dissolve a large group.
const DELETE_PARALLELISM: usize = 4;

/// One membership change: the user, and whether it joins (`true`) or leaves.
pub(crate) type MemberOp = (ResourceId, bool);

/// The group whose members change, with what its membership items record.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    pub(crate) tenant: TenantId,
    pub(crate) gid: ResourceId,
    /// The role new members get.
    pub(crate) role: ProjectRole,
}

/// Whether the first transaction's own writes must go even when every member change in it
/// turns out to change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// They carry a change of their own (a new group, a new document).
    Required,
    /// They only bump the group's version for the member changes: nothing changed, nothing
    /// written, and the ETag stays.
    BumpOnly,
}

/// The unconditional version bump of a group whose members change (it must still exist).
pub(crate) fn bump_version(
    table: &str,
    group_pk: String,
    change: Change<'_>,
) -> Result<TransactWriteItem, StoreError> {
    tx::update(
        table,
        key(group_pk, keys::GROUP_SK),
        "SET version = version + :one, last_modified = :now, modified_by = :by",
        Some("attribute_exists(pk) AND attribute_not_exists(deleted_at)"),
        None,
        HashMap::from([
            (":one".to_string(), n(1)),
            (":now".to_string(), s(change.at)),
            (":by".to_string(), s(change.by)),
        ]),
    )
}

impl Store {
    /// Sends `head` (the group's own writes) with as many member pairs as fit, then the rest of
    /// `ops` in transactions of 49 pairs, each also bumping the group's version: so each checks
    /// that the group is still there, and a concurrent delete, which finishes only at the
    /// version it read, sees every member added meanwhile. Returns how many further
    /// transactions bumped the version.
    pub(crate) async fn write_members(
        &self,
        group: &Membership,
        head: Writes<'_>,
        head_kind: Head,
        mut ops: Vec<MemberOp>,
        change: Change<'_>,
    ) -> Result<u64, StoreError> {
        let first_capacity = (MAX_TRANSACTION_ITEMS - head.len()) / 2;
        if ops.len() > first_capacity {
            self.check_users_exist(&group.tenant, &ops).await?;
        }
        let later = ops.split_off(first_capacity.min(ops.len()));
        // The head may be dropped only when nothing follows: later transactions don't repeat
        // the document change.
        let head_kind = if later.is_empty() {
            head_kind
        } else {
            Head::Required
        };
        self.member_transaction(group, &head, head_kind, ops, change)
            .await?;
        let table = self.table.as_ref();
        let mut bump = Writes::new(table);
        bump.push(bump_version(
            table,
            keys::group_pk(&group.tenant, &group.gid),
            change,
        )?);
        let mut bumps = 0;
        for chunk in later.chunks((MAX_TRANSACTION_ITEMS - 1) / 2) {
            if self
                .member_transaction(group, &bump, Head::BumpOnly, chunk.to_vec(), change)
                .await?
            {
                bumps += 1;
            }
        }
        Ok(bumps)
    }

    /// Every user `ops` adds exists (BatchGetItem, 100 a call); `MissingReference` otherwise.
    async fn check_users_exist(
        &self,
        tenant: &TenantId,
        ops: &[MemberOp],
    ) -> Result<(), StoreError> {
        let adds: Vec<ResourceId> = ops
            .iter()
            .filter(|(_, add)| *add)
            .map(|(u, _)| u.clone())
            .collect();
        if adds.is_empty() {
            return Ok(());
        }
        let found: BTreeSet<String> = self
            .get_user_items(tenant, &adds)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        match adds.iter().find(|u| !found.contains(u.as_str())) {
            Some(missing) => Err(StoreError::MissingReference(missing.to_string())),
            None => Ok(()),
        }
    }

    /// One transaction of `head` plus member pairs. Each pair is conditional: an add only when
    /// the user is not yet a member, a remove only when it is. DynamoDB names every item whose
    /// condition failed, so the no-ops (re-adding a member, removing a non-member or an id that
    /// is no user) are dropped and the rest is sent again: a no-op writes nothing, not even a
    /// new user version, and when nothing is left of a [`Head::BumpOnly`] transaction, nothing
    /// is sent. An add whose user does not exist is a `MissingReference`. Returns whether it
    /// wrote.
    pub(crate) async fn member_transaction(
        &self,
        group: &Membership,
        head: &Writes<'_>,
        head_kind: Head,
        mut ops: Vec<MemberOp>,
        change: Change<'_>,
    ) -> Result<bool, StoreError> {
        loop {
            if ops.is_empty() && head_kind == Head::BumpOnly {
                return Ok(false);
            }
            let mut writes = head.items.clone();
            let base = writes.len();
            for (uid, add) in &ops {
                writes.extend(self.member_pair(group, uid, *add, change)?);
            }
            if writes.is_empty() {
                return Ok(false);
            }
            let err = match self.transact(writes).await {
                Ok(()) => return Ok(true),
                Err(err) => err,
            };
            let failed = err.failed_conditions();
            if failed.is_empty() {
                return Err(err.into_store_error());
            }
            if failed.iter().any(|i| *i < base) {
                return Err(head.classify(err));
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
        group: &Membership,
        uid: &ResourceId,
        add: bool,
        change: Change<'_>,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let table = self.table.as_ref();
        let tenant = &group.tenant;
        let gid = &group.gid;
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
                    (":role".to_string(), s(group.role.as_str())),
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

    /// Removes these members, in transactions of 50 pairs, [`DELETE_PARALLELISM`] at a time.
    pub(crate) async fn remove_members(
        &self,
        group: &Membership,
        ids: &[ResourceId],
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let mut chunks = ids
            .chunks(MAX_TRANSACTION_ITEMS / 2)
            .map(<[ResourceId]>::to_vec);
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < DELETE_PARALLELISM {
                let Some(chunk) = chunks.next() else { break };
                let (store, group, at, by) = (
                    self.clone(),
                    group.clone(),
                    change.at.to_string(),
                    change.by.to_string(),
                );
                running.spawn(async move {
                    let ops = chunk.into_iter().map(|u| (u, false)).collect();
                    let head = Writes::new(store.table.as_ref());
                    let change = Change { at: &at, by: &by };
                    store
                        .member_transaction(&group, &head, Head::BumpOnly, ops, change)
                        .await
                        .map(|_| ())
                });
            }
            match running.join_next().await {
                Some(Ok(result)) => result?,
                Some(Err(join)) => {
                    return Err(StoreError::Internal(format!("delete task: {join}")))
                }
                None => return Ok(()),
            }
        }
    }
}
