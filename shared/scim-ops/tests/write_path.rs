//! The one write path: `If-Match` preconditions, retries over concurrent changes, recognising
//! this request's own write after a lost response, no-op writes, and store failures as SCIM
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_core::list::Projection;
use scim_ops::memory::Fault;
use scim_ops::write::WRITE_ATTEMPTS;
use scim_ops::{
    GroupOperation, Operation, Outcome, Precondition, StoreError, UniqueAttribute, UserOperation,
    RETRY_AFTER_SECS,
};
use serde_json::{json, Value};

fn rename(name: &str) -> Value {
    patch_body(json!([{"op": "replace", "path": "displayName", "value": name}]))
}

fn deactivate() -> Value {
    patch_body(json!([{"op": "replace", "value": {"active": false}}]))
}

// ---- If-Match ----

#[tokio::test]
async fn if_match_with_the_current_version_succeeds() {
    let h = Harness::new();
    let id = h.create_user("a@example.com").await;
    let resource = ok(h
        .patch_user_if(&id, rename("A"), Precondition::if_match("W/\"1\""))
        .await
        .unwrap());
    assert_eq!(resource.version, 2);
    assert_eq!(resource.body["displayName"], "A");

    // a PUT, the strong form of the tag and `*` match too
    let resource = ok(h
        .replace_user(
            &id,
            json!({"userName": "a@example.com", "displayName": "B"}),
            Precondition::if_match("\"2\""),
        )
        .await
        .unwrap());
    assert_eq!(resource.version, 3);
    let resource = ok(h
        .patch_user_if(&id, rename("C"), Precondition::if_match("*"))
        .await
        .unwrap());
    assert_eq!(resource.version, 4);
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_writes_nothing() {
    let h = Harness::new();
    let id = h.create_user("stale@example.com").await;
    h.patch_user(&id, rename("v2")).await.unwrap();

    let result = h
        .patch_user_if(
            &id,
            rename("lost update"),
            Precondition::if_match("W/\"1\""),
        )
        .await;
    assert_error(result, 412, None);
    let result = h
        .replace_user(
            &id,
            json!({"userName": "stale@example.com"}),
            Precondition::if_match("W/\"1\""),
        )
        .await;
    assert_error(result, 412, None);
    // the fast (de)activation path checks If-Match too
    let result = h
        .patch_user_if(&id, deactivate(), Precondition::if_match("W/\"1\""))
        .await;
    assert_error(result, 412, None);
    // a tag that names no version of ours matches nothing
    let result = h
        .patch_user_if(&id, rename("x"), Precondition::if_match("\"abc\""))
        .await;
    assert_error(result, 412, None);

    let stored = h.stored_user(&id);
    assert_eq!(stored.version, 2);
    assert_eq!(stored.doc["displayName"], "v2");
    assert!(stored.active);
    assert_eq!(h.store().count("replace_user"), 1);
    assert_eq!(h.store().count("set_user_active"), 0);
}

#[tokio::test]
async fn deactivation_with_a_matching_if_match_reads_then_writes_conditionally() {
    let h = Harness::new();
    let id = h.create_user("pin@example.com").await;
    let resource = ok(h
        .patch_user_if(&id, deactivate(), Precondition::if_match("W/\"1\""))
        .await
        .unwrap());
    assert_eq!(resource.version, 2);
    assert_eq!(resource.body["active"], false);
    assert!(!h.stored_user(&id).active);
    assert_eq!(h.store().count("get_user"), 1);
    assert_eq!(h.store().count("set_user_active"), 1);
}

// ---- concurrent changes ----

#[tokio::test]
async fn a_concurrent_change_without_if_match_is_retried() {
    let h = Harness::new();
    let id = h.create_user("retry@example.com").await;
    h.store().inject("replace_user", Fault::ConcurrentChange);
    let resource = ok(h.patch_user(&id, rename("Retried")).await.unwrap());
    assert_eq!(h.store().count("replace_user"), 2);
    // version 1, the concurrent writer's 2, then ours
    assert_eq!(resource.version, 3);
    assert_eq!(resource.body["displayName"], "Retried");
    let stored = h.stored_user(&id);
    assert_eq!(stored.version, 3);
    assert_eq!(stored.doc["displayName"], "Retried");
    assert_eq!(stored.last_modified, NOW);
}

#[tokio::test]
async fn a_concurrent_change_to_a_put_without_if_match_is_retried() {
    let h = Harness::new();
    let id = h.create_user("put-retry@example.com").await;
    h.store().inject("replace_user", Fault::ConcurrentChange);
    let resource = ok(h
        .replace_user(
            &id,
            json!({"userName": "put-retry@example.com", "title": "Retried"}),
            Precondition::none(),
        )
        .await
        .unwrap());
    assert_eq!(h.store().count("replace_user"), 2);
    assert_eq!(resource.body["title"], "Retried");
    assert_eq!(h.stored_user(&id).doc["title"], "Retried");
}

#[tokio::test]
async fn retries_give_up_after_write_attempts() {
    let h = Harness::new();
    let id = h.create_user("busy@example.com").await;
    for _ in 0..WRITE_ATTEMPTS {
        h.store().inject("replace_user", Fault::ConcurrentChange);
    }
    let result = h.patch_user(&id, rename("Never")).await;
    assert_error(result, 412, None);
    assert_eq!(h.store().count("replace_user"), WRITE_ATTEMPTS);
    let stored = h.stored_user(&id);
    assert_ne!(stored.doc["displayName"], "Never");
    assert_eq!(
        stored.version,
        1 + WRITE_ATTEMPTS as u64,
        "only the other writers wrote"
    );
}

#[tokio::test]
async fn one_fewer_conflict_than_write_attempts_still_succeeds() {
    let h = Harness::new();
    let id = h.create_user("patient@example.com").await;
    for _ in 0..WRITE_ATTEMPTS - 1 {
        h.store().inject("replace_user", Fault::ConcurrentChange);
    }
    let resource = ok(h.patch_user(&id, rename("Finally")).await.unwrap());
    assert_eq!(resource.body["displayName"], "Finally");
    assert_eq!(h.store().count("replace_user"), WRITE_ATTEMPTS);
}

#[tokio::test]
async fn a_concurrent_change_with_if_match_is_412_and_not_retried() {
    let h = Harness::new();
    let id = h.create_user("pinned@example.com").await;
    h.store().inject("replace_user", Fault::ConcurrentChange);
    let result = h
        .patch_user_if(&id, rename("Mine"), Precondition::if_match("W/\"1\""))
        .await;
    assert_error(result, 412, None);
    assert_eq!(h.store().count("replace_user"), 1);
    let stored = h.stored_user(&id);
    assert_ne!(stored.doc["displayName"], "Mine");
    assert_eq!(stored.version, 2, "only the concurrent writer wrote");
}

#[tokio::test]
async fn a_concurrent_change_to_a_pinned_deactivation_is_412() {
    let h = Harness::new();
    let id = h.create_user("pinned-off@example.com").await;
    h.store().inject("set_user_active", Fault::ConcurrentChange);
    let result = h
        .patch_user_if(&id, deactivate(), Precondition::if_match("W/\"1\""))
        .await;
    assert_error(result, 412, None);
    assert!(h.stored_user(&id).active);
    assert_eq!(h.store().count("set_user_active"), 1);
}

#[tokio::test]
async fn a_concurrent_change_to_a_delete_without_if_match_is_retried() {
    let h = Harness::new();
    let id = h.create_user("del-retry@example.com").await;
    h.store().inject("delete_user", Fault::ConcurrentChange);
    assert_eq!(h.delete_user(&id).await.unwrap(), Outcome::NoContent);
    assert_eq!(h.store().count("delete_user"), 2);
    assert_error(h.get_user(&id).await, 404, None);
}

#[tokio::test]
async fn a_concurrent_change_to_a_pinned_delete_is_412() {
    let h = Harness::new();
    let id = h.create_user("del-pinned@example.com").await;
    h.store().inject("delete_user", Fault::ConcurrentChange);
    let result = h
        .run(Operation::User(UserOperation::Delete {
            id: common::id(&id),
            precondition: Precondition::if_match("W/\"1\""),
        }))
        .await;
    assert_error(result, 412, None);
    assert_eq!(h.store().count("delete_user"), 1);
    h.read_user(&id).await;
}

// ---- lost responses ----

#[tokio::test]
async fn a_lost_response_is_recognised_as_our_own_write() {
    let h = Harness::new();
    let id = h.create_user("lost@example.com").await;
    h.store().inject("replace_user", Fault::LostResponse);
    let resource = ok(h.patch_user(&id, rename("Landed")).await.unwrap());
    assert_eq!(resource.version, 2, "our write, not a second one");
    assert_eq!(resource.body["displayName"], "Landed");
    assert_eq!(resource.body["meta"]["version"], "W/\"2\"");
    let stored = h.stored_user(&id);
    assert_eq!(stored.version, 2);
    assert_eq!(stored.doc["displayName"], "Landed");
}

#[tokio::test]
async fn a_lost_response_with_if_match_is_recognised_as_our_own_write() {
    let h = Harness::new();
    let id = h.create_user("lost-pinned@example.com").await;
    h.store().inject("replace_user", Fault::LostResponse);
    let resource = ok(h
        .patch_user_if(&id, rename("Landed"), Precondition::if_match("W/\"1\""))
        .await
        .unwrap());
    assert_eq!(resource.version, 2);
    assert_eq!(resource.body["displayName"], "Landed");
    assert_eq!(h.store().count("replace_user"), 1, "not written twice");
    assert_eq!(h.stored_user(&id).version, 2);

    // a PUT too
    h.store().inject("replace_user", Fault::LostResponse);
    let resource = ok(h
        .replace_user(
            &id,
            json!({"userName": "lost-pinned@example.com", "title": "PUT"}),
            Precondition::if_match("W/\"2\""),
        )
        .await
        .unwrap());
    assert_eq!(resource.version, 3);
    assert_eq!(resource.body["title"], "PUT");
}

#[tokio::test]
async fn a_lost_response_to_a_pinned_deactivation_is_recognised_as_our_own_write() {
    let h = Harness::new();
    let id = h.create_user("lost-off@example.com").await;
    h.store().inject("set_user_active", Fault::LostResponse);
    let resource = ok(h
        .patch_user_if(&id, deactivate(), Precondition::if_match("W/\"1\""))
        .await
        .unwrap());
    assert_eq!(resource.version, 2);
    assert_eq!(resource.body["active"], false);
    let stored = h.stored_user(&id);
    assert!(!stored.active);
    assert_eq!(stored.version, 2);
    assert_eq!(h.store().count("set_user_active"), 1);
}

// ---- no-op writes ----

#[tokio::test]
async fn a_patch_that_changes_nothing_writes_nothing() {
    let h = Harness::new();
    let id = resource_id(
        &h.create_user_with(json!({"userName": "same@example.com", "displayName": "Same"}))
            .await,
    );
    let resource = ok(h.patch_user(&id, rename("Same")).await.unwrap());
    assert_eq!(resource.version, 1);
    assert_eq!(h.store().count("replace_user"), 0);

    // removing an attribute the user does not have changes nothing either
    let resource = ok(h
        .patch_user(&id, patch_body(json!([{"op": "remove", "path": "title"}])))
        .await
        .unwrap());
    assert_eq!(resource.version, 1);
    assert_eq!(h.store().count("replace_user"), 0);
    assert_eq!(h.stored_user(&id).version, 1);
}

#[tokio::test]
async fn a_put_of_the_same_document_writes_nothing() {
    let h = Harness::new();
    let body = json!({"userName": "same-put@example.com", "displayName": "Same"});
    let id = resource_id(&h.create_user_with(body.clone()).await);
    let resource = ok(h
        .replace_user(&id, body, Precondition::none())
        .await
        .unwrap());
    assert_eq!(resource.version, 1);
    assert_eq!(h.store().count("replace_user"), 0);
}

// ---- store failures ----

#[tokio::test]
async fn throttling_is_429_with_retry_after() {
    let h = Harness::new();
    let id = h.create_user("throttled@example.com").await;
    h.store()
        .inject("replace_user", Fault::Fail(StoreError::Throttled));
    let err = h.patch_user(&id, rename("x")).await.unwrap_err();
    assert_eq!(err.status(), 429);
    assert_eq!(err.retry_after(), Some(RETRY_AFTER_SECS));
    assert_eq!(h.stored_user(&id).version, 1);
}

#[tokio::test]
async fn an_unavailable_store_is_503_with_retry_after() {
    let h = Harness::new();
    let id = h.create_user("down@example.com").await;
    h.store().inject(
        "replace_user",
        Fault::Fail(StoreError::Unavailable("connection reset".into())),
    );
    let err = h.patch_user(&id, rename("x")).await.unwrap_err();
    assert_eq!(err.status(), 503);
    assert_eq!(err.retry_after(), Some(RETRY_AFTER_SECS));
    assert!(
        !err.to_string().contains("connection reset"),
        "no internal detail reaches the client: {err}"
    );
}

#[tokio::test]
async fn an_internal_store_failure_is_500_without_detail() {
    let h = Harness::new();
    let id = h.create_user("broken@example.com").await;
    h.store().inject(
        "get_user",
        Fault::Fail(StoreError::Internal("malformed item TENANT#acme".into())),
    );
    let err = h.get_user(&id).await.unwrap_err();
    assert_eq!(err.status(), 500);
    assert!(!err.to_string().contains("TENANT#"), "{err}");

    h.store().inject(
        "replace_user",
        Fault::Fail(StoreError::Internal("boom".into())),
    );
    assert_error(h.patch_user(&id, rename("x")).await, 500, None);
}

#[tokio::test]
async fn a_taken_unique_value_is_409_uniqueness() {
    let h = Harness::new();
    let id = h.create_user("race@example.com").await;
    // the guard was claimed between our read and our write
    h.store().inject(
        "replace_user",
        Fault::Fail(StoreError::Taken(UniqueAttribute::UserName)),
    );
    let result = h
        .patch_user(
            &id,
            patch_body(json!([{"op": "replace", "path": "userName", "value": "new@example.com"}])),
        )
        .await;
    assert_error(result, 409, Some("uniqueness"));

    h.store().inject(
        "create_user",
        Fault::Fail(StoreError::Taken(UniqueAttribute::ExternalId)),
    );
    let result = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": "fresh@example.com", "externalId": "e"}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(result, 409, Some("uniqueness"));
}

#[tokio::test]
async fn store_failures_on_the_deactivation_path_map_the_same_way() {
    let h = Harness::new();
    let id = h.create_user("fast@example.com").await;
    for (error, status) in [
        (StoreError::Throttled, 429),
        (StoreError::Unavailable("x".into()), 503),
        (StoreError::Internal("x".into()), 500),
    ] {
        h.store().inject("set_user_active", Fault::Fail(error));
        assert_error(h.patch_user(&id, deactivate()).await, status, None);
    }
    assert!(h.stored_user(&id).active);
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_then_answered_503() {
    let h = Harness::new();
    let group = h.create_group("tx", &[]).await;
    let user = h.create_user("tx@example.com").await;
    h.store()
        .inject("update_group", Fault::Fail(StoreError::TransactionConflict));
    let add = patch_body(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
    assert_eq!(
        h.patch_group(&group, add.clone()).await.unwrap(),
        Outcome::NoContent
    );
    assert_eq!(h.store().count("update_group"), 2);
    assert_eq!(h.stored_members(&group).await, vec![user.clone()]);

    let h = Harness::new();
    let group = h.create_group("tx", &[]).await;
    let user = h.create_user("tx@example.com").await;
    for _ in 0..WRITE_ATTEMPTS {
        h.store()
            .inject("update_group", Fault::Fail(StoreError::TransactionConflict));
    }
    let add = patch_body(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
    let err = h.patch_group(&group, add).await.unwrap_err();
    assert_eq!(err.status(), 503);
    assert_eq!(err.retry_after(), Some(RETRY_AFTER_SECS));
    assert_eq!(h.store().count("update_group"), WRITE_ATTEMPTS);
    assert!(h.stored_members(&group).await.is_empty());
}

// ---- groups: the same write path ----

#[tokio::test]
async fn group_if_match_stale_is_412_and_matching_succeeds() {
    let h = Harness::new();
    let group = h.create_group("Pinned", &[]).await;
    let rename_group =
        |name: &str| patch_body(json!([{"op": "replace", "path": "displayName", "value": name}]));
    let result = h
        .patch_group_with(
            &group,
            rename_group("Stale"),
            Precondition::if_match("W/\"9\""),
            Projection::default(),
        )
        .await;
    assert_error(result, 412, None);
    let outcome = h
        .patch_group_with(
            &group,
            rename_group("Fresh"),
            Precondition::if_match("W/\"1\""),
            Projection::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    let stored = h.stored_group(&group).await;
    assert_eq!(stored.doc["displayName"], "Fresh");
    assert_eq!(stored.version, 2);

    let result = h
        .run(Operation::Group(GroupOperation::Delete {
            id: common::id(&group),
            precondition: Precondition::if_match("W/\"1\""),
        }))
        .await;
    assert_error(result, 412, None);
}

#[tokio::test]
async fn a_concurrent_group_rename_is_retried_without_if_match_and_412_with_it() {
    let h = Harness::new();
    let group = h.create_group("Concurrent", &[]).await;
    let rename_group =
        |name: &str| patch_body(json!([{"op": "replace", "path": "displayName", "value": name}]));
    h.store().inject("update_group", Fault::ConcurrentChange);
    h.patch_group(&group, rename_group("Retried"))
        .await
        .unwrap();
    assert_eq!(h.store().count("update_group"), 2);
    assert_eq!(h.stored_group(&group).await.doc["displayName"], "Retried");

    h.store().inject("update_group", Fault::ConcurrentChange);
    let version = h.stored_group(&group).await.version;
    let result = h
        .patch_group_with(
            &group,
            rename_group("Pinned"),
            Precondition::if_match(&format!("W/\"{version}\"")),
            Projection::default(),
        )
        .await;
    assert_error(result, 412, None);
    assert_eq!(h.store().count("update_group"), 3);
    assert_eq!(h.stored_group(&group).await.doc["displayName"], "Retried");
}

#[tokio::test]
async fn a_lost_response_to_a_pinned_group_rename_is_answered_as_the_completed_write() {
    let h = Harness::new();
    let user = h.create_user("member@example.com").await;
    let group = h.create_group("Old", &[]).await;
    h.store().inject("update_group", Fault::LostResponse);
    let outcome = h
        .patch_group_with(
            &group,
            patch_body(json!([
                {"op": "replace", "path": "displayName", "value": "New"},
                {"op": "add", "path": "members", "value": [{"value": user}]},
            ])),
            Precondition::if_match("W/\"1\""),
            h.group_projection(Some("displayName,members"), None),
        )
        .await
        .unwrap();
    let resource = ok(outcome);
    assert_eq!(resource.version, 2);
    assert_eq!(resource.body["displayName"], "New");
    assert_eq!(member_values(&resource.body), vec![user.clone()]);
    assert_eq!(h.store().count("update_group"), 1, "not written twice");
}

#[tokio::test]
async fn a_lost_response_to_a_group_rename_without_if_match_is_answered_as_the_completed_write() {
    let h = Harness::new();
    let group = h.create_group("Old", &[]).await;
    h.store().inject("update_group", Fault::LostResponse);
    let outcome = h
        .patch_group(
            &group,
            patch_body(json!([{"op": "replace", "path": "displayName", "value": "New"}])),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    let stored = h.stored_group(&group).await;
    assert_eq!(stored.doc["displayName"], "New");
    assert_eq!(stored.version, 2, "written once");
}

#[tokio::test]
async fn a_pinned_group_rename_that_lost_to_another_writer_is_412() {
    // Another writer's change at the version this request expected to write is not ours.
    let h = Harness::new();
    let group = h.create_group("Old", &[]).await;
    h.store().inject("update_group", Fault::ConcurrentChange);
    let result = h
        .patch_group_with(
            &group,
            patch_body(json!([{"op": "replace", "path": "displayName", "value": "New"}])),
            Precondition::if_match("W/\"1\""),
            Projection::default(),
        )
        .await;
    assert_error(result, 412, None);
    assert_eq!(h.stored_group(&group).await.doc["displayName"], "Old");
}

fn add_member(user: &str) -> Value {
    patch_body(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]))
}

#[tokio::test]
async fn a_pinned_member_change_is_checked_against_the_version_at_write_time() {
    let h = Harness::new();
    let user = h.create_user("member@example.com").await;
    let group = h.create_group("Pinned", &[]).await;
    // Another writer changes the group between this request's read and its write.
    h.store().inject("update_group", Fault::ConcurrentChange);
    let err = h
        .patch_group_with(
            &group,
            add_member(&user),
            Precondition::if_match("W/\"1\""),
            Projection::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 412, "{err:?}");
    assert!(h.stored_members(&group).await.is_empty(), "nothing added");
    assert_eq!(
        h.store().count("update_group"),
        1,
        "a pinned write is not retried"
    );
}

#[tokio::test]
async fn a_pinned_member_change_at_the_current_version_adds_the_member() {
    let h = Harness::new();
    let user = h.create_user("member@example.com").await;
    let group = h.create_group("Pinned", &[]).await;
    let outcome = h
        .patch_group_with(
            &group,
            add_member(&user),
            Precondition::if_match("W/\"1\""),
            Projection::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    assert_eq!(h.stored_members(&group).await, vec![user]);
    assert_eq!(h.stored_group(&group).await.version, 2);
}

#[tokio::test]
async fn a_lost_response_to_a_pinned_member_change_is_answered_as_the_completed_write() {
    let h = Harness::new();
    let user = h.create_user("member@example.com").await;
    let group = h.create_group("Pinned", &[]).await;
    h.store().inject("update_group", Fault::LostResponse);
    let outcome = h
        .patch_group_with(
            &group,
            add_member(&user),
            Precondition::if_match("W/\"1\""),
            Projection::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    assert_eq!(h.stored_members(&group).await, vec![user]);
    assert_eq!(h.store().count("update_group"), 1, "not written twice");
}

#[tokio::test]
async fn a_pinned_member_change_beaten_by_a_look_alike_change_is_412_not_a_false_success() {
    // Another request's member change, in the same millisecond, leaves the group at the version
    // this one would have written, with the same document and timestamp. Only the store's
    // version check tells them apart: the answer must be 412, and this request's member absent.
    let h = Harness::new();
    let user = h.create_user("member@example.com").await;
    let group = h.create_group("Pinned", &[]).await;
    h.store().inject("update_group", Fault::ConcurrentChange);
    let patch = h.group_patch(add_member(&user));
    let result = h
        .run_at(
            "concurrent", // the timestamp the injected concurrent change stamps
            Operation::Group(GroupOperation::Patch {
                id: id(&group),
                patch,
                precondition: Precondition::if_match("W/\"1\""),
                projection: Projection::default(),
            }),
        )
        .await;
    assert_error(result, 412, None);
    assert!(h.stored_members(&group).await.is_empty());
}
