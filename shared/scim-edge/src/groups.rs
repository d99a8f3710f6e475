//! The Groups endpoint: groups are the platform's projects, members are project members.

use std::collections::{BTreeMap, BTreeSet};

use scim_core::codec;
use scim_core::filter::{FilterExpr, IndexKey};
use scim_core::ids::ResourceId;
use scim_core::patch::{MemberChange, PatchRequest};
use scim_core::schema::ResourceSchema;
use scim_core::ScimError;
use scim_store::{GroupItem, Member, MemberDelta, StoreError};
use serde_json::Value;

use crate::app::{App, Ctx};
use crate::config::PROJECT_ROLES;
use crate::errors::from_store;
use crate::http::{Method, Request, Response};
use crate::list::{self, ListQuery, Projection, MAX_FILTER_SCAN};
use crate::render;
use crate::routes::Route;

const WRITE_ATTEMPTS: usize = 4;
/// Most members one request may name (a PUT or PATCH); larger changes are split by the IdP.
pub const MAX_MEMBERS_PER_REQUEST: usize = 50_000;

pub async fn handle(
    app: &App,
    ctx: &Ctx,
    route: &Route,
    request: &Request,
) -> Result<Response, ScimError> {
    match (route, request.method) {
        (Route::Groups, Method::Post) => create(app, ctx, request).await,
        (Route::Groups, Method::Get) => {
            let query = ListQuery::from_query(request, schema(app))?;
            list(app, ctx, &query).await
        }
        (Route::GroupsSearch, Method::Post) => {
            let query = ListQuery::from_search(&request.json_body()?, schema(app))?;
            list(app, ctx, &query).await
        }
        (Route::Group(id), method) => {
            let id = ResourceId::parse(id).ok_or_else(not_found)?;
            match method {
                Method::Get => get(app, ctx, &id, request).await,
                Method::Put => replace(app, ctx, &id, request).await,
                Method::Patch => patch(app, ctx, &id, request).await,
                Method::Delete => delete(app, ctx, &id, request).await,
                _ => Err(ScimError::MethodNotAllowed("Not supported.".into())),
            }
        }
        _ => Err(ScimError::MethodNotAllowed("Not supported.".into())),
    }
}

fn not_found() -> ScimError {
    ScimError::NotFound("Group not found.".into())
}

fn schema(app: &App) -> &ResourceSchema {
    &app.schemas.group
}

/// The project role new members get: the tenant's setting, else the deployment's.
fn project_role(app: &App, ctx: &Ctx) -> String {
    ctx.principal
        .settings
        .default_project_role
        .clone()
        .filter(|r| PROJECT_ROLES.contains(&r.as_str()))
        .unwrap_or_else(|| app.config.default_project_role.clone())
}

/// Normalises a group document and takes its `members` out (they are stored as items).
fn prepare(app: &App, input: &Value) -> Result<(Value, Option<Vec<ResourceId>>), ScimError> {
    let mut doc = codec::normalize(input, schema(app))?;
    let members = match doc.as_object_mut().and_then(|o| o.remove("members")) {
        None => None,
        Some(Value::Array(items)) => Some(member_ids(&items)?),
        Some(_) => return Err(ScimError::invalid_value("`members` must be a list.")),
    };
    // `members: []` (Okta) and an absent attribute both mean "no members" on create.
    Ok((doc, members))
}

/// The user ids of a `members` list; an id that cannot be ours is not a user of this tenant.
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
        let id = parse_member(value)?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn parse_member(value: &str) -> Result<ResourceId, ScimError> {
    ResourceId::parse(value)
        .ok_or_else(|| ScimError::invalid_value(format!("`{value}` is not a user of this tenant.")))
}

fn respond(
    app: &App,
    ctx: &Ctx,
    status: u16,
    item: &GroupItem,
    members: Option<&[Member]>,
    projection: &Projection,
) -> Response {
    let body = projection.apply(render::group(item, members, schema(app), &ctx.base_url));
    let mut response = Response::json(status, body).with_header("etag", render::etag(item.version));
    if status == 201 {
        response = response.with_header("location", format!("{}/Groups/{}", ctx.base_url, item.id));
    }
    response
}

