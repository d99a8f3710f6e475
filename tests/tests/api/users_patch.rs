//! PATCH on users (RFC 7644 section 3.5.2, with the RFC's own example operations) and ETags
//! (section 3.14): add, replace and remove with and without a path, the errors the RFC names,
//! `If-Match` on PUT, PATCH and DELETE.

use integration_tests::{
    find_users, fixture, get_user, patch_body, rfc7643_user_to_create, unique, Client, Resp,
    ENTERPRISE,
};
use serde_json::{json, Value};

/// Creates Barbara Jensen (RFC 7643 section 8.2's full user, with section 8.3's enterprise
/// extension) without the nickName RFC 7644's PATCH examples add, and returns her id.
fn bjensen(c: &Client) -> String {
    let mut user = rfc7643_user_to_create(&unique("bjensen"), &unique("bjensen"));
    user.as_object_mut().unwrap().remove("nickName");
    let r = c.post("/Users", &user);
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(r.body.get("nickName").is_none(), "{}", r.raw);
    r.id()
}

fn patch_user(c: &Client, id: &str, body: &Value) -> Resp {
    c.patch(&format!("/Users/{id}"), body)
}

/// The user's address of this `type`.
fn address<'a>(user: &'a Value, kind: &str) -> &'a Value {
    user["addresses"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["type"] == kind))
        .unwrap_or_else(|| panic!("no {kind} address in {user}"))
}

fn email_values(user: &Value) -> Vec<(String, String)> {
    user["emails"]
        .as_array()
        .map(|emails| {
            emails
                .iter()
                .map(|e| {
                    (
                        e["type"].as_str().unwrap_or_default().to_string(),
                        e["value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn add_with_a_path_sets_a_single_valued_attribute() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "add", "path": "nickName", "value": "Babs"},
                           {"op": "add", "path": "title", "value": "Chief Tour Guide"}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["nickName"], "Babs");
    let got = get_user(&c, &id);
    assert_eq!(got["nickName"], "Babs");
    assert_eq!(
        got["title"], "Chief Tour Guide",
        "add replaces a single value"
    );
}

#[test]
fn add_without_a_path_merges_attributes_and_appends_emails() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let r = patch_user(
        &c,
        &id,
        &fixture("rfc7644/s3.5.2.1_add_without_path.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(got["nickName"], "Babs", "`nickname` names nickName: {got}");
    assert_eq!(
        email_values(&got),
        [
            ("work".to_string(), "bjensen@example.com".to_string()),
            ("home".to_string(), "babs@jensen.org".to_string())
        ],
        "the existing home address is not duplicated"
    );
    assert_eq!(got["title"], "Tour Guide", "unmentioned attributes stay");
}

#[test]
fn add_to_a_multi_valued_attribute_appends() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "add", "path": "emails",
                            "value": [{"value": "barbara@other.example", "type": "other"}]},
                           {"op": "add", "path": "phoneNumbers",
                            "value": [{"value": "555-555-8377", "type": "work"}]}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(email_values(&got).len(), 3, "{got}");
    assert!(email_values(&got).contains(&("other".into(), "barbara@other.example".into())));
    let phones: Vec<&str> = got["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        phones,
        ["555-555-5555", "555-555-4444", "555-555-8377"],
        "appended after the RFC user's two numbers"
    );
    assert_eq!(
        find_users(&c, "emails.value eq \"barbara@other.example\"").total(),
        1,
        "the added address is searchable"
    );
}

#[test]
fn replace_with_a_path_replaces_values_and_sub_attributes() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let r = patch_user(
        &c,
        &id,
        &fixture("rfc7644/s3.5.2.3_replace_work_address.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(
        got["addresses"].as_array().unwrap().len(),
        2,
        "one work address replaces the other: {got}"
    );
    assert_eq!(
        address(&got, "work")["streetAddress"],
        "911 Universal City Plaza"
    );
    assert_eq!(
        address(&got, "home")["streetAddress"],
        "456 Hollywood Blvd",
        "the home address stays"
    );
    let r = patch_user(
        &c,
        &id,
        &fixture("rfc7644/s3.5.2.3_replace_work_street_address.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(address(&got, "work")["streetAddress"], "1010 Broadway Ave");
    assert_eq!(
        address(&got, "work")["locality"],
        "Hollywood",
        "siblings stay"
    );

    let r = patch_user(
        &c,
        &id,
        &patch_body(
            json!([{"op": "replace", "path": "name.familyName", "value": "Jensen-Smith"},
                           {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}]),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(got["name"]["familyName"], "Jensen-Smith");
    assert_eq!(got["name"]["givenName"], "Barbara");
    assert_eq!(got[ENTERPRISE]["department"], "Sales");
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "701984");
}

#[test]
fn replace_without_a_path_replaces_each_attribute_named() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    patch_user(
        &c,
        &id,
        &patch_body(
            json!([{"op": "add", "path": "emails", "value": [{"value": "third@x.example", "type": "other"}]}]),
        ),
    );
    let r = patch_user(
        &c,
        &id,
        &fixture("rfc7644/s3.5.2.3_replace_without_path.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(
        email_values(&got),
        [
            ("work".to_string(), "bjensen@example.com".to_string()),
            ("home".to_string(), "babs@jensen.org".to_string())
        ],
        "replace swaps the whole list: {got}"
    );
    assert_eq!(got["nickName"], "Babs");
    assert_eq!(got["title"], "Tour Guide");
    assert_eq!(
        find_users(&c, "emails.value eq \"third@x.example\"").total(),
        0,
        "the replaced address is no longer indexed"
    );
}

#[test]
fn replace_through_a_filter_that_matches_nothing_is_no_target() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "replace", "path": "emails[value co \"nowhere\"].display", "value": "x"}])),
    )
    .assert_scim_error(400, Some("noTarget"));
}

#[test]
fn remove_with_a_path_removes_the_value_or_the_matching_values() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let r = patch_user(
        &c,
        &id,
        &fixture("rfc7644/s3.5.2.2_remove_emails_by_complex_filter.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert_eq!(
        email_values(&got),
        [("home".to_string(), "babs@jensen.org".to_string())]
    );
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "remove", "path": "title"},
                           {"op": "remove", "path": "name.middleName"},
                           {"op": "remove", "path": format!("{ENTERPRISE}:department")}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = get_user(&c, &id);
    assert!(got.get("title").is_none(), "{got}");
    assert!(got["name"].get("middleName").is_none(), "{got}");
    assert_eq!(got["name"]["givenName"], "Barbara");
    assert!(got[ENTERPRISE].get("department").is_none(), "{got}");
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "701984");
}

