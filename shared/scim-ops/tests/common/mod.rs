//! The harness of the operations tests: an `Operations<MemoryStore>` for one tenant, a fixed
//! base URL and request time, and helpers that create resources and run operations the way a
//! door would (bodies as JSON, PATCH and list parameters parsed by `scim-core`).
//!
//! Each test binary uses a subset of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::ids::{ResourceId, TenantId};
use scim_core::list::{ListQuery, Projection};
use scim_core::patch::PatchRequest;
use scim_core::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA};
use scim_core::{ProjectRole, ScimError};
use serde_json::{json, Value};

use scim_ops::memory::MemoryStore;
use scim_ops::{
    Ctx, Group, GroupOperation, Operation, Operations, Outcome, Precondition, Principal, Resource,
    TenantSettings, User, UserOperation,
};

/// Where the resources live (`meta.location`, `$ref`).
pub const BASE_URL: &str = "https://scim.example.test/scim/v2";
/// The timestamp of every request of a test unless it says otherwise.
pub const NOW: &str = "2025-03-01T12:00:00Z";
/// The tenant the harness acts for.
pub const TENANT: &str = "acme";
/// The URN of the extension carrying `platformRole` in the default deployment.
pub const PLATFORM_URN: &str = DEFAULT_PLATFORM_SCHEMA;
/// An id of ours that names no resource.
pub const UNKNOWN_ID: &str = "00000000-0000-4000-8000-000000000000";

/// A verified caller of `tenant` with default settings.
pub fn principal(tenant: &str) -> Principal {
    principal_with(tenant, TenantSettings::default())
}

pub fn principal_with(tenant: &str, settings: TenantSettings) -> Principal {
    Principal {
        tenant: TenantId::parse(tenant).expect("a valid tenant id"),
        token_prefix: "scim_0a1b2c3d".into(),
        token_hash: format!("hash-of-{tenant}-token"),
        settings,
    }
}

pub fn id(text: &str) -> ResourceId {
    ResourceId::parse(text).unwrap_or_else(|| panic!("`{text}` is not a resource id"))
}

