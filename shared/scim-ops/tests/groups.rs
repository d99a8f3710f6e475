//! Groups (projects): create, get, replace (PUT), patch (members and attributes, Okta and Entra
//! shapes), delete and list; membership as both the group and its users show it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_core::list::Projection;
use scim_core::ProjectRole;
use scim_ops::{GroupOperation, Operation, Outcome, Precondition, TenantSettings};
use serde_json::json;

/// Three users; returns their ids.
async fn three_users(h: &Harness) -> (String, String, String) {
    (
        h.create_user("ann@example.com").await,
        h.create_user("ben@example.com").await,
        h.create_user("cid@example.com").await,
    )
}

fn add_members(ids: &[&str]) -> serde_json::Value {
    let values: Vec<_> = ids.iter().map(|id| json!({"value": id})).collect();
    patch_body(json!([{"op": "add", "path": "members", "value": values}]))
}

// ---- create ----

#[tokio::test]
async fn create_with_members_renders_them_and_the_users_list_the_group() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let outcome = h
        .create_group_with(group_body("Engineering", &[&ann, &ben]))
        .await
        .unwrap();
    let resource = created(outcome);
    let group = resource_id(&resource);
    assert_eq!(resource.location, format!("{BASE_URL}/Groups/{group}"));
    assert_eq!(resource.version, 1);
    let body = &resource.body;
    assert_eq!(body["displayName"], "Engineering");
    assert_eq!(body["meta"]["resourceType"], "Group");
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    assert_eq!(member_values(body), sorted(&[&ann, &ben]));
    let first = &body["members"][0];
    assert_eq!(first["type"], "User");
    assert_eq!(
        first["$ref"],
        format!("{BASE_URL}/Users/{}", first["value"].as_str().unwrap())
    );

    // stored, and seen from the users' side
    assert_eq!(h.stored_members(&group).await, sorted(&[&ann, &ben]));
    for user in [&ann, &ben] {
        let read = h.read_user(user).await;
        assert_eq!(group_values(&read.body), vec![group.clone()]);
        assert_eq!(read.body["groups"][0]["type"], "direct");
        assert_eq!(
            read.body["groups"][0]["$ref"],
            format!("{BASE_URL}/Groups/{group}")
        );
        assert_eq!(read.version, 2, "joining a group is a change of the user");
    }
    // the same on a read of the group
    assert_eq!(
        member_values(&h.read_group(&group).await.body),
        sorted(&[&ann, &ben])
    );
}

#[tokio::test]
async fn members_get_the_project_role_of_the_deployment_or_the_tenant() {
    let h = Harness::new();
    let ann = h.create_user("ann@example.com").await;
    let group = h.create_group("Default role", &[&ann]).await;
    assert_eq!(
        h.stored_group(&group).await.project_role,
        ProjectRole::Editor
    );

    let h = Harness::with_settings(TenantSettings {
        default_project_role: Some(ProjectRole::Viewer),
        ..TenantSettings::default()
    });
    let ann = h.create_user("ann@example.com").await;
    let group = h.create_group("Tenant role", &[&ann]).await;
    assert_eq!(
        h.stored_group(&group).await.project_role,
        ProjectRole::Viewer
    );
    use scim_ops::GroupStore;
    let members = h
        .store()
        .group_members(h.tenant(), &common::id(&group))
        .await
        .unwrap();
    assert_eq!(members[0].project_role, ProjectRole::Viewer);
}

#[tokio::test]
async fn create_with_an_unknown_member_is_invalid_value_and_writes_nothing() {
    let h = Harness::new();
    let ann = h.create_user("ann@example.com").await;
    let result = h
        .create_group_with(group_body("Ghosts", &[&ann, UNKNOWN_ID]))
        .await;
    assert_error(result, 400, Some("invalidValue"));

    assert_eq!(h.list_groups(&[]).await.unwrap()["totalResults"], 0);
    let user = h.stored_user(&ann);
    assert!(user.group_ids.is_empty(), "the known member was not added");
    assert_eq!(user.version, 1);
    // the displayName was not claimed
    h.create_group("Ghosts", &[]).await;
}

