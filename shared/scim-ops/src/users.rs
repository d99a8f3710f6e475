//! Users (RFC 7644 section 3): create, read, replace, patch, delete and list, as Okta, Entra
//! and strict RFC clients use them.
//!
//! Deprovisioning is sticky: a user's `active` changes only when a request asserts a boolean
//! for it. A PUT without `active`, a PATCH that removes it or sets it to `null` or `""` keep
//! the current value (RFC 7644 section 3.5.1 lets a PUT treat omitted attributes as not
//! asserted), so a deactivated user is never reactivated by accident. The document always
//! holds `active` as a boolean equal to the platform's flag.

use scim_core::codec;
use scim_core::filter::IndexKey;
use scim_core::ids::ResourceId;
use scim_core::list::{ListQuery, Projection, MAX_FILTER_SCAN};
use scim_core::patch::PatchRequest;
use scim_core::schema::{ResourceKind, ResourceSchema};
use scim_core::{PlatformRole, ScimError};
use serde_json::Value;

use crate::error::StoreError;
use crate::model::{Page, User};
use crate::operation::{Ctx, Outcome, Resource, UserOperation};
use crate::paging::{Listed, Paging};
use crate::ports::UserStore;
use crate::render;
use crate::write::{stale, Attempts, Precondition};
use crate::Operations;

fn not_found() -> ScimError {
    crate::error::not_found(ResourceKind::User)
}

impl<S: UserStore> Operations<S> {
    pub(crate) async fn user(
        &self,
        ctx: &Ctx<'_>,
        op: UserOperation,
    ) -> Result<Outcome, ScimError> {
        match op {
            UserOperation::Create { body, projection } => {
                let user = self.create_user(ctx, &body).await?;
                Ok(Outcome::Created(self.user_resource(
                    ctx,
                    &user,
                    &projection,
                )))
            }
            UserOperation::Get { id, projection } => {
                let user = self.load_user(ctx, &id).await?;
                Ok(Outcome::Ok(self.user_resource(ctx, &user, &projection)))
            }
            UserOperation::Replace {
                id,
                body,
                precondition,
                projection,
            } => {
                let prepared = self.prepare_user(ctx, &body)?;
                let user = self
                    .modify_user(ctx, &id, &precondition, |before| {
                        let (mut doc, role) = prepared.clone();
                        let active = settle_active(&mut doc, Some(before.active));
                        Ok((doc, role, active))
                    })
                    .await?;
                Ok(Outcome::Ok(self.user_resource(ctx, &user, &projection)))
            }
            UserOperation::Patch {
                id,
                patch,
                precondition,
                projection,
            } => {
                let user = self.patch_user(ctx, &id, &patch, &precondition).await?;
                Ok(Outcome::Ok(self.user_resource(ctx, &user, &projection)))
            }
            UserOperation::Delete { id, precondition } => {
                self.delete_user(ctx, &id, &precondition).await?;
                Ok(Outcome::NoContent)
            }
            UserOperation::List(query) => self.list_users(ctx, &query).await,
        }
    }

    fn user_schema(&self) -> &ResourceSchema {
        &self.schemas.user
    }

    fn user_resource(&self, ctx: &Ctx<'_>, user: &User, projection: &Projection) -> Resource {
        Resource {
            body: projection.apply(render::user(user, self.user_schema(), ctx.base_url)),
            version: user.version,
            location: render::location(ctx.base_url, self.user_schema().kind, user.id.as_str()),
        }
    }

    /// Normalises a client document and settles the effective platform role: the one sent, or
    /// the tenant's default, or MEMBER. The document keeps what the IdP sent; the role the
    /// platform uses is stored beside it.
    fn prepare_user(
        &self,
        ctx: &Ctx<'_>,
        input: &Value,
    ) -> Result<(Value, PlatformRole), ScimError> {
        let doc = codec::normalize(input, self.user_schema())?;
        let sent = doc
            .get(self.schemas.platform_urn())
            .and_then(|ext| ext.get("platformRole"))
            .and_then(Value::as_str)
            .and_then(PlatformRole::parse);
        let role = sent
            .or(ctx.principal.settings.default_platform_role)
            .unwrap_or_default();
        Ok((doc, role))
    }

