//! Groups: the platform's projects; their members are project members.

use std::collections::BTreeSet;

use scim_core::codec;
use scim_core::filter::{FilterExpr, IndexKey};
use scim_core::ids::ResourceId;
use scim_core::list::{ListQuery, Projection, MAX_FILTER_SCAN};
use scim_core::patch::{
    member_id, plan_member_changes, resolve_members, MemberChange, MemberDelta, MemberPlan,
    PatchRequest,
};
use scim_core::schema::{ResourceKind, ResourceSchema};
use scim_core::{ProjectRole, ScimError};
use serde_json::Value;

use crate::error::StoreError;
use crate::model::{Group, Member, Page};
use crate::operation::{Ctx, GroupOperation, Outcome, Resource};
use crate::paging::{Listed, Paging};
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
        let named: usize = changes
            .iter()
            .map(|c| match c {
                MemberChange::Add(ids)
                | MemberChange::Remove(ids)
                | MemberChange::ReplaceAll(ids) => ids.len(),
                MemberChange::RemoveAll => 0,
            })
            .sum();
        if named > MAX_MEMBERS_PER_REQUEST {
            return Err(ScimError::too_many(format!(
                "At most {MAX_MEMBERS_PER_REQUEST} members may be named in one request."
            )));
        }
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
            // A large change named without reading the members first: drop what is already so,
            // with reads, rather than let the store try and cancel transactions of no-ops.
            let delta = match &membership {
                Membership::Plan(MemberPlan::Delta(_), _)
                    if delta_len(&delta) > CHECK_MEMBERS_OVER =>
                {
                    self.without_no_ops(ctx, id, delta).await?
                }
                _ => delta,
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

    /// The part of `delta` that changes something: adds of non-members, removes of members.
    async fn without_no_ops(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        delta: MemberDelta,
    ) -> Result<MemberDelta, StoreError> {
        let named: Vec<ResourceId> = delta.add.iter().chain(&delta.remove).cloned().collect();
        let members: BTreeSet<ResourceId> = self
            .store
            .members_among(ctx.tenant(), id, &named)
            .await?
            .into_iter()
            .collect();
        Ok(MemberDelta {
            add: delta
                .add
                .into_iter()
                .filter(|u| !members.contains(u))
                .collect(),
            remove: delta
                .remove
                .into_iter()
                .filter(|u| members.contains(u))
                .collect(),
        })
    }

    /// Lists groups. A page never carries `members` (they can be thousands per group, and a
    /// page would read every group's member list): `GET /Groups/{id}` is complete. Filters on
    /// `members.value eq` are answered from the user's own group list.
    async fn list_groups(&self, ctx: &Ctx<'_>, query: &ListQuery) -> Result<Outcome, ScimError> {
        let paging = Paging::of(query)?;
        let listed = self.listed_groups(ctx, query, &paging).await?;
        Ok(Outcome::List(paging.response(query, listed)))
    }

    /// A page of groups (without members), projected, and the total the filter matches.
    pub(crate) async fn listed_groups(
        &self,
        ctx: &Ctx<'_>,
        query: &ListQuery,
        paging: &Paging,
    ) -> Result<Listed<Value>, ScimError> {
        let tenant = ctx.tenant();
        let listed = match query.filter.as_ref().and_then(|f| f.index_key()) {
            Some(key) => {
                let found = self.store.find_groups(tenant, &key).await?;
                self.select(ctx, found, &key, query, paging).await?
            }
            // Groups sort in memory whenever a client asks for an order: their index order is the
            // folded displayName, with names over 256 bytes hashed (scim-store's keys).
            None if !query.pages_in_index_order(None) => {
                if query
                    .filter
                    .as_ref()
                    .is_some_and(|f| names_members(f.expr()))
                {
                    return Err(ScimError::invalid_filter(
                        "Groups can be filtered on members only with `members.value eq \"<id>\"`, \
                         alone or joined with `and`.",
                    ));
                }
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
                let rendered = all.iter().map(|g| self.render_listed(ctx, g)).collect();
                paging.in_memory(query, rendered, |v| v)?
            }
            None => {
                let total = self.store.count_groups(tenant).await?;
                let page = match paging.store_start(query, total)? {
                    Some(start) => self.store.page_groups(tenant, &start, query.count).await?,
                    None => Page {
                        items: Vec::new(),
                        next: None,
                    },
                };
                let rendered = page
                    .items
                    .iter()
                    .map(|g| self.render_listed(ctx, g))
                    .collect();
                paging.store_page(total, rendered, page.next)
            }
        };
        Ok(listed.map(|r| query.projection.apply(r)))
    }

    /// Filters, sorts and pages the groups an index found, in memory. When the filter names
    /// `members`, each candidate is judged with its members: for a member lookup, the member
    /// looked up (the index found the groups by it); otherwise (at most one candidate, found
    /// by id, displayName or externalId) its member list is read.
    async fn select(
        &self,
        ctx: &Ctx<'_>,
        groups: Vec<Group>,
        key: &IndexKey,
        query: &ListQuery,
        paging: &Paging,
    ) -> Result<Listed<Value>, ScimError> {
        let needs_members = query
            .filter
            .as_ref()
            .is_some_and(|f| names_members(f.expr()));
        let mut judged: Vec<(Value, Group)> = Vec::with_capacity(groups.len());
        for group in groups {
            let members = match key {
                _ if !needs_members => None,
                IndexKey::Member(id) => Some(
                    ResourceId::parse(id)
                        .map(|user_id| Member {
                            user_id,
                            project_role: group.project_role,
                        })
                        .into_iter()
                        .collect(),
                ),
                _ => Some(self.store.group_members(ctx.tenant(), &group.id).await?),
            };
            let json = render::group(
                &group,
                members.as_deref(),
                self.group_schema(),
                ctx.base_url,
            );
            judged.push((json, group));
        }
        // In displayName order, as a page of the index would be (the index found them by key).
        judged.sort_by_cached_key(|(json, _)| json["displayName"].as_str().map(scim_core::fold));
        let page = paging.in_memory(query, judged, |(json, _)| json)?;
        Ok(page.map(|(_, g)| self.render_listed(ctx, &g)))
    }

    /// A group as a list page shows it: without `members`.
    fn render_listed(&self, ctx: &Ctx<'_>, group: &Group) -> Value {
        render::group(group, None, self.group_schema(), ctx.base_url)
    }
}

/// Membership changes naming more members than this (more than one store transaction's
/// worth) are checked against the stored members first: one read per 100 named, and no-ops
/// (re-adding members, removing non-members) never reach a write. Smaller ones go straight to
/// the store, which drops no-ops from its conditional transaction itself.
const CHECK_MEMBERS_OVER: usize = 48;

fn delta_len(delta: &MemberDelta) -> usize {
    delta.add.len() + delta.remove.len()
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