#[tokio::test]
async fn a_member_value_that_cannot_be_an_id_is_invalid_value_before_any_write() {
    let h = Harness::new();
    let result = h
        .create_group_with(group_body("Bad", &["not-a-uuid"]))
        .await;
    assert_error(result, 400, Some("invalidValue"));
    let result = h
        .create_group_with(json!({"displayName": "Bad", "members": [{"value": 42}]}))
        .await;
    assert_error(result, 400, Some("invalidValue"));
    assert_eq!(h.store().count("create_group"), 0);
}

#[tokio::test]
async fn display_name_is_unique_case_insensitively() {
    let h = Harness::new();
    h.create_group("Engineering", &[]).await;
    let result = h.create_group_with(group_body("ENGINEERING", &[])).await;
    assert_error(result, 409, Some("uniqueness"));
    let result = h.create_group_with(json!({"members": []})).await;
    assert_error(result, 400, Some("invalidValue"));
}

#[tokio::test]
async fn entra_creates_groups_with_its_own_schema_and_no_members() {
    let h = Harness::new();
    let outcome = h
        .create_group_with(json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:Group",
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
            ],
            "displayName": "Entra group",
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        }))
        .await
        .unwrap();
    let body = created(outcome).body;
    assert_eq!(body["displayName"], "Entra group");
    assert_eq!(body["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
    assert_eq!(member_values(&body), Vec::<String>::new());
}

// ---- get ----

#[tokio::test]
async fn get_reads_members_only_when_the_answer_keeps_them() {
    let h = Harness::new();
    let (ann, _, _) = three_users(&h).await;
    let group = h.create_group("Readers", &[&ann]).await;

    let with = ok(h.get_group(&group, Projection::default()).await.unwrap());
    assert_eq!(member_values(&with.body), vec![ann.clone()]);
    assert_eq!(h.store().count("get_group_with_members"), 1);
    assert_eq!(h.store().count("get_group"), 0);

    let without = ok(h
        .get_group(&group, h.group_projection(None, Some("members")))
        .await
        .unwrap());
    assert!(without.body.get("members").is_none(), "{}", without.body);
    assert_eq!(without.body["displayName"], "Readers");
    assert_eq!(without.version, 1);
    assert_eq!(h.store().count("get_group"), 1);
    assert_eq!(
        h.store().count("get_group_with_members"),
        1,
        "no member read"
    );

    let name_only = ok(h
        .get_group(&group, h.group_projection(Some("displayName"), None))
        .await
        .unwrap());
    assert!(name_only.body.get("members").is_none());
    assert!(name_only.body.get("meta").is_none());
    assert_eq!(
        h.store().count("get_group_with_members"),
        1,
        "no member read"
    );
}

#[tokio::test]
async fn get_of_an_unknown_group_or_another_tenants_is_404() {
    let h = Harness::new();
    assert_error(
        h.get_group(UNKNOWN_ID, Projection::default()).await,
        404,
        None,
    );
    assert_error(
        h.get_group(UNKNOWN_ID, h.group_projection(None, Some("members")))
            .await,
        404,
        None,
    );
    let group = h.create_group("Mine", &[]).await;
    let result = h
        .run_as(
            &principal("globex"),
            Operation::Group(GroupOperation::Get {
                id: common::id(&group),
                projection: Projection::default(),
            }),
        )
        .await;
    assert_error(result, 404, None);
}

// ---- replace (PUT) ----

#[tokio::test]
async fn put_replaces_the_member_list() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben]).await;
    let resource = ok(h
        .replace_group(
            &group,
            group_body("Team", &[&ben, &cid]),
            Precondition::none(),
        )
        .await
        .unwrap());
    assert_eq!(member_values(&resource.body), sorted(&[&ben, &cid]));
    assert_eq!(h.stored_members(&group).await, sorted(&[&ben, &cid]));
    assert!(h.stored_groups_of(&ann).is_empty());
    assert_eq!(h.stored_groups_of(&ben), vec![group.clone()]);
    assert_eq!(h.stored_groups_of(&cid), vec![group.clone()]);
    assert_eq!(
        h.stored_user(&ben).version,
        2,
        "a staying member is not rewritten"
    );
}

