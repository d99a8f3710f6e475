//! The DynamoDB adapter: tenants, tokens, users, groups (projects) and memberships in one table.
//!
//! [`Store`] implements the operations core's store ports (`scim_ops::UserStore`,
//! `GroupStore`, `TokenStore`, `RateCounter`) over the items of [`items`], and adds what only
//! administration, the platform's reads, the audit trail and the provisioning events need. Every key a request can reach
//! is scoped by the tenant id from the caller's token (see [`keys`]); no request path uses Scan.

pub mod audit;
#[cfg(test)]
mod call_tests;
mod counts;
mod entity;
pub mod error;
pub mod event_log;
pub mod events;
#[cfg(test)]
mod fake;
mod groups;
mod guards;
pub mod items;
pub mod keys;
mod listing;
mod members;
pub mod oauth_clients;
mod platform;
mod ratelimit;
pub mod records;
pub mod snapshot;
pub mod store;
pub mod stream;
mod tenants;
pub mod tokens;
mod users;
pub mod webhooks;

pub use error::{StoreError, UniqueAttribute};
pub use items::{
    AuditItem, EventLogItem, GroupItem, MembershipItem, TenantItem, TokenItem, UserItem,
};
pub use platform::{Project, ProjectMember, UserProject};
pub use records::UserFacts;
pub use scim_core::patch::MemberDelta;
pub use scim_ops::{
    AuditRecord, AuditTrail, Change, Group, GroupStore, Member, Principal, RateCounter, Refusal,
    TenantSettings, TokenStore, User, UserStore,
};
pub use store::Store;
pub use tenants::{ByPrefix, TENANT_ACTIVE, TENANT_DISABLED};
