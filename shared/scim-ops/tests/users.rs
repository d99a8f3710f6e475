//! Users: create, get, replace (PUT), patch (Okta and Entra shapes), delete and list, as a client
//! sees them through `Operations::execute`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_core::list::Projection;
use scim_core::PlatformRole;
use scim_ops::{Operation, Outcome, Precondition, TenantSettings, UserOperation};
use serde_json::{json, Value};

// ---- create ----

#[tokio::test]
async fn create_answers_201_with_id_meta_and_location() {
    let h = Harness::new();
    let resource = h
        .create_user_with(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "alice@example.com",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
        }))
        .await;
    let id = resource_id(&resource);
    assert_eq!(resource.version, 1);
    assert_eq!(resource.location, format!("{BASE_URL}/Users/{id}"));
    let body = &resource.body;
    assert_eq!(body["userName"], "alice@example.com");
    assert_eq!(body["name"]["givenName"], "Alice");
    assert_eq!(body["meta"]["resourceType"], "User");
    assert_eq!(body["meta"]["version"], "W/\"1\"");
    assert_eq!(body["meta"]["created"], NOW);
    assert_eq!(body["meta"]["lastModified"], NOW);
    assert_eq!(body["meta"]["location"], resource.location);
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert!(body.get("groups").is_none(), "a new user is in no group");

    let stored = h.stored_user(&id);
    assert_eq!(stored.version, 1);
    assert_eq!(stored.modified_by.as_deref(), Some("scim_0a1b2c3d"));
    assert_eq!(h.store().count("create_user"), 1);
}

#[tokio::test]
async fn a_new_user_is_active_unless_the_body_says_otherwise() {
    let h = Harness::new();
    let implicit = h.create_user("implicit@example.com").await;
    assert!(h.stored_user(&implicit).active);
    assert_eq!(h.read_user(&implicit).await.body["active"], true);

    let inactive = resource_id(
        &h.create_user_with(json!({"userName": "inactive@example.com", "active": "False"}))
            .await,
    );
    assert!(!h.stored_user(&inactive).active);
    assert_eq!(h.stored_user(&inactive).doc["active"], false);
    assert_eq!(h.read_user(&inactive).await.body["active"], false);
}

#[tokio::test]
async fn platform_role_comes_from_the_platform_extension() {
    let h = Harness::new();
    let resource = h
        .create_user_with(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", PLATFORM_URN],
            "userName": "root@example.com",
            PLATFORM_URN: {"platformRole": "admin"},
        }))
        .await;
    let id = resource_id(&resource);
    assert_eq!(h.stored_user(&id).platform_role, PlatformRole::Admin);
    // the canonical spelling is kept, and the extension is listed in `schemas`
    assert_eq!(resource.body[PLATFORM_URN]["platformRole"], "ADMIN");
    let schemas = resource.body["schemas"].as_array().unwrap();
    assert!(schemas.contains(&json!(PLATFORM_URN)), "{schemas:?}");
}

#[tokio::test]
async fn platform_role_falls_back_to_the_tenant_default_then_member() {
    let tenant_default = Harness::with_settings(TenantSettings {
        default_platform_role: Some(PlatformRole::Operator),
        ..TenantSettings::default()
    });
    let id = tenant_default.create_user("op@example.com").await;
    assert_eq!(
        tenant_default.stored_user(&id).platform_role,
        PlatformRole::Operator
    );

    let plain = Harness::new();
    let id = plain.create_user("member@example.com").await;
    assert_eq!(plain.stored_user(&id).platform_role, PlatformRole::Member);

    // a role sent by the IdP wins over the tenant's default
    let sent = tenant_default
        .create_user_with(json!({
            "userName": "admin@example.com",
            PLATFORM_URN: {"platformRole": "ADMIN"},
        }))
        .await;
    assert_eq!(
        tenant_default
            .stored_user(&resource_id(&sent))
            .platform_role,
        PlatformRole::Admin
    );
}

