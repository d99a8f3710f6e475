//! Users: create, read, look up, replace, (de)activate and delete, each in the fewest round
//! trips the table allows (see the README's access-pattern table).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use scim_core::ids::{ResourceId, TenantId};
use serde_json::Value;

use crate::error::{StoreError, UniqueAttribute};
use crate::items::{self, Change, EmailItem, UniqueItem, UserItem};
use crate::keys::{self, Unique};
use crate::store::{
    from_item, key, n, s, to_item, tx, Store, TransactError, MAX_TRANSACTION_ITEMS,
};

/// What the platform derives from a SCIM user document.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFacts {
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub emails: Vec<String>,
}

impl UserFacts {
    /// Reads the facts from a canonical document (see `scim_core::codec`).
    pub fn of(doc: &Value) -> Self {
        let mut emails: Vec<String> = doc
            .get("emails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("value").and_then(Value::as_str))
            .map(keys::fold)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        emails.truncate(MAX_INDEXED_EMAILS);
        Self {
            user_name: doc
                .get("userName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            external_id: scim_core::codec::external_id(doc).map(str::to_string),
            active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
            emails,
        }
    }
}

/// Emails beyond this many per user are stored but not indexed for `emails eq` lookups.
pub const MAX_INDEXED_EMAILS: usize = 20;

impl UserItem {
    /// A user item for `doc` at `version`, stamped with `change` (when and by whom).
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        tenant: &TenantId,
        id: &ResourceId,
        doc: Value,
        platform_role: String,
        version: u64,
        created: String,
        change: Change<'_>,
        group_ids: Vec<String>,
    ) -> Self {
        let facts = UserFacts::of(&doc);
        Self {
            pk: keys::user_pk(tenant, id),
            sk: keys::USER_SK.into(),
            gsi1pk: Some(keys::users_gsi(tenant)),
            gsi1sk: Some(keys::name_sk(&facts.user_name)),
            entity: items::USER.into(),
            tenant_id: tenant.to_string(),
            id: id.to_string(),
            user_name: facts.user_name,
            external_id: facts.external_id,
            active: facts.active,
            platform_role,
            emails: facts.emails,
            group_ids,
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

pub(crate) fn unique_item(tenant: &TenantId, kind: Unique, value: &str, owner: &str) -> UniqueItem {
    UniqueItem {
        pk: keys::unique_pk(tenant, kind, value),
        sk: keys::UNIQUE_SK.into(),
        entity: items::UNIQUE.into(),
        owner_id: owner.to_string(),
    }
}

fn email_item(tenant: &TenantId, email: &str, user: &ResourceId) -> EmailItem {
    EmailItem {
        pk: keys::email_pk(tenant, email),
        sk: keys::email_sk(user),
        entity: items::EMAIL.into(),
        user_id: user.to_string(),
    }
}

pub(crate) const NOT_EXISTS: &str = "attribute_not_exists(pk)";
pub(crate) const OWNED_BY: &str = "owner_id = :owner";

/// Which uniqueness guard sits at which index of a transaction, to name the violated one.
pub(crate) struct Guards(pub(crate) Vec<(usize, UniqueAttribute)>);

impl Guards {
    pub(crate) fn classify(&self, err: TransactError) -> StoreError {
        match err.failed_condition() {
            Some(index) => self
                .0
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
    /// Creates a user in one transaction: the user item and its uniqueness and email items.
    pub async fn create_user(&self, tenant: &TenantId, user: &UserItem) -> Result<(), StoreError> {
        let table = self.table.as_ref();
        let id = user
            .resource_id()
            .ok_or_else(|| StoreError::Internal("generated id is malformed".into()))?;
        let mut writes = vec![tx::put(table, to_item(user)?, Some(NOT_EXISTS))?];
        let mut guards = Guards(Vec::new());
        guards.0.push((writes.len(), UniqueAttribute::UserName));
        writes.push(tx::put(
            table,
            to_item(&unique_item(
                tenant,
                Unique::UserName,
                &user.user_name,
                &user.id,
            ))?,
            Some(NOT_EXISTS),
        )?);
        if let Some(ext) = &user.external_id {
            guards.0.push((writes.len(), UniqueAttribute::ExternalId));
            writes.push(tx::put(
                table,
                to_item(&unique_item(tenant, Unique::UserExternalId, ext, &user.id))?,
                Some(NOT_EXISTS),
            )?);
        }
        for email in &user.emails {
            writes.push(tx::put(
                table,
                to_item(&email_item(tenant, email, &id))?,
                None,
            )?);
        }
        self.transact(writes).await.map_err(|e| guards.classify(e))
    }

    /// Reads a user by id (strongly consistent); deleted markers read as absent.
    pub async fn get_user(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<UserItem>, StoreError> {
        let user: Option<UserItem> = self
            .get(keys::user_pk(tenant, id), keys::USER_SK, true)
            .await?;
        Ok(user.filter(|u| u.deleted_at.is_none() && u.tenant_id == tenant.as_str()))
    }

    /// Reads a user including its deleted marker (for the platform and for tests).
    pub async fn get_user_record(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<UserItem>, StoreError> {
        self.get(keys::user_pk(tenant, id), keys::USER_SK, true)
            .await
    }

    /// `userName eq "x"`: one Query on GSI1 (case-insensitive through the folded sort key).
    pub async fn find_user_by_user_name(
        &self,
        tenant: &TenantId,
        user_name: &str,
    ) -> Result<Option<UserItem>, StoreError> {
        let found: Vec<UserItem> = self
            .query_gsi1_eq(keys::users_gsi(tenant), keys::name_sk(user_name))
            .await?;
        Ok(found.into_iter().find(|u| u.deleted_at.is_none()))
    }

    /// `externalId eq "x"`: the uniqueness item names the owner (case-exact).
    pub async fn find_user_id_by_external_id(
        &self,
        tenant: &TenantId,
        external_id: &str,
    ) -> Result<Option<ResourceId>, StoreError> {
        let pk = keys::unique_pk(tenant, Unique::UserExternalId, external_id);
        let owner: Option<UniqueItem> = self.get(pk, keys::UNIQUE_SK, true).await?;
        Ok(owner.and_then(|o| ResourceId::parse(&o.owner_id)))
    }

    /// `emails eq "x"`: the users whose emails include `email` (case-insensitive).
    pub async fn find_user_ids_by_email(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<Vec<ResourceId>, StoreError> {
        let items: Vec<EmailItem> = self
            .query_partition(keys::email_pk(tenant, email), None, true)
            .await?;
        Ok(items
            .iter()
            .filter_map(|e| ResourceId::parse(&e.user_id))
            .collect())
    }

    /// Reads many users by id with BatchGetItem (100 keys a call), skipping deleted ones.
    pub async fn get_users(
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

    /// Replaces a user's document, conditional on the version read. Uniqueness and email items
    /// move with it in the same transaction; when none change, a single conditional PutItem.
    pub async fn replace_user(
        &self,
        tenant: &TenantId,
        before: &UserItem,
        after: &UserItem,
    ) -> Result<(), StoreError> {
        let table = self.table.as_ref();
        let version_matches =
            "attribute_exists(pk) AND version = :v AND attribute_not_exists(deleted_at)";
        let v = HashMap::from([(":v".to_string(), n(before.version))]);
        let same_name = keys::fold(&before.user_name) == keys::fold(&after.user_name);
        let same_ext = before.external_id == after.external_id;
        let same_emails = before.emails == after.emails;
        if same_name && same_ext && same_emails {
            return self
                .client
                .put_item()
                .table_name(table)
                .set_item(Some(to_item(after)?))
                .condition_expression(version_matches)
                .set_expression_attribute_values(Some(v))
                .return_consumed_capacity(self.rcc())
                .send()
                .await
                .map(|out| self.note_capacity(out.consumed_capacity()))
                .map_err(StoreError::from_sdk);
        }
        let id = after
            .resource_id()
            .ok_or_else(|| StoreError::Internal("stored id is malformed".into()))?;
        let mut writes = vec![tx::put_if(table, to_item(after)?, version_matches, v)?];
        let mut guards = Guards(Vec::new());
        let owner = HashMap::from([(":owner".to_string(), s(before.id.clone()))]);
        if !same_name {
            writes.push(tx::delete(
                table,
                key(
                    keys::unique_pk(tenant, Unique::UserName, &before.user_name),
                    keys::UNIQUE_SK,
                ),
                Some((OWNED_BY, owner.clone())),
            )?);
            guards.0.push((writes.len(), UniqueAttribute::UserName));
            writes.push(tx::put(
                table,
                to_item(&unique_item(
                    tenant,
                    Unique::UserName,
                    &after.user_name,
                    &after.id,
                ))?,
                Some(NOT_EXISTS),
            )?);
        }
        if !same_ext {
            if let Some(old) = &before.external_id {
                writes.push(tx::delete(
                    table,
                    key(
                        keys::unique_pk(tenant, Unique::UserExternalId, old),
                        keys::UNIQUE_SK,
                    ),
                    Some((OWNED_BY, owner.clone())),
                )?);
            }
            if let Some(new) = &after.external_id {
                guards.0.push((writes.len(), UniqueAttribute::ExternalId));
                writes.push(tx::put(
                    table,
                    to_item(&unique_item(tenant, Unique::UserExternalId, new, &after.id))?,
                    Some(NOT_EXISTS),
                )?);
            }
        }
        for gone in before.emails.iter().filter(|e| !after.emails.contains(e)) {
            writes.push(tx::delete(
                table,
                key(keys::email_pk(tenant, gone), &keys::email_sk(&id)),
                None,
            )?);
        }
        for new in after.emails.iter().filter(|e| !before.emails.contains(e)) {
            writes.push(tx::put(
                table,
                to_item(&email_item(tenant, new, &id))?,
                None,
            )?);
        }
        self.transact(writes).await.map_err(|e| guards.classify(e))
    }

    /// Sets `active` in one UpdateItem (the deactivation fast path): no read first.
    pub async fn set_user_active(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        active: bool,
        change: Change<'_>,
        expected_version: Option<u64>,
    ) -> Result<UserItem, StoreError> {
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
                from_item(out.attributes.unwrap_or_default())
            }
            Err(err) => match StoreError::from_sdk(err) {
                // Without If-Match the only failed condition is a missing or deleted user.
                StoreError::VersionConflict if expected_version.is_none() => {
                    Err(StoreError::NotFound)
                }
                other => Err(other),
            },
        }
    }

    /// Deletes a user: every membership goes, uniqueness and email items go, and the user item
    /// stays as a deleted marker for the platform (never a silent purge).
    pub async fn delete_user(
        &self,
        tenant: &TenantId,
        user: &UserItem,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let table = self.table.as_ref();
        let id = user
            .resource_id()
            .ok_or_else(|| StoreError::Internal("stored id is malformed".into()))?;
        let mut writes = Vec::new();
        let owner = HashMap::from([(":owner".to_string(), s(user.id.clone()))]);
        writes.push(tx::delete(
            table,
            key(
                keys::unique_pk(tenant, Unique::UserName, &user.user_name),
                keys::UNIQUE_SK,
            ),
            Some((OWNED_BY, owner.clone())),
        )?);
        if let Some(ext) = &user.external_id {
            writes.push(tx::delete(
                table,
                key(
                    keys::unique_pk(tenant, Unique::UserExternalId, ext),
                    keys::UNIQUE_SK,
                ),
                Some((OWNED_BY, owner.clone())),
            )?);
        }
        for email in &user.emails {
            writes.push(tx::delete(
                table,
                key(keys::email_pk(tenant, email), &keys::email_sk(&id)),
                None,
            )?);
        }
        for gid in user.group_ids.iter().filter_map(|g| ResourceId::parse(g)) {
            writes.push(tx::delete(
                table,
                key(keys::group_pk(tenant, &gid), &keys::member_sk(&id)),
                None,
            )?);
        }
        // Everything but the marker is idempotent: send it in full transactions first, then the
        // marker together with the last chunk so a failure leaves the user visibly present.
        let marker = tx::update(
            table,
            key(user.pk.clone(), keys::USER_SK),
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
        let mut chunks: Vec<Vec<_>> = Vec::new();
        let mut rest = writes;
        while rest.len() >= MAX_TRANSACTION_ITEMS {
            let tail = rest.split_off(MAX_TRANSACTION_ITEMS - 1);
            chunks.push(std::mem::replace(&mut rest, tail));
        }
        rest.push(marker);
        chunks.push(rest);
        for chunk in chunks {
            self.transact(chunk)
                .await
                .map_err(TransactError::into_store_error)?;
        }
        Ok(())
    }

    /// How many (not deleted) users the tenant has.
    pub async fn count_users(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        self.count_gsi1(&keys::users_gsi(tenant)).await
    }

    /// One page of users in userName order.
    pub async fn page_users(
        &self,
        tenant: &TenantId,
        skip: usize,
        take: usize,
    ) -> Result<Vec<UserItem>, StoreError> {
        self.page_gsi1(&keys::users_gsi(tenant), skip, take).await
    }

    /// Every user of the tenant, or `None` when there are more than `max`.
    pub async fn all_users(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<UserItem>>, StoreError> {
        self.read_gsi1_bounded(&keys::users_gsi(tenant), max).await
    }

    /// BatchGetItem over any keys, following UnprocessedKeys.
    pub(crate) async fn batch_get<T: serde::de::DeserializeOwned>(
        &self,
        keys_iter: impl Iterator<Item = HashMap<String, AttributeValue>>,
    ) -> Result<Vec<T>, StoreError> {
        let all: Vec<_> = keys_iter.collect();
        let mut out = Vec::with_capacity(all.len());
        for chunk in all.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            );
            let mut attempts = 0;
            while let Some(request) = pending.take() {
                attempts += 1;
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(self.table.as_ref(), request)
                    .return_consumed_capacity(self.rcc())
                    .send()
                    .await
                    .map_err(StoreError::from_sdk)?;
                self.note_capacity(resp.consumed_capacity());
                if let Some(mut responses) = resp.responses {
                    for item in responses.remove(self.table.as_ref()).unwrap_or_default() {
                        out.push(from_item(item)?);
                    }
                }
                pending = resp
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.table.as_ref()))
                    .filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    if attempts >= 8 {
                        return Err(StoreError::Throttled);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempts)).await;
                }
            }
        }
        Ok(out)
    }
}
