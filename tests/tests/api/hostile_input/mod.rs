//! Hostile input over HTTP (issue #5, point 4): ids that look like table keys or carry `/`, `#`,
//! `..`, NUL or odd Unicode, hostile credentials (`ids`); out-of-range paging, filters beyond
//! their budgets, hostile projections (`queries`); wrong JSON types, deep nesting, duplicate
//! keys, bad PATCH bodies, content types (`bodies`). Each gets a 4xx SCIM error (or the RFC's
//! clamping), never a 5xx.
//!
//! Bodies that are not UTF-8 are not sent here: cargo-lambda answers them with its own 500
//! before our code runs; the strict JSON reader's unit tests (`scim_core::json`) cover them.

mod bodies;
mod ids;
mod queries;

use integration_tests::{Resp, ERROR, SCIM_JSON};

/// A SCIM error with a 4xx status: the right media type, `status` as a string, a `detail`.
pub(crate) fn assert_scim_4xx(r: &Resp, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: status {} {}",
        r.status,
        r.raw
    );
    assert_eq!(
        r.header("content-type"),
        Some(SCIM_JSON),
        "{what}: {}",
        r.raw
    );
    assert_eq!(r.body["schemas"][0], ERROR, "{what}: {}", r.raw);
    assert_eq!(r.body["status"], r.status.to_string(), "{what}: {}", r.raw);
    assert!(r.body["detail"].is_string(), "{what}: {}", r.raw);
}