#[tokio::test]
async fn an_unknown_platform_role_is_invalid_value() {
    let h = Harness::new();
    let result = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": "x@example.com", PLATFORM_URN: {"platformRole": "OWNER"}}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(result, 400, Some("invalidValue"));
    assert_eq!(h.store().count("create_user"), 0);
}

#[tokio::test]
async fn create_without_user_name_is_invalid_value() {
    let h = Harness::new();
    let result = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"displayName": "Nobody"}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(result, 400, Some("invalidValue"));
}

#[tokio::test]
async fn user_name_is_unique_case_insensitively() {
    let h = Harness::new();
    h.create_user("Alice@Example.com").await;
    let result = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": "alice@example.COM"}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(result, 409, Some("uniqueness"));
    assert_eq!(h.list_users(&[]).await.unwrap()["totalResults"], 1);
}

#[tokio::test]
async fn external_id_is_unique_exactly() {
    let h = Harness::new();
    h.create_user_with(json!({"userName": "a@example.com", "externalId": "00u1abc"}))
        .await;
    let taken = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": "b@example.com", "externalId": "00u1abc"}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(taken, 409, Some("uniqueness"));
    // externalId is case-exact: another case is another value
    h.create_user_with(json!({"userName": "c@example.com", "externalId": "00U1ABC"}))
        .await;
    assert_eq!(h.list_users(&[]).await.unwrap()["totalResults"], 2);
}

/// "josé" typed with a precomposed é (NFC) and with e + a combining accent (NFD).
const JOSE_NFC: &str = "jos\u{e9}@example.com";
const JOSE_NFD: &str = "JOSE\u{301}@example.com";

#[tokio::test]
async fn a_user_name_in_decomposed_unicode_is_the_same_user_as_in_composed() {
    let h = Harness::new();
    let created = h
        .create_user_with(json!({"userName": JOSE_NFC, "emails": [{"value": JOSE_NFC}]}))
        .await;
    let result = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": JOSE_NFD}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(result, 409, Some("uniqueness"));
    for filter in [
        format!("userName eq \"{JOSE_NFD}\""),
        format!("emails.value eq \"{JOSE_NFD}\""),
        "userName sw \"JOSE\u{301}\"".to_string(),
    ] {
        let found = h.list_users(&[("filter", filter.as_str())]).await.unwrap();
        assert_eq!(listed_ids(&found), vec![resource_id(&created)], "{filter}");
    }
}

#[tokio::test]
async fn a_patch_that_adds_a_twenty_first_email_is_refused_and_changes_nothing() {
    let h = Harness::new();
    let emails: Vec<Value> = (0..20)
        .map(|i| json!({"value": format!("a{i}@example.com")}))
        .collect();
    let id = resource_id(
        &h.create_user_with(json!({"userName": "many@example.com", "emails": emails}))
            .await,
    );
    let result = h
        .patch_user(
            &id,
            patch_body(
                json!([{"op": "add", "path": "emails", "value": [{"value": "b@example.com"}]}]),
            ),
        )
        .await;
    assert_error(result, 400, Some("invalidValue"));
    assert_eq!(
        h.stored_user(&id).doc["emails"].as_array().map(Vec::len),
        Some(20)
    );
    assert_eq!(h.stored_user(&id).version, 1);
}

#[tokio::test]
async fn a_patch_that_grows_the_document_past_its_limit_is_refused() {
    let h = Harness::new();
    let id = h.create_user("big@example.com").await;
    let result = h
        .patch_user(
            &id,
            patch_body(json!([{"op": "add", "path": "title", "value": "x".repeat(110 * 1024)}])),
        )
        .await;
    assert_error(result, 400, Some("invalidValue"));
    assert!(h.stored_user(&id).doc.get("title").is_none());
}