#[tokio::test]
async fn put_without_members_removes_them_all_and_can_rename() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben]).await;
    let resource = ok(h
        .replace_group(
            &group,
            json!({"displayName": "Renamed"}),
            Precondition::none(),
        )
        .await
        .unwrap());
    assert_eq!(resource.body["displayName"], "Renamed");
    assert_eq!(member_values(&resource.body), Vec::<String>::new());
    assert!(h.stored_members(&group).await.is_empty());
    assert!(h.stored_groups_of(&ann).is_empty());
    assert!(h.stored_groups_of(&ben).is_empty());
}

#[tokio::test]
async fn put_with_an_unknown_member_changes_nothing() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann]).await;
    let result = h
        .replace_group(
            &group,
            group_body("Team renamed", &[&ben, UNKNOWN_ID]),
            Precondition::none(),
        )
        .await;
    assert_error(result, 400, Some("invalidValue"));
    let stored = h.stored_group(&group).await;
    assert_eq!(stored.doc["displayName"], "Team");
    assert_eq!(h.stored_members(&group).await, vec![ann.clone()]);
    assert!(h.stored_groups_of(&ben).is_empty());
}

// ---- patch: members ----

#[tokio::test]
async fn patch_adds_members_and_answers_no_content() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann]).await;
    let outcome = h
        .patch_group(&group, add_members(&[&ben, &cid]))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    assert_eq!(h.stored_members(&group).await, sorted(&[&ann, &ben, &cid]));
    assert_eq!(h.stored_groups_of(&cid), vec![group.clone()]);
    assert_eq!(
        group_values(&h.read_user(&ben).await.body),
        vec![group.clone()]
    );
}

#[tokio::test]
async fn patch_answers_the_group_when_attributes_are_requested() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann]).await;
    let outcome = h
        .patch_group_with(
            &group,
            add_members(&[&ben]),
            Precondition::none(),
            h.group_projection(Some("members,displayName"), None),
        )
        .await
        .unwrap();
    let resource = ok(outcome);
    assert_eq!(member_values(&resource.body), sorted(&[&ann, &ben]));
    assert_eq!(resource.body["displayName"], "Team");
    assert_eq!(resource.version, 2);
}

#[tokio::test]
async fn path_less_add_of_members_adds_them() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Team", &[]).await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "Add", "value": {"members": [{"value": ann}, {"value": ben}]}}])),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_members(&group).await, sorted(&[&ann, &ben]));
}

#[tokio::test]
async fn okta_removes_a_member_by_value_filter() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben, &cid]).await;
    let outcome = h
        .patch_group(
            &group,
            patch_body(json!([{
                "op": "remove",
                "path": format!("members[value eq \"{ben}\"]"),
            }])),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    assert_eq!(h.stored_members(&group).await, sorted(&[&ann, &cid]));
    assert!(h.stored_groups_of(&ben).is_empty());
    assert!(group_values(&h.read_user(&ben).await.body).is_empty());
    assert!(h.read_user(&ben).await.body.get("groups").is_none());
}

#[tokio::test]
async fn okta_removes_several_members_with_or_ed_terms() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben, &cid]).await;
    h.patch_group(
        &group,
        patch_body(json!([{
            "op": "remove",
            "path": format!("members[value eq \"{ann}\" or value eq \"{cid}\"]"),
        }])),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_members(&group).await, vec![ben.clone()]);
}

#[tokio::test]
async fn entra_removes_members_with_a_value_list() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben, &cid]).await;
    let outcome = h
        .patch_group(
            &group,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "Remove",
                    "path": "members",
                    "value": [{"value": ann}, {"value": cid}],
                }],
            }),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
    assert_eq!(h.stored_members(&group).await, vec![ben.clone()]);
    assert!(h.stored_groups_of(&ann).is_empty());
    assert!(h.stored_groups_of(&cid).is_empty());
}

#[tokio::test]
async fn replace_members_makes_the_list_exactly_the_value() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben]).await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "replace", "path": "members", "value": [{"value": cid}, {"value": ben}]}])),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_members(&group).await, sorted(&[&ben, &cid]));
    assert!(h.stored_groups_of(&ann).is_empty());
    assert_eq!(h.stored_groups_of(&cid), vec![group.clone()]);
}

