//! Microsoft Entra ID's user provisioning, in the order of Microsoft's SCIM validator: test
//! connection, create (with the nulls older tenants send), capitalised attribute names, lookups
//! by `externalId` and work email, updates, disable with the string `"False"` (and the boolean
//! of `aadOptscim062020`), path-less replace with dotted and URN keys, manager as a bare id,
//! null updates, unquoted filter values, restore and delete.

use integration_tests::{
    assert_list_response, assert_no_nulls, find_users, fixture, list_filtered, patch_body,
    random_guid, resources, unique, unique_login, Client, Resp, ENTERPRISE, PLATFORM,
};
use serde_json::json;

/// `POST /Users` with Entra's body (explicit nulls included); returns the 201 body's id.
fn entra_create(c: &Client, user_name: &str, external_id: &str) -> Resp {
    let employee = unique("E");
    let r = c.post(
        "/Users",
        &fixture(
            "entra/create_user.json",
            &[
                ("USER_NAME", user_name),
                ("EXTERNAL_ID", external_id),
                ("EMPLOYEE_NUMBER", &employee),
            ],
        ),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    r
}

#[test]
fn entra_test_connection_with_a_random_guid_is_an_empty_list() {
    let c = Client::new_tenant("entra");
    entra_create(&c, &unique_login("contoso.example"), &random_guid());
    for attr in ["userName", "externalId"] {
        let r = list_filtered(
            &c,
            "/Users",
            &format!("{attr} eq \"{}\"", random_guid()),
            "",
        );
        assert_list_response(&r);
        assert_eq!(r.total(), 0, "{attr}: {}", r.raw);
        assert_eq!(r.body["Resources"], json!([]), "{}", r.raw);
    }
}

#[test]
fn entra_create_with_enterprise_attributes_and_explicit_nulls_returns_no_nulls() {
    let c = Client::new_tenant("entra");
    let login = unique_login("contoso.example");
    let ext = random_guid();
    let r = entra_create(&c, &login, &ext);
    let u = &r.body;
    assert_no_nulls(u, "response");
    assert_eq!(u["userName"], login);
    assert_eq!(u["externalId"], ext);
    assert_eq!(u["active"], true);
    assert_eq!(u["name"]["formatted"], "givenName familyName");
    assert_eq!(u["name"]["familyName"], "familyName");
    assert_eq!(u["name"]["givenName"], "givenName");
    assert_eq!(u["emails"][0]["value"], login);
    assert_eq!(u["emails"][0]["type"], "work");
    assert_eq!(u[ENTERPRISE]["department"], "Engineering");
    assert!(u[ENTERPRISE]["employeeNumber"].is_string(), "{}", r.raw);
    assert!(
        u["schemas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == ENTERPRISE),
        "{}",
        r.raw
    );
    assert!(
        u.get("roles").is_none_or(|r| r == &json!([])),
        "roles: [] is no role: {}",
        r.raw
    );
    let got = c.get(&format!("/Users/{}", r.id()));
    assert_eq!(got.status, 200);
    assert_no_nulls(&got.body, "GET");
    assert_eq!(got.body[ENTERPRISE]["department"], "Engineering");
}

#[test]
fn entra_capitalised_attribute_names_are_accepted() {
    let c = Client::new_tenant("entra");
    let login = unique_login("contoso.example");
    let ext = random_guid();
    let r = c.post(
        "/Users",
        &fixture(
            "entra/create_user_capitalised.json",
            &[("USER_NAME", &login), ("EXTERNAL_ID", &ext)],
        ),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["userName"], login);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["externalId"], ext);
    assert_eq!(r.body["name"]["givenName"], "Capital");
    assert_eq!(r.body["emails"][0]["value"], login);
    let found = find_users(&c, &format!("userName eq \"{login}\""));
    assert_eq!(found.total(), 1);
    assert_eq!(resources(&found)[0]["id"], r.id());
}

#[test]
fn entra_lookup_by_external_id_finds_the_user() {
    let c = Client::new_tenant("entra");
    let ext = random_guid();
    let id = entra_create(&c, &unique_login("contoso.example"), &ext).id();
    entra_create(&c, &unique_login("contoso.example"), &random_guid());
    let r = find_users(&c, &format!("externalId eq \"{ext}\""));
    assert_eq!(r.total(), 1, "{}", r.raw);
    assert_eq!(resources(&r)[0]["id"], id);
    assert!(r.calls() <= 2, "externalId lookup took {} calls", r.calls());
}

#[test]
fn entra_update_replaces_the_work_email_and_family_name() {
    let c = Client::new_tenant("entra");
    let login = unique_login("contoso.example");
    let id = entra_create(&c, &login, &random_guid()).id();
    let new_email = format!("{}@contoso.example", unique("updated"));
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/update_user_replace_ops.json",
            &[("NEW_EMAIL", &new_email), ("NEW_FAMILY_NAME", "Updated")],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}"));
    let emails = got.body["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 1, "the work email was replaced: {}", got.raw);
    assert_eq!(emails[0]["value"], new_email);
    assert_eq!(emails[0]["type"], "work");
    assert_eq!(emails[0]["primary"], true, "other sub-attributes stay");
    assert_eq!(got.body["name"]["familyName"], "Updated");
    assert_eq!(got.body["name"]["givenName"], "givenName");
    assert_eq!(got.body["userName"], login, "userName is untouched");
    assert_eq!(
        find_users(&c, &format!("emails.value eq \"{new_email}\"")).total(),
        1
    );
    assert_eq!(
        find_users(&c, &format!("emails.value eq \"{login}\"")).total(),
        0,
        "the old address no longer finds the user"
    );
}

#[test]
fn entra_disable_with_the_string_false_deactivates() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture("entra/disable_user_string_boolean.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["active"], false, "a boolean false: {}", r.raw);
    assert_eq!(c.get(&format!("/Users/{id}")).body["active"], false);
    let inactive = find_users(&c, "active eq false");
    assert_eq!(inactive.total(), 1, "{}", inactive.raw);
}

#[test]
fn entra_disable_with_aadoptscim062020_boolean_false_deactivates() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture("entra/disable_user_aadoptscim062020.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["active"], false);
    assert_eq!(c.get(&format!("/Users/{id}")).body["active"], false);
}

#[test]
fn entra_pathless_replace_with_dotted_and_urn_keys_updates_each_attribute() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/update_user_pathless_aadoptscim062020.json",
            &[
                ("DISPLAY_NAME", "Dotted Keys"),
                ("GIVEN_NAME", "Dotty"),
                ("EMPLOYEE_NUMBER", "42-A"),
                ("PLATFORM_ROLE", "operator"),
            ],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(got["displayName"], "Dotted Keys");
    assert_eq!(got["name"]["givenName"], "Dotty");
    assert_eq!(
        got["name"]["familyName"], "familyName",
        "sibling sub-attributes stay"
    );
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "42-A");
    assert_eq!(
        got[ENTERPRISE]["department"], "Engineering",
        "other extension attributes stay"
    );
    assert_eq!(got[PLATFORM]["platformRole"], "OPERATOR");
    assert!(
        got.get("name.givenName").is_none(),
        "dotted keys are paths, not attributes"
    );
}