#[tokio::test]
async fn create_honours_the_requested_projection() {
    let h = Harness::new();
    let outcome = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": "p@example.com", "displayName": "P"}),
            projection: h.user_projection(Some("userName"), None),
        }))
        .await
        .unwrap();
    let body = created(outcome).body;
    assert_eq!(body["userName"], "p@example.com");
    assert!(body.get("id").is_some(), "id is always returned");
    assert!(body.get("displayName").is_none(), "{body}");
    assert!(body.get("meta").is_none(), "{body}");
}

// ---- get ----

#[tokio::test]
async fn get_returns_the_user_as_created() {
    let h = Harness::new();
    let created = h
        .create_user_with(json!({"userName": "g@example.com", "displayName": "G"}))
        .await;
    let read = h.read_user(&resource_id(&created)).await;
    assert_eq!(read, created);
}

#[tokio::test]
async fn get_of_an_unknown_user_is_404() {
    let h = Harness::new();
    assert_error(h.get_user(UNKNOWN_ID).await, 404, None);
}

#[tokio::test]
async fn another_tenant_cannot_see_or_change_a_user() {
    let h = Harness::new();
    let id = h.create_user("private@example.com").await;
    let other = principal("globex");

    let get = h
        .run_as(
            &other,
            Operation::User(UserOperation::Get {
                id: common::id(&id),
                projection: Projection::default(),
            }),
        )
        .await;
    assert_error(get, 404, None);

    let patch = h
        .run_as(
            &other,
            Operation::User(UserOperation::Patch {
                id: common::id(&id),
                patch: h.user_patch(patch_body(
                    json!([{"op": "replace", "value": {"active": false}}]),
                )),
                precondition: Precondition::none(),
                projection: Projection::default(),
            }),
        )
        .await;
    assert_error(patch, 404, None);

    let delete = h
        .run_as(
            &other,
            Operation::User(UserOperation::Delete {
                id: common::id(&id),
                precondition: Precondition::none(),
            }),
        )
        .await;
    assert_error(delete, 404, None);

    let query = h.user_query(&[]);
    let listed = list(
        h.run_as(&other, Operation::User(UserOperation::List(query)))
            .await
            .unwrap(),
    );
    assert_eq!(listed["totalResults"], 0);

    // the same userName is free in the other tenant
    let outcome = h
        .run_as(
            &other,
            Operation::User(UserOperation::Create {
                body: json!({"userName": "private@example.com"}),
                projection: Projection::default(),
            }),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Created(_)));

    // and the user is untouched in its own tenant
    let user = h.stored_user(&id);
    assert!(user.active);
    assert_eq!(user.version, 1);
}

#[tokio::test]
async fn get_applies_attributes_and_excluded_attributes() {
    let h = Harness::new();
    let id = resource_id(
        &h.create_user_with(json!({
            "userName": "proj@example.com",
            "displayName": "Proj",
            "name": {"givenName": "Pro", "familyName": "Jection"},
        }))
        .await,
    );
    let only = ok(h
        .run(Operation::User(UserOperation::Get {
            id: common::id(&id),
            projection: h.user_projection(Some("name.givenName"), None),
        }))
        .await
        .unwrap())
    .body;
    assert_eq!(only["name"], json!({"givenName": "Pro"}));
    assert_eq!(only["id"], id.as_str());
    assert!(only.get("userName").is_none(), "{only}");

    let without = ok(h
        .run(Operation::User(UserOperation::Get {
            id: common::id(&id),
            projection: h.user_projection(None, Some("displayName,name")),
        }))
        .await
        .unwrap())
    .body;
    assert!(without.get("displayName").is_none(), "{without}");
    assert!(without.get("name").is_none(), "{without}");
    assert_eq!(without["userName"], "proj@example.com");
}

// ---- replace (PUT) ----

