//! Deprovisioning: a user deactivated with `active: false` stays inactive until a request says
//! `active: true`.
//!
//! Our decision (documented with the users API): a request that does not assert `active` keeps
//! the previous value. RFC 7644 section 3.5.1 lets a PUT treat omitted attributes as not
//! asserted; a PATCH removing `active` or replacing it with null, and Entra's path-less replace
//! with `"active": ""`, are read the same way. Each is answered 200 with `active: false`, and the
//! user stays inactive in every view: GET, the `active` filters, and the platform's own flag
//! (which decides whether the person can sign in). Only an explicit `true` (the boolean, or
//! Entra's string `"True"`), by PATCH or PUT, reactivates.

use integration_tests::{
    fixture, get_user, matching_user_ids, patch_body, platform_user, rfc7643_user_to_create, set,
    unique, unique_login, Client, Resp,
};
use serde_json::{json, Value};

/// A tenant of its own with one user, created from RFC 7643 section 8.2's full user and then
/// deactivated the way Okta does (a path-less replace of `active: false`). Returns the client,
/// the user's id and the profile it was created with.
fn deactivated_user() -> (Client, String, Value) {
    let c = Client::new_tenant("deprov");
    let profile = rfc7643_user_to_create(&unique_login("deprov.example"), &unique("ext"));
    let created = c.post("/Users", &profile);
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["active"], true, "{}", created.raw);
    let id = created.id();
    let r = c.patch(
        &format!("/Users/{id}"),
        &fixture("okta/deactivate_pathless_replace.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["active"], false, "{}", r.raw);
    assert_inactive(&c, &id, "the deactivation");
    (c, id, profile)
}

/// The tenant's only user is `active` (or not) to GET, to `filter=active eq <active>` (and not
/// to the opposite filter), and to the platform.
fn assert_activity(c: &Client, id: &str, active: bool, after: &str) {
    assert_eq!(get_user(c, id)["active"], active, "after {after}: GET");
    assert_eq!(
        matching_user_ids(c, &format!("active eq {active}")),
        set([id]),
        "after {after}: filter=active eq {active}"
    );
    assert!(
        matching_user_ids(c, &format!("active eq {}", !active)).is_empty(),
        "after {after}: filter=active eq {} finds the user",
        !active
    );
    let platform = platform_user(&c.tenant, id);
    assert_eq!(
        platform["active"], active,
        "after {after}: the platform's view {platform}"
    );
}

fn assert_inactive(c: &Client, id: &str, after: &str) {
    assert_activity(c, id, false, after);
}

fn assert_active(c: &Client, id: &str, after: &str) {
    assert_activity(c, id, true, after);
}

/// The request was answered 200 with the user, still `active: false`.
fn assert_answered_inactive(r: &Resp, what: &str) {
    assert_eq!(r.status, 200, "{what}: {}", r.raw);
    assert_eq!(r.body["active"], false, "{what}: {}", r.raw);
}

/// A PATCH of the user that must leave it inactive.
fn patch_keeps_it_inactive(operations: Value, what: &str) {
    let (c, id, _) = deactivated_user();
    let r = c.patch(&format!("/Users/{id}"), &patch_body(operations));
    assert_answered_inactive(&r, what);
    assert_inactive(&c, &id, what);
}

#[test]
fn put_without_active_keeps_a_deactivated_user_inactive() {
    let (c, id, profile) = deactivated_user();
    let path = format!("/Users/{id}");
    // What Okta's custom apps send (the user as read back) and what an IdP holds (its own full
    // profile), each without `active` and with a change, so that the PUT is not a no-op.
    let mut read_back = get_user(&c, &id);
    let mut own_profile = profile;
    for (what, body, title) in [
        (
            "a PUT of the user read back",
            &mut read_back,
            "Senior Tour Guide",
        ),
        (
            "a PUT of the full profile",
            &mut own_profile,
            "Head Tour Guide",
        ),
    ] {
        let fields = body.as_object_mut().unwrap();
        fields.remove("active");
        fields.insert("title".into(), json!(title));
        let r = c.put(&path, body);
        assert_answered_inactive(&r, what);
        assert_eq!(
            r.body["title"], title,
            "{what}: the rest applies: {}",
            r.raw
        );
        assert_eq!(get_user(&c, &id)["title"], title, "{what}");
        assert_inactive(&c, &id, what);
    }
}

#[test]
fn patch_remove_of_active_keeps_a_deactivated_user_inactive() {
    patch_keeps_it_inactive(
        json!([{"op": "remove", "path": "active"}]),
        "remove of active",
    );
}

#[test]
fn patch_replace_of_active_with_null_keeps_a_deactivated_user_inactive() {
    patch_keeps_it_inactive(
        json!([{"op": "replace", "path": "active", "value": null}]),
        "replace of active with null",
    );
}

#[test]
fn pathless_replace_with_an_empty_active_keeps_a_deactivated_user_inactive() {
    patch_keeps_it_inactive(
        json!([{"op": "replace", "value": {"active": ""}}]),
        "a path-less replace of active with \"\"",
    );
}

#[test]
fn pathless_replace_with_an_empty_active_beside_a_name_changes_the_name_and_keeps_the_user_inactive(
) {
    let (c, id, _) = deactivated_user();
    let what = "a path-less replace of a name beside active \"\"";
    let r = c.patch(
        &format!("/Users/{id}"),
        &patch_body(json!([{"op": "replace", "value": {
            "active": "",
            "name": {"givenName": "Babs", "familyName": "Jensen-Smith"},
        }}])),
    );
    assert_answered_inactive(&r, what);
    let got = get_user(&c, &id);
    assert_eq!(got["name"]["givenName"], "Babs", "{what}: {got}");
    assert_eq!(got["name"]["familyName"], "Jensen-Smith", "{what}: {got}");
    assert_inactive(&c, &id, what);
}

#[test]
fn patch_with_active_true_or_entras_string_true_reactivates_a_deactivated_user() {
    let (c, id, _) = deactivated_user();
    let path = format!("/Users/{id}");
    let deactivate = fixture("okta/deactivate_pathless_replace.json", &[]);
    for (what, body) in [
        (
            "a replace of active with true",
            patch_body(json!([{"op": "replace", "path": "active", "value": true}])),
        ),
        (
            "Okta's path-less replace with active true",
            fixture("okta/reactivate_user.json", &[]),
        ),
        (
            "Entra's replace with the string \"True\"",
            fixture("entra/restore_user.json", &[]),
        ),
    ] {
        let r = c.patch(&path, &body);
        assert_eq!(r.status, 200, "{what}: {}", r.raw);
        assert_eq!(r.body["active"], true, "{what}: {}", r.raw);
        assert_active(&c, &id, what);
        let r = c.patch(&path, &deactivate);
        assert_answered_inactive(&r, "the deactivation");
        assert_inactive(&c, &id, "the deactivation");
    }
}

#[test]
fn put_with_active_true_reactivates_a_deactivated_user() {
    let (c, id, _) = deactivated_user();
    let mut user = get_user(&c, &id);
    user["active"] = json!(true);
    let r = c.put(&format!("/Users/{id}"), &user);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["active"], true, "{}", r.raw);
    assert_active(&c, &id, "a PUT with active true");
}
