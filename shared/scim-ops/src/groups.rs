//! Groups: the platform's projects; their members are project members.

use std::collections::BTreeSet;

use scim_core::codec;
use scim_core::filter::FilterExpr;
use scim_core::ids::ResourceId;
use scim_core::list::{list_response, ListQuery, Projection, MAX_FILTER_SCAN};
use scim_core::patch::{
    member_id, plan_member_changes, resolve_members, MemberChange, MemberDelta, MemberPlan,
    PatchRequest,
};
use scim_core::schema::{ResourceKind, ResourceSchema};
use scim_core::{ProjectRole, ScimError};
use serde_json::Value;

use crate::error::StoreError;
use crate::model::{Group, Member};
use crate::operation::{Ctx, GroupOperation, Outcome, Resource};
use crate::ports::GroupStore;
use crate::render;
use crate::write::{stale, Attempts, Precondition};
use crate::Operations;

/// Most members one request may name (a PUT or PATCH); larger changes are split by the IdP.
pub const MAX_MEMBERS_PER_REQUEST: usize = 50_000;

fn not_found() -> ScimError {
    crate::error::not_found(ResourceKind::Group)
}

/// How a write changes membership.
enum Membership<'a> {
    /// Adds and removes that commute with concurrent changes.
    Plan(MemberPlan, &'a [MemberChange]),
    /// The complete new member list (PUT).
    Replace(Vec<ResourceId>),
}

impl<S: GroupStore> Operations<S> {
    pub(crate) async fn group(
        &self,
        ctx: &Ctx<'_>,
        op: GroupOperation,
    ) -> Result<Outcome, ScimError> {
        match op {
            GroupOperation::Create { body, projection } => {
                self.create_group(ctx, &body, &projection).await
            }
            GroupOperation::Get { id, projection } => {
                Ok(Outcome::Ok(self.read_group(ctx, &id, &projection).await?))
            }
            GroupOperation::Replace {
                id,
                body,
                precondition,
                projection,
            } => {
                let (doc, members) = self.prepare_group(&body)?;
                // PUT replaces the member list too (Okta sends it in full); absent means none.
                let wanted = members.unwrap_or_default();
                self.write_group(
                    ctx,
                    &id,
                    &precondition,
                    |_| Ok(Some(doc.clone())),
                    Membership::Replace(wanted),
                )
                .await?;
                Ok(Outcome::Ok(self.read_group(ctx, &id, &projection).await?))
            }
            GroupOperation::Patch {
                id,
                patch,
                precondition,
                projection,
            } => {
                self.patch_group(ctx, &id, &patch, &precondition).await?;
                // Entra recommends 204; a client that asks for attributes gets the resource.
                if projection.is_requested() {
                    Ok(Outcome::Ok(self.read_group(ctx, &id, &projection).await?))
                } else {
                    Ok(Outcome::NoContent)
                }
            }
            GroupOperation::Delete { id, precondition } => {
                let group = self.load_group(ctx, &id).await?;
                precondition.check(group.version, "group")?;
                self.store
                    .delete_group(ctx.tenant(), &group, ctx.change())
                    .await
                    .map_err(|e| match e {
                        StoreError::VersionConflict => not_found(),
                        other => other.into(),
                    })?;
                Ok(Outcome::NoContent)
            }
            GroupOperation::List(query) => self.list_groups(ctx, &query).await,
        }
    }

    fn group_schema(&self) -> &ResourceSchema {
        &self.schemas.group
    }

    fn group_resource(
        &self,
        ctx: &Ctx<'_>,
        group: &Group,
        members: Option<&[Member]>,
        projection: &Projection,
    ) -> Resource {
        let body = render::group(group, members, self.group_schema(), ctx.base_url);
        Resource {
            body: projection.apply(body),
            version: group.version,
            location: render::location(ctx.base_url, self.group_schema().kind, group.id.as_str()),
        }
    }

    /// The project role new members get: the tenant's setting, else the deployment's.
    fn project_role(&self, ctx: &Ctx<'_>) -> ProjectRole {
        ctx.principal
            .settings
            .default_project_role
            .unwrap_or(self.default_project_role)
    }

    /// Normalises a group document and takes its `members` out (they are stored apart).
    fn prepare_group(&self, input: &Value) -> Result<(Value, Option<Vec<ResourceId>>), ScimError> {
        let mut doc = codec::normalize(input, self.group_schema())?;
        let members = match doc.as_object_mut().and_then(|o| o.remove("members")) {
            None => None,
            Some(Value::Array(items)) => Some(member_ids(&items)?),
            Some(_) => return Err(ScimError::invalid_value("`members` must be a list.")),
        };
        // `members: []` (Okta) and an absent attribute both mean "no members" on create.
        Ok((doc, members))
    }