#[tokio::test]
async fn put_replaces_the_document_and_bumps_the_version() {
    let h = Harness::new();
    let id = resource_id(
        &h.create_user_with(json!({
            "userName": "put@example.com",
            "displayName": "Before",
            "title": "Engineer",
        }))
        .await,
    );
    let resource = ok(h
        .replace_user(
            &id,
            json!({"userName": "put@example.com", "displayName": "After"}),
            Precondition::none(),
        )
        .await
        .unwrap());
    assert_eq!(resource.version, 2);
    assert_eq!(resource.body["displayName"], "After");
    assert!(
        resource.body.get("title").is_none(),
        "PUT removes what it does not send"
    );
    assert_eq!(resource.body["meta"]["version"], "W/\"2\"");
    let stored = h.stored_user(&id);
    assert_eq!(stored.version, 2);
    assert_eq!(stored.doc["displayName"], "After");
}

#[tokio::test]
async fn put_can_rename_and_frees_the_old_user_name() {
    let h = Harness::new();
    let id = h.create_user("old@example.com").await;
    h.replace_user(
        &id,
        json!({"userName": "new@example.com"}),
        Precondition::none(),
    )
    .await
    .unwrap();
    // the old name is free again, the new one taken
    h.create_user("OLD@example.com").await;
    let taken = h
        .run(Operation::User(UserOperation::Create {
            body: json!({"userName": "New@Example.com"}),
            projection: Projection::default(),
        }))
        .await;
    assert_error(taken, 409, Some("uniqueness"));
}

#[tokio::test]
async fn put_to_a_taken_user_name_is_409_and_changes_nothing() {
    let h = Harness::new();
    h.create_user("taken@example.com").await;
    let id = h.create_user("mine@example.com").await;
    let result = h
        .replace_user(
            &id,
            json!({"userName": "TAKEN@example.com"}),
            Precondition::none(),
        )
        .await;
    assert_error(result, 409, Some("uniqueness"));
    let stored = h.stored_user(&id);
    assert_eq!(stored.version, 1);
    assert_eq!(stored.doc["userName"], "mine@example.com");
}

#[tokio::test]
async fn put_of_an_unknown_user_is_404() {
    let h = Harness::new();
    let result = h
        .replace_user(
            UNKNOWN_ID,
            json!({"userName": "x@example.com"}),
            Precondition::none(),
        )
        .await;
    assert_error(result, 404, None);
}

#[tokio::test]
async fn put_may_change_the_platform_role_and_omitting_it_falls_back_to_the_default() {
    let h = Harness::new();
    let id = resource_id(
        &h.create_user_with(json!({
            "userName": "role@example.com",
            PLATFORM_URN: {"platformRole": "OPERATOR"},
        }))
        .await,
    );
    h.replace_user(
        &id,
        json!({"userName": "role@example.com", PLATFORM_URN: {"platformRole": "ADMIN"}}),
        Precondition::none(),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_user(&id).platform_role, PlatformRole::Admin);
    h.replace_user(
        &id,
        json!({"userName": "role@example.com"}),
        Precondition::none(),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_user(&id).platform_role, PlatformRole::Member);
}

// ---- patch ----

#[tokio::test]
async fn okta_deactivation_is_a_path_less_replace_of_active() {
    let h = Harness::new();
    let id = h.create_user("okta@example.com").await;
    let resource = ok(h
        .patch_user(
            &id,
            patch_body(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await
        .unwrap());
    assert_eq!(resource.body["active"], false);
    assert_eq!(resource.version, 2);
    let stored = h.stored_user(&id);
    assert!(!stored.active);
    assert_eq!(stored.doc["active"], false);
    // the fast path: one conditional write, no read and no replace
    assert_eq!(h.store().count("set_user_active"), 1);
    assert_eq!(h.store().count("replace_user"), 0);
    assert_eq!(h.store().count("get_user"), 0);
}

#[tokio::test]
async fn entra_deactivation_sends_a_capitalised_op_and_a_string_boolean() {
    let h = Harness::new();
    let id = h.create_user("entra@example.com").await;
    let resource = ok(h
        .patch_user(
            &id,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            }),
        )
        .await
        .unwrap());
    assert_eq!(resource.body["active"], false);
    assert!(!h.stored_user(&id).active);
}

