//! Benchmarks for the SCIM service (issue #6): a load generator that drives Okta- and
//! Entra-style provisioning through HTTP, a Lambda runtime API emulator that runs the release
//! function binaries, cold-start and size measurements, and the AWS cost model.
//! See docs/PERFORMANCE.md.

pub mod baseline;
pub mod client;
pub mod coldstart;
pub mod cost;
pub mod emulator;
pub mod event;
pub mod functions;
pub mod procfs;
pub mod report;
pub mod stats;
pub mod workload;