    async fn create_group(
        &self,
        ctx: &Ctx<'_>,
        body: &Value,
        projection: &Projection,
    ) -> Result<Outcome, ScimError> {
        let (doc, members) = self.prepare_group(body)?;
        let members = members.unwrap_or_default();
        let stamp = ctx.change();
        let group = Group {
            id: ResourceId::from_generated(uuid::Uuid::new_v4().to_string()),
            doc,
            project_role: self.project_role(ctx),
            version: 1,
            created: ctx.now.clone(),
            last_modified: ctx.now.clone(),
            modified_by: Some(stamp.by.to_string()),
        };
        let stored = self
            .store
            .create_group(ctx.tenant(), &group, &members, stamp)
            .await?;
        let listed: Vec<Member> = members
            .into_iter()
            .map(|user_id| Member {
                user_id,
                project_role: stored.project_role,
            })
            .collect();
        Ok(Outcome::Created(self.group_resource(
            ctx,
            &stored,
            Some(&listed),
            projection,
        )))
    }

    async fn load_group(&self, ctx: &Ctx<'_>, id: &ResourceId) -> Result<Group, ScimError> {
        self.store
            .get_group(ctx.tenant(), id)
            .await?
            .ok_or_else(not_found)
    }

    /// Reads a group for an answer; its members only when the projection keeps them
    /// (`excludedAttributes=members` reads no member).
    async fn read_group(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        projection: &Projection,
    ) -> Result<Resource, ScimError> {
        if projection.wants("members") {
            let (group, members) = self
                .store
                .get_group_with_members(ctx.tenant(), id)
                .await?
                .ok_or_else(not_found)?;
            Ok(self.group_resource(ctx, &group, Some(&members), projection))
        } else {
            let group = self.load_group(ctx, id).await?;
            Ok(self.group_resource(ctx, &group, None, projection))
        }
    }

    async fn patch_group(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        patch: &PatchRequest,
        precondition: &Precondition,
    ) -> Result<(), ScimError> {
        let (doc_patch, changes) = patch.split_members()?;
        let plan = plan_member_changes(&changes)?;
        self.write_group(
            ctx,
            id,
            precondition,
            |before| {
                if doc_patch.operations.is_empty() {
                    return Ok(None);
                }
                let mut doc = before.doc.clone();
                doc_patch.apply(&mut doc, self.group_schema())?;
                let (doc, _) = self.prepare_group(&doc)?;
                Ok(Some(doc))
            },
            Membership::Plan(plan, &changes),
        )
        .await
    }

    /// The one write path of a group: the new document (when it differs) and the membership
    /// change, retried on a concurrent document change unless `If-Match` pinned the version.
    async fn write_group(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        precondition: &Precondition,
        new_doc: impl Fn(&Group) -> Result<Option<Value>, ScimError>,
        membership: Membership<'_>,
    ) -> Result<(), ScimError> {
        let needs_members = matches!(
            membership,
            Membership::Replace(_) | Membership::Plan(MemberPlan::NeedsCurrent, _)
        );
        let tenant = ctx.tenant();
        let mut attempts = Attempts::new(precondition);
        loop {
            let (before, current) = if needs_members {
                let (group, members) = self
                    .store
                    .get_group_with_members(tenant, id)
                    .await?
                    .ok_or_else(not_found)?;
                let ids: Vec<ResourceId> = members.into_iter().map(|m| m.user_id).collect();
                (group, ids)
            } else {
                (self.load_group(ctx, id).await?, Vec::new())
            };
            precondition.check(before.version, "group")?;
            let stamp = ctx.change();
            let after = new_doc(&before)?
                .filter(|doc| *doc != before.doc)
                .map(|doc| Group {
                    doc,
                    version: before.version + 1,
                    last_modified: stamp.at.to_string(),
                    modified_by: Some(stamp.by.to_string()),
                    ..before.clone()
                });
            let delta = match &membership {
                Membership::Plan(MemberPlan::Unchanged, _) => MemberDelta::default(),
                Membership::Plan(MemberPlan::Delta(delta), _) => delta.clone(),
                Membership::Plan(MemberPlan::NeedsCurrent, changes) => {
                    MemberDelta::between(&current, &resolve_members(&current, changes)?)
                }
                Membership::Replace(wanted) => MemberDelta::between(&current, wanted),
            };
            if after.is_none() && delta.is_empty() {
                return Ok(());
            }
            // Membership alone bumps the version unconditionally (member changes commute). A
            // client that pinned a version gets it checked at write time too: the group is
            // written, unchanged, conditional on the version it read.
            let after = match after {
                None if precondition.is_pinned() => Some(Group {
                    version: before.version + 1,
                    last_modified: stamp.at.to_string(),
                    modified_by: Some(stamp.by.to_string()),
                    ..before.clone()
                }),
                other => other,
            };
            let err = match self
                .store
                .update_group(tenant, &before, after.as_ref(), &delta, stamp)
                .await
            {
                Ok(()) => return Ok(()),
                Err(err) => err,
            };
            if attempts.retry(&err).await {
                continue;
            }
            // No own-write check here (unlike users): a group write is one or more
            // transactions, which the store makes idempotent under its retries, so a lost
            // response is answered as the completed write and a failed version check is always
            // someone else's change.
            if err == StoreError::VersionConflict && precondition.is_pinned() {
                return Err(stale("group"));
            }
            return Err(err.into());
        }
    }