#[tokio::test]
async fn entra_multi_operation_patch_applies_every_operation() {
    let h = Harness::new();
    let id = resource_id(
        &h.create_user_with(json!({
            "userName": "multi@example.com",
            "displayName": "Old Name",
            "name": {"givenName": "Old", "familyName": "Name"},
        }))
        .await,
    );
    let resource = ok(h
        .patch_user(
            &id,
            patch_body(json!([
                {"op": "Replace", "path": "displayName", "value": "New Name"},
                {"op": "Replace", "path": "name.givenName", "value": "New"},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
                {"op": "Replace", "path": "active", "value": "False"},
            ])),
        )
        .await
        .unwrap());
    let body = &resource.body;
    assert_eq!(body["displayName"], "New Name");
    assert_eq!(body["name"]["givenName"], "New");
    assert_eq!(body["name"]["familyName"], "Name");
    assert_eq!(body["emails"][0]["value"], "new@example.com");
    assert_eq!(body["emails"][0]["type"], "work");
    assert_eq!(
        body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "R&D"
    );
    assert_eq!(body["active"], false);
    assert_eq!(resource.version, 2, "one write for the whole request");
    assert_eq!(h.store().count("replace_user"), 1);
    assert!(!h.stored_user(&id).active);
}

#[tokio::test]
async fn patch_may_change_the_platform_role() {
    let h = Harness::new();
    let id = h.create_user("promote@example.com").await;
    h.patch_user(
        &id,
        patch_body(json!([{
            "op": "replace",
            "path": format!("{PLATFORM_URN}:platformRole"),
            "value": "OPERATOR",
        }])),
    )
    .await
    .unwrap();
    assert_eq!(h.stored_user(&id).platform_role, PlatformRole::Operator);
}

#[tokio::test]
async fn patch_to_a_taken_user_name_is_409() {
    let h = Harness::new();
    h.create_user("first@example.com").await;
    let id = h.create_user("second@example.com").await;
    let result = h
        .patch_user(
            &id,
            patch_body(
                json!([{"op": "replace", "path": "userName", "value": "FIRST@example.com"}]),
            ),
        )
        .await;
    assert_error(result, 409, Some("uniqueness"));
    assert_eq!(h.stored_user(&id).doc["userName"], "second@example.com");
}

