//! Small helpers shared by the IdP flow, filter, PATCH, concurrency and scale modules: request
//! shapes (PatchOp bodies, filtered lists) and readings of what the server stored.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use integration_tests::{enc, Client, Resp};
use serde_json::{json, Value};

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PLATFORM: &str = "urn:ietf:params:scim:schemas:extension:platform:2.0:User";
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A PatchOp request body with these operations.
pub fn patch_body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// `GET {collection}?filter=<filter>{extra}` (`extra` starts with `&` when given).
pub fn list_filtered(c: &Client, collection: &str, filter: &str, extra: &str) -> Resp {
    c.get(&format!("{collection}?filter={}{extra}", enc(filter)))
}

/// `GET /Users?filter=...`, asserting a 200 ListResponse.
pub fn find_users(c: &Client, filter: &str) -> Resp {
    let r = list_filtered(c, "/Users", filter, "");
    assert_list_response(&r);
    r
}

/// Asserts a 200 ListResponse whose paging numbers are JSON integers.
pub fn assert_list_response(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["schemas"][0], LIST_RESPONSE, "{}", r.raw);
    for key in ["totalResults", "startIndex", "itemsPerPage"] {
        assert!(
            r.body[key].is_u64(),
            "{key} must be a JSON integer: {}",
            r.raw
        );
    }
    assert!(
        r.body["Resources"].is_array(),
        "Resources must be a list: {}",
        r.raw
    );
}

/// The `Resources` of a ListResponse.
pub fn resources(r: &Resp) -> Vec<Value> {
    r.body["Resources"].as_array().cloned().unwrap_or_default()
}

/// The `userName`s of a ListResponse, in response order.
pub fn user_names(r: &Resp) -> Vec<String> {
    resources(r)
        .iter()
        .map(|u| u["userName"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The `userName`s of a filtered user list, as a set.
pub fn matching_user_names(c: &Client, filter: &str) -> BTreeSet<String> {
    user_names(&find_users(c, filter)).into_iter().collect()
}

/// The `value`s of a resource's multi-valued complex attribute (`members`, `groups`).
pub fn values_of(resource: &Value, attr: &str) -> BTreeSet<String> {
    resource[attr]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A group's member ids, read with `GET /Groups/{id}`.
pub fn group_members(c: &Client, group_id: &str) -> BTreeSet<String> {
    let r = c.get(&format!("/Groups/{group_id}"));
    assert_eq!(r.status, 200, "{}", r.raw);
    values_of(&r.body, "members")
}

/// A user's group ids, read with `GET /Users/{id}`.
pub fn user_groups(c: &Client, user_id: &str) -> BTreeSet<String> {
    let r = c.get(&format!("/Users/{user_id}"));
    assert_eq!(r.status, 200, "{}", r.raw);
    values_of(&r.body, "groups")
}

/// Panics when `value` holds a JSON null anywhere (Entra wants no nulls back).
pub fn assert_no_nulls(value: &Value, at: &str) {
    match value {
        Value::Null => panic!("null at {at}"),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                assert_no_nulls(v, &format!("{at}[{i}]"));
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                assert_no_nulls(v, &format!("{at}.{k}"));
            }
        }
        _ => {}
    }
}

static GUIDS: AtomicU64 = AtomicU64::new(0);

/// A random-looking GUID, as Entra's Test Connection sends.
pub fn random_guid() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = GUIDS.fetch_add(1, Ordering::Relaxed);
    let mixed = nanos ^ (u128::from(std::process::id()) << 64) ^ (u128::from(n) << 96);
    let hex = format!("{mixed:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Creates users named `names` with `threads` parallel clients; returns their ids in order.
pub fn create_users_parallel(c: &Client, names: &[String], threads: usize) -> Vec<String> {
    let ids: Mutex<Vec<Option<String>>> = Mutex::new(vec![None; names.len()]);
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = usize::try_from(next.fetch_add(1, Ordering::Relaxed)).unwrap();
                let Some(name) = names.get(i) else { break };
                let id = c.create_user(name).id();
                ids.lock().unwrap()[i] = Some(id);
            });
        }
    });
    ids.into_inner()
        .unwrap()
        .into_iter()
        .map(|id| id.expect("every user was created"))
        .collect()
}

/// `[{"value": id}, ...]`, the member list shape every IdP sends.
pub fn member_values(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
}
