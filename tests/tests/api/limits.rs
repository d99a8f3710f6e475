//! Size limits (README "Limits"): names, values per multi-valued attribute and the stored
//! document. Going over one is a SCIM 400 `invalidValue` on create, PUT and PATCH alike, and
//! nothing is written; never a 500 from a write DynamoDB refuses.

use integration_tests::{find_users, patch_body, unique, unique_login, Client, GROUP_SCHEMA};
use serde_json::{json, Value};

fn emails(n: usize, domain: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"value": format!("mail{i}@{domain}"), "type": "other"}))
        .collect()
}

#[test]
fn oversized_names_and_documents_are_400_invalid_value_never_500() {
    let c = Client::new_tenant("limits");
    let refused = [
        (
            "a 300 KB userName",
            json!({"userName": "u".repeat(300_000)}),
        ),
        (
            "a 600 KB displayName",
            json!({"userName": unique("u"), "displayName": "d".repeat(600_000)}),
        ),
        (
            "a 1025-character externalId",
            json!({"userName": unique("u"), "externalId": "e".repeat(1025)}),
        ),
        (
            "a 200 KB document",
            json!({"userName": unique("u"), "title": "t".repeat(200_000)}),
        ),
    ];
    for (what, body) in &refused {
        let r = c.post("/Users", body);
        assert_eq!(r.status, 400, "{what}: {}", &r.raw[..r.raw.len().min(300)]);
        r.assert_scim_error(400, Some("invalidValue"));
    }
    let group = c.post(
        "/Groups",
        &json!({"schemas": [GROUP_SCHEMA], "displayName": "g".repeat(500_000)}),
    );
    assert_eq!(group.status, 400, "a 500 KB group name");
    group.assert_scim_error(400, Some("invalidValue"));
    // Nothing was created.
    assert_eq!(c.get("/Users").total(), 0);
    assert_eq!(c.get("/Groups").total(), 0);

    // PUT and PATCH results are held to the same limits; the user stays as it was.
    let name = unique_login("example.com");
    let id = c.create_user(&name).id();
    let path = format!("/Users/{id}");
    c.put(
        &path,
        &json!({"userName": name, "displayName": "d".repeat(600_000)}),
    )
    .assert_scim_error(400, Some("invalidValue"));
    c.patch(
        &path,
        &patch_body(json!([{"op": "add", "path": "title", "value": "t".repeat(200_000)}])),
    )
    .assert_scim_error(400, Some("invalidValue"));
    let after = c.get(&path);
    assert_eq!(after.header("etag"), Some("W/\"1\""), "{}", after.raw);
    assert!(after.body.get("title").is_none());

    // A group renamed past the limit by PATCH.
    let gid = c.create_group(&unique("grp")).id();
    c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "replace", "path": "displayName", "value": "g".repeat(2000)}])),
    )
    .assert_scim_error(400, Some("invalidValue"));
}

#[test]
fn a_user_with_more_than_twenty_emails_is_refused_and_every_kept_email_is_findable() {
    let c = Client::new_tenant("emails");
    let domain = format!("{}.example.com", unique("d"));
    let r = c.post(
        "/Users",
        &json!({"userName": unique_login("example.com"), "emails": emails(5000, &domain)}),
    );
    r.assert_scim_error(400, Some("invalidValue"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("20"),
        "{}",
        r.raw
    );

    let twenty = c.post(
        "/Users",
        &json!({"userName": unique_login("example.com"), "emails": emails(20, &domain)}),
    );
    assert_eq!(twenty.status, 201, "{}", twenty.raw);
    let id = twenty.id();
    // The twentieth address finds the user, as does the first.
    for i in [0, 19] {
        let found = find_users(&c, &format!("emails eq \"mail{i}@{domain}\""));
        assert_eq!(found.total(), 1, "mail{i}: {}", found.raw);
        assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    }
    // A twenty-first by PATCH is refused too, and the user keeps its twenty.
    c.patch(
        &format!("/Users/{id}"),
        &patch_body(json!([{"op": "add", "path": "emails",
            "value": [{"value": format!("extra@{domain}")}]}])),
    )
    .assert_scim_error(400, Some("invalidValue"));
    let kept = c.get(&format!("/Users/{id}"));
    assert_eq!(kept.body["emails"].as_array().map(Vec::len), Some(20));
}

#[test]
fn schemas_advertise_the_limits() {
    let c = Client::new_tenant("limits");
    let user = c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(user.status, 200, "{}", user.raw);
    let description = |name: &str| {
        user.body["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .and_then(|a| a["description"].as_str())
            .unwrap()
            .to_string()
    };
    assert!(description("userName").contains("At most 1024 characters."));
    assert!(description("emails").contains("At most 20 values."));
}
