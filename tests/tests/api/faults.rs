//! Throttling and transient DynamoDB failures, injected in the local stand-in
//! (`scripts/moto_server.py`, `/_faults`) so that the SDK's real HTTP client, retry strategy and
//! error parsing all run: a throttle or a 500 is retried by the SDK with backoff; past its
//! attempts the client gets 429 or 503 with `Retry-After` and a SCIM error, and nothing is half
//! written; a lost response (the write landed, the answer did not) converges, whether the SDK
//! retries the call or the IdP retries the request.
//!
//! Every fault matches a tenant key or a resource id, so these tests run beside the others.

mod groups;
mod reads;
mod users;

use std::collections::BTreeSet;

use integration_tests::{admin, fixture, unique, Client, Fault, FaultKind, Resp, SDK_ATTEMPTS};
use serde_json::{json, Value};

use crate::idp_helpers::{
    create_users_parallel, find_users, group_members, member_values, patch_body, resources,
    user_groups,
};

const TRANSACT: &str = "TransactWriteItems";
/// Tries of a group write on a transaction conflict (`WRITE_ATTEMPTS` in scim-edge's groups.rs).
const GROUP_WRITE_ATTEMPTS: u64 = 4;
/// Tries of a BatchGetItem whose keys come back unprocessed (`batch_get` in scim-store's users.rs).
const STORE_BATCH_ATTEMPTS: u64 = 8;

/// The tenant's id (a UUID; `c.tenant` is its name): `tenant create` shows an existing tenant.
fn tenant_id(c: &Client) -> String {
    let out: Value = serde_json::from_str(&admin(&["tenant", "create", &c.tenant])).unwrap();
    out["tenant_id"].as_str().unwrap().to_string()
}

/// The prefix of every key of `c`'s tenant: matches its writes and reads, no other tenant's.
fn tenant_key(c: &Client) -> String {
    format!("TENANT#{}#", tenant_id(c))
}

fn login() -> String {
    format!("{}@faults.example", unique("user"))
}

fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
    })
}

/// A 429 or 503 the client can act on: a SCIM error and a positive `Retry-After` in seconds.
fn assert_retry_later(r: &Resp, status: u16) {
    r.assert_scim_error(status, None);
    let secs: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After in seconds: {:?}", r.headers));
    assert!(secs >= 1, "{:?}", r.headers);
}

/// A resource's `meta.version` as a number (`W/"3"` -> 3).
fn version_of(resource: &Value) -> u64 {
    resource["meta"]["version"]
        .as_str()
        .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok())
        .unwrap_or_else(|| panic!("no meta.version in {resource}"))
}

/// The `meta.version` of the resource at `path`, read with GET.
fn version(c: &Client, path: &str) -> u64 {
    let r = c.get(path);
    assert_eq!(r.status, 200, "{}", r.raw);
    version_of(&r.body)
}

fn count(c: &Client, filter: &str) -> u64 {
    find_users(c, filter).total()
}

/// A project's members as the platform reads them (the operator CLI, the store's own API).
fn platform_members(c: &Client, group: &str) -> BTreeSet<String> {
    let out = admin(&[
        "platform",
        "members",
        "--tenant",
        &c.tenant,
        "--project",
        group,
    ]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_string())
        .collect()
}

fn platform_user(c: &Client, user: &str) -> Value {
    serde_json::from_str(&admin(&[
        "platform", "user", "--tenant", &c.tenant, "--user", user,
    ]))
    .unwrap()
}
