//! SCIM request shapes (users, PatchOp bodies, member lists, filtered lists) and readings of
//! what the server answered or stored.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::client::{Client, Resp};
use crate::names::{enc, parallel_map, unique_login};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PLATFORM: &str = "urn:ietf:params:scim:schemas:extension:platform:2.0:User";
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The user [`Client::create_user`] creates: `userName`, a name, the work email, active.
pub fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
    })
}

/// Creates `n` users (one request at a time) and returns their ids.
pub fn users(c: &Client, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| c.create_user(&unique_login("example.com")).id())
        .collect()
}

/// Creates users named `names` with `threads` parallel requests; returns their ids in order.
pub fn create_users_parallel(c: &Client, names: &[String], threads: usize) -> Vec<String> {
    parallel_map(names, threads, |name| c.create_user(name).id())
}

/// A PatchOp request body with these operations.
pub fn patch_body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// `[{"value": id}, ...]`, the member list shape every IdP sends.
pub fn member_values<S: AsRef<str>>(ids: &[S]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id.as_ref()})).collect())
}

/// The PatchOp adding `ids` to a group's members.
pub fn add_members_body<S: AsRef<str>>(ids: &[S]) -> Value {
    patch_body(json!([{"op": "add", "path": "members", "value": member_values(ids)}]))
}

/// Adds `ids` to the group `gid` with one PATCH, asserting the 204.
pub fn add_members<S: AsRef<str>>(c: &Client, gid: &str, ids: &[S]) {
    let r = c.patch(&format!("/Groups/{gid}"), &add_members_body(ids));
    assert_eq!(r.status, 204, "{}", r.raw);
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

/// The `id`s of a ListResponse's resources, in response order.
pub fn resource_ids(r: &Resp) -> Vec<String> {
    resources(r)
        .iter()
        .map(|u| u["id"].as_str().unwrap_or_default().to_string())
        .collect()
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

/// The ids of the users a filter finds, as a set.
pub fn matching_user_ids(c: &Client, filter: &str) -> BTreeSet<String> {
    resource_ids(&find_users(c, filter)).into_iter().collect()
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

/// A user, read with `GET /Users/{id}` (asserting the 200).
pub fn get_user(c: &Client, id: &str) -> Value {
    let r = c.get(&format!("/Users/{id}"));
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body
}

/// A group's member ids, read with `GET /Groups/{id}`.
pub fn group_members(c: &Client, group_id: &str) -> BTreeSet<String> {
    let r = c.get(&format!("/Groups/{group_id}"));
    assert_eq!(r.status, 200, "{}", r.raw);
    values_of(&r.body, "members")
}

/// A user's group ids, read with `GET /Users/{id}`.
pub fn user_groups(c: &Client, user_id: &str) -> BTreeSet<String> {
    values_of(&get_user(c, user_id), "groups")
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