/// The operations core over a fresh in-memory store, and the caller of [`TENANT`].
pub struct Harness {
    pub ops: Operations<MemoryStore>,
    pub principal: Principal,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_settings(TenantSettings::default())
    }

    /// A harness whose tenant has `settings` (default roles, rate limit).
    pub fn with_settings(settings: TenantSettings) -> Self {
        Self {
            ops: Operations::new(
                MemoryStore::new(),
                Schemas::new(DEFAULT_PLATFORM_SCHEMA),
                ProjectRole::Editor,
            ),
            principal: principal_with(TENANT, settings),
        }
    }

    pub fn store(&self) -> &MemoryStore {
        &self.ops.store
    }

    pub fn tenant(&self) -> &TenantId {
        &self.principal.tenant
    }

    /// The request context of the harness's caller at [`NOW`].
    pub fn ctx(&self) -> Ctx<'_> {
        self.ctx_at(NOW)
    }

    pub fn ctx_at(&self, now: &str) -> Ctx<'_> {
        Ctx {
            principal: &self.principal,
            base_url: BASE_URL,
            now: now.to_string(),
        }
    }

    /// Runs one operation as the harness's caller at [`NOW`].
    pub async fn run(&self, op: Operation) -> Result<Outcome, ScimError> {
        self.ops.execute(&self.ctx(), op).await
    }

    /// Runs one operation as the harness's caller at `now`.
    pub async fn run_at(&self, now: &str, op: Operation) -> Result<Outcome, ScimError> {
        self.ops.execute(&self.ctx_at(now), op).await
    }

    /// Runs one operation as another caller (another tenant).
    pub async fn run_as(&self, principal: &Principal, op: Operation) -> Result<Outcome, ScimError> {
        let ctx = Ctx {
            principal,
            base_url: BASE_URL,
            now: NOW.to_string(),
        };
        self.ops.execute(&ctx, op).await
    }

    // ---- parsing, as a door does it ----

    pub fn user_patch(&self, body: Value) -> PatchRequest {
        PatchRequest::parse(&body, &self.ops.schemas.user).expect("a valid user PATCH body")
    }

    pub fn group_patch(&self, body: Value) -> PatchRequest {
        PatchRequest::parse(&body, &self.ops.schemas.group).expect("a valid group PATCH body")
    }

    /// A list query from GET parameters, e.g. `&[("filter", "userName eq \"a\""), ("count", "2")]`.
    pub fn user_query(&self, params: &[(&str, &str)]) -> ListQuery {
        query(params, &self.ops.schemas.user)
    }

    pub fn group_query(&self, params: &[(&str, &str)]) -> ListQuery {
        query(params, &self.ops.schemas.group)
    }

    /// `attributes` / `excludedAttributes` of a user request.
    pub fn user_projection(&self, attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        Projection::parse(attributes, excluded, &self.ops.schemas.user).expect("a valid projection")
    }

    pub fn group_projection(&self, attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        Projection::parse(attributes, excluded, &self.ops.schemas.group)
            .expect("a valid projection")
    }

    // ---- users ----

    /// Creates a user from a full SCIM body.
    pub async fn create_user_with(&self, body: Value) -> Resource {
        let outcome = self
            .run(Operation::User(UserOperation::Create {
                body,
                projection: Projection::default(),
            }))
            .await
            .expect("the user is created");
        created(outcome)
    }

    /// Creates a user with just a userName; returns its id.
    pub async fn create_user(&self, user_name: &str) -> String {
        let resource = self
            .create_user_with(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
            }))
            .await;
        resource_id(&resource)
    }

    pub async fn get_user(&self, user: &str) -> Result<Outcome, ScimError> {
        self.run(Operation::User(UserOperation::Get {
            id: id(user),
            projection: Projection::default(),
        }))
        .await
    }

    /// The user as a client reads it (panics unless found).
    pub async fn read_user(&self, user: &str) -> Resource {
        ok(self.get_user(user).await.expect("the user can be read"))
    }

    pub async fn replace_user(
        &self,
        user: &str,
        body: Value,
        precondition: Precondition,
    ) -> Result<Outcome, ScimError> {
        self.run(Operation::User(UserOperation::Replace {
            id: id(user),
            body,
            precondition,
            projection: Projection::default(),
        }))
        .await
    }

    pub async fn patch_user(&self, user: &str, body: Value) -> Result<Outcome, ScimError> {
        self.patch_user_if(user, body, Precondition::none()).await
    }

    pub async fn patch_user_if(
        &self,
        user: &str,
        body: Value,
        precondition: Precondition,
    ) -> Result<Outcome, ScimError> {
        let patch = self.user_patch(body);
        self.run(Operation::User(UserOperation::Patch {
            id: id(user),
            patch,
            precondition,
            projection: Projection::default(),
        }))
        .await
    }

    pub async fn delete_user(&self, user: &str) -> Result<Outcome, ScimError> {
        self.run(Operation::User(UserOperation::Delete {
            id: id(user),
            precondition: Precondition::none(),
        }))
        .await
    }

    pub async fn list_users(&self, params: &[(&str, &str)]) -> Result<Value, ScimError> {
        let query = self.user_query(params);
        Ok(list(
            self.run(Operation::User(UserOperation::List(query)))
                .await?,
        ))
    }

    /// The user as stored (panics unless live).
    pub fn stored_user(&self, user: &str) -> User {
        match self.store().user_record(self.tenant(), &id(user)) {
            Some((stored, false)) => stored,
            Some((_, true)) => panic!("user {user} is deleted"),
            None => panic!("no user {user}"),
        }
    }

    // ---- groups ----

    pub async fn create_group_with(&self, body: Value) -> Result<Outcome, ScimError> {
        self.run(Operation::Group(GroupOperation::Create {
            body,
            projection: Projection::default(),
        }))
        .await
    }

    /// Creates a group with these member ids; returns its id.
    pub async fn create_group(&self, display_name: &str, members: &[&str]) -> String {
        let outcome = self
            .create_group_with(group_body(display_name, members))
            .await
            .expect("the group is created");
        resource_id(&created(outcome))
    }

    pub async fn get_group(
        &self,
        group: &str,
        projection: Projection,
    ) -> Result<Outcome, ScimError> {
        self.run(Operation::Group(GroupOperation::Get {
            id: id(group),
            projection,
        }))
        .await
    }

    /// The group as a client reads it, with its members (panics unless found).
    pub async fn read_group(&self, group: &str) -> Resource {
        ok(self
            .get_group(group, Projection::default())
            .await
            .expect("the group can be read"))
    }

    pub async fn patch_group(&self, group: &str, body: Value) -> Result<Outcome, ScimError> {
        self.patch_group_with(group, body, Precondition::none(), Projection::default())
            .await
    }

    pub async fn patch_group_with(
        &self,
        group: &str,
        body: Value,
        precondition: Precondition,
        projection: Projection,
    ) -> Result<Outcome, ScimError> {
        let patch = self.group_patch(body);
        self.run(Operation::Group(GroupOperation::Patch {
            id: id(group),
            patch,
            precondition,
            projection,
        }))
        .await
    }

    pub async fn replace_group(
        &self,
        group: &str,
        body: Value,
        precondition: Precondition,
    ) -> Result<Outcome, ScimError> {
        self.run(Operation::Group(GroupOperation::Replace {
            id: id(group),
            body,
            precondition,
            projection: Projection::default(),
        }))
        .await
    }

    pub async fn delete_group(&self, group: &str) -> Result<Outcome, ScimError> {
        self.run(Operation::Group(GroupOperation::Delete {
            id: id(group),
            precondition: Precondition::none(),
        }))
        .await
    }

    pub async fn list_groups(&self, params: &[(&str, &str)]) -> Result<Value, ScimError> {
        let query = self.group_query(params);
        Ok(list(
            self.run(Operation::Group(GroupOperation::List(query)))
                .await?,
        ))
    }

    /// The group as stored (panics unless live).
    pub async fn stored_group(&self, group: &str) -> Group {
        use scim_ops::GroupStore;
        self.store()
            .get_group(self.tenant(), &id(group))
            .await
            .expect("the store answers")
            .unwrap_or_else(|| panic!("no group {group}"))
    }

    /// The ids of a group's members as stored, sorted.
    pub async fn stored_members(&self, group: &str) -> Vec<String> {
        use scim_ops::GroupStore;
        let members = self
            .store()
            .group_members(self.tenant(), &id(group))
            .await
            .expect("the store answers");
        let mut ids: Vec<String> = members.iter().map(|m| m.user_id.to_string()).collect();
        ids.sort();
        ids
    }

    /// The ids of the groups a stored user belongs to, sorted.
    pub fn stored_groups_of(&self, user: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .stored_user(user)
            .group_ids
            .iter()
            .map(ToString::to_string)
            .collect();
        ids.sort();
        ids
    }
}

