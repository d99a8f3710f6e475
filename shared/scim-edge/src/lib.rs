//! The doors of the SCIM service: configuration, the one request pipeline (routing, size
//! limit, authentication, rate limit, logging), the SCIM 2.0 and SCIM 1.1 doors that turn HTTP
//! requests into operations of `scim-ops` and outcomes into responses, discovery, and the thin
//! Lambda glue.

pub mod app;
pub mod config;
pub mod discovery;
pub mod emf;
pub mod http;
pub mod lambda;
pub mod oauth;
pub mod routes;
pub mod scim1;
pub mod scim2;

pub use routes::Family;
/// The strict JSON reader lives in the core (no HTTP or AWS dependencies, so it can be fuzzed).
pub use scim_core::json;