#[tokio::test]
async fn remove_members_without_a_value_removes_them_all() {
    let h = Harness::new();
    let (ann, ben, cid) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben, &cid]).await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "remove", "path": "members"}])),
    )
    .await
    .unwrap();
    assert!(h.stored_members(&group).await.is_empty());
    for user in [&ann, &ben, &cid] {
        assert!(h.stored_groups_of(user).is_empty());
    }
    let read = h.read_group(&group).await;
    assert_eq!(member_values(&read.body), Vec::<String>::new());
}

#[tokio::test]
async fn re_adding_a_member_writes_no_new_user_version() {
    let h = Harness::new();
    let (ann, _, _) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann]).await;
    let before = h.stored_user(&ann);
    h.patch_group(&group, add_members(&[&ann])).await.unwrap();
    let after = h.stored_user(&ann);
    assert_eq!(after.version, before.version);
    assert_eq!(after.group_ids, before.group_ids);
    assert_eq!(h.stored_members(&group).await, vec![ann.clone()]);

    // nor does removing a user who is not a member
    let dee = h.create_user("dee@example.com").await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{dee}\"]")}])),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_user(&dee).version, 1);
    assert!(h.stored_groups_of(&dee).is_empty());
}

#[tokio::test]
async fn adding_an_unknown_member_is_invalid_value_and_adds_no_one() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann]).await;
    let result = h
        .patch_group(&group, add_members(&[&ben, UNKNOWN_ID]))
        .await;
    assert_error(result, 400, Some("invalidValue"));
    assert_eq!(h.stored_members(&group).await, vec![ann.clone()]);
    assert!(h.stored_groups_of(&ben).is_empty());

    let result = h.patch_group(&group, add_members(&["not-an-id"])).await;
    assert_error(result, 400, Some("invalidValue"));
}

#[tokio::test]
async fn a_deleted_user_cannot_be_added() {
    let h = Harness::new();
    let (ann, _, _) = three_users(&h).await;
    let group = h.create_group("Team", &[]).await;
    h.delete_user(&ann).await.unwrap();
    let result = h.patch_group(&group, add_members(&[&ann])).await;
    assert_error(result, 400, Some("invalidValue"));
    assert!(h.stored_members(&group).await.is_empty());
}

#[tokio::test]
async fn another_tenants_user_cannot_be_added() {
    let h = Harness::new();
    let ann = h.create_user("ann@example.com").await;
    let globex = principal("globex");
    let outcome = h
        .run_as(
            &globex,
            Operation::Group(GroupOperation::Create {
                body: group_body("Globex team", &[]),
                projection: Projection::default(),
            }),
        )
        .await
        .unwrap();
    let theirs = resource_id(&created(outcome));
    let result = h
        .run_as(
            &globex,
            Operation::Group(GroupOperation::Patch {
                id: common::id(&theirs),
                patch: h.group_patch(add_members(&[&ann])),
                precondition: Precondition::none(),
                projection: Projection::default(),
            }),
        )
        .await;
    assert_error(result, 400, Some("invalidValue"));
    assert!(h.stored_groups_of(&ann).is_empty());
    let result = h
        .run_as(
            &globex,
            Operation::Group(GroupOperation::Create {
                body: group_body("Globex poach", &[&ann]),
                projection: Projection::default(),
            }),
        )
        .await;
    assert_error(result, 400, Some("invalidValue"));
}

#[tokio::test]
async fn patch_of_an_unknown_group_is_404() {
    let h = Harness::new();
    let (ann, _, _) = three_users(&h).await;
    assert_error(
        h.patch_group(UNKNOWN_ID, add_members(&[&ann])).await,
        404,
        None,
    );
    assert_error(
        h.patch_group(
            UNKNOWN_ID,
            patch_body(json!([{"op": "remove", "path": "members"}])),
        )
        .await,
        404,
        None,
    );
    assert!(h.stored_groups_of(&ann).is_empty());
}

// ---- patch: attributes ----