    async fn create_user(&self, ctx: &Ctx<'_>, body: &Value) -> Result<User, ScimError> {
        let (mut doc, platform_role) = self.prepare_user(ctx, body)?;
        // RFC 7643 leaves the default to the service provider: a new user is active.
        let active = settle_active(&mut doc, None);
        let change = ctx.change();
        let user = User {
            id: ResourceId::from_generated(uuid::Uuid::new_v4().to_string()),
            doc,
            active,
            platform_role,
            group_ids: Vec::new(),
            version: 1,
            created: ctx.now.clone(),
            last_modified: ctx.now.clone(),
            modified_by: Some(change.by.to_string()),
        };
        self.store.create_user(ctx.tenant(), &user).await?;
        Ok(user)
    }

    async fn load_user(&self, ctx: &Ctx<'_>, id: &ResourceId) -> Result<User, ScimError> {
        self.store
            .get_user(ctx.tenant(), id)
            .await?
            .ok_or_else(not_found)
    }

    async fn patch_user(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        patch: &PatchRequest,
        precondition: &Precondition,
    ) -> Result<User, ScimError> {
        if let Some(active) = patch.only_sets_active() {
            return self.set_active(ctx, id, active, precondition).await;
        }
        self.modify_user(ctx, id, precondition, |before| {
            let mut doc = before.doc.clone();
            patch.apply(&mut doc, self.user_schema())?;
            // Re-validate the whole result; a removed platformRole falls back to the default.
            let (mut doc, role) = self.prepare_user(ctx, &doc)?;
            let active = settle_active(&mut doc, Some(before.active));
            Ok((doc, role, active))
        })
        .await
    }

