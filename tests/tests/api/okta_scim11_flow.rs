//! Okta's "SCIM 1.1 Header Auth" template against `/scim/v1`, request by request as Okta's SCIM
//! 1.1 reference gives them (`../shared/IDP-NOTES.md`, "Okta SCIM 1.1"): the connection test,
//! lookup, create, duplicate, PUT, deactivate and reactivate by PATCH, group push with a
//! description, membership add and `"operation": "delete"`, rename, DELETE. Each result is read
//! back through `/scim/v2` (and the platform's view): one service, two doors.

use integration_tests::{
    platform_member_ids, platform_user, set, unique, unique_login, values_of, Client, Resp,
};
use serde_json::{json, Value};

const CORE_V1: &str = "urn:scim:schemas:core:1.0";
const OKTA_GROUP: &str = "urn:okta:custom:group:1.0";

/// Okta's 1.1 client sends plain JSON and names itself.
fn okta(c: &Client, method: &str, path: &str, body: Option<&Value>) -> Resp {
    c.send(
        method,
        path,
        body,
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", "Okta SCIM Client 1.0.0"),
        ],
    )
}

fn assert_json(r: &Resp) {
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{}",
        r.raw
    );
}

/// A 1.1 error: `{"Errors": [{"description", "code"}]}` with the HTTP status as `code`.
fn assert_v1_error(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.raw);
    assert_json(r);
    let errors = r.body["Errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.raw));
    assert_eq!(errors.len(), 1, "{}", r.raw);
    assert_eq!(errors[0]["code"], status, "{}", r.raw);
    assert!(
        errors[0]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{}",
        r.raw
    );
    assert!(r.body.get("schemas").is_none(), "{}", r.raw);
}

/// The user Okta's 1.1 template posts on assignment.
fn okta_user(login: &str) -> Value {
    json!({
        "schemas": [CORE_V1],
        "userName": login,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": "Ada Lovelace",
        "locale": "en-US",
        "externalId": unique("00u"),
        "groups": [],
        "password": "t1meMa$heen",
        "active": true,
    })
}

fn create_user(v1: &Client) -> (String, Value) {
    let login = unique_login("okta11.example.com");
    let r = okta(v1, "POST", "/Users", Some(&okta_user(&login)));
    assert_eq!(r.status, 201, "{}", r.raw);
    (r.id(), r.body)
}

fn assert_v1_list(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_json(r);
    assert_eq!(r.body["schemas"], json!([CORE_V1]), "{}", r.raw);
    for key in ["totalResults", "startIndex", "itemsPerPage"] {
        assert!(r.body[key].is_u64(), "{key} is not an integer: {}", r.raw);
    }
    assert!(r.body["Resources"].is_array(), "{}", r.raw);
}

#[test]
fn okta_scim11_connection_test_lists_users_and_groups_with_integer_paging() {
    let c = Client::new_tenant("okta11");
    let v1 = c.v1();
    create_user(&v1);
    create_user(&v1);
    create_user(&v1);
    let users = okta(&v1, "GET", "/Users?startIndex=1&count=2", None);
    assert_v1_list(&users);
    assert_eq!(users.body["totalResults"], 3, "{}", users.raw);
    assert_eq!(users.body["itemsPerPage"], 2, "{}", users.raw);
    assert_eq!(users.body["startIndex"], 1, "{}", users.raw);
    for user in users.body["Resources"].as_array().unwrap() {
        assert_eq!(user["schemas"], json!([CORE_V1]), "{user}");
    }
    let next = okta(&v1, "GET", "/Users?startIndex=3&count=2", None);
    assert_v1_list(&next);
    assert_eq!(next.body["itemsPerPage"], 1, "{}", next.raw);
    let groups = okta(&v1, "GET", "/Groups?startIndex=1&count=100", None);
    assert_v1_list(&groups);
    assert_eq!(groups.body["totalResults"], 0, "{}", groups.raw);
}

