//! What users and groups share: reading one by id, the index lookups (`find_users` and
//! `find_groups` dispatch on the filter's [`IndexKey`] here and nowhere else), counting, paging
//! and reading them all. [`Entity`] says where each kind lives.

use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_ops::{Page, PageStart};
use serde::de::DeserializeOwned;

use crate::error::StoreError;
use crate::items::{GroupItem, UniqueItem, UserItem};
use crate::keys::{self, Unique};
use crate::records::stored_id;
use crate::store::Store;

/// A kind of resource item: a user or a group.
pub(crate) trait Entity: DeserializeOwned + Send + 'static {
    /// The operations core's record of it.
    type Record: TryFrom<Self, Error = StoreError>;
    /// The sort key of its item.
    const SK: &'static str;
    /// The guard of its externalId.
    const EXTERNAL_ID: Unique;
    /// Its name in count and page-position keys.
    const KIND: &'static str;

    fn pk(tenant: &TenantId, id: &ResourceId) -> String;
    /// Its GSI1 partition (name order).
    fn gsi(tenant: &TenantId) -> String;
    /// The name `key` looks up, when it is this kind's indexed name (userName, displayName).
    fn name_in(key: &IndexKey) -> Option<&str>;
    /// Whether the item is a live resource of `tenant`: not a deleted marker.
    fn is_live(&self, tenant: &TenantId) -> bool;
}

impl Entity for UserItem {
    type Record = scim_ops::User;
    const SK: &'static str = keys::USER_SK;
    const EXTERNAL_ID: Unique = Unique::UserExternalId;
    const KIND: &'static str = "USERS";

    fn pk(tenant: &TenantId, id: &ResourceId) -> String {
        keys::user_pk(tenant, id)
    }

    fn gsi(tenant: &TenantId) -> String {
        keys::users_gsi(tenant)
    }

    fn name_in(key: &IndexKey) -> Option<&str> {
        match key {
            IndexKey::UserName(name) => Some(name),
            _ => None,
        }
    }

    fn is_live(&self, tenant: &TenantId) -> bool {
        self.deleted_at.is_none() && self.tenant_id == tenant.as_str()
    }
}

impl Entity for GroupItem {
    type Record = scim_ops::Group;
    const SK: &'static str = keys::GROUP_SK;
    const EXTERNAL_ID: Unique = Unique::GroupExternalId;
    const KIND: &'static str = "GROUPS";

    fn pk(tenant: &TenantId, id: &ResourceId) -> String {
        keys::group_pk(tenant, id)
    }

    fn gsi(tenant: &TenantId) -> String {
        keys::groups_gsi(tenant)
    }

    fn name_in(key: &IndexKey) -> Option<&str> {
        match key {
            IndexKey::DisplayName(name) => Some(name),
            _ => None,
        }
    }

    fn is_live(&self, tenant: &TenantId) -> bool {
        self.deleted_at.is_none() && self.tenant_id == tenant.as_str()
    }
}

/// Converts items to records.
pub(crate) fn records<E: Entity>(items: Vec<E>) -> Result<Vec<E::Record>, StoreError> {
    items.into_iter().map(E::Record::try_from).collect()
}

impl Store {
    /// One item by id (a strongly consistent GetItem); deleted markers read as absent.
    pub(crate) async fn get_live<E: Entity>(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<E>, StoreError> {
        let item: Option<E> = self.get(E::pk(tenant, id), E::SK, true).await?;
        Ok(item.filter(|i| i.is_live(tenant)))
    }

    /// Who holds a uniqueness guard (one GetItem).
    pub(crate) async fn guard_owner(
        &self,
        tenant: &TenantId,
        kind: Unique,
        value: &str,
    ) -> Result<Option<ResourceId>, StoreError> {
        let guard: Option<UniqueItem> = self
            .get(keys::unique_pk(tenant, kind, value), keys::UNIQUE_SK, true)
            .await?;
        guard.map(|g| stored_id(&g.owner_id)).transpose()
    }

    /// The items an index answers for `key`: `id` is one GetItem, the indexed name one Query
    /// on GSI1 (case-insensitive through the folded sort key), `externalId` the guard's GetItem
    /// then the owner's (case-exact). Empty for a key this kind is not indexed by.
    pub(crate) async fn find_items<E: Entity>(
        &self,
        tenant: &TenantId,
        key: &IndexKey,
    ) -> Result<Vec<E>, StoreError> {
        let id = match key {
            IndexKey::Id(id) => ResourceId::parse(id),
            IndexKey::ExternalId(ext) => self.guard_owner(tenant, E::EXTERNAL_ID, ext).await?,
            other => {
                let Some(name) = E::name_in(other) else {
                    return Ok(Vec::new());
                };
                let found: Vec<E> = self
                    .query_gsi1_eq(&E::gsi(tenant), keys::name_sk(name))
                    .await?;
                return Ok(found
                    .into_iter()
                    .find(|i| i.is_live(tenant))
                    .into_iter()
                    .collect());
            }
        };
        match id {
            Some(id) => Ok(self.get_live(tenant, &id).await?.into_iter().collect()),
            None => Ok(Vec::new()),
        }
    }

    /// A page of records in name order (see [`Store::page_gsi1`]).
    pub(crate) async fn page_records<E: Entity>(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> Result<Page<E::Record>, StoreError> {
        let page = self.page_gsi1::<E>(tenant, start, take).await?;
        Ok(Page {
            items: records(page.items)?,
            next: page.next,
        })
    }

    /// Every record of this kind, or `None` when there are more than `max`.
    pub(crate) async fn all_records<E: Entity>(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<E::Record>>, StoreError> {
        self.read_gsi1_bounded::<E>(&E::gsi(tenant), max)
            .await?
            .map(records)
            .transpose()
    }
}
