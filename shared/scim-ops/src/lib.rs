//! The operations core: every SCIM operation a front door can ask for, executed with the SCIM
//! rules (defaults on create, PUT and PATCH semantics, sticky deprovisioning, membership
//! changes, projection and paging) over the store ports.
//!
//! Layers, one way (see `docs/ARCHITECTURE.md`): `scim-core` (schemas, filter and PATCH
//! engines) <- `scim-ops` (this crate: operations and the store ports) <- `scim-store` (the
//! DynamoDB adapter) <- `scim-edge` (the doors: HTTP parsing and rendering, Lambda glue) <-
//! `functions/*`. Nothing here knows HTTP or AWS.

pub mod error;
pub mod events;
pub mod model;
pub mod oauth;
pub mod ports;
pub mod tokens;
pub mod webhooks;

pub use error::{StoreError, UniqueAttribute, RETRY_AFTER_SECS};
pub use model::{
    AuditRecord, Change, Group, Member, Page, PageStart, Principal, Refusal, TenantSettings, User,
};
pub use ports::{AuditTrail, GroupStore, RateCounter, TokenStore, UserStore};
pub mod access;
mod bulk;
pub mod groups;
pub mod memory;
pub mod operation;
mod paging;
pub mod render;
mod search;
pub mod users;
pub mod write;

pub use operation::{
    Ctx, GroupOperation, Operation, Outcome, Resource, ResourceOperation, UserOperation,
};
pub use write::Precondition;

use scim_core::schema::Schemas;

/// An RFC 3339 time as epoch seconds (`None` when unreadable or before 1970).
pub(crate) fn time_epoch(text: &str) -> Option<u64> {
    scim_core::datetime::parse(text)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
}
use scim_core::{ProjectRole, ScimError};

/// The operations core over a store `S` (the DynamoDB adapter in the functions, the in-memory
/// one in unit tests). Built once per cold start.
#[derive(Debug)]
pub struct Operations<S> {
    pub store: S,
    pub schemas: Schemas,
    /// The deployment's project role for members of new projects (a tenant may override it).
    pub default_project_role: ProjectRole,
}

impl<S: UserStore + GroupStore> Operations<S> {
    pub fn new(store: S, schemas: Schemas, default_project_role: ProjectRole) -> Self {
        Self {
            store,
            schemas,
            default_project_role,
        }
    }

    /// Executes one operation for the caller in `ctx`.
    pub async fn execute(&self, ctx: &Ctx<'_>, operation: Operation) -> Result<Outcome, ScimError> {
        match operation {
            Operation::User(op) => self.user(ctx, op).await,
            Operation::Group(op) => self.group(ctx, op).await,
            Operation::SearchAll(body) => self.search_all(ctx, &body).await,
            Operation::Bulk(request) => self.bulk(ctx, request).await,
        }
    }
}