async fn create(app: &App, ctx: &Ctx, request: &Request) -> Result<Response, ScimError> {
    let (doc, members) = prepare(app, &request.json_body()?)?;
    let members = members.unwrap_or_default();
    let tenant = &ctx.principal.tenant;
    let id = ResourceId::from_generated(uuid::Uuid::new_v4().to_string());
    let item = GroupItem::build(
        tenant,
        &id,
        doc,
        project_role(app, ctx),
        1,
        ctx.now.clone(),
        ctx.change(),
    );
    // Up to 48 initial members go in the creating transaction; more follow in batches, after
    // every member has been checked, so an unknown member fails the create before any write.
    let (first, rest) = members.split_at(members.len().min(48));
    if !rest.is_empty() {
        let found = app
            .store
            .get_users(tenant, &members)
            .await
            .map_err(from_store)?
            .into_iter()
            .map(|u| u.id)
            .collect::<BTreeSet<String>>();
        if let Some(missing) = members.iter().find(|m| !found.contains(m.as_str())) {
            return Err(ScimError::invalid_value(format!(
                "`{missing}` is not a user of this tenant."
            )));
        }
    }
    app.store
        .create_group(tenant, &item, first, ctx.change())
        .await
        .map_err(from_store)?;
    let mut item = item;
    if !rest.is_empty() {
        let delta = MemberDelta {
            add: rest.to_vec(),
            remove: Vec::new(),
        };
        app.store
            .update_group(tenant, &item, None, &delta, ctx.change())
            .await
            .map_err(from_store)?;
        item.version += 1;
    }
    let projection = Projection::from_request(request, schema(app))?;
    let listed: Vec<Member> = members
        .iter()
        .map(|m| Member {
            user_id: m.to_string(),
            project_role: item.project_role.clone(),
        })
        .collect();
    Ok(respond(app, ctx, 201, &item, Some(&listed), &projection))
}

async fn get(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let projection = Projection::from_request(request, schema(app))?;
    let tenant = &ctx.principal.tenant;
    if projection.wants("members") {
        let (item, members) = app
            .store
            .get_group_with_members(tenant, id)
            .await
            .map_err(from_store)?
            .ok_or_else(not_found)?;
        Ok(respond(app, ctx, 200, &item, Some(&members), &projection))
    } else {
        let item = load(app, ctx, id).await?;
        Ok(respond(app, ctx, 200, &item, None, &projection))
    }
}

async fn load(app: &App, ctx: &Ctx, id: &ResourceId) -> Result<GroupItem, ScimError> {
    app.store
        .get_group(&ctx.principal.tenant, id)
        .await
        .map_err(from_store)?
        .ok_or_else(not_found)
}

/// How a request changes membership.
enum Membership {
    Unchanged,
    /// The complete new member list (PUT, `replace members`, `remove members`).
    Replace(Vec<ResourceId>),
    /// Changes that commute with concurrent ones: adds and removes by id.
    Delta(MemberDelta),
}

/// Folds PATCH member changes in order. Adds and removes by id become a delta (no member read
/// needed); a RemoveAll or ReplaceAll anywhere turns the whole sequence into a full list, which
/// needs the current members.
fn fold_changes(changes: &[MemberChange]) -> Result<Option<Membership>, ScimError> {
    if changes.is_empty() {
        return Ok(None);
    }
    let needs_current = changes
        .iter()
        .any(|c| matches!(c, MemberChange::RemoveAll | MemberChange::ReplaceAll(_)));
    if needs_current {
        return Ok(Some(Membership::Unchanged)); // resolved against current members by caller
    }
    let mut net: BTreeMap<ResourceId, bool> = BTreeMap::new();
    for change in changes {
        match change {
            MemberChange::Add(ids) => {
                for id in ids {
                    net.insert(parse_member(id)?, true);
                }
            }
            MemberChange::Remove(ids) => {
                for id in ids {
                    // An id that cannot be ours is not a member: removing it is a no-op.
                    if let Some(id) = ResourceId::parse(id) {
                        net.insert(id, false);
                    }
                }
            }
            MemberChange::RemoveAll | MemberChange::ReplaceAll(_) => {}
        }
    }
    let (add, remove): (Vec<_>, Vec<_>) = net.into_iter().partition(|(_, add)| *add);
    Ok(Some(Membership::Delta(MemberDelta {
        add: add.into_iter().map(|(id, _)| id).collect(),
        remove: remove.into_iter().map(|(id, _)| id).collect(),
    })))
}

/// Applies member changes, in order, to the current member set.
fn apply_to_current(
    current: &[Member],
    changes: &[MemberChange],
) -> Result<Vec<ResourceId>, ScimError> {
    let mut set: BTreeSet<ResourceId> = current
        .iter()
        .filter_map(|m| ResourceId::parse(&m.user_id))
        .collect();
    for change in changes {
        match change {
            MemberChange::Add(ids) => {
                for id in ids {
                    set.insert(parse_member(id)?);
                }
            }
            MemberChange::Remove(ids) => {
                for id in ids {
                    if let Some(id) = ResourceId::parse(id) {
                        set.remove(&id);
                    }
                }
            }
            MemberChange::RemoveAll => set.clear(),
            MemberChange::ReplaceAll(ids) => {
                set.clear();
                for id in ids {
                    set.insert(parse_member(id)?);
                }
            }
        }
    }
    Ok(set.into_iter().collect())
}

