//! The Users endpoint (RFC 7644 section 3), as Okta, Entra and strict RFC clients use it.

use scim_core::codec;
use scim_core::filter::IndexKey;
use scim_core::ids::ResourceId;
use scim_core::patch::{PatchOp, PatchRequest};
use scim_core::schema::{ResourceSchema, PLATFORM_ROLES};
use scim_core::ScimError;
use scim_store::{StoreError, UserItem};
use serde_json::Value;

use crate::app::{App, Ctx};
use crate::errors::from_store;
use crate::http::{Method, Request, Response};
use crate::list::{self, ListQuery, Projection, MAX_FILTER_SCAN};
use crate::render;
use crate::routes::Route;

/// Optimistic-concurrency retries for writes without `If-Match` (each re-reads the user).
const WRITE_ATTEMPTS: usize = 4;

pub async fn handle(
    app: &App,
    ctx: &Ctx,
    route: &Route,
    request: &Request,
) -> Result<Response, ScimError> {
    match (route, request.method) {
        (Route::Users, Method::Post) => create(app, ctx, request).await,
        (Route::Users, Method::Get) => {
            let query = ListQuery::from_query(request, &app.schemas.user)?;
            list(app, ctx, &query).await
        }
        (Route::UsersSearch, Method::Post) => {
            let query = ListQuery::from_search(&request.json_body()?, &app.schemas.user)?;
            list(app, ctx, &query).await
        }
        (Route::User(id), method) => {
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
    ScimError::NotFound("User not found.".into())
}

fn schema(app: &App) -> &ResourceSchema {
    &app.schemas.user
}

/// Normalises a client document and settles the effective platform role: the one sent (any
/// case), or the tenant's default, or MEMBER. The document keeps what the IdP sent; the role the
/// platform uses is stored beside it.
fn prepare(app: &App, ctx: &Ctx, input: &Value) -> Result<(Value, String), ScimError> {
    let doc = codec::normalize(input, schema(app))?;
    let urn = app.schemas.platform_urn();
    let sent = doc
        .get(urn)
        .and_then(|ext| ext.get("platformRole"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let role = match sent {
        Some(role) => role,
        None => ctx
            .principal
            .settings
            .default_platform_role
            .clone()
            .filter(|r| PLATFORM_ROLES.contains(&r.as_str()))
            .unwrap_or_else(|| "MEMBER".into()),
    };
    Ok((doc, role))
}

fn respond(
    app: &App,
    ctx: &Ctx,
    status: u16,
    item: &UserItem,
    projection: &Projection,
) -> Response {
    let body = projection.apply(render::user(item, schema(app), &ctx.base_url));
    let location = format!("{}/Users/{}", ctx.base_url, item.id);
    let mut response = Response::json(status, body).with_header("etag", render::etag(item.version));
    if status == 201 {
        response = response.with_header("location", location);
    }
    response
}

async fn create(app: &App, ctx: &Ctx, request: &Request) -> Result<Response, ScimError> {
    let (mut doc, role) = prepare(app, ctx, &request.json_body()?)?;
    if let Some(obj) = doc.as_object_mut() {
        // RFC 7643 leaves the default to the service provider: a new user is active.
        obj.entry("active").or_insert(Value::Bool(true));
    }
    let id = ResourceId::from_generated(uuid::Uuid::new_v4().to_string());
    let tenant = &ctx.principal.tenant;
    let item = UserItem::build(
        tenant,
        &id,
        doc,
        role,
        1,
        ctx.now.clone(),
        ctx.change(),
        Vec::new(),
    );
    app.store
        .create_user(tenant, &item)
        .await
        .map_err(from_store)?;
    let projection = Projection::from_request(request, schema(app))?;
    Ok(respond(app, ctx, 201, &item, &projection))
}

async fn get(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let projection = Projection::from_request(request, schema(app))?;
    let item = load(app, ctx, id).await?;
    Ok(respond(app, ctx, 200, &item, &projection))
}

async fn load(app: &App, ctx: &Ctx, id: &ResourceId) -> Result<UserItem, ScimError> {
    app.store
        .get_user(&ctx.principal.tenant, id)
        .await
        .map_err(from_store)?
        .ok_or_else(not_found)
}

/// Reads the user, computes its new document with `change`, and writes it conditionally on the
/// version read, re-reading on a concurrent change unless the client pinned a version.
async fn read_modify_write(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
    change: impl Fn(&UserItem) -> Result<(Value, String), ScimError>,
) -> Result<UserItem, ScimError> {
    let tenant = &ctx.principal.tenant;
    let pinned = request.header("if-match").is_some();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let before = load(app, ctx, id).await?;
        render::check_if_match(request, before.version, "user")?;
        let (doc, role) = change(&before)?;
        let after = UserItem::build(
            tenant,
            id,
            doc,
            role,
            before.version + 1,
            before.created.clone(),
            ctx.change(),
            before.group_ids.clone(),
        );
        if after.doc == before.doc && after.platform_role == before.platform_role {
            return Ok(before); // nothing changed: no write, no new version
        }
        match app.store.replace_user(tenant, &before, &after).await {
            Ok(()) => return Ok(after),
            Err(StoreError::VersionConflict) if !pinned && attempt < WRITE_ATTEMPTS => continue,
            Err(StoreError::VersionConflict) if pinned => {
                return own_write(app, ctx, id, |u| {
                    u.version == after.version
                        && u.doc == after.doc
                        && u.platform_role == after.platform_role
                })
                .await?
                .ok_or_else(stale)
            }
            Err(err) => return Err(from_store(err)),
        }
    }
}

fn stale() -> ScimError {
    ScimError::PreconditionFailed("The user changed since the version in If-Match.".into())
}

/// After a conditional write failed its version check: the user as this request wrote it, if
/// it did. The SDK retries a write whose response was lost (PutItem and UpdateItem have no
/// idempotency token), and the retry's condition then fails on the version its own first try
/// wrote; `last_modified` holding this request's timestamp tells that apart from a concurrent
/// change.
async fn own_write(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    wrote: impl Fn(&UserItem) -> bool,
) -> Result<Option<UserItem>, ScimError> {
    let current = app
        .store
        .get_user(&ctx.principal.tenant, id)
        .await
        .map_err(from_store)?;
    Ok(current.filter(|u| u.last_modified == ctx.now && wrote(u)))
}

async fn replace(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let body = request.json_body()?;
    let prepared = prepare(app, ctx, &body)?;
    let item = read_modify_write(app, ctx, id, request, |_| Ok(prepared.clone())).await?;
    let projection = Projection::from_request(request, schema(app))?;
    Ok(respond(app, ctx, 200, &item, &projection))
}

async fn patch(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let body = request.json_body()?;
    let patch = PatchRequest::parse(&body, schema(app))?;
    let projection = Projection::from_request(request, schema(app))?;
    if let Some(active) = only_sets_active(&patch) {
        // Okta's and Entra's (de)activation: one conditional UpdateItem, no read.
        let expected = match request.header("if-match") {
            None => None,
            Some(_) => {
                let current = load(app, ctx, id).await?;
                render::check_if_match(request, current.version, "user")?;
                Some(current.version)
            }
        };
        let item = match app
            .store
            .set_user_active(&ctx.principal.tenant, id, active, ctx.change(), expected)
            .await
        {
            Ok(item) => item,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(StoreError::VersionConflict) => {
                let landed = |u: &UserItem| {
                    u.active == active && expected.is_some_and(|v| u.version == v + 1)
                };
                own_write(app, ctx, id, landed).await?.ok_or_else(stale)?
            }
            Err(other) => return Err(from_store(other)),
        };
        return Ok(respond(app, ctx, 200, &item, &projection));
    }
    let item = read_modify_write(app, ctx, id, request, |before| {
        let mut doc = before.doc.clone();
        patch.apply(&mut doc, schema(app))?;
        // Re-validate the whole result; a removed platformRole falls back to the default.
        prepare(app, ctx, &doc)
    })
    .await?;
    Ok(respond(app, ctx, 200, &item, &projection))
}

/// `Some(active)` when every operation only sets `active` (with or without a path, any key
/// casing, booleans possibly as strings): the deactivation shapes Okta and Entra send.
fn only_sets_active(patch: &PatchRequest) -> Option<bool> {
    let mut result = None;
    for op in &patch.operations {
        if op.op == PatchOp::Remove {
            return None;
        }
        let value = op.value.as_ref()?;
        let sent = match &op.path {
            Some(path)
                if path.filter.is_none()
                    && path.attr.extension.is_none()
                    && path.attr.attr == "active"
                    && path.attr.sub_attr.is_none() =>
            {
                value
            }
            Some(_) => return None,
            None => {
                let obj = value.as_object()?;
                let mut entries = obj.iter();
                let (key, v) = entries.next()?;
                if entries.next().is_some() || !key.eq_ignore_ascii_case("active") {
                    return None;
                }
                v
            }
        };
        result = Some(match sent {
            Value::Bool(b) => *b,
            Value::String(s) if s.eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.eq_ignore_ascii_case("false") => false,
            _ => return None,
        });
    }
    result
}

async fn delete(
    app: &App,
    ctx: &Ctx,
    id: &ResourceId,
    request: &Request,
) -> Result<Response, ScimError> {
    let pinned = request.header("if-match").is_some();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let item = load(app, ctx, id).await?;
        render::check_if_match(request, item.version, "user")?;
        match app
            .store
            .delete_user(&ctx.principal.tenant, &item, ctx.change())
            .await
        {
            Ok(()) => return Ok(Response::no_content()),
            // A membership change moved the version: read again unless the client pinned it.
            Err(StoreError::VersionConflict) if !pinned && attempt < WRITE_ATTEMPTS => continue,
            Err(StoreError::VersionConflict) => {
                return Err(ScimError::PreconditionFailed(
                    "The user changed while it was being deleted; read it again.".into(),
                ))
            }
            Err(other) => return Err(from_store(other)),
        }
    }
}

async fn list(app: &App, ctx: &Ctx, query: &ListQuery) -> Result<Response, ScimError> {
    let tenant = &ctx.principal.tenant;
    let store = &app.store;
    let render = |u: &UserItem| render::user(u, schema(app), &ctx.base_url);
    let (total, page) = match query.filter.as_ref().map(|f| (f, f.index_key())) {
        Some((_, Some(key))) => {
            let candidates: Vec<UserItem> = match key {
                IndexKey::Id(id) => match ResourceId::parse(&id) {
                    Some(id) => store
                        .get_user(tenant, &id)
                        .await
                        .map_err(from_store)?
                        .into_iter()
                        .collect(),
                    None => Vec::new(),
                },
                IndexKey::UserName(name) => store
                    .find_user_by_user_name(tenant, &name)
                    .await
                    .map_err(from_store)?
                    .into_iter()
                    .collect(),
                IndexKey::ExternalId(ext) => match store
                    .find_user_id_by_external_id(tenant, &ext)
                    .await
                    .map_err(from_store)?
                {
                    Some(id) => store
                        .get_user(tenant, &id)
                        .await
                        .map_err(from_store)?
                        .into_iter()
                        .collect(),
                    None => Vec::new(),
                },
                IndexKey::Email(email) => {
                    let ids = store
                        .find_user_ids_by_email(tenant, &email)
                        .await
                        .map_err(from_store)?;
                    if ids.is_empty() {
                        Vec::new()
                    } else {
                        store.get_users(tenant, &ids).await.map_err(from_store)?
                    }
                }
                IndexKey::DisplayName(_) => {
                    return Err(ScimError::invalid_filter(
                        "displayName is not indexed for users.",
                    ))
                }
            };
            let mut rendered: Vec<Value> = candidates.iter().map(render).collect();
            rendered.sort_by(|a, b| a["userName"].as_str().cmp(&b["userName"].as_str()));
            list::page_in_memory(rendered, query)
        }
        Some((_, None)) => in_memory(app, ctx, query).await?,
        None if query.sort_by.as_ref().is_some_and(|s| {
            !(s.attr == "userName" && s.extension.is_none()) || query.descending
        }) =>
        {
            in_memory(app, ctx, query).await?
        }
        None => {
            let total = store.count_users(tenant).await.map_err(from_store)?;
            let page = if query.count == 0 || query.start_index > total {
                Vec::new()
            } else {
                store
                    .page_users(tenant, query.start_index - 1, query.count)
                    .await
                    .map_err(from_store)?
                    .iter()
                    .map(render)
                    .collect()
            };
            (total, page)
        }
    };
    let resources = page
        .into_iter()
        .map(|r| query.projection.apply(r))
        .collect();
    Ok(Response::json(
        200,
        list::list_response(total, query.start_index, resources),
    ))
}

/// Evaluates a filter or sort that no index answers over the tenant's users, up to
/// [`MAX_FILTER_SCAN`] of them.
async fn in_memory(
    app: &App,
    ctx: &Ctx,
    query: &ListQuery,
) -> Result<(usize, Vec<Value>), ScimError> {
    let users = app
        .store
        .all_users(&ctx.principal.tenant, MAX_FILTER_SCAN)
        .await
        .map_err(from_store)?
        .ok_or_else(|| {
            ScimError::too_many(format!(
                "This filter or sort needs more than {MAX_FILTER_SCAN} users examined; filter on \
                 userName, externalId, id or emails instead."
            ))
        })?;
    let rendered = users
        .iter()
        .map(|u| render::user(u, schema(app), &ctx.base_url))
        .collect();
    Ok(list::page_in_memory(rendered, query))
}