fn query(params: &[(&str, &str)], schema: &scim_core::schema::ResourceSchema) -> ListQuery {
    ListQuery::from_query(
        |name| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
        schema,
    )
    .expect("a valid list query")
}

/// A SCIM Group body with these member ids.
pub fn group_body(display_name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": display_name,
        "members": members,
    })
}

/// A PATCH body with these operations.
pub fn patch_body(operations: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations,
    })
}

// ---- reading outcomes ----

pub fn created(outcome: Outcome) -> Resource {
    match outcome {
        Outcome::Created(resource) => resource,
        other => panic!("expected Created, got {other:?}"),
    }
}

pub fn ok(outcome: Outcome) -> Resource {
    match outcome {
        Outcome::Ok(resource) => resource,
        other => panic!("expected Ok, got {other:?}"),
    }
}

pub fn list(outcome: Outcome) -> Value {
    match outcome {
        Outcome::List(body) => body,
        other => panic!("expected List, got {other:?}"),
    }
}

pub fn resource_id(resource: &Resource) -> String {
    resource.body["id"]
        .as_str()
        .expect("a resource has an id")
        .to_string()
}

/// The `id`s of a ListResponse's resources, in order.
pub fn listed_ids(response: &Value) -> Vec<String> {
    response["Resources"]
        .as_array()
        .expect("a ListResponse has Resources")
        .iter()
        .map(|r| {
            r["id"]
                .as_str()
                .expect("listed resources have ids")
                .to_string()
        })
        .collect()
}

/// The values of one attribute of a ListResponse's resources, in order.
pub fn listed(response: &Value, attribute: &str) -> Vec<Value> {
    response["Resources"]
        .as_array()
        .expect("a ListResponse has Resources")
        .iter()
        .map(|r| r[attribute].clone())
        .collect()
}

/// The member ids of a rendered group, sorted.
pub fn member_values(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .map(|m| {
                    m["value"]
                        .as_str()
                        .expect("members have values")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The group ids of a rendered user, sorted.
pub fn group_values(user: &Value) -> Vec<String> {
    let mut ids: Vec<String> = user["groups"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .map(|g| g["value"].as_str().expect("groups have values").to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Asserts an error's HTTP status and, when given, its `scimType`.
#[track_caller]
pub fn assert_error(result: Result<Outcome, ScimError>, status: u16, scim_type: Option<&str>) {
    match result {
        Ok(outcome) => panic!("expected a {status} error, got {outcome:?}"),
        Err(err) => {
            assert_eq!(err.status(), status, "{err:?}");
            if let Some(expected) = scim_type {
                assert_eq!(
                    err.scim_type().map(|t| t.as_str()),
                    Some(expected),
                    "{err:?}"
                );
            }
        }
    }
}

/// Sorted copies, for comparing id sets.
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = ids.iter().map(ToString::to_string).collect();
    out.sort();
    out
}