#[tokio::test]
async fn patch_renames_a_group() {
    let h = Harness::new();
    let (ann, _, _) = three_users(&h).await;
    let group = h.create_group("Old", &[&ann]).await;
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
    assert_eq!(stored.version, 2);
    assert_eq!(
        h.stored_members(&group).await,
        vec![ann.clone()],
        "members stay"
    );
    // the old name is free, the new one taken
    h.create_group("old", &[]).await;
    assert_error(
        h.create_group_with(group_body("NEW", &[])).await,
        409,
        Some("uniqueness"),
    );
}

#[tokio::test]
async fn okta_renames_with_a_path_less_replace_that_repeats_the_id() {
    let h = Harness::new();
    let group = h.create_group("Old", &[]).await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "replace", "value": {"id": group, "displayName": "Okta name"}}])),
    )
    .await
    .unwrap();
    let stored = h.stored_group(&group).await;
    assert_eq!(stored.doc["displayName"], "Okta name");
    assert_eq!(stored.id.to_string(), group);
}

#[tokio::test]
async fn renaming_to_a_taken_display_name_is_409_and_changes_nothing() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    h.create_group("Taken", &[]).await;
    let group = h.create_group("Mine", &[&ann]).await;
    let result = h
        .patch_group(
            &group,
            patch_body(json!([
                {"op": "replace", "path": "displayName", "value": "TAKEN"},
                {"op": "add", "path": "members", "value": [{"value": ben}]},
            ])),
        )
        .await;
    assert_error(result, 409, Some("uniqueness"));
    let stored = h.stored_group(&group).await;
    assert_eq!(stored.doc["displayName"], "Mine");
    assert_eq!(stored.version, 1);
    assert_eq!(
        h.stored_members(&group).await,
        vec![ann.clone()],
        "the member change of the refused request is not applied"
    );

    let result = h
        .replace_group(&group, group_body("taken", &[]), Precondition::none())
        .await;
    assert_error(result, 409, Some("uniqueness"));
}

#[tokio::test]
async fn renaming_a_group_to_another_case_of_its_own_name_is_allowed() {
    let h = Harness::new();
    let group = h.create_group("engineering", &[]).await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "replace", "path": "displayName", "value": "Engineering"}])),
    )
    .await
    .unwrap();
    assert_eq!(
        h.stored_group(&group).await.doc["displayName"],
        "Engineering"
    );
}

#[tokio::test]
async fn a_group_patch_that_changes_nothing_writes_nothing() {
    let h = Harness::new();
    let group = h.create_group("Same", &[]).await;
    h.patch_group(
        &group,
        patch_body(json!([{"op": "replace", "path": "displayName", "value": "Same"}])),
    )
    .await
    .unwrap();
    assert_eq!(h.store().count("update_group"), 0);
    assert_eq!(h.stored_group(&group).await.version, 1);
}

// ---- delete ----

#[tokio::test]
async fn delete_removes_the_group_and_its_memberships() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Doomed", &[&ann, &ben]).await;
    let other = h.create_group("Stays", &[&ann]).await;

    assert_eq!(h.delete_group(&group).await.unwrap(), Outcome::NoContent);
    assert_error(h.get_group(&group, Projection::default()).await, 404, None);
    assert_error(h.delete_group(&group).await, 404, None);

    assert_eq!(h.stored_groups_of(&ann), vec![other.clone()]);
    assert!(h.stored_groups_of(&ben).is_empty());
    assert_eq!(
        group_values(&h.read_user(&ann).await.body),
        vec![other.clone()]
    );
    assert!(h.read_user(&ben).await.body.get("groups").is_none());
    assert_eq!(h.stored_members(&other).await, vec![ann.clone()]);

    let listed = h.list_groups(&[]).await.unwrap();
    assert_eq!(listed_ids(&listed), vec![other.clone()]);
    // the displayName is free again
    h.create_group("doomed", &[]).await;
}

#[tokio::test]
async fn deleting_a_user_removes_it_from_its_groups() {
    let h = Harness::new();
    let (ann, ben, _) = three_users(&h).await;
    let group = h.create_group("Team", &[&ann, &ben]).await;
    h.delete_user(&ann).await.unwrap();
    assert_eq!(h.stored_members(&group).await, vec![ben.clone()]);
    assert_eq!(
        member_values(&h.read_group(&group).await.body),
        vec![ben.clone()]
    );
}

// ---- list ----