#[test]
fn remove_without_a_path_is_no_target() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    patch_user(&c, &id, &patch_body(json!([{"op": "remove"}])))
        .assert_scim_error(400, Some("noTarget"));
    assert_eq!(get_user(&c, &id)["title"], "Tour Guide");
}

#[test]
fn an_unknown_op_is_400_and_changes_nothing() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let r = patch_user(
        &c,
        &id,
        &patch_body(
            json!([{"op": "replace", "path": "title", "value": "Changed"},
                           {"op": "move", "path": "title", "value": "x"}]),
        ),
    );
    r.assert_scim_error(400, None);
    assert_eq!(
        get_user(&c, &id)["title"],
        "Tour Guide",
        "no operation applied"
    );
}

#[test]
fn removing_the_required_user_name_is_400_and_changes_nothing() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    let before = get_user(&c, &id);
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "remove", "path": "userName"}])),
    );
    r.assert_scim_error(400, None);
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "replace", "path": "userName", "value": ""}])),
    );
    r.assert_scim_error(400, None);
    assert_eq!(get_user(&c, &id)["userName"], before["userName"]);
}

#[test]
fn a_read_only_path_is_400_mutability() {
    let c = Client::new_tenant("patch");
    let id = bjensen(&c);
    for path in ["id", "meta.created", "groups"] {
        patch_user(
            &c,
            &id,
            &patch_body(json!([{"op": "replace", "path": path, "value": "x"}])),
        )
        .assert_scim_error(400, Some("mutability"));
    }
}

#[test]
fn a_stale_if_match_is_412_on_put_patch_and_delete() {
    let c = Client::new_tenant("etag");
    let id = bjensen(&c);
    let first = c.get(&format!("/Users/{id}"));
    let stale = first.header("etag").unwrap().to_string();
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "replace", "path": "title", "value": "v2"}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_ne!(r.header("etag"), Some(stale.as_str()));

    let put_body = first.body.clone();
    c.send(
        "PUT",
        &format!("/Users/{id}"),
        Some(&put_body),
        &[("If-Match", &stale)],
    )
    .assert_scim_error(412, None);
    c.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&patch_body(
            json!([{"op": "replace", "path": "title", "value": "v3"}]),
        )),
        &[("If-Match", &stale)],
    )
    .assert_scim_error(412, None);
    c.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&patch_body(
            json!([{"op": "replace", "value": {"active": false}}]),
        )),
        &[("If-Match", &stale)],
    )
    .assert_scim_error(412, None);
    c.send(
        "DELETE",
        &format!("/Users/{id}"),
        None,
        &[("If-Match", &stale)],
    )
    .assert_scim_error(412, None);
    let after = get_user(&c, &id);
    assert_eq!(after["title"], "v2", "nothing was written");
    assert_eq!(after["active"], true);
}