#[test]
fn okta_scim11_user_lifecycle_is_the_same_user_through_v2() {
    let c = Client::new_tenant("okta11");
    let v1 = c.v1();
    let login = unique_login("okta11.example.com");
    let lookup = format!("/Users?filter=userName%20eq%20%22{login}%22&startIndex=1&count=100");

    // Assign: not found, then created.
    let none = okta(&v1, "GET", &lookup, None);
    assert_v1_list(&none);
    assert_eq!(
        none.body,
        json!({"schemas": [CORE_V1], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
    let created = okta(&v1, "POST", "/Users", Some(&okta_user(&login)));
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_json(&created);
    let id = created.id();
    assert_eq!(created.body["schemas"], json!([CORE_V1]), "{}", created.raw);
    assert_eq!(created.body["userName"], login.as_str());
    for key in ["created", "lastModified", "version"] {
        assert!(
            created.body["meta"][key].is_string(),
            "meta.{key}: {}",
            created.raw
        );
    }
    assert!(created.body["meta"].get("resourceType").is_none());
    assert!(created.body.get("password").is_none(), "{}", created.raw);
    let location = format!("{}/Users/{id}", v1.base);
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(created.body["meta"]["location"], location.as_str());

    // The same user through 2.0.
    let v2 = c.get(&format!("/Users/{id}"));
    assert_eq!(v2.status, 200, "{}", v2.raw);
    assert_eq!(v2.body["userName"], login.as_str());
    assert_eq!(v2.body["name"]["familyName"], "Lovelace");
    assert_eq!(
        v2.body["meta"]["location"],
        format!("{}/Users/{id}", c.base).as_str()
    );

    // A second assignment of the same login: 409 in 1.1's form; the lookup now finds it.
    assert_v1_error(&okta(&v1, "POST", "/Users", Some(&okta_user(&login))), 409);
    let found = okta(&v1, "GET", &lookup, None);
    assert_v1_list(&found);
    assert_eq!(found.body["totalResults"], 1, "{}", found.raw);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    // Update: GET, then PUT of the whole user as read (id, meta and groups echoed).
    let mut whole = okta(&v1, "GET", &format!("/Users/{id}"), None).body;
    whole["name"]["familyName"] = json!("King");
    whole["groups"] = json!([]);
    let put = okta(&v1, "PUT", &format!("/Users/{id}"), Some(&whole));
    assert_eq!(put.status, 200, "{}", put.raw);
    assert_eq!(put.body["name"]["familyName"], "King");
    assert_eq!(
        c.get(&format!("/Users/{id}")).body["name"]["familyName"],
        "King"
    );

    // Deactivate by PATCH with a partial resource (OIN apps).
    let deactivate = json!({"schemas": [CORE_V1], "id": id, "active": false});
    let off = okta(&v1, "PATCH", &format!("/Users/{id}"), Some(&deactivate));
    assert_eq!(off.status, 200, "{}", off.raw);
    assert_eq!(off.body["active"], false, "{}", off.raw);
    assert_eq!(c.get(&format!("/Users/{id}")).body["active"], false);
    assert_eq!(platform_user(&c.tenant, &id)["active"], false);

    // Deprovisioning sticks: a PUT that leaves `active` out keeps the user inactive.
    let mut without_active = okta(&v1, "GET", &format!("/Users/{id}"), None).body;
    without_active.as_object_mut().unwrap().remove("active");
    let put = okta(&v1, "PUT", &format!("/Users/{id}"), Some(&without_active));
    assert_eq!(put.status, 200, "{}", put.raw);
    assert_eq!(put.body["active"], false, "{}", put.raw);
    assert_eq!(platform_user(&c.tenant, &id)["active"], false);

    // Reactivate: only an explicit `active: true`.
    let reactivate = json!({"schemas": [CORE_V1], "id": id, "active": true});
    let on = okta(&v1, "PATCH", &format!("/Users/{id}"), Some(&reactivate));
    assert_eq!(on.status, 200, "{}", on.raw);
    assert_eq!(on.body["active"], true, "{}", on.raw);
    assert_eq!(c.get(&format!("/Users/{id}")).body["active"], true);
    assert_eq!(platform_user(&c.tenant, &id)["active"], true);
}

#[test]
fn okta_scim11_meta_attributes_clear_what_they_name() {
    let c = Client::new_tenant("okta11");
    let v1 = c.v1();
    let (id, _) = create_user(&v1);
    let clear = json!({
        "schemas": [CORE_V1],
        "id": id,
        "meta": {"attributes": ["name.familyName", "locale"]},
        "displayName": "Ada",
    });
    let r = okta(&v1, "PATCH", &format!("/Users/{id}"), Some(&clear));
    assert_eq!(r.status, 200, "{}", r.raw);
    let v2 = c.get(&format!("/Users/{id}")).body;
    assert!(v2["name"].get("familyName").is_none(), "{v2}");
    assert_eq!(v2["name"]["givenName"], "Ada", "{v2}");
    assert!(v2.get("locale").is_none(), "{v2}");
    assert_eq!(v2["displayName"], "Ada", "{v2}");
}

#[test]
fn okta_scim11_group_push_membership_rename_and_unlink() {
    let c = Client::new_tenant("okta11");
    let v1 = c.v1();
    let (u1, _) = create_user(&v1);
    let (u2, _) = create_user(&v1);
    let name = unique("Engineering");

    // Push group, with Okta's description extension.
    let push = json!({
        "schemas": [CORE_V1, OKTA_GROUP],
        "displayName": name,
        OKTA_GROUP: {"description": "Everyone who builds"},
    });
    let created = okta(&v1, "POST", "/Groups", Some(&push));
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_json(&created);
    let gid = created.id();
    assert_eq!(created.body["schemas"], json!([CORE_V1]), "{}", created.raw);
    assert_eq!(created.body["displayName"], name.as_str());
    assert_eq!(
        c.get(&format!("/Groups/{gid}")).body["displayName"],
        name.as_str()
    );

    // Membership add: the display name comes along, as with every Okta membership update.
    let add = json!({
        "schemas": [CORE_V1],
        "id": gid,
        "displayName": name,
        "members": [{"value": u1, "display": "Ada"}, {"value": u2, "display": "Grace"}],
    });
    let r = okta(&v1, "PATCH", &format!("/Groups/{gid}"), Some(&add));
    assert!(matches!(r.status, 200 | 204), "{}", r.raw);
    let v2 = c.get(&format!("/Groups/{gid}")).body;
    assert_eq!(values_of(&v2, "members"), set([u1.as_str(), u2.as_str()]));
    assert_eq!(
        platform_member_ids(&c.tenant, &gid),
        set([u1.as_str(), u2.as_str()])
    );
    let v1_group = okta(&v1, "GET", &format!("/Groups/{gid}"), None);
    assert_eq!(v1_group.status, 200, "{}", v1_group.raw);
    assert_eq!(
        values_of(&v1_group.body, "members"),
        set([u1.as_str(), u2.as_str()])
    );
    assert_eq!(
        values_of(&c.get(&format!("/Users/{u1}")).body, "groups"),
        set([gid.as_str()])
    );

    // Membership delete: the named member goes, the others stay.
    let remove = json!({
        "schemas": [CORE_V1],
        "id": gid,
        "displayName": name,
        "members": [{"value": u1, "display": "Ada", "operation": "delete"}],
    });
    let r = okta(&v1, "PATCH", &format!("/Groups/{gid}"), Some(&remove));
    assert!(matches!(r.status, 200 | 204), "{}", r.raw);
    let v2 = c.get(&format!("/Groups/{gid}")).body;
    assert_eq!(values_of(&v2, "members"), set([u2.as_str()]));
    assert_eq!(platform_member_ids(&c.tenant, &gid), set([u2.as_str()]));
    assert!(values_of(&c.get(&format!("/Users/{u1}")).body, "groups").is_empty());

    // Rename.
    let renamed = unique("Platform");
    let rename = json!({"schemas": [CORE_V1], "id": gid, "displayName": renamed});
    let r = okta(&v1, "PATCH", &format!("/Groups/{gid}"), Some(&rename));
    assert!(matches!(r.status, 200 | 204), "{}", r.raw);
    assert_eq!(
        c.get(&format!("/Groups/{gid}")).body["displayName"],
        renamed.as_str()
    );
    assert_eq!(
        values_of(&c.get(&format!("/Groups/{gid}")).body, "members"),
        set([u2.as_str()]),
        "a rename leaves the members"
    );

    // A PATCH that changes nothing answers the group.
    let nothing = json!({"schemas": [CORE_V1], "id": gid});
    let r = okta(&v1, "PATCH", &format!("/Groups/{gid}"), Some(&nothing));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["displayName"], renamed.as_str());

    // Unlink with delete.
    let r = okta(&v1, "DELETE", &format!("/Groups/{gid}"), None);
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(c.get(&format!("/Groups/{gid}")).status, 404);
    assert_v1_error(&okta(&v1, "GET", &format!("/Groups/{gid}"), None), 404);
}

#[test]
fn okta_scim11_refusals_use_the_1_1_error_form() {
    let c = Client::new_tenant("okta11");
    let v1 = c.v1();
    // Unknown resource, bad filter, bad member marker, bad JSON.
    assert_v1_error(
        &okta(
            &v1,
            "GET",
            "/Users/0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70",
            None,
        ),
        404,
    );
    assert_v1_error(
        &okta(&v1, "GET", "/Users?filter=userName%20zz%20%22x%22", None),
        400,
    );
    let gid = okta(
        &v1,
        "POST",
        "/Groups",
        Some(&json!({"schemas": [CORE_V1], "displayName": unique("G")})),
    )
    .id();
    let bad = json!({"schemas": [CORE_V1], "members": [{"value": "x", "operation": "merge"}]});
    assert_v1_error(
        &okta(&v1, "PATCH", &format!("/Groups/{gid}"), Some(&bad)),
        400,
    );
    let raw = v1.send_raw(
        "POST",
        "/Users",
        Some("{not json"),
        &[("Content-Type", "application/json")],
        true,
    );
    assert_v1_error(&raw, 400);
    // No token, a wrong token: 401 with the challenge.
    let anonymous = v1.send_raw("GET", "/Users", None, &[], false);
    assert_v1_error(&anonymous, 401);
    assert!(anonymous.header("www-authenticate").is_some());
    // Methods and paths 1.1 does not have.
    let r = okta(&v1, "DELETE", "/Users", None);
    assert_v1_error(&r, 405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
    assert_v1_error(&okta(&v1, "POST", "/Bulk", Some(&json!({}))), 404);
}

#[test]
fn okta_scim11_sees_only_its_own_tenant() {
    let a = Client::new_tenant("okta11-a");
    let b = Client::new_tenant("okta11-b");
    let (id, _) = create_user(&a.v1());
    assert_v1_error(&okta(&b.v1(), "GET", &format!("/Users/{id}"), None), 404);
    let listed = okta(&b.v1(), "GET", "/Users?startIndex=1&count=100", None);
    assert_eq!(listed.body["totalResults"], 0, "{}", listed.raw);
}

#[test]
fn scim11_service_provider_configs_advertises_what_the_1_1_door_does() {
    let c = Client::new_tenant("okta11");
    let r = okta(&c.v1(), "GET", "/ServiceProviderConfigs", None);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_json(&r);
    assert_eq!(r.body["schemas"], json!([CORE_V1]));
    assert_eq!(r.body["patch"]["supported"], true);
    assert_eq!(
        r.body["bulk"]["supported"], false,
        "1.1 has no Bulk endpoint here"
    );
    assert_eq!(r.body["filter"]["supported"], true);
    assert_eq!(
        r.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    assert_eq!(
        r.body["meta"]["location"],
        format!("{}/ServiceProviderConfigs", c.v1().base).as_str()
    );
}