async fn four_groups(h: &Harness) -> (Vec<String>, String, String) {
    let ann = h.create_user("ann@example.com").await;
    let ben = h.create_user("ben@example.com").await;
    let ids = vec![
        h.create_group("Delta", &[&ann]).await,
        h.create_group("alpha", &[&ann, &ben]).await,
        h.create_group("Charlie", &[]).await,
        h.create_group("Bravo", &[&ben]).await,
    ];
    (ids, ann, ben)
}

#[tokio::test]
async fn list_pages_in_display_name_order() {
    let h = Harness::new();
    four_groups(&h).await;
    let page = h
        .list_groups(&[("startIndex", "2"), ("count", "2")])
        .await
        .unwrap();
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(
        listed(&page, "displayName"),
        vec![json!("Bravo"), json!("Charlie")]
    );
    assert_eq!(h.store().count("page_groups"), 1);
    assert_eq!(h.store().count("all_groups"), 0);
}

#[tokio::test]
async fn list_pages_never_read_or_carry_members() {
    let h = Harness::new();
    four_groups(&h).await;
    for params in [
        vec![("count", "2")],
        vec![("attributes", "members,displayName")],
        vec![("filter", "displayName sw \"a\"")],
        vec![("filter", "displayName eq \"alpha\"")],
    ] {
        let page = h.list_groups(&params).await.unwrap();
        assert!(page["totalResults"].as_u64().unwrap() > 0, "{params:?}");
        for group in page["Resources"].as_array().unwrap() {
            assert!(group.get("members").is_none(), "{params:?}: {group}");
        }
    }
    assert_eq!(h.store().count("group_members"), 0, "no member list read");
}

#[tokio::test]
async fn cursor_paging_walks_every_group_once_and_refuses_forged_cursors() {
    let h = Harness::new();
    four_groups(&h).await;
    let mut names = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let page = h
            .list_groups(&[("cursor", cursor.as_str()), ("count", "3")])
            .await
            .unwrap();
        assert_eq!(page["totalResults"], 4);
        assert!(page.get("startIndex").is_none(), "{page}");
        names.extend(listed(&page, "displayName"));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(names, ["alpha", "Bravo", "Charlie", "Delta"]);

    // A filtered (in-memory) answer pages by cursor too.
    let first = h
        .list_groups(&[
            ("cursor", ""),
            ("count", "1"),
            ("filter", "displayName ne \"x\""),
        ])
        .await
        .unwrap();
    let next = first["nextCursor"].as_str().unwrap().to_string();
    let second = h
        .list_groups(&[
            ("cursor", next.as_str()),
            ("count", "1"),
            ("filter", "displayName ne \"x\""),
        ])
        .await
        .unwrap();
    assert_eq!(listed(&second, "displayName"), [json!("Bravo")]);

    for forged in ["not-base64!", "b2xk", "eA"] {
        let err = h.list_groups(&[("cursor", forged)]).await.unwrap_err();
        assert_eq!(
            err.scim_type().map(|t| t.as_str()),
            Some("invalidCursor"),
            "{forged}"
        );
    }
    // A cursor of a filtered answer used for an unfiltered one.
    let err = h
        .list_groups(&[("cursor", next.as_str())])
        .await
        .unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidCursor"));
}

#[tokio::test]
async fn display_name_eq_is_answered_by_the_index() {
    let h = Harness::new();
    let (ids, _, _) = four_groups(&h).await;
    let found = h
        .list_groups(&[("filter", "displayName eq \"CHARLIE\"")])
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(listed_ids(&found), vec![ids[2].clone()]);
    assert_eq!(h.store().count("find_groups"), 1);
    assert_eq!(h.store().count("all_groups"), 0);
}

