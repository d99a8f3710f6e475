//! Searching every resource type at once (`Operation::SearchAll`, RFC 7644 section 3.4.3):
//! which types take part, how projections and sorting apply per type, and paging over the
//! users and then the groups.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_core::ScimError;
use scim_ops::{Operation, Outcome};
use serde_json::{json, Value};

async fn search(h: &Harness, body: Value) -> Result<Value, ScimError> {
    match h.run(Operation::SearchAll(body)).await? {
        Outcome::List(list) => Ok(list),
        other => panic!("a search answers a list, not {other:?}"),
    }
}

fn kinds(list: &Value) -> Vec<&str> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Two users (ann, ben) and two groups (Alpha, Beta).
async fn tenant() -> (Harness, Vec<String>) {
    let h = Harness::new();
    let ann = h.create_user("ann@example.com").await;
    let ben = h.create_user("ben@example.com").await;
    let alpha = h.create_group("Alpha", &[&ann]).await;
    let beta = h.create_group("Beta", &[]).await;
    (h, vec![ann, ben, alpha, beta])
}

#[tokio::test]
async fn users_come_first_then_groups_each_in_their_list_order() {
    let (h, all) = tenant().await;
    let list = search(&h, json!({})).await.unwrap();
    assert_eq!(list["totalResults"], 4);
    assert_eq!(kinds(&list), ["User", "User", "Group", "Group"]);
    assert_eq!(ids(&list), all);
    assert!(list["Resources"][2].get("members").is_none());
}

#[tokio::test]
async fn a_filter_only_users_can_read_leaves_the_groups_out() {
    let (h, all) = tenant().await;
    let list = search(&h, json!({"filter": "userName eq \"ben@example.com\""}))
        .await
        .unwrap();
    assert_eq!(
        (list["totalResults"].clone(), ids(&list)),
        (json!(1), vec![all[1].clone()])
    );
    let list = search(
        &h,
        json!({"filter": "members.value eq \"".to_string() + &all[0] + "\""}),
    )
    .await
    .unwrap();
    assert_eq!(ids(&list), [all[2].clone()], "members is a group's only");
}

#[tokio::test]
async fn a_filter_no_type_reads_is_the_users_error() {
    let (h, _) = tenant().await;
    let err = search(&h, json!({"filter": "nope eq 1"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
    let err = search(&h, json!({"filter": "userName eq"}))
        .await
        .unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidFilter"));
    // Groups read `members.display` but refuse it as their own list does: never dropped.
    let err = search(&h, json!({"filter": "members.display eq \"x\""}))
        .await
        .unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidFilter"));
    let err = search(&h, json!("not an object")).await.unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidSyntax"));
}

#[tokio::test]
async fn a_cursor_is_refused_at_the_root() {
    let (h, _) = tenant().await;
    let err = search(&h, json!({"cursor": ""})).await.unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidValue"));
}

#[tokio::test]
async fn attributes_a_type_lacks_are_ignored_for_it() {
    let (h, _) = tenant().await;
    let list = search(&h, json!({"attributes": "userName"})).await.unwrap();
    let resources = list["Resources"].as_array().unwrap();
    assert_eq!(resources[0]["userName"], "ann@example.com");
    assert!(resources[0].get("emails").is_none());
    let group = resources[2].as_object().unwrap();
    let mut keys: Vec<&str> = group.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["id", "schemas"],
        "a group has no userName: only what is always returned"
    );

    let list = search(&h, json!({"excludedAttributes": ["displayName", "emails"]}))
        .await
        .unwrap();
    for resource in list["Resources"].as_array().unwrap() {
        assert!(resource.get("displayName").is_none() && resource.get("emails").is_none());
    }
    assert!(list["Resources"][0].get("userName").is_some());
}

#[tokio::test]
async fn a_sort_only_users_have_sorts_the_users_alone() {
    let (h, all) = tenant().await;
    let list = search(&h, json!({"sortBy": "userName", "sortOrder": "descending"}))
        .await
        .unwrap();
    assert_eq!(
        ids(&list),
        [&all[1], &all[0], &all[2], &all[3]].map(String::clone)
    );
}

#[tokio::test]
async fn pages_run_from_the_users_into_the_groups() {
    let (h, all) = tenant().await;
    for (start, count, expected) in [
        (1, 1, &all[0..1]),
        (2, 2, &all[1..3]),
        (3, 5, &all[2..4]),
        (4, 1, &all[3..4]),
        (5, 1, &all[4..4]),
        (1, 0, &all[0..0]),
    ] {
        let list = search(&h, json!({"startIndex": start, "count": count}))
            .await
            .unwrap();
        assert_eq!(list["totalResults"], 4, "{start} {count}");
        assert_eq!(list["startIndex"], start);
        assert_eq!(ids(&list), expected, "startIndex {start} count {count}");
    }
}
