//! The one home of the HTTP integration tests' helpers: a client per tenant that honours
//! `Retry-After` (`client`), the admin CLI and Lambda and what the platform reads through them
//! (`platform`), request shapes and readings of SCIM responses (`scim`), names, sets and
//! parallel setup (`names`), fixtures as the RFCs, Okta and Entra send them (`fixtures`),
//! DynamoDB and EventBridge faults (`faults`), the events a platform receives from the bus
//! (`bus`) and from a webhook endpoint (`webhooks`), a local OAuth issuer and the token
//! endpoint (`oauth`), the local table through the platform's store API (`store`) and
//! `template.yaml` as the tests read it (`template`).
//!
//! The stack is started by `scripts/integration.sh` (`make integration`), which exports
//! `SCIM_BASE_URL`, `SCIM_ADMIN_BIN` and the local AWS settings. Without them every test fails:
//! nothing here skips silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod bus;
pub mod client;
pub mod faults;
pub mod fixtures;
pub mod names;
pub mod oauth;
pub mod platform;
pub mod scim;
pub mod store;
pub mod template;
pub mod webhooks;

pub use bus::EventTap;
pub use client::{base_url, Client, Resp, MAX_RETRIES, SCIM_JSON};
pub use faults::{Fault, FaultKind, SDK_ATTEMPTS};
pub use fixtures::{fixture, rfc7643_full_user, rfc7643_user_to_create};
pub use names::{enc, parallel_map, random_guid, set, unique, unique_login};
pub use platform::{
    admin, admin_json, admin_lambda, issue_token, platform_member_ids, platform_members,
    platform_projects, platform_user, platform_user_projects, tenant_id, token_prefix,
    wait_out_token_cache,
};
pub use scim::*;
pub use webhooks::Hook;
