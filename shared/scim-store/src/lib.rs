//! The DynamoDB store: tenants, tokens, users, groups (projects) and memberships in one table.
//!
//! Every key a request can reach is scoped by the tenant id from the caller's token (see
//! [`keys`]); no request path uses Scan.

pub mod audit;
pub mod error;
mod groups;
pub mod items;
pub mod keys;
mod listing;
mod platform;
mod ratelimit;
pub mod store;
mod tenants;
pub mod tokens;
mod users;

pub use error::{StoreError, UniqueAttribute};
pub use groups::{Member, MemberDelta};
pub use items::{AuditItem, Change, GroupItem, TenantItem, TenantSettings, TokenItem, UserItem};
pub use platform::{Project, ProjectMember, UserProject};
pub use store::Store;
pub use tenants::{Principal, Refusal, TENANT_ACTIVE, TENANT_DISABLED};
pub use users::{UserFacts, MAX_INDEXED_EMAILS};
