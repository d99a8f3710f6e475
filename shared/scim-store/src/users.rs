//! Users: create, read, look up, replace, (de)activate and delete, each in the fewest round
//! trips the table allows (see the README's access-pattern table).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_ops::{Change, Page, PageStart, User, UserStore};

use crate::counts::count_change;
use crate::entity::records;
use crate::error::{from_sdk, StoreError};
use crate::guards::{Writes, NOT_EXISTS};
use crate::items::{self, EmailItem, UserItem};
use crate::keys::{self, Unique};
use crate::records::stored_id;
use crate::store::{
    from_item, key, n, s, to_item, tx, Store, TransactError, MAX_TRANSACTION_ITEMS,
};

/// The condition of a replace: the user is still there, undeleted, at the version read.
const AT_VERSION: &str =
    "attribute_exists(pk) AND version = :v AND attribute_not_exists(deleted_at)";

fn email_item(tenant: &TenantId, email: &str, user: &ResourceId) -> EmailItem {
    EmailItem {
        pk: keys::email_pk(tenant, email),
        sk: keys::email_sk(user),
        entity: items::EMAIL.into(),
        user_id: user.to_string(),
    }
}

impl Writes<'_> {
    /// The guard writes of a user whose item changes from `before` to `after` (either absent:
    /// a create, a delete): its userName and externalId guards.
    fn move_user_guards(
        &mut self,
        tenant: &TenantId,
        owner: &str,
        before: Option<&UserItem>,
        after: Option<&UserItem>,
    ) -> Result<(), StoreError> {
        self.move_guard(
            tenant,
            Unique::UserName,
            owner,
            before.map(|u| u.user_name.as_str()),
            after.map(|u| u.user_name.as_str()),
        )?;
        self.move_guard(
            tenant,
            Unique::UserExternalId,
            owner,
            before.and_then(|u| u.external_id.as_deref()),
            after.and_then(|u| u.external_id.as_deref()),
        )
    }

    /// The email index writes of a user whose indexed emails change from `before` to `after`.
    fn move_emails(
        &mut self,
        tenant: &TenantId,
        id: &ResourceId,
        before: &[String],
        after: &[String],
    ) -> Result<(), StoreError> {
        for gone in before.iter().filter(|e| !after.contains(e)) {
            let table = self.table();
            self.push(tx::delete(
                table,
                key(keys::email_pk(tenant, gone), &keys::email_sk(id)),
                None,
            )?);
        }
        for new in after.iter().filter(|e| !before.contains(e)) {
            let table = self.table();
            self.push(tx::put(
                table,
                to_item(&email_item(tenant, new, id))?,
                None,
            )?);
        }
        Ok(())
    }
}

