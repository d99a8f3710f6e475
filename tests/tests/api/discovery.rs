//! RFC 7644 section 4: discovery, served only to authenticated callers.

use integration_tests::{Client, SCIM_JSON};

#[test]
fn service_provider_config_advertises_what_works() {
    let c = Client::new_tenant("disc");
    let r = c.get("/ServiceProviderConfig");
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.header("content-type"), Some(SCIM_JSON));
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(r.body["patch"]["supported"], true);
    assert_eq!(r.body["bulk"]["supported"], true);
    assert_eq!(r.body["bulk"]["maxOperations"], 50);
    assert_eq!(r.body["bulk"]["maxPayloadSize"], 1_048_576);
    assert_eq!(r.body["filter"]["supported"], true);
    assert_eq!(r.body["filter"]["maxResults"], 1000);
    assert_eq!(r.body["changePassword"]["supported"], false);
    assert_eq!(r.body["etag"]["supported"], true);
    assert_eq!(
        r.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
}

#[test]
fn resource_types_list_users_with_both_extensions_and_groups() {
    let c = Client::new_tenant("disc");
    let r = c.get("/ResourceTypes");
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.total(), 2);
    let user = c.get("/ResourceTypes/User");
    assert_eq!(user.body["endpoint"], "/Users");
    let exts: Vec<&str> = user.body["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["schema"].as_str().unwrap())
        .collect();
    assert!(exts.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    assert!(exts.contains(&"urn:ietf:params:scim:schemas:extension:platform:2.0:User"));
    assert_eq!(c.get("/ResourceTypes/Group").body["endpoint"], "/Groups");
    c.get("/ResourceTypes/Nope").assert_scim_error(404, None);
}

#[test]
fn schemas_serve_core_enterprise_custom_and_group() {
    let c = Client::new_tenant("disc");
    let r = c.get("/Schemas");
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    let ids: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:extension:platform:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // Entra requires no nulls anywhere in /Schemas.
    assert!(!r.raw.contains("null"), "{}", r.raw);
    let custom = c.get("/Schemas/urn:ietf:params:scim:schemas:extension:platform:2.0:User");
    assert_eq!(custom.body["attributes"][0]["name"], "platformRole");
    assert_eq!(
        custom.body["attributes"][0]["canonicalValues"],
        serde_json::json!(["ADMIN", "MEMBER", "OPERATOR"])
    );
    let user = c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(user.status, 200, "{}", user.raw);
    let names: Vec<&str> = user.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for n in [
        "userName",
        "name",
        "displayName",
        "emails",
        "active",
        "groups",
        "roles",
        "addresses",
    ] {
        assert!(names.contains(&n), "{n} missing");
    }
    c.get("/Schemas/urn:nope").assert_scim_error(404, None);
}
