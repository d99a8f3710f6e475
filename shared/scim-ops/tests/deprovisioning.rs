//! Sticky deprovisioning: once a user is deactivated, only a request that asserts `active` as a
//! true boolean (`true` or Entra's `"True"`) reactivates it. A PUT without `active`, a PATCH that
//! removes it or sets it to `null` or `""` keep the user inactive, in the stored flag, the stored
//! document, the rendered resource and the list filters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_ops::{Outcome, Precondition};
use serde_json::{json, Value};

/// A user with some attributes, deactivated the way Okta does it. Returns its id.
async fn deactivated_user(h: &Harness) -> String {
    let id = resource_id(
        &h.create_user_with(json!({
            "userName": "leaver@example.com",
            "displayName": "Leaver",
            "title": "Engineer",
        }))
        .await,
    );
    h.create_user("stayer@example.com").await;
    let resource = ok(h
        .patch_user(
            &id,
            patch_body(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await
        .unwrap());
    assert_eq!(resource.body["active"], false);
    id
}

/// Asserts what every client and the platform would notice of an inactive user.
async fn assert_inactive(h: &Harness, id: &str, answer: &Value) {
    assert_eq!(
        answer["active"], false,
        "the answer to the request: {answer}"
    );
    let stored = h.stored_user(id);
    assert!(!stored.active, "the platform's flag");
    assert_eq!(stored.doc["active"], false, "the stored document");
    assert_eq!(h.read_user(id).await.body["active"], false, "a later GET");

    let inactive = h
        .list_users(&[("filter", "active eq false")])
        .await
        .unwrap();
    assert_eq!(listed_ids(&inactive), vec![id.to_string()]);
    let active = h.list_users(&[("filter", "active eq true")]).await.unwrap();
    assert!(
        !listed_ids(&active).contains(&id.to_string()),
        "found by active eq true: {active}"
    );
    assert_eq!(active["totalResults"], 1, "only the other user is active");
}

fn answer(outcome: Outcome) -> Value {
    ok(outcome).body
}

#[tokio::test]
async fn a_deactivated_user_is_listed_as_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = h.read_user(&id).await.body;
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn put_without_active_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let outcome = h
        .replace_user(
            &id,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "leaver@example.com",
                "displayName": "Leaver (renamed)",
            }),
            Precondition::none(),
        )
        .await
        .unwrap();
    let body = answer(outcome);
    assert_eq!(body["displayName"], "Leaver (renamed)", "the PUT did apply");
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn put_with_active_null_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.replace_user(
            &id,
            json!({"userName": "leaver@example.com", "active": null}),
            Precondition::none(),
        )
        .await
        .unwrap(),
    );
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn patch_remove_active_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(&id, patch_body(json!([{"op": "remove", "path": "active"}])))
            .await
            .unwrap(),
    );
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn patch_replace_active_with_null_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(
            &id,
            patch_body(json!([{"op": "replace", "path": "active", "value": null}])),
        )
        .await
        .unwrap(),
    );
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn patch_replace_active_with_an_empty_string_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(
            &id,
            patch_body(json!([{"op": "replace", "path": "active", "value": ""}])),
        )
        .await
        .unwrap(),
    );
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn path_less_replace_with_active_empty_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(
            &id,
            patch_body(json!([{"op": "replace", "value": {"active": ""}}])),
        )
        .await
        .unwrap(),
    );
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn path_less_replace_with_active_null_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(
            &id,
            patch_body(json!([{"op": "Replace", "value": {"active": null, "displayName": "X"}}])),
        )
        .await
        .unwrap(),
    );
    assert_eq!(body["displayName"], "X");
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn patching_other_attributes_keeps_the_user_inactive() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(
            &id,
            patch_body(json!([
                {"op": "Replace", "path": "displayName", "value": "Still gone"},
                {"op": "Remove", "path": "title"},
            ])),
        )
        .await
        .unwrap(),
    );
    assert_eq!(body["displayName"], "Still gone");
    assert_inactive(&h, &id, &body).await;
}

#[tokio::test]
async fn a_removed_active_keeps_an_active_user_active() {
    // Sticky both ways: a request that asserts nothing changes nothing.
    let h = Harness::new();
    let id = h.create_user("active@example.com").await;
    let body = answer(
        h.patch_user(&id, patch_body(json!([{"op": "remove", "path": "active"}])))
            .await
            .unwrap(),
    );
    assert_eq!(body["active"], true);
    assert!(h.stored_user(&id).active);
    let body = answer(
        h.replace_user(
            &id,
            json!({"userName": "active@example.com"}),
            Precondition::none(),
        )
        .await
        .unwrap(),
    );
    assert_eq!(body["active"], true);
    assert!(h.stored_user(&id).active);
}

#[tokio::test]
async fn an_explicit_true_reactivates() {
    for value in [json!(true), json!("True"), json!("true")] {
        let h = Harness::new();
        let id = deactivated_user(&h).await;
        let body = answer(
            h.patch_user(
                &id,
                patch_body(json!([{"op": "Replace", "path": "active", "value": value}])),
            )
            .await
            .unwrap(),
        );
        assert_eq!(body["active"], true, "{value}");
        let stored = h.stored_user(&id);
        assert!(stored.active, "{value}");
        assert_eq!(stored.doc["active"], true, "{value}");
        let active = h.list_users(&[("filter", "active eq true")]).await.unwrap();
        assert!(listed_ids(&active).contains(&id), "{value}");
    }
}

#[tokio::test]
async fn a_path_less_true_and_a_put_with_true_reactivate() {
    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.patch_user(
            &id,
            patch_body(json!([{"op": "replace", "value": {"active": true}}])),
        )
        .await
        .unwrap(),
    );
    assert_eq!(body["active"], true);
    assert!(h.stored_user(&id).active);

    let h = Harness::new();
    let id = deactivated_user(&h).await;
    let body = answer(
        h.replace_user(
            &id,
            json!({"userName": "leaver@example.com", "active": "True"}),
            Precondition::none(),
        )
        .await
        .unwrap(),
    );
    assert_eq!(body["active"], true);
    assert!(h.stored_user(&id).active);
}

#[tokio::test]
async fn put_with_active_false_deactivates() {
    let h = Harness::new();
    let id = h.create_user("put-off@example.com").await;
    h.create_user("other@example.com").await;
    let body = answer(
        h.replace_user(
            &id,
            json!({"userName": "put-off@example.com", "active": false}),
            Precondition::none(),
        )
        .await
        .unwrap(),
    );
    assert_inactive(&h, &id, &body).await;
}