    async fn list_groups(&self, ctx: &Ctx<'_>, query: &ListQuery) -> Result<Outcome, ScimError> {
        let tenant = ctx.tenant();
        let (total, page) = match query.filter.as_ref().and_then(|f| f.index_key()) {
            Some(key) => {
                let found = self.store.find_groups(tenant, &key).await?;
                self.select(ctx, found, query).await?
            }
            // Groups sort in memory whenever a client asks for an order: their index order is the
            // folded displayName, with names over 256 bytes hashed (scim-store's keys).
            None if !query.pages_in_index_order(None) => {
                let all = self
                    .store
                    .all_groups(tenant, MAX_FILTER_SCAN)
                    .await?
                    .ok_or_else(|| {
                        ScimError::too_many(format!(
                            "This filter or sort needs more than {MAX_FILTER_SCAN} groups \
                             examined; filter on displayName, externalId or id instead."
                        ))
                    })?;
                self.select(ctx, all, query).await?
            }
            None => {
                let total = self.store.count_groups(tenant).await?;
                let page = if query.count == 0 || query.start_index > total {
                    Vec::new()
                } else {
                    self.store
                        .page_groups(tenant, query.start_index.saturating_sub(1), query.count)
                        .await?
                };
                (total, page)
            }
        };
        let with_members = query.projection.wants("members");
        let mut resources = Vec::with_capacity(page.len());
        for group in &page {
            let members = if with_members {
                Some(self.store.group_members(tenant, &group.id).await?)
            } else {
                None
            };
            let rendered =
                render::group(group, members.as_deref(), self.group_schema(), ctx.base_url);
            resources.push(query.projection.apply(rendered));
        }
        Ok(Outcome::List(list_response(
            total,
            query.start_index,
            resources,
        )))
    }

    /// Filters, sorts and pages groups in memory. Groups are rendered without members unless
    /// the filter names `members` (then each candidate's members are read).
    async fn select(
        &self,
        ctx: &Ctx<'_>,
        groups: Vec<Group>,
        query: &ListQuery,
    ) -> Result<(usize, Vec<Group>), ScimError> {
        let needs_members = query
            .filter
            .as_ref()
            .is_some_and(|f| names_members(f.expr()));
        let mut rendered: Vec<(Value, Group)> = Vec::with_capacity(groups.len());
        for group in groups {
            let members = if needs_members {
                Some(self.store.group_members(ctx.tenant(), &group.id).await?)
            } else {
                None
            };
            let json = render::group(
                &group,
                members.as_deref(),
                self.group_schema(),
                ctx.base_url,
            );
            rendered.push((json, group));
        }
        let (total, page) = query.page_in_memory(rendered, |(json, _)| json);
        Ok((total, page.into_iter().map(|(_, g)| g).collect()))
    }
}

/// The user ids of a `members` list, without repeats.
fn member_ids(items: &[Value]) -> Result<Vec<ResourceId>, ScimError> {
    if items.len() > MAX_MEMBERS_PER_REQUEST {
        return Err(ScimError::too_many(format!(
            "At most {MAX_MEMBERS_PER_REQUEST} members may be sent in one request."
        )));
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let value = item
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::invalid_value("Each member needs a string `value`."))?;
        let id = member_id(value)?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Whether a filter reads the `members` attribute (so candidates must be rendered with them).
fn names_members(expr: &FilterExpr) -> bool {
    match expr {
        FilterExpr::Compare { path, .. } | FilterExpr::Present(path) => path.attr == "members",
        FilterExpr::ValuePath { path, .. } => path.attr == "members",
        FilterExpr::And(a, b) | FilterExpr::Or(a, b) => names_members(a) || names_members(b),
        FilterExpr::Not(inner) => names_members(inner),
    }
}
