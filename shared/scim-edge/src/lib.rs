//! The edge of the SCIM service: configuration, authentication, the Users, Groups and discovery
//! handlers over transport-neutral requests, and the thin Lambda glue.

mod actor;
pub mod app;
pub mod auth;
pub mod config;
pub mod discovery;
pub mod errors;
pub mod groups;
pub mod http;
pub mod lambda;
pub mod list;
pub mod ratelimit;
pub mod render;
pub mod routes;
pub mod users;

pub use routes::Family;
/// The strict JSON reader lives in the core (no HTTP or AWS dependencies, so it can be fuzzed).
pub use scim_core::json;