impl Store {
    /// Reads a user including its deleted marker (for the platform, administration and tests).
    pub async fn get_user_record(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<UserItem>, StoreError> {
        self.get(keys::user_pk(tenant, id), keys::USER_SK, true)
            .await
    }

    /// Many user items by id (BatchGetItem, 100 keys a call), skipping missing and deleted ones.
    pub(crate) async fn get_user_items(
        &self,
        tenant: &TenantId,
        ids: &[ResourceId],
    ) -> Result<Vec<UserItem>, StoreError> {
        let mut users: Vec<UserItem> = self
            .batch_get(
                ids.iter()
                    .map(|id| key(keys::user_pk(tenant, id), keys::USER_SK)),
            )
            .await?;
        users.retain(|u| u.deleted_at.is_none() && u.tenant_id == tenant.as_str());
        Ok(users)
    }

    /// `emails eq "x"`: one consistent Query of the email's index partition, then BatchGetItem
    /// of the users it names (none when it names none).
    async fn find_users_by_email(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<Vec<UserItem>, StoreError> {
        let index: Vec<EmailItem> = self
            .query_partition(keys::email_pk(tenant, email), None, true)
            .await?;
        let ids = index
            .iter()
            .map(|e| stored_id(&e.user_id))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.get_user_items(tenant, &ids).await
    }
}

impl UserStore for Store {
    /// One transaction: the user item, its uniqueness and email items, and the tenant's count.
    async fn create_user(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError> {
        let item = UserItem::from_record(tenant, user);
        let mut writes = Writes::new(self.table.as_ref());
        writes.push(tx::put(writes.table(), to_item(&item)?, Some(NOT_EXISTS))?);
        writes.move_user_guards(tenant, &item.id, None, Some(&item))?;
        writes.move_emails(tenant, &user.id, &[], &item.emails)?;
        writes.push(count_change::<UserItem>(
            writes.table(),
            tenant,
            &user.id,
            1,
        )?);
        self.transact_writes(writes).await
    }

    async fn get_user(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<User>, StoreError> {
        self.get_live::<UserItem>(tenant, id)
            .await?
            .map(User::try_from)
            .transpose()
    }

    async fn get_users(
        &self,
        tenant: &TenantId,
        ids: &[ResourceId],
    ) -> Result<Vec<User>, StoreError> {
        records(self.get_user_items(tenant, ids).await?)
    }

    async fn find_users(&self, tenant: &TenantId, key: &IndexKey) -> Result<Vec<User>, StoreError> {
        let found = match key {
            IndexKey::Email(email) => self.find_users_by_email(tenant, email).await?,
            other => self.find_items::<UserItem>(tenant, other).await?,
        };
        records(found)
    }

    /// Conditional on the version read. Uniqueness and email items move with it in the same
    /// transaction; when none change, a single conditional PutItem.
    async fn replace_user(
        &self,
        tenant: &TenantId,
        before: &User,
        after: &User,
    ) -> Result<(), StoreError> {
        let old = UserItem::from_record(tenant, before);
        let new = UserItem::from_record(tenant, after);
        let v = HashMap::from([(":v".to_string(), n(before.version))]);
        let mut writes = Writes::new(self.table.as_ref());
        writes.push(tx::put_if(
            writes.table(),
            to_item(&new)?,
            AT_VERSION,
            v.clone(),
        )?);
        writes.move_user_guards(tenant, &old.id, Some(&old), Some(&new))?;
        writes.move_emails(tenant, &after.id, &old.emails, &new.emails)?;
        if writes.len() == 1 {
            return self
                .client
                .put_item()
                .table_name(self.table.as_ref())
                .set_item(Some(to_item(&new)?))
                .condition_expression(AT_VERSION)
                .set_expression_attribute_values(Some(v))
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map(|out| self.note_capacity(out.consumed_capacity()))
                .map_err(from_sdk);
        }
        self.transact_writes(writes).await
    }

    /// One UpdateItem (the deactivation fast path): no read first.
    async fn set_user_active(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        active: bool,
        change: Change<'_>,
        expected_version: Option<u64>,
    ) -> Result<User, StoreError> {
        let mut condition = "attribute_exists(pk) AND attribute_not_exists(deleted_at)".to_string();
        let mut values = HashMap::from([
            (":a".to_string(), AttributeValue::Bool(active)),
            (":now".to_string(), s(change.at)),
            (":by".to_string(), s(change.by)),
            (":one".to_string(), n(1)),
        ]);
        if let Some(v) = expected_version {
            condition.push_str(" AND version = :v");
            values.insert(":v".into(), n(v));
        }
        let out = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(keys::user_pk(tenant, id), keys::USER_SK)))
            .update_expression(
                "SET active = :a, #doc.active = :a, last_modified = :now, modified_by = :by, \
                 version = version + :one",
            )
            .condition_expression(condition)
            .expression_attribute_names("#doc", "doc")
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(self.rcc())
            .send()
            .await;
        match out {
            Ok(out) => {
                self.note_capacity(out.consumed_capacity());
                let item: UserItem = from_item(out.attributes.unwrap_or_default())?;
                User::try_from(item)
            }
            Err(err) => match from_sdk(err) {
                // Without If-Match the only failed condition is a missing or deleted user.
                StoreError::VersionConflict if expected_version.is_none() => {
                    Err(StoreError::NotFound)
                }
                other => Err(other),
            },
        }
    }

    /// Every membership goes, uniqueness and email items go, and the user item stays as a
    /// deleted marker for the platform (never a silent purge).
    async fn delete_user(
        &self,
        tenant: &TenantId,
        user: &User,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let item = UserItem::from_record(tenant, user);
        let mut writes = Writes::new(self.table.as_ref());
        writes.move_user_guards(tenant, &item.id, Some(&item), None)?;
        writes.move_emails(tenant, &user.id, &item.emails, &[])?;
        for gid in &user.group_ids {
            writes.push(tx::delete(
                writes.table(),
                key(keys::group_pk(tenant, gid), &keys::member_sk(&user.id)),
                None,
            )?);
        }
        // Everything but the marker (and the count, which moves with it) is idempotent: send it
        // in full transactions first, then the marker together with the last chunk so a failure
        // leaves the user visibly present.
        let marker = tx::update(
            writes.table(),
            key(item.pk.clone(), keys::USER_SK),
            "SET deleted_at = :now, last_modified = :now, modified_by = :by, \
             version = version + :one, active = :f REMOVE gsi1pk, gsi1sk, group_ids",
            Some("version = :v AND attribute_not_exists(deleted_at)"),
            None,
            HashMap::from([
                (":now".to_string(), s(change.at)),
                (":by".to_string(), s(change.by)),
                (":one".to_string(), n(1)),
                (":v".to_string(), n(user.version)),
                (":f".to_string(), AttributeValue::Bool(false)),
            ]),
        )?;
        let count = count_change::<UserItem>(writes.table(), tenant, &user.id, -1)?;
        let mut chunks: Vec<Vec<_>> = Vec::new();
        let mut rest = writes.items;
        while rest.len() > MAX_TRANSACTION_ITEMS - 2 {
            let tail = rest.split_off(MAX_TRANSACTION_ITEMS.min(rest.len()));
            chunks.push(std::mem::replace(&mut rest, tail));
        }
        rest.push(marker);
        rest.push(count);
        chunks.push(rest);
        for chunk in chunks {
            self.transact(chunk)
                .await
                .map_err(TransactError::into_store_error)?;
        }
        Ok(())
    }

    async fn count_users(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        self.count::<UserItem>(tenant).await
    }

    async fn page_users(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> Result<Page<User>, StoreError> {
        self.page_records::<UserItem>(tenant, start, take).await
    }

    async fn all_users(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<User>>, StoreError> {
        self.all_records::<UserItem>(tenant, max).await
    }
}