fn diff(current: &[Member], wanted: &[ResourceId]) -> MemberDelta {
    let have: BTreeSet<&str> = current.iter().map(|m| m.user_id.as_str()).collect();
    let want: BTreeSet<&str> = wanted.iter().map(ResourceId::as_str).collect();
    MemberDelta {
        add: wanted
            .iter()
            .filter(|w| !have.contains(w.as_str()))
            .cloned()
            .collect(),
        remove: current
            .iter()
            .filter(|m| !want.contains(m.user_id.as_str()))
            .filter_map(|m| ResourceId::parse(&m.user_id))
            .collect(),
    }
}

/// Writes a group change: the new document (when it differs) and the membership change, in one
/// transaction when they fit; retried on a concurrent document change unless `If-Match` pinned
/// the version.
async fn write(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
    new_doc: impl Fn(&GroupItem) -> Result<Option<Value>, ScimError>,
    membership: impl Fn(&GroupItem, Option<&[Member]>) -> Result<Membership, ScimError>,
    needs_members: bool,
) -> Result<(), ScimError> {
    let tenant = &ctx.principal.tenant;
    let pinned = request.header("if-match").is_some();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (before, current) = if needs_members {
            let (g, m) = app
                .store
                .get_group_with_members(tenant, id)
                .await
                .map_err(from_store)?
                .ok_or_else(not_found)?;
            (g, Some(m))
        } else {
            (load(app, ctx, id).await?, None)
        };
        render::check_if_match(request, before.version, "group")?;
        let after = new_doc(&before)?
            .filter(|doc| *doc != before.doc)
            .map(|doc| {
                GroupItem::build(
                    tenant,
                    id,
                    doc,
                    before.project_role.clone(),
                    before.version + 1,
                    before.created.clone(),
                    ctx.change(),
                )
            });
        let delta = match membership(&before, current.as_deref())? {
            Membership::Unchanged => MemberDelta::default(),
            Membership::Delta(d) => d,
            Membership::Replace(wanted) => diff(current.as_deref().unwrap_or_default(), &wanted),
        };
        if after.is_none() && delta.is_empty() {
            return Ok(());
        }
        match app
            .store
            .update_group(tenant, &before, after.as_ref(), &delta, ctx.change())
            .await
        {
            Ok(()) => return Ok(()),
            Err(StoreError::VersionConflict) if !pinned && attempt < WRITE_ATTEMPTS => continue,
            Err(StoreError::TransactionConflict) if attempt < WRITE_ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt as u64)).await;
                continue;
            }
            Err(StoreError::VersionConflict) if pinned => {
                return Err(ScimError::PreconditionFailed(
                    "The group changed since the version in If-Match.".into(),
                ))
            }
            Err(err) => return Err(from_store(err)),
        }
    }
}

async fn replace(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let (doc, members) = prepare(app, &request.json_body()?)?;
    // PUT replaces the member list too (Okta custom apps send it in full); absent means none.
    let wanted = members.unwrap_or_default();
    write(
        app,
        ctx,
        id,
        request,
        |_| Ok(Some(doc.clone())),
        |_, _| Ok(Membership::Replace(wanted.clone())),
        true,
    )
    .await?;
    reread(app, ctx, id, request, 200).await
}

async fn patch(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let body = request.json_body()?;
    let patch = PatchRequest::parse(&body, schema(app))?;
    let (doc_patch, changes) = patch.split_members()?;
    let folded = fold_changes(&changes)?;
    let needs_current = matches!(folded, Some(Membership::Unchanged));
    write(
        app,
        ctx,
        id,
        request,
        |before| {
            if doc_patch.operations.is_empty() {
                return Ok(None);
            }
            let mut doc = before.doc.clone();
            doc_patch.apply(&mut doc, schema(app))?;
            let (doc, _) = prepare(app, &doc)?;
            Ok(Some(doc))
        },
        |_, current| match &folded {
            None => Ok(Membership::Unchanged),
            Some(Membership::Delta(d)) => Ok(Membership::Delta(d.clone())),
            Some(_) => Ok(Membership::Replace(apply_to_current(
                current.unwrap_or_default(),
                &changes,
            )?)),
        },
        needs_current,
    )
    .await?;
    // Entra recommends 204; a client that asks for attributes gets the resource.
    if request.query_param("attributes").is_some()
        || request.query_param("excludedAttributes").is_some()
    {
        reread(app, ctx, id, request, 200).await
    } else {
        Ok(Response::no_content())
    }
}

/// Reads the group back for a response (after a write, members may have changed).
async fn reread(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
    status: u16,
) -> Result<Response, ScimError> {
    let mut response = get(app, ctx, id, request).await?;
    response.status = status;
    Ok(response)
}

