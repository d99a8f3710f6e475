//! What the platform reads: projects, their members with role and active state, a user's
//! projects. All by key or Query; never a Scan.

use scim_core::ids::{ResourceId, TenantId};
use scim_core::{PlatformRole, ProjectRole};
use serde::Serialize;

use crate::error::StoreError;
use crate::items::{GroupItem, MembershipItem, UserItem};
use crate::keys;
use crate::store::{key, Store};

/// A project as the platform sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub project_role: ProjectRole,
    pub deleted: bool,
}

/// One member of a project.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProjectMember {
    pub user_id: String,
    pub user_name: String,
    pub project_role: ProjectRole,
    pub active: bool,
    pub platform_role: PlatformRole,
}

/// One project of a user.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserProject {
    pub project_id: String,
    pub project_role: ProjectRole,
}

impl From<&GroupItem> for Project {
    fn from(g: &GroupItem) -> Self {
        Self {
            id: g.id.clone(),
            name: g.display_name.clone(),
            project_role: g.project_role,
            deleted: g.deleted_at.is_some(),
        }
    }
}

impl Store {
    /// The tenant's (not deleted) projects, in name order.
    pub async fn projects(&self, tenant: &TenantId) -> Result<Vec<Project>, StoreError> {
        let groups: Vec<GroupItem> = self
            .read_gsi1_bounded(&keys::groups_gsi(tenant), usize::MAX)
            .await?
            .unwrap_or_default();
        Ok(groups.iter().map(Project::from).collect())
    }

    /// A project's members with their project role and the user's active state: one Query of
    /// the project's partition, then BatchGetItem of the users (100 per call).
    pub async fn project_members(
        &self,
        tenant: &TenantId,
        project: &ResourceId,
    ) -> Result<Vec<ProjectMember>, StoreError> {
        let members: Vec<MembershipItem> = self
            .query_partition(
                keys::group_pk(tenant, project),
                Some(keys::MEMBER_PREFIX),
                true,
            )
            .await?;
        let ids: Vec<ResourceId> = members
            .iter()
            .filter_map(|m| ResourceId::parse(&m.user_id))
            .collect();
        let users = self.get_user_items(tenant, &ids).await?;
        Ok(members
            .iter()
            .filter_map(|m| {
                let user = users.iter().find(|u| u.id == m.user_id)?;
                Some(ProjectMember {
                    user_id: m.user_id.clone(),
                    user_name: user.user_name.clone(),
                    project_role: m.project_role,
                    active: user.active,
                    platform_role: user.platform_role,
                })
            })
            .collect())
    }

    /// A user's projects with the role in each: one GetItem of the user (its `group_ids`), then
    /// BatchGetItem of the membership items.
    pub async fn user_projects(
        &self,
        tenant: &TenantId,
        user: &ResourceId,
    ) -> Result<Vec<UserProject>, StoreError> {
        let Some(item) = self.get_live::<UserItem>(tenant, user).await? else {
            return Err(StoreError::NotFound);
        };
        let memberships: Vec<MembershipItem> = self
            .batch_get(
                item.group_ids
                    .iter()
                    .filter_map(|g| ResourceId::parse(g))
                    .map(|gid| key(keys::group_pk(tenant, &gid), &keys::member_sk(user))),
            )
            .await?;
        Ok(memberships
            .into_iter()
            .map(|m| UserProject {
                project_id: m.group_id,
                project_role: m.project_role,
            })
            .collect())
    }
}