#[test]
fn the_current_if_match_succeeds_on_put_patch_and_delete() {
    let c = Client::new_tenant("etag");
    let id = bjensen(&c);
    let current = c.get(&format!("/Users/{id}"));
    let tag = current.header("etag").unwrap().to_string();
    assert_eq!(current.body["meta"]["version"], tag.as_str());
    let mut body = current.body.clone();
    body["title"] = json!("Put With If-Match");
    let put = c.send(
        "PUT",
        &format!("/Users/{id}"),
        Some(&body),
        &[("If-Match", &tag)],
    );
    assert_eq!(put.status, 200, "{}", put.raw);

    let tag = put.header("etag").unwrap().to_string();
    let patch = c.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&patch_body(
            json!([{"op": "replace", "path": "title", "value": "Patched"}]),
        )),
        &[("If-Match", &tag)],
    );
    assert_eq!(patch.status, 200, "{}", patch.raw);

    let tag = patch.header("etag").unwrap().to_string();
    let off = c.send(
        "PATCH",
        &format!("/Users/{id}"),
        Some(&patch_body(
            json!([{"op": "replace", "value": {"active": false}}]),
        )),
        &[("If-Match", &tag)],
    );
    assert_eq!(off.status, 200, "{}", off.raw);
    assert_eq!(off.body["active"], false);

    let tag = off.header("etag").unwrap().to_string();
    let del = c.send(
        "DELETE",
        &format!("/Users/{id}"),
        None,
        &[("If-Match", &tag)],
    );
    assert_eq!(del.status, 204, "{}", del.raw);
    c.get(&format!("/Users/{id}")).assert_scim_error(404, None);
}

#[test]
fn the_etag_changes_after_each_write_and_matches_meta_version() {
    let c = Client::new_tenant("etag");
    let id = bjensen(&c);
    let mut seen = vec![c
        .get(&format!("/Users/{id}"))
        .header("etag")
        .unwrap()
        .to_string()];
    let writes: Vec<Box<dyn Fn() -> Resp>> = vec![
        Box::new(|| {
            patch_user(
                &c,
                &id,
                &patch_body(json!([{"op": "replace", "path": "title", "value": "One"}])),
            )
        }),
        Box::new(|| {
            patch_user(
                &c,
                &id,
                &fixture("okta/deactivate_pathless_replace.json", &[]),
            )
        }),
        Box::new(|| patch_user(&c, &id, &fixture("entra/restore_user.json", &[]))),
        Box::new(|| {
            let mut body = c.get(&format!("/Users/{id}")).body;
            body["displayName"] = json!("Put Again");
            c.put(&format!("/Users/{id}"), &body)
        }),
    ];
    for write in writes {
        let r = write();
        assert_eq!(r.status, 200, "{}", r.raw);
        let tag = r.header("etag").unwrap().to_string();
        assert_eq!(r.body["meta"]["version"], tag.as_str(), "{}", r.raw);
        assert!(!seen.contains(&tag), "{tag} was already used: {seen:?}");
        let read = c.get(&format!("/Users/{id}"));
        assert_eq!(read.header("etag"), Some(tag.as_str()));
        seen.push(tag);
    }
}

#[test]
fn deactivation_costs_one_dynamodb_call() {
    let c = Client::new_tenant("calls");
    let id = bjensen(&c);
    for body in [
        fixture("okta/deactivate_pathless_replace.json", &[]),
        fixture("okta/reactivate_user.json", &[]),
        fixture("entra/disable_user_string_boolean.json", &[]),
        fixture("entra/disable_user_aadoptscim062020.json", &[]),
    ] {
        let r = patch_user(&c, &id, &body);
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.calls(), 1, "{body}");
    }
    assert_eq!(get_user(&c, &id)["active"], false);
}

#[test]
fn patch_of_an_unknown_user_is_404() {
    let c = Client::new_tenant("patch");
    for body in [
        fixture("okta/deactivate_pathless_replace.json", &[]),
        patch_body(json!([{"op": "replace", "path": "title", "value": "x"}])),
    ] {
        patch_user(&c, "3f1b9a6e-0c1d-4e2f-8a3b-5c6d7e8f9a0b", &body).assert_scim_error(404, None);
    }
}

#[test]
fn replacing_user_name_or_external_id_with_a_taken_one_is_409_uniqueness() {
    let c = Client::new_tenant("patch");
    let taken = unique("taken");
    let taken_ext = unique("taken-ext");
    c.post(
        "/Users",
        &json!({"userName": taken, "externalId": taken_ext}),
    );
    let id = bjensen(&c);
    patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "replace", "path": "userName", "value": taken.to_uppercase()}])),
    )
    .assert_scim_error(409, Some("uniqueness"));
    patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "replace", "path": "externalId", "value": taken_ext}])),
    )
    .assert_scim_error(409, Some("uniqueness"));
    let mut body = get_user(&c, &id);
    body["userName"] = json!(taken);
    c.put(&format!("/Users/{id}"), &body)
        .assert_scim_error(409, Some("uniqueness"));
    assert_eq!(
        find_users(&c, &format!("userName eq \"{taken}\"")).total(),
        1
    );
    // A change of case only is the same name, not a collision.
    let own = get_user(&c, &id)["userName"].as_str().unwrap().to_string();
    let r = patch_user(
        &c,
        &id,
        &patch_body(json!([{"op": "replace", "path": "userName", "value": own.to_uppercase()}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["userName"], own.to_uppercase());
}