    /// Okta's and Entra's (de)activation: one conditional write, no read (unless `If-Match`
    /// needs the current version first).
    async fn set_active(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        active: bool,
        precondition: &Precondition,
    ) -> Result<User, ScimError> {
        let expected = if precondition.is_pinned() {
            let current = self.load_user(ctx, id).await?;
            precondition.check(current.version, "user")?;
            Some(current.version)
        } else {
            None
        };
        match self
            .store
            .set_user_active(ctx.tenant(), id, active, ctx.change(), expected)
            .await
        {
            Ok(user) => Ok(user),
            Err(StoreError::NotFound) => Err(not_found()),
            Err(StoreError::VersionConflict) => {
                let landed =
                    |u: &User| u.active == active && expected.is_some_and(|v| u.version == v + 1);
                self.own_write(ctx, id, landed)
                    .await?
                    .ok_or_else(|| stale("user"))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The one write path of a user: read, check `If-Match`, compute the new document with
    /// `change`, write conditionally on the version read; re-read on a concurrent change unless
    /// the client pinned a version. A change that changes nothing writes nothing.
    async fn modify_user(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        precondition: &Precondition,
        change: impl Fn(&User) -> Result<(Value, PlatformRole, bool), ScimError>,
    ) -> Result<User, ScimError> {
        let mut attempts = Attempts::new(precondition);
        loop {
            let before = self.load_user(ctx, id).await?;
            precondition.check(before.version, "user")?;
            let (doc, platform_role, active) = change(&before)?;
            if doc == before.doc && platform_role == before.platform_role && active == before.active
            {
                return Ok(before); // nothing changed: no write, no new version
            }
            let stamp = ctx.change();
            let after = User {
                doc,
                active,
                platform_role,
                version: before.version + 1,
                last_modified: stamp.at.to_string(),
                modified_by: Some(stamp.by.to_string()),
                ..before.clone()
            };
            let err = match self.store.replace_user(ctx.tenant(), &before, &after).await {
                Ok(()) => return Ok(after),
                Err(err) => err,
            };
            if attempts.retry(&err).await {
                continue;
            }
            if err == StoreError::VersionConflict && precondition.is_pinned() {
                return self
                    .own_write(ctx, id, |u| {
                        u.version == after.version
                            && u.doc == after.doc
                            && u.platform_role == after.platform_role
                    })
                    .await?
                    .ok_or_else(|| stale("user"));
            }
            return Err(err.into());
        }
    }

    /// After a conditional write failed its version check: the user as this request wrote it,
    /// if it did. The store retries a write whose response was lost, and the retry's
    /// condition then fails on the version its own first try wrote; `last_modified` holding
    /// this request's timestamp tells that apart from a concurrent change.
    async fn own_write(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        wrote: impl Fn(&User) -> bool,
    ) -> Result<Option<User>, ScimError> {
        let current = self.store.get_user(ctx.tenant(), id).await?;
        Ok(current.filter(|u| u.last_modified == ctx.now && wrote(u)))
    }

    async fn delete_user(
        &self,
        ctx: &Ctx<'_>,
        id: &ResourceId,
        precondition: &Precondition,
    ) -> Result<(), ScimError> {
        let mut attempts = Attempts::new(precondition);
        loop {
            let user = self.load_user(ctx, id).await?;
            precondition.check(user.version, "user")?;
            let err = match self
                .store
                .delete_user(ctx.tenant(), &user, ctx.change())
                .await
            {
                Ok(()) => return Ok(()),
                Err(err) => err,
            };
            // A membership change moved the version: read again unless the client pinned it.
            if attempts.retry(&err).await {
                continue;
            }
            return Err(match err {
                StoreError::VersionConflict => ScimError::PreconditionFailed(
                    "The user changed while it was being deleted; read it again.".into(),
                ),
                other => other.into(),
            });
        }
    }

    async fn list_users(&self, ctx: &Ctx<'_>, query: &ListQuery) -> Result<Outcome, ScimError> {
        let paging = Paging::of(query)?;
        let listed = self.listed_users(ctx, query, &paging).await?;
        Ok(Outcome::List(paging.response(query, listed)))
    }

    /// A page of users, projected, and the total the filter matches.
    pub(crate) async fn listed_users(
        &self,
        ctx: &Ctx<'_>,
        query: &ListQuery,
        paging: &Paging,
    ) -> Result<Listed<Value>, ScimError> {
        let tenant = ctx.tenant();
        let render = |u: &User| render::user(u, self.user_schema(), ctx.base_url);
        let listed = match query.filter.as_ref().and_then(|f| f.index_key()) {
            Some(IndexKey::DisplayName(_)) => {
                return Err(ScimError::invalid_filter(
                    "displayName is not indexed for users.",
                ))
            }
            Some(key) => {
                let mut found: Vec<Value> = self
                    .store
                    .find_users(tenant, &key)
                    .await?
                    .iter()
                    .map(render)
                    .collect();
                found.sort_by(|a, b| a["userName"].as_str().cmp(&b["userName"].as_str()));
                paging.in_memory(query, found, |v| v)?
            }
            None if !query.pages_in_index_order(Some("userName")) => {
                let all = self
                    .store
                    .all_users(tenant, MAX_FILTER_SCAN)
                    .await?
                    .ok_or_else(|| {
                        ScimError::too_many(format!(
                            "This filter or sort needs more than {MAX_FILTER_SCAN} users \
                             examined; filter on userName, externalId, id or emails instead."
                        ))
                    })?;
                paging.in_memory(query, all.iter().map(render).collect(), |v| v)?
            }
            None => {
                let total = self.store.count_users(tenant).await?;
                let page = match paging.store_start(query, total)? {
                    Some(start) => self.store.page_users(tenant, &start, query.count).await?,
                    None => Page {
                        items: Vec::new(),
                        next: None,
                    },
                };
                paging.store_page(total, page.items.iter().map(render).collect(), page.next)
            }
        };
        Ok(listed.map(|r| query.projection.apply(r)))
    }
}

/// Settles `active` in a normalised document: the boolean it asserts, else `previous` (the
/// stored value; `None` on create, where a user starts active). Writes the result back into the
/// document, so the document and the platform's flag never disagree.
fn settle_active(doc: &mut Value, previous: Option<bool>) -> bool {
    let asserted = doc.get("active").and_then(Value::as_bool);
    let active = asserted.or(previous).unwrap_or(true);
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("active".into(), Value::Bool(active));
    }
    active
}
