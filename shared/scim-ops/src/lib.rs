//! The operations core: every SCIM operation a front door can ask for, executed with the SCIM
//! rules (defaults on create, PUT and PATCH semantics, sticky deprovisioning, membership
//! changes, projection and paging) over the store ports.
//!
//! Layers, one way (see `docs/ARCHITECTURE.md`): `scim-core` (schemas, filter and PATCH
//! engines) <- `scim-ops` (this crate: operations and the store ports) <- `scim-store` (the
//! DynamoDB adapter) <- `scim-edge` (the doors: HTTP parsing and rendering, Lambda glue) <-
//! `functions/*`. Nothing here knows HTTP or AWS.

pub mod error;
pub mod model;
pub mod ports;
pub mod tokens;

pub use error::{StoreError, UniqueAttribute, RETRY_AFTER_SECS};
pub use model::{Change, Group, Member, Principal, Refusal, TenantSettings, User};
pub use ports::{GroupStore, RateCounter, TokenStore, UserStore};
