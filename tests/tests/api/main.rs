//! One integration-test binary: every module talks HTTP to the functions under
//! `cargo lambda watch`, backed by moto, started by `scripts/integration.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod audit;
mod auth;
mod bulk;
mod deprovisioning;
mod discovery;
mod entra_group_flow;
mod entra_user_flow;
mod entra_validator;
mod errors;
mod events;
mod faults;
mod groups_rfc7644;
mod groups_scale;
mod hostile_input;
mod iam;
mod index_keys;
mod isolation;
mod limits;
mod list_cost;
mod logs;
mod oauth;
mod okta_group_flow;
mod okta_scim11_flow;
mod okta_user_flow;
mod openapi_spec;
mod projects;
mod public_urls;
mod rate_limit;
mod root_search;
mod stand_in;
mod users_concurrency;
mod users_crud;
mod users_filters;
mod users_patch;
mod webhooks;
