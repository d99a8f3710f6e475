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

use integration_tests::{
    add_members_body, create_users_parallel, find_users, fixture, group_members, list_filtered,
    member_values, patch_body, platform_member_ids, platform_user, resources, set, tenant_id,
    unique, unique_login, user_body, user_groups, Client, Fault, FaultKind, SDK_ATTEMPTS,
};
use serde_json::{json, Value};

const TRANSACT: &str = "TransactWriteItems";
/// Tries of a group write on a transaction conflict (`WRITE_ATTEMPTS` of the group writes).
const GROUP_WRITE_ATTEMPTS: u64 = 4;
/// Tries of a BatchGetItem whose keys come back unprocessed (`batch_get` in scim-store's users.rs).
const STORE_BATCH_ATTEMPTS: u64 = 8;

/// A client of a new tenant that sends every request once, as these tests did before the
/// client learnt to honour `Retry-After`: the 429s and 503s the faults cause are what they
/// assert, and a fault's hits count the server's tries, which a client retry would add to.
fn faults_client() -> Client {
    Client::new_tenant("faults").once()
}

/// The prefix of every key of `c`'s tenant: matches its writes and reads, no other tenant's.
fn tenant_key(c: &Client) -> String {
    format!("TENANT#{}#", tenant_id(&c.tenant))
}

fn login() -> String {
    unique_login("faults.example")
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
