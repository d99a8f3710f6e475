//! `tenant.snapshot`: a tenant's users (each with its projects) and its projects, page by page,
//! for a platform that rebuilds its state. Each page is read from the name index, then its items
//! are read again with strongly consistent reads, so every entry is the item's current state
//! (a user deleted since the index read is left out) and carries the version it is at: a
//! platform applying events afterwards drops those whose `seq` is not above it.

use std::collections::HashMap;

use scim_core::ids::{ResourceId, TenantId};
use scim_ops::events::{ProjectState, UserState};
use serde::Serialize;

use crate::entity::Entity;
use crate::error::StoreError;
use crate::events::{project_image, user_image};
use crate::items::{GroupItem, UserItem};
use crate::listing::position_key;
use crate::records::stored_id;
use crate::store::{key, Store};

/// A user as the events describe it, with the projects it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotUser {
    #[serde(flatten)]
    pub user: UserState,
    /// The user's version: the `seq` of its latest event.
    pub seq: u64,
    pub project_ids: Vec<String>,
}

/// A project as the events describe it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotProject {
    #[serde(flatten)]
    pub project: ProjectState,
    /// The project's version: the `seq` of its latest `project.*` event.
    pub seq: u64,
}

/// One page; `next` is the `after` of the following page, absent on the last.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotPage<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl Store {
    /// A page of the tenant's users in `userName` order, after the position `after` (the
    /// previous page's `next`).
    pub async fn snapshot_users(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<SnapshotPage<SnapshotUser>, StoreError> {
        let (listed, next) = self
            .fresh_page::<UserItem>(tenant, after, limit, |u| &u.id)
            .await?;
        let items = listed
            .iter()
            .filter(|u| u.is_live(tenant))
            .map(|u| {
                let image = user_image(u);
                SnapshotUser {
                    user: image.state,
                    seq: image.version,
                    project_ids: image.project_ids.into_iter().collect(),
                }
            })
            .collect();
        Ok(SnapshotPage { items, next })
    }

    /// A page of the tenant's projects in name order, after `after`.
    pub async fn snapshot_projects(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<SnapshotPage<SnapshotProject>, StoreError> {
        let (listed, next) = self
            .fresh_page::<GroupItem>(tenant, after, limit, |g| &g.id)
            .await?;
        let items = listed
            .iter()
            .filter(|g| g.is_live(tenant))
            .map(|g| {
                let image = project_image(g);
                SnapshotProject {
                    project: image.state,
                    seq: image.version,
                }
            })
            .collect();
        Ok(SnapshotPage { items, next })
    }

    /// A page of `E` from the name index, then its items read again consistently, in the
    /// index's order.
    async fn fresh_page<E: Entity>(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
        id: impl Fn(&E) -> &String,
    ) -> Result<(Vec<E>, Option<String>), StoreError> {
        // Not an offset page: nothing is remembered (the admin function writes no page
        // positions), and the position given back is checked to be this tenant's.
        let from = match after {
            Some(position) if !position.is_empty() => Some(position_key::<E>(tenant, position)?),
            _ => None,
        };
        let page = self
            .read_page::<E>(tenant, from, None, limit.max(1))
            .await?;
        let ids = page
            .items
            .iter()
            .map(|item| stored_id(id(item)))
            .collect::<Result<Vec<ResourceId>, _>>()?;
        let fresh: Vec<E> = self
            .batch_get(ids.iter().map(|i| key(E::pk(tenant, i), E::SK)))
            .await?;
        // BatchGetItem answers in any order: put the items back in the index's.
        let mut by_id: HashMap<String, E> =
            fresh.into_iter().map(|e| (id(&e).clone(), e)).collect();
        let ordered = ids
            .iter()
            .filter_map(|wanted| by_id.remove(wanted.as_str()))
            .collect();
        Ok((ordered, page.next))
    }
}
