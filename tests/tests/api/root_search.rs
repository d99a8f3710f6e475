//! `POST /.search` at the root (RFC 7644 section 3.4.3, issue #12 point 14): users and groups
//! in one list, each type reading the request against its own schema, paged over the whole,
//! costing what its pages cost, and only ever the caller's tenant.

use integration_tests::{resource_ids, resources, set, unique, unique_login, Client};
use serde_json::{json, Value};

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn search(c: &Client, body: Value) -> integration_tests::Resp {
    let mut body = body;
    body["schemas"] = json!([SEARCH_REQUEST]);
    c.post("/.search", &body)
}

/// The `meta.resourceType` of each resource, in order.
fn kinds(r: &integration_tests::Resp) -> Vec<String> {
    resources(r)
        .iter()
        .map(|v| {
            v["meta"]["resourceType"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

/// A tenant with two users and two groups.
fn small_tenant(prefix: &str) -> (Client, Vec<String>, Vec<String>) {
    let c = Client::new_tenant(prefix);
    let users: Vec<String> = (0..2)
        .map(|_| c.create_user(&unique_login("example.com")).id())
        .collect();
    let groups: Vec<String> = (0..2).map(|_| c.create_group(&unique("g")).id()).collect();
    (c, users, groups)
}

#[test]
fn a_root_search_without_filter_lists_the_users_then_the_groups() {
    let (c, users, groups) = small_tenant("root-all");
    let r = search(&c, json!({}));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/scim+json"));
    assert_eq!(r.body["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(r.total(), 4);
    assert_eq!(kinds(&r), ["User", "User", "Group", "Group"]);
    let ids = resource_ids(&r);
    assert_eq!(set(ids[..2].to_vec()), set(users));
    assert_eq!(set(ids[2..].to_vec()), set(groups));
    for group in &resources(&r)[2..] {
        assert!(group.get("members").is_none(), "lists carry no members");
    }
}

#[test]
fn a_filter_on_an_attribute_of_one_type_finds_only_that_type() {
    let (c, users, _) = small_tenant("root-type");
    let user = c.get(&format!("/Users/{}", users[0]));
    let name = user.body["userName"].as_str().unwrap().to_string();
    let r = search(&c, json!({"filter": format!("userName eq \"{name}\"")}));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!((r.total(), resource_ids(&r)), (1, vec![users[0].clone()]));

    // externalId is both a user's and a group's attribute: both types answer.
    let shared = unique("shared");
    let user = c.post(
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": unique_login("example.com"),
            "externalId": shared,
        }),
    );
    assert_eq!(user.status, 201, "{}", user.raw);
    let group = c.post(
        "/Groups",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": unique("g"),
            "externalId": shared,
        }),
    );
    assert_eq!(group.status, 201, "{}", group.raw);
    let r = search(&c, json!({"filter": format!("externalId eq \"{shared}\"")}));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(kinds(&r), ["User", "Group"]);
    assert_eq!(resource_ids(&r), [user.id(), group.id()]);
}

#[test]
fn a_filter_no_type_can_read_is_a_400() {
    let (c, _, _) = small_tenant("root-bad");
    search(&c, json!({"filter": "noSuchAttribute eq \"x\""})).assert_scim_error(400, None);
    search(&c, json!({"filter": "userName eq"})).assert_scim_error(400, Some("invalidFilter"));
    let r = c.post("/.search", &json!(["not", "an", "object"]));
    r.assert_scim_error(400, Some("invalidSyntax"));
    search(&c, json!({"cursor": ""})).assert_scim_error(400, Some("invalidValue"));
    // A filter on members no list answers is refused, as /Groups refuses it: never dropped.
    search(&c, json!({"filter": "members.display eq \"x\""}))
        .assert_scim_error(400, Some("invalidFilter"));
}

#[test]
fn attributes_apply_to_each_type_as_far_as_it_has_them() {
    let (c, users, groups) = small_tenant("root-attrs");
    // `name` is a user's only: users show it, groups show no attribute but id and schemas.
    let r = search(&c, json!({"attributes": ["name"]}));
    assert_eq!(r.status, 200, "{}", r.raw);
    for resource in resources(&r) {
        let keys: Vec<&str> = resource
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let id = resource["id"].as_str().unwrap().to_string();
        if users.contains(&id) {
            assert_eq!(resource["name"]["givenName"], "Test", "{resource}");
            assert!(resource.get("userName").is_none(), "{resource}");
        } else {
            assert!(groups.contains(&id));
            assert!(
                keys.iter().all(|k| ["id", "schemas"].contains(k)),
                "{resource}"
            );
        }
    }
    // Excluding `displayName` drops it from groups; users keep everything else.
    let r = search(&c, json!({"excludedAttributes": "displayName,emails"}));
    assert_eq!(r.status, 200, "{}", r.raw);
    for resource in resources(&r) {
        assert!(resource.get("displayName").is_none(), "{resource}");
        assert!(resource.get("emails").is_none(), "{resource}");
    }
    assert!(resources(&r)[0].get("userName").is_some());
    // A sortBy only users have leaves the groups in their own order.
    let r = search(&c, json!({"sortBy": "userName", "sortOrder": "descending"}));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(kinds(&r), ["User", "User", "Group", "Group"]);
}

#[test]
fn pages_run_across_the_users_into_the_groups() {
    let (c, users, groups) = small_tenant("root-pages");
    let mut seen = Vec::new();
    for start in [1, 2, 3, 4, 5] {
        let r = search(&c, json!({"startIndex": start, "count": 1}));
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.total(), 4);
        assert_eq!(r.body["startIndex"], start);
        seen.extend(resource_ids(&r));
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(set(seen.clone()), set(users.iter().chain(&groups).cloned()));
    // A page straddling the boundary: the last user and the first group.
    let r = search(&c, json!({"startIndex": 2, "count": 2}));
    assert_eq!(kinds(&r), ["User", "Group"]);
    assert_eq!(resource_ids(&r), seen[1..3]);
    let r = search(&c, json!({"count": 0}));
    assert_eq!((r.total(), resources(&r).len()), (4, 0));
}

#[test]
fn a_root_search_costs_its_pages_not_the_tenant() {
    let (c, _, _) = small_tenant("root-cost");
    let r = search(&c, json!({"count": 0}));
    // Two counts (users, groups): one Query each.
    assert_eq!(r.calls(), 2, "{:?}", r.headers);
    let r = search(&c, json!({"count": 100}));
    // Each type: count, page, where the page ended.
    assert!(r.calls() <= 6, "{:?}", r.headers);
}

#[test]
fn a_root_search_never_sees_another_tenant() {
    let (mine, my_users, my_groups) = small_tenant("root-mine");
    let (theirs, their_users, _) = small_tenant("root-theirs");
    let r = search(&mine, json!({}));
    assert_eq!(
        set(resource_ids(&r)),
        set(my_users.iter().chain(&my_groups).cloned())
    );
    let their_name = theirs.get(&format!("/Users/{}", their_users[0])).body["userName"]
        .as_str()
        .unwrap()
        .to_string();
    let r = search(
        &mine,
        json!({"filter": format!("userName eq \"{their_name}\"")}),
    );
    assert_eq!((r.status, r.total()), (200, 0));
    assert_eq!(
        search(&theirs, json!({})).total(),
        4,
        "each tenant sees its own four"
    );
}

#[test]
fn only_post_searches_the_root() {
    let (c, _, _) = small_tenant("root-method");
    let r = c.get("/.search");
    r.assert_scim_error(405, None);
    assert_eq!(r.header("allow"), Some("POST"));
}