#[tokio::test]
async fn members_value_eq_finds_the_groups_of_a_user() {
    let h = Harness::new();
    let (ids, ann, ben) = four_groups(&h).await;
    let of_ann = h
        .list_groups(&[
            ("filter", &format!("members.value eq \"{ann}\"")),
            ("excludedAttributes", "members"),
        ])
        .await
        .unwrap();
    assert_eq!(of_ann["totalResults"], 2);
    // in displayName order
    assert_eq!(listed_ids(&of_ann), vec![ids[1].clone(), ids[0].clone()]);

    let of_ben = h
        .list_groups(&[("filter", &format!("members[value eq \"{ben}\"]"))])
        .await
        .unwrap();
    assert_eq!(
        listed(&of_ben, "displayName"),
        vec![json!("alpha"), json!("Bravo")]
    );

    let none = h
        .list_groups(&[("filter", &format!("members.value eq \"{UNKNOWN_ID}\""))])
        .await
        .unwrap();
    assert_eq!(none["totalResults"], 0);

    // From the user's own group list: no group's member list is read, nothing is scanned,
    // also when joined with another condition.
    let both = format!("members.value eq \"{ben}\" and displayName sw \"b\"");
    let found = h.list_groups(&[("filter", both.as_str())]).await.unwrap();
    assert_eq!(listed_ids(&found), vec![ids[3].clone()]);
    assert_eq!(h.store().count("group_members"), 0, "no member list read");
    assert_eq!(h.store().count("all_groups"), 0, "no scan");
    // Any other use of members would need every group's members: refused.
    let err = h
        .list_groups(&[("filter", format!("members.value ne \"{ann}\"").as_str())])
        .await
        .unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidFilter"));
}

#[tokio::test]
async fn list_sorts_descending_and_pages_a_filter() {
    let h = Harness::new();
    four_groups(&h).await;
    let desc = h
        .list_groups(&[
            ("sortBy", "displayName"),
            ("sortOrder", "descending"),
            ("attributes", "displayName"),
        ])
        .await
        .unwrap();
    assert_eq!(
        listed(&desc, "displayName"),
        vec![
            json!("Delta"),
            json!("Charlie"),
            json!("Bravo"),
            json!("alpha")
        ]
    );

    let filtered = h
        .list_groups(&[
            (
                "filter",
                "displayName sw \"\" and not (displayName eq \"alpha\")",
            ),
            ("startIndex", "2"),
            ("count", "1"),
        ])
        .await
        .unwrap();
    assert_eq!(filtered["totalResults"], 3);
    assert_eq!(listed(&filtered, "displayName"), vec![json!("Charlie")]);
}

#[tokio::test]
async fn another_tenant_lists_no_groups() {
    let h = Harness::new();
    four_groups(&h).await;
    let query = h.group_query(&[]);
    let listed = list(
        h.run_as(
            &principal("globex"),
            Operation::Group(GroupOperation::List(query)),
        )
        .await
        .unwrap(),
    );
    assert_eq!(listed["totalResults"], 0);
}

#[tokio::test]
async fn a_large_change_of_no_ops_writes_nothing_and_keeps_the_etag() {
    let h = Harness::new();
    let (ann, _, _) = three_users(&h).await;
    let group = h.create_group("Eng", &[&ann]).await;
    let before = h.stored_group(&group).await;
    // 60 ids that are no members (more than one write's worth), and a member re-added.
    let strangers: Vec<serde_json::Value> = (0..60)
        .map(|_| json!({"value": uuid::Uuid::new_v4().to_string()}))
        .collect();
    h.patch_group(
        &group,
        patch_body(json!([
            {"op": "remove", "path": "members", "value": strangers},
            {"op": "add", "path": "members", "value": [{"value": ann}]},
        ])),
    )
    .await
    .unwrap();
    assert_eq!(h.store().count("members_among"), 1, "one read of the named");
    assert_eq!(h.store().count("update_group"), 0, "no write");
    assert_eq!(h.stored_group(&group).await.version, before.version);
    assert_eq!(h.stored_members(&group).await, vec![ann.clone()]);
}

#[tokio::test]
async fn a_patch_naming_too_many_members_is_refused_before_any_read() {
    let h = Harness::new();
    let group = h.create_group("Eng", &[]).await;
    let many: Vec<serde_json::Value> = (0..=scim_ops::groups::MAX_MEMBERS_PER_REQUEST)
        .map(|n| json!({"value": format!("00000000-0000-4000-8000-{n:012x}")}))
        .collect();
    let err = h
        .patch_group(
            &group,
            patch_body(json!([{"op": "remove", "path": "members", "value": many}])),
        )
        .await
        .unwrap_err();
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("tooMany"));
    assert_eq!(h.store().count("members_among"), 0);
}