async fn delete(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let item = load(app, ctx, id).await?;
    render::check_if_match(request, item.version, "group")?;
    app.store
        .delete_group(&ctx.principal.tenant, &item, ctx.change())
        .await
        .map_err(|e| match e {
            StoreError::VersionConflict => not_found(),
            other => from_store(other),
        })?;
    Ok(Response::no_content())
}

async fn list(app: &App, ctx: &Ctx, query: &ListQuery) -> Result<Response, ScimError> {
    let tenant = &ctx.principal.tenant;
    let store = &app.store;
    let with_members = query.projection.wants("members");
    let (total, page): (usize, Vec<GroupItem>) = match query.filter.as_ref().map(|f| f.index_key())
    {
        Some(Some(key)) => {
            let candidates: Vec<GroupItem> = match key {
                IndexKey::Id(id) => match ResourceId::parse(&id) {
                    Some(id) => store
                        .get_group(tenant, &id)
                        .await
                        .map_err(from_store)?
                        .into_iter()
                        .collect(),
                    None => Vec::new(),
                },
                IndexKey::DisplayName(name) => store
                    .find_group_by_display_name(tenant, &name)
                    .await
                    .map_err(from_store)?
                    .into_iter()
                    .collect(),
                IndexKey::ExternalId(ext) => match store
                    .find_group_id_by_external_id(tenant, &ext)
                    .await
                    .map_err(from_store)?
                {
                    Some(id) => store
                        .get_group(tenant, &id)
                        .await
                        .map_err(from_store)?
                        .into_iter()
                        .collect(),
                    None => Vec::new(),
                },
                IndexKey::UserName(_) | IndexKey::Email(_) => Vec::new(),
            };
            select(app, ctx, candidates, query).await?
        }
        Some(None) => {
            let all = all_groups(app, ctx).await?;
            select(app, ctx, all, query).await?
        }
        None if query.sort_by.is_some() || query.descending => {
            let all = all_groups(app, ctx).await?;
            select(app, ctx, all, query).await?
        }
        None => {
            let total = store.count_groups(tenant).await.map_err(from_store)?;
            let page = if query.count == 0 || query.start_index > total {
                Vec::new()
            } else {
                store
                    .page_groups(tenant, query.start_index - 1, query.count)
                    .await
                    .map_err(from_store)?
            };
            (total, page)
        }
    };
    let mut resources = Vec::with_capacity(page.len());
    for group in &page {
        let members = if with_members {
            let gid = group.resource_id().ok_or(ScimError::Internal)?;
            Some(
                store
                    .group_members(tenant, &gid)
                    .await
                    .map_err(from_store)?,
            )
        } else {
            None
        };
        let rendered = render::group(group, members.as_deref(), schema(app), &ctx.base_url);
        resources.push(query.projection.apply(rendered));
    }
    Ok(Response::json(
        200,
        list::list_response(total, query.start_index, resources),
    ))
}

async fn all_groups(app: &App, ctx: &Ctx) -> Result<Vec<GroupItem>, ScimError> {
    app.store
        .all_groups(&ctx.principal.tenant, MAX_FILTER_SCAN)
        .await
        .map_err(from_store)?
        .ok_or_else(|| {
            ScimError::too_many(format!(
                "This filter or sort needs more than {MAX_FILTER_SCAN} groups examined; filter on \
                 displayName, externalId or id instead."
            ))
        })
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

/// Filters, sorts and pages groups in memory. Groups are rendered without members unless the
/// filter names `members` (then each candidate's members are read: one Query per group).
async fn select(
    app: &App,
    ctx: &Ctx,
    groups: Vec<GroupItem>,
    query: &ListQuery,
) -> Result<(usize, Vec<GroupItem>), ScimError> {
    let needs_members = query
        .filter
        .as_ref()
        .is_some_and(|f| names_members(f.expr()));
    let mut rendered: Vec<(Value, GroupItem)> = Vec::with_capacity(groups.len());
    for g in groups {
        let members = if needs_members {
            let gid = g.resource_id().ok_or(ScimError::Internal)?;
            let tenant = &ctx.principal.tenant;
            Some(
                app.store
                    .group_members(tenant, &gid)
                    .await
                    .map_err(from_store)?,
            )
        } else {
            None
        };
        let json = render::group(&g, members.as_deref(), schema(app), &ctx.base_url);
        rendered.push((json, g));
    }
    let mut kept: Vec<(Value, GroupItem)> = rendered
        .into_iter()
        .filter(|(v, _)| query.filter.as_ref().is_none_or(|f| f.matches(v)))
        .collect();
    if let Some(sort) = &query.sort_by {
        kept.sort_by(|(a, _), (b, _)| {
            let o = sort.compare_resources(a, b);
            if query.descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    let total = kept.len();
    let page = kept
        .into_iter()
        .skip(query.start_index - 1)
        .take(query.count)
        .map(|(_, g)| g)
        .collect();
    Ok((total, page))
}
