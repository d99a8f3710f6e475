//! Users: create, read, replace, delete (RFC 7644 sections 3.3-3.6).

use integration_tests::{find_users, platform_user, unique, Client, PLATFORM, USER_SCHEMA};
use serde_json::json;

#[test]
fn create_returns_201_with_location_etag_and_meta() {
    let c = Client::new_tenant("crud");
    let name = format!("{}@example.com", unique("ann"));
    let r = c.post(
        "/Users",
        &json!({"schemas": [USER_SCHEMA], "userName": name, "password": "s3cret!", "externalId": unique("ext")}),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.id();
    let location = r.header("location").unwrap();
    assert_eq!(location, format!("{}/Users/{id}", c.base));
    assert_eq!(r.body["meta"]["location"], location);
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert!(r.body["meta"]["created"].is_string());
    assert_eq!(r.body["active"], true, "active defaults to true");
    // No role sent: the platform uses MEMBER; the resource keeps what the IdP sent.
    let platform = platform_user(&c.tenant, &id);
    assert_eq!(platform["platform_role"], "MEMBER");
    assert_eq!(platform["active"], true);
    assert!(
        r.body.get("password").is_none(),
        "password is never returned"
    );
    assert!(!r.raw.contains("s3cret!"));
    let got = c.get(&format!("/Users/{id}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.body["userName"], name);
    assert!(!got.raw.contains("s3cret!"));
}

#[test]
fn user_name_is_unique_per_tenant_case_insensitively() {
    let c = Client::new_tenant("uniq");
    let name = format!("{}@example.com", unique("bob"));
    c.create_user(&name);
    let dup = c.post("/Users", &json!({"userName": name.to_uppercase()}));
    dup.assert_scim_error(409, Some("uniqueness"));
    // Another tenant may use the same userName.
    let other = Client::new_tenant("uniq");
    assert_eq!(other.post("/Users", &json!({"userName": name})).status, 201);
}

#[test]
fn external_id_is_unique_per_tenant() {
    let c = Client::new_tenant("uniq");
    let ext = unique("ext");
    assert_eq!(
        c.post(
            "/Users",
            &json!({"userName": unique("a"), "externalId": ext})
        )
        .status,
        201
    );
    c.post(
        "/Users",
        &json!({"userName": unique("b"), "externalId": ext}),
    )
    .assert_scim_error(409, Some("uniqueness"));
}

#[test]
fn platform_role_is_case_insensitive_and_validated() {
    let c = Client::new_tenant("role");
    let r = c.post(
        "/Users",
        &json!({"userName": unique("r"), PLATFORM: {"platformRole": "admin"}}),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body[PLATFORM]["platformRole"], "ADMIN");
    c.post(
        "/Users",
        &json!({"userName": unique("r"), PLATFORM: {"platformRole": "ROOT"}}),
    )
    .assert_scim_error(400, Some("invalidValue"));
}

#[test]
fn get_by_id_costs_one_dynamodb_call() {
    let c = Client::new_tenant("calls");
    let created = c.create_user(&unique("c"));
    assert_eq!(created.calls(), 1, "create is one transaction");
    let r = c.get(&format!("/Users/{}", created.id()));
    assert_eq!(r.calls(), 1);
    let by_name = find_users(
        &c,
        &format!(
            "userName eq \"{}\"",
            created.body["userName"].as_str().unwrap()
        ),
    );
    assert_eq!(by_name.total(), 1);
    assert_eq!(by_name.calls(), 1);
}

#[test]
fn delete_is_204_then_404_and_the_user_name_is_free_again() {
    let c = Client::new_tenant("del");
    let name = unique("d");
    let id = c.create_user(&name).id();
    let r = c.delete(&format!("/Users/{id}"));
    assert_eq!(r.status, 204, "{}", r.raw);
    c.get(&format!("/Users/{id}")).assert_scim_error(404, None);
    c.delete(&format!("/Users/{id}"))
        .assert_scim_error(404, None);
    let by_name = find_users(&c, &format!("userName eq \"{name}\""));
    assert_eq!(by_name.total(), 0);
    assert_eq!(c.post("/Users", &json!({"userName": name})).status, 201);
}
