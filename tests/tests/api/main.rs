//! One integration-test binary: every module talks HTTP to the functions under
//! `cargo lambda watch`, backed by moto, started by `scripts/integration.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod discovery;
mod errors;
mod users_crud;