#[test]
fn entra_manager_added_as_a_bare_string_id_reads_back_as_manager_value() {
    let c = Client::new_tenant("entra");
    let manager = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/add_manager_bare_id.json",
            &[("MANAGER_ID", &manager)],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(got[ENTERPRISE]["manager"]["value"], manager, "{got}");
    assert_eq!(got[ENTERPRISE]["department"], "Engineering");
    let reports = find_users(&c, &format!("{ENTERPRISE}:manager.value eq \"{manager}\""));
    assert_eq!(reports.total(), 1, "{}", reports.raw);
}

#[test]
fn entra_null_update_with_empty_string_then_null_clears_the_attribute() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let department = format!("{ENTERPRISE}:department");
    for (file, path) in [
        ("entra/null_update_empty_string.json", "title"),
        ("entra/null_update_null.json", "title"),
        ("entra/null_update_empty_string.json", department.as_str()),
        ("entra/null_update_null.json", "name.givenName"),
    ] {
        // Give the attribute a value, then clear it the way Entra does.
        let set = c.patch(
            &format!("/Users/{id}"),
            &patch_body(json!([{"op": "Replace", "path": path, "value": "Something"}])),
        );
        assert_eq!(set.status, 200, "{path}: {}", set.raw);
        let r = c.patch(&format!("/Users/{id}"), &fixture(file, &[("PATH", path)]));
        assert_eq!(r.status, 200, "{file} {path}: {}", r.raw);
        let got = c.get(&format!("/Users/{id}")).body;
        assert_no_nulls(&got, "GET");
        let cleared = match path {
            "title" => got.get("title").is_none(),
            "name.givenName" => got["name"].get("givenName").is_none(),
            _ => got
                .get(ENTERPRISE)
                .is_none_or(|e| e.get("department").is_none()),
        };
        assert!(cleared, "{file} did not clear {path}: {got}");
    }
}

#[test]
fn entra_filter_on_the_work_email_value_finds_only_work_addresses() {
    let c = Client::new_tenant("entra");
    let login = unique_login("contoso.example");
    let id = entra_create(&c, &login, &random_guid()).id();
    let home = format!("{}@home.example", unique("home"));
    let other = c.post(
        "/Users",
        &json!({"userName": unique_login("contoso.example"), "emails": [{"value": home, "type": "home"}]}),
    );
    assert_eq!(other.status, 201, "{}", other.raw);
    let r = find_users(
        &c,
        &format!(
            "emails[type eq \"work\"].value eq \"{}\"",
            login.to_uppercase()
        ),
    );
    assert_eq!(r.total(), 1, "{}", r.raw);
    assert_eq!(resources(&r)[0]["id"], id);
    assert!(r.calls() <= 2, "email lookup took {} calls", r.calls());
    let home_as_work = find_users(&c, &format!("emails[type eq \"work\"].value eq \"{home}\""));
    assert_eq!(
        home_as_work.total(),
        0,
        "a home address is not a work address: {}",
        home_as_work.raw
    );
}