#[tokio::test]
async fn patch_of_an_unknown_user_is_404() {
    let h = Harness::new();
    let fast = h
        .patch_user(
            UNKNOWN_ID,
            patch_body(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await;
    assert_error(fast, 404, None);
    let general = h
        .patch_user(
            UNKNOWN_ID,
            patch_body(json!([{"op": "replace", "path": "displayName", "value": "x"}])),
        )
        .await;
    assert_error(general, 404, None);
}

#[tokio::test]
async fn removing_the_user_name_is_refused() {
    let h = Harness::new();
    let id = h.create_user("required@example.com").await;
    let result = h
        .patch_user(
            &id,
            patch_body(json!([{"op": "remove", "path": "userName"}])),
        )
        .await;
    assert_error(result, 400, None);
    assert_eq!(h.stored_user(&id).version, 1);
}

// ---- delete ----

#[tokio::test]
async fn delete_answers_no_content_then_the_user_is_gone() {
    let h = Harness::new();
    let id = h.create_user("gone@example.com").await;
    assert_eq!(h.delete_user(&id).await.unwrap(), Outcome::NoContent);
    assert_error(h.get_user(&id).await, 404, None);
    assert_error(h.delete_user(&id).await, 404, None);
    assert_error(
        h.patch_user(
            &id,
            patch_body(json!([{"op": "replace", "value": {"active": true}}])),
        )
        .await,
        404,
        None,
    );
    assert_eq!(h.list_users(&[]).await.unwrap()["totalResults"], 0);

    // a deleted marker stays, inactive
    let (marker, deleted) = h.store().user_record(h.tenant(), &common::id(&id)).unwrap();
    assert!(deleted);
    assert!(!marker.active);
    assert!(marker.version > 1);

    // and the userName is free again
    let again = h.create_user("gone@example.com").await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn delete_with_a_stale_if_match_is_412() {
    let h = Harness::new();
    let id = h.create_user("pinned@example.com").await;
    let result = h
        .run(Operation::User(UserOperation::Delete {
            id: common::id(&id),
            precondition: Precondition::if_match("W/\"7\""),
        }))
        .await;
    assert_error(result, 412, None);
    assert!(h.stored_user(&id).active);

    let outcome = h
        .run(Operation::User(UserOperation::Delete {
            id: common::id(&id),
            precondition: Precondition::if_match("W/\"1\""),
        }))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::NoContent);
}

// ---- list ----

async fn five_users(h: &Harness) -> Vec<String> {
    let mut ids = Vec::new();
    for (name, family, title) in [
        ("carol@example.com", "Carter", "CTO"),
        ("alice@example.com", "Adams", "Engineer"),
        ("eve@example.com", "Evans", "Engineer"),
        ("bob@example.com", "Brown", "Designer"),
        ("dave@example.com", "Davis", "Engineer"),
    ] {
        let resource = h
            .create_user_with(json!({
                "userName": name,
                "name": {"familyName": family},
                "title": title,
            }))
            .await;
        ids.push(resource_id(&resource));
    }
    ids
}

#[tokio::test]
async fn list_pages_in_user_name_order_with_total_results() {
    let h = Harness::new();
    five_users(&h).await;
    let page = h
        .list_users(&[("startIndex", "2"), ("count", "2")])
        .await
        .unwrap();
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(
        page["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(
        listed(&page, "userName"),
        vec![json!("bob@example.com"), json!("carol@example.com")]
    );
    // unfiltered lists page in the index, without reading every user
    assert_eq!(h.store().count("all_users"), 0);
    assert_eq!(h.store().count("page_users"), 1);

    let last = h
        .list_users(&[("startIndex", "5"), ("count", "10")])
        .await
        .unwrap();
    assert_eq!(listed(&last, "userName"), vec![json!("eve@example.com")]);

    let past_the_end = h.list_users(&[("startIndex", "6")]).await.unwrap();
    assert_eq!(past_the_end["totalResults"], 5);
    assert_eq!(past_the_end["itemsPerPage"], 0);

    let count_only = h.list_users(&[("count", "0")]).await.unwrap();
    assert_eq!(count_only["totalResults"], 5);
    assert_eq!(count_only["Resources"], json!([]));
}

#[tokio::test]
async fn user_name_eq_is_answered_by_the_index_case_insensitively() {
    let h = Harness::new();
    let ids = five_users(&h).await;
    let found = h
        .list_users(&[("filter", "userName eq \"ALICE@example.com\"")])
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(listed_ids(&found), vec![ids[1].clone()]);
    assert_eq!(h.store().count("find_users"), 1);
    assert_eq!(h.store().count("all_users"), 0);

    let none = h
        .list_users(&[("filter", "userName eq \"nobody@example.com\"")])
        .await
        .unwrap();
    assert_eq!(none["totalResults"], 0);
    assert_eq!(none["Resources"], json!([]));
}

#[tokio::test]
async fn external_id_eq_is_answered_by_the_index() {
    let h = Harness::new();
    let resource = h
        .create_user_with(json!({"userName": "x@example.com", "externalId": "ext-1"}))
        .await;
    h.create_user("y@example.com").await;
    let found = h
        .list_users(&[("filter", "externalId eq \"ext-1\"")])
        .await
        .unwrap();
    assert_eq!(listed_ids(&found), vec![resource_id(&resource)]);
    assert_eq!(h.store().count("find_users"), 1);
}

#[tokio::test]
async fn unindexed_filters_are_evaluated_in_memory() {
    let h = Harness::new();
    five_users(&h).await;
    let engineers = h
        .list_users(&[("filter", "title eq \"Engineer\"")])
        .await
        .unwrap();
    assert_eq!(engineers["totalResults"], 3);
    assert_eq!(
        listed(&engineers, "userName"),
        vec![
            json!("alice@example.com"),
            json!("dave@example.com"),
            json!("eve@example.com")
        ]
    );
    assert_eq!(h.store().count("all_users"), 1);

    let paged = h
        .list_users(&[
            ("filter", "title eq \"Engineer\" or title eq \"CTO\""),
            ("sortBy", "userName"),
            ("startIndex", "2"),
            ("count", "2"),
        ])
        .await
        .unwrap();
    assert_eq!(paged["totalResults"], 4);
    assert_eq!(
        listed(&paged, "userName"),
        vec![json!("carol@example.com"), json!("dave@example.com")]
    );
}

#[tokio::test]
async fn sort_by_and_sort_order_order_the_page() {
    let h = Harness::new();
    five_users(&h).await;
    let descending = h
        .list_users(&[
            ("sortBy", "userName"),
            ("sortOrder", "descending"),
            ("count", "3"),
        ])
        .await
        .unwrap();
    assert_eq!(descending["totalResults"], 5);
    assert_eq!(
        listed(&descending, "userName"),
        vec![
            json!("eve@example.com"),
            json!("dave@example.com"),
            json!("carol@example.com")
        ]
    );

    let by_family = h
        .list_users(&[("sortBy", "name.familyName"), ("sortOrder", "descending")])
        .await
        .unwrap();
    let families: Vec<_> = listed(&by_family, "name")
        .into_iter()
        .map(|n| n["familyName"].clone())
        .collect();
    assert_eq!(
        families,
        vec![
            json!("Evans"),
            json!("Davis"),
            json!("Carter"),
            json!("Brown"),
            json!("Adams")
        ]
    );

    let ascending = h
        .list_users(&[("sortBy", "title"), ("sortOrder", "ascending")])
        .await
        .unwrap();
    assert_eq!(
        listed(&ascending, "title"),
        vec![
            json!("CTO"),
            json!("Designer"),
            json!("Engineer"),
            json!("Engineer"),
            json!("Engineer")
        ]
    );
}

#[tokio::test]
async fn list_applies_attributes_and_excluded_attributes_to_each_resource() {
    let h = Harness::new();
    five_users(&h).await;
    let slim = h
        .list_users(&[("attributes", "userName"), ("count", "2")])
        .await
        .unwrap();
    for resource in slim["Resources"].as_array().unwrap() {
        let mut keys: Vec<&str> = resource
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, vec!["id", "schemas", "userName"], "{resource}");
    }

    let without = h
        .list_users(&[("excludedAttributes", "name,title,meta")])
        .await
        .unwrap();
    for resource in without["Resources"].as_array().unwrap() {
        assert!(resource.get("name").is_none(), "{resource}");
        assert!(resource.get("title").is_none(), "{resource}");
        assert!(resource.get("meta").is_none(), "{resource}");
        assert!(resource.get("userName").is_some(), "{resource}");
    }
}

#[tokio::test]
async fn a_filtered_list_applies_the_projection_after_filtering() {
    let h = Harness::new();
    five_users(&h).await;
    // the filter reads `title`, which the projection leaves out of the answer
    let found = h
        .list_users(&[("filter", "title eq \"CTO\""), ("attributes", "userName")])
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["userName"], "carol@example.com");
    assert!(found["Resources"][0].get("title").is_none());
}