#[test]
fn entra_unquoted_filter_value_is_invalid_filter_never_an_unfiltered_list() {
    let c = Client::new_tenant("entra");
    entra_create(&c, &unique_login("contoso.example"), &random_guid());
    for filter in ["externalId eq jyoung", "userName eq jyoung@contoso.example"] {
        let r = list_filtered(&c, "/Users", filter, "");
        r.assert_scim_error(400, Some("invalidFilter"));
    }
}

#[test]
fn entra_restore_with_the_string_true_reactivates() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let off = c.patch(
        &format!("/Users/{id}"),
        &fixture("entra/disable_user_string_boolean.json", &[]),
    );
    assert_eq!(off.body["active"], false, "{}", off.raw);
    let on = c.patch(
        &format!("/Users/{id}"),
        &fixture("entra/restore_user.json", &[]),
    );
    assert_eq!(on.status, 200, "{}", on.raw);
    assert_eq!(on.body["active"], true);
    assert_eq!(c.get(&format!("/Users/{id}")).body["active"], true);
}

#[test]
fn entra_delete_is_204_then_404() {
    let c = Client::new_tenant("entra");
    let ext = random_guid();
    let id = entra_create(&c, &unique_login("contoso.example"), &ext).id();
    let r = c.delete(&format!("/Users/{id}"));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r.raw.is_empty(), "204 has no body: {}", r.raw);
    c.get(&format!("/Users/{id}")).assert_scim_error(404, None);
    assert_eq!(
        find_users(&c, &format!("externalId eq \"{ext}\"")).total(),
        0
    );
}

#[test]
fn entra_add_of_a_work_email_to_a_user_without_one_creates_it() {
    let c = Client::new_tenant("entra");
    let r = c.post(
        "/Users",
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": unique_login("contoso.example"), "externalId": random_guid(), "active": true}),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.id();
    let email = format!("{}@contoso.example", unique("first"));
    let r = c.patch(
        &format!("/Users/{id}"),
        &patch_body(
            json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": email}]),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(
        got["emails"],
        json!([{"type": "work", "value": email}]),
        "{got}"
    );
    assert_eq!(
        find_users(
            &c,
            &format!("emails[type eq \"work\"].value eq \"{email}\"")
        )
        .total(),
        1
    );
}

#[test]
fn entra_null_update_of_the_manager_clears_it() {
    let c = Client::new_tenant("entra");
    let manager = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let manager_path = format!("{ENTERPRISE}:manager");
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/add_manager_bare_id.json",
            &[("MANAGER_ID", &manager)],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/null_update_empty_string.json",
            &[("PATH", &manager_path)],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert!(got[ENTERPRISE].get("manager").is_none(), "{got}");
    assert_eq!(got[ENTERPRISE]["department"], "Engineering");
}

#[test]
fn entra_replace_of_multiple_attributes_without_the_flag_updates_each() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let email = format!("{}@test.microsoft.example", unique("TestBcwqnm"));
    let ext = random_guid();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/update_user_multiple_ops.json",
            &[("NEW_EMAIL", &email), ("NEW_EXTERNAL_ID", &ext)],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(got["displayName"], "Pvlo");
    assert_eq!(got["emails"][0]["value"], email.as_str());
    assert_eq!(got["name"]["givenName"], "Gtfd");
    assert_eq!(got["name"]["familyName"], "Pkqf");
    assert_eq!(got["externalId"], ext.as_str());
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "Eqpj");
    assert_eq!(
        find_users(&c, &format!("externalId eq \"{ext}\"")).total(),
        1,
        "the new externalId finds the user"
    );
}

#[test]
fn entra_replace_of_multiple_attributes_with_the_flag_mixes_a_pathed_and_a_pathless_op() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let email = format!("{}@test.microsoft.example", unique("TestMhvaes"));
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture(
            "entra/update_user_multiple_ops_aadoptscim062020.json",
            &[("NEW_EMAIL", &email)],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(got["emails"][0]["value"], email.as_str());
    assert_eq!(got["displayName"], "Bjfe");
    assert_eq!(got["name"]["givenName"], "Kkom");
    assert_eq!(got["name"]["familyName"], "Unua");
    assert_eq!(got["name"]["formatted"], "givenName familyName");
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "Aklq");
}

#[test]
fn entra_role_with_a_string_primary_is_stored_as_a_boolean() {
    let c = Client::new_tenant("entra");
    let id = entra_create(&c, &unique_login("contoso.example"), &random_guid()).id();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture("entra/add_role.json", &[("ROLE", "Admin")]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(
        got["roles"],
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]),
        "{got}"
    );
    let admins = find_users(&c, "roles[value eq \"Admin\" and primary eq true]");
    assert_eq!(admins.total(), 1, "{}", admins.raw);
}
