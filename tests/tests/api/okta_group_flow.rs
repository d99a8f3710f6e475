//! Okta's group push, request by request: create with `members: []`, rename with a path-less
//! replace of `{id, displayName}`, membership changes (`remove members[value eq ...]` plus
//! `add members` in one PATCH, or a full `replace`), custom-app `PUT` with the full member
//! list, unlink with DELETE; and what members and users read back afterwards.

use std::collections::BTreeSet;

use integration_tests::{
    add_members, assert_list_response, fixture, group_members, list_filtered, member_values,
    patch_body, resources, set, unique, user_groups, users, values_of, Client, Resp,
};
use serde_json::json;

fn okta_group(c: &Client, name: &str) -> Resp {
    c.post(
        "/Groups",
        &fixture("okta/create_group.json", &[("DISPLAY_NAME", name)]),
    )
}

#[test]
fn okta_group_push_creates_the_group_with_empty_members() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Test SCIMv2");
    let r = okta_group(&c, &name);
    assert_eq!(r.status, 201, "{}", r.raw);
    let gid = r.id();
    assert_eq!(r.body["displayName"], name);
    assert!(
        r.body.get("members").is_none_or(|m| m == &json!([])),
        "{}",
        r.raw
    );
    assert_eq!(
        r.header("location"),
        Some(format!("{}/Groups/{gid}", c.base).as_str())
    );
    let got = c.get(&format!("/Groups/{gid}"));
    assert_eq!(got.status, 200, "{}", got.raw);
    assert_eq!(got.body["displayName"], name);
    assert!(values_of(&got.body, "members").is_empty());
}

#[test]
fn okta_group_display_name_is_unique_case_insensitively() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Engineering");
    assert_eq!(okta_group(&c, &name).status, 201);
    okta_group(&c, &name.to_uppercase()).assert_scim_error(409, Some("uniqueness"));
    okta_group(&c, &name).assert_scim_error(409, Some("uniqueness"));
    let other = okta_group(&c, &unique("Other"));
    assert_eq!(other.status, 201);
    // A rename onto a taken name is refused too.
    c.patch(
        &format!("/Groups/{}", other.id()),
        &fixture(
            "okta/rename_group_pathless_with_id.json",
            &[
                ("GROUP_ID", &other.id()),
                ("DISPLAY_NAME", &name.to_lowercase()),
            ],
        ),
    )
    .assert_scim_error(409, Some("uniqueness"));
}

#[test]
fn okta_rename_with_a_pathless_replace_of_id_and_display_name() {
    let c = Client::new_tenant("okta-grp");
    let old = unique("Old Name");
    let gid = okta_group(&c, &old).id();
    let new = unique("New Name");
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &fixture(
            "okta/rename_group_pathless_with_id.json",
            &[("GROUP_ID", &gid), ("DISPLAY_NAME", &new)],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r.raw.is_empty());
    let got = c.get(&format!("/Groups/{gid}"));
    assert_eq!(got.body["displayName"], new);
    assert_eq!(got.body["id"], gid);
    let by_new = list_filtered(&c, "/Groups", &format!("displayName eq \"{new}\""), "");
    assert_eq!(by_new.total(), 1, "{}", by_new.raw);
    let by_old = list_filtered(&c, "/Groups", &format!("displayName eq \"{old}\""), "");
    assert_eq!(by_old.total(), 0, "{}", by_old.raw);
    assert_eq!(okta_group(&c, &old).status, 201, "the old name is free");
}

#[test]
fn okta_membership_patch_removes_and_adds_in_one_request() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Push");
    let gid = okta_group(&c, &name).id();
    let u = users(&c, 3);
    add_members(&c, &gid, &u[..2]);
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &fixture(
            "okta/update_group_membership.json",
            &[
                ("GROUP_ID", &gid),
                ("DISPLAY_NAME", &name),
                ("REMOVED_ID", &u[0]),
                ("ADDED_ID", &u[2]),
                ("ADDED_USER_NAME", "third@okta.example"),
            ],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set([&u[1], &u[2]]));
    assert!(user_groups(&c, &u[0]).is_empty());
    assert_eq!(user_groups(&c, &u[2]), BTreeSet::from([gid.clone()]));
    assert_eq!(
        c.get(&format!("/Groups/{gid}")).body["displayName"],
        name,
        "the echoed name is unchanged"
    );
}

#[test]
fn okta_replace_members_sets_exactly_the_list() {
    let c = Client::new_tenant("okta-grp");
    let gid = okta_group(&c, &unique("Replace")).id();
    let u = users(&c, 4);
    add_members(&c, &gid, &u[..3]);
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &fixture(
            "okta/replace_group_members.json",
            &[
                ("FIRST_ID", &u[1]),
                ("FIRST_USER_NAME", "second@okta.example"),
                ("SECOND_ID", &u[3]),
                ("SECOND_USER_NAME", "fourth@okta.example"),
            ],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set([&u[1], &u[3]]));
    assert!(user_groups(&c, &u[0]).is_empty());
    assert!(user_groups(&c, &u[2]).is_empty());
}

#[test]
fn okta_custom_app_put_with_the_full_member_list_keeps_and_changes_members_exactly() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Custom App");
    let gid = okta_group(&c, &name).id();
    let u = users(&c, 3);
    add_members(&c, &gid, &u[..2]);

    // Okta sends what it believes the group is: the read-back group, members included.
    let mut group = c.get(&format!("/Groups/{gid}")).body;
    let r = c.put(&format!("/Groups/{gid}"), &group);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(values_of(&r.body, "members"), set([&u[0], &u[1]]));
    assert_eq!(
        group_members(&c, &gid),
        set([&u[0], &u[1]]),
        "PUT kept them"
    );

    group["members"] = json!([{"value": u[1], "display": "b"}, {"value": u[2], "display": "c"}]);
    let r = c.put(&format!("/Groups/{gid}"), &group);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(values_of(&r.body, "members"), set([&u[1], &u[2]]));
    assert_eq!(group_members(&c, &gid), set([&u[1], &u[2]]));
    assert!(user_groups(&c, &u[0]).is_empty());
    assert_eq!(user_groups(&c, &u[2]), BTreeSet::from([gid.clone()]));

    group["members"] = json!([]);
    let r = c.put(&format!("/Groups/{gid}"), &group);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(group_members(&c, &gid).is_empty());
    assert_eq!(c.get(&format!("/Groups/{gid}")).body["displayName"], name);
}

#[test]
fn adding_a_user_of_another_tenant_is_invalid_value_and_not_linked() {
    let c = Client::new_tenant("okta-grp");
    let other = Client::new_tenant("okta-other");
    let foreign = other
        .create_user(&format!("{}@other.example", unique("f")))
        .id();
    let mine = users(&c, 1);
    let gid = okta_group(&c, &unique("Tenant Wall")).id();
    add_members(&c, &gid, &mine);

    let r = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": foreign}]}])),
    );
    r.assert_scim_error(400, Some("invalidValue"));
    let r = c.put(
        &format!("/Groups/{gid}"),
        &json!({"displayName": "Tenant Wall Renamed", "members": [{"value": mine[0]}, {"value": foreign}]}),
    );
    r.assert_scim_error(400, Some("invalidValue"));
    let name = unique("Foreign Member");
    let r = c.post(
        "/Groups",
        &json!({"displayName": name, "members": [{"value": foreign}]}),
    );
    r.assert_scim_error(400, Some("invalidValue"));

    assert_eq!(group_members(&c, &gid), set([&mine[0]]));
    assert_ne!(
        c.get(&format!("/Groups/{gid}")).body["displayName"],
        "Tenant Wall Renamed",
        "a refused PUT changes nothing"
    );
    assert!(
        user_groups(&other, &foreign).is_empty(),
        "the other tenant's user was not linked"
    );
    let lookup = list_filtered(&c, "/Groups", &format!("displayName eq \"{name}\""), "");
    assert_eq!(lookup.total(), 0, "a refused create leaves no group");
}

#[test]
fn adding_an_existing_member_or_removing_a_missing_one_is_a_no_op() {
    let c = Client::new_tenant("okta-grp");
    let gid = okta_group(&c, &unique("Idempotent")).id();
    let u = users(&c, 3);
    add_members(&c, &gid, &u[..2]);
    add_members(&c, &gid, &u[..1]);
    assert_eq!(group_members(&c, &gid), set([&u[0], &u[1]]));
    for path in [
        format!("members[value eq \"{}\"]", u[2]),
        "members[value eq \"3f1b9a6e-0c1d-4e2f-8a3b-5c6d7e8f9a0b\"]".to_string(),
        "members[value eq \"not-an-id\"]".to_string(),
    ] {
        let r = c.patch(
            &format!("/Groups/{gid}"),
            &patch_body(json!([{"op": "remove", "path": path}])),
        );
        assert_eq!(r.status, 204, "{path}: {}", r.raw);
    }
    assert_eq!(group_members(&c, &gid), set([&u[0], &u[1]]));
    assert!(user_groups(&c, &u[2]).is_empty());
    assert_eq!(user_groups(&c, &u[0]), BTreeSet::from([gid]));
}

#[test]
fn no_op_membership_changes_leave_the_users_version_alone() {
    let c = Client::new_tenant("okta-grp");
    let gid = okta_group(&c, &unique("Versions")).id();
    let u = users(&c, 2);
    add_members(&c, &gid, &u[..1]);
    let version = |uid: &str| c.get(&format!("/Users/{uid}")).body["meta"]["version"].clone();
    let (member_version, outsider_version) = (version(&u[0]), version(&u[1]));
    add_members(&c, &gid, &u[..1]);
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", u[1])}])),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    // Nothing about these users changed, so neither may their ETag (RFC 7644 section 3.14).
    assert_eq!(
        version(&u[0]),
        member_version,
        "re-adding a member is not a change"
    );
    assert_eq!(
        version(&u[1]),
        outsider_version,
        "removing a non-member is not a change"
    );
}

#[test]
fn a_group_of_another_tenant_is_404_for_every_method() {
    let c = Client::new_tenant("okta-grp");
    let other = Client::new_tenant("okta-other");
    let name = unique("Theirs");
    let theirs = okta_group(&other, &name).id();
    let their_user = other
        .create_user(&format!("{}@other.example", unique("t")))
        .id();
    add_members(&other, &theirs, std::slice::from_ref(&their_user));
    let mine = users(&c, 1);
    let path = format!("/Groups/{theirs}");
    c.get(&path).assert_scim_error(404, None);
    c.get(&format!("{path}?excludedAttributes=members"))
        .assert_scim_error(404, None);
    c.patch(
        &path,
        &patch_body(json!([{"op": "add", "path": "members", "value": member_values(&mine)}])),
    )
    .assert_scim_error(404, None);
    c.put(&path, &json!({"displayName": "Taken Over", "members": []}))
        .assert_scim_error(404, None);
    c.delete(&path).assert_scim_error(404, None);
    let lookup = list_filtered(&c, "/Groups", &format!("displayName eq \"{name}\""), "");
    assert_eq!(lookup.total(), 0);
    assert_eq!(okta_group(&c, &name).status, 201, "names are per tenant");
    let untouched = other.get(&path);
    assert_eq!(untouched.body["displayName"], name);
    assert_eq!(
        values_of(&untouched.body, "members"),
        BTreeSet::from([their_user])
    );
    assert!(user_groups(&c, &mine[0]).is_empty());
}

#[test]
fn group_patch_answers_204_or_200_with_the_resource_when_attributes_are_asked() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Answers");
    let gid = okta_group(&c, &name).id();
    let u = users(&c, 2);
    let body =
        patch_body(json!([{"op": "add", "path": "members", "value": member_values(&u[..1])}]));
    let r = c.patch(&format!("/Groups/{gid}"), &body);
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r.raw.is_empty(), "{}", r.raw);

    let body =
        patch_body(json!([{"op": "add", "path": "members", "value": member_values(&u[1..])}]));
    let r = c.patch(
        &format!("/Groups/{gid}?attributes=displayName,members"),
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["id"], gid);
    assert_eq!(r.body["displayName"], name);
    assert_eq!(values_of(&r.body, "members"), set([&u[0], &u[1]]));

    let r = c.patch(
        &format!("/Groups/{gid}?excludedAttributes=members"),
        &fixture(
            "okta/rename_group_pathless_with_id.json",
            &[("GROUP_ID", &gid), ("DISPLAY_NAME", &name)],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(r.body.get("members").is_none(), "{}", r.raw);
}

#[test]
fn the_users_groups_attribute_reflects_membership() {
    let c = Client::new_tenant("okta-grp");
    let g1 = okta_group(&c, &unique("G1")).id();
    let g2 = okta_group(&c, &unique("G2")).id();
    let u = users(&c, 1);
    add_members(&c, &g1, &u);
    add_members(&c, &g2, &u);
    let user = c.get(&format!("/Users/{}", u[0])).body;
    assert_eq!(
        values_of(&user, "groups"),
        BTreeSet::from([g1.clone(), g2.clone()])
    );
    for g in user["groups"].as_array().unwrap() {
        let gid = g["value"].as_str().unwrap();
        assert_eq!(g["$ref"], format!("{}/Groups/{gid}", c.base));
    }
    let r = c.patch(
        &format!("/Groups/{g1}"),
        &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", u[0])}])),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(user_groups(&c, &u[0]), BTreeSet::from([g2.clone()]));
    let by_group = list_filtered(&c, "/Users", &format!("groups.value eq \"{g2}\""), "");
    assert_list_response(&by_group);
    assert_eq!(by_group.total(), 1, "{}", by_group.raw);
}

#[test]
fn deleting_a_user_removes_its_memberships() {
    let c = Client::new_tenant("okta-grp");
    let gid = okta_group(&c, &unique("Leavers")).id();
    let u = users(&c, 2);
    add_members(&c, &gid, &u);
    let r = c.delete(&format!("/Users/{}", u[0]));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set([&u[1]]));
    // A list leaves members out; the deleted user is no longer found as a member.
    let listed = c.get(&format!(
        "/Groups?filter=members.value%20eq%20%22{}%22",
        u[0]
    ));
    assert_list_response(&listed);
    assert_eq!(listed.total(), 0, "{}", listed.raw);
}

#[test]
fn deactivating_a_user_keeps_memberships() {
    let c = Client::new_tenant("okta-grp");
    let gid = okta_group(&c, &unique("Dormant")).id();
    let u = users(&c, 1);
    add_members(&c, &gid, &u);
    let r = c.patch(
        &format!("/Users/{}", u[0]),
        &fixture("okta/deactivate_pathless_replace.json", &[]),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(values_of(&r.body, "groups"), BTreeSet::from([gid.clone()]));
    assert_eq!(group_members(&c, &gid), set([&u[0]]));
    let mut user = c.get(&format!("/Users/{}", u[0])).body;
    user["active"] = json!(false);
    user["displayName"] = json!("Custom App Deactivated");
    assert_eq!(c.put(&format!("/Users/{}", u[0]), &user).status, 200);
    assert_eq!(group_members(&c, &gid), set([&u[0]]), "PUT keeps them too");
    assert_eq!(user_groups(&c, &u[0]), BTreeSet::from([gid]));
}

#[test]
fn delete_group_is_204_then_404_and_the_name_is_reusable() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Unlinked");
    let gid = okta_group(&c, &name).id();
    let u = users(&c, 2);
    add_members(&c, &gid, &u);
    let r = c.delete(&format!("/Groups/{gid}"));
    assert_eq!(r.status, 204, "{}", r.raw);
    c.get(&format!("/Groups/{gid}"))
        .assert_scim_error(404, None);
    c.delete(&format!("/Groups/{gid}"))
        .assert_scim_error(404, None);
    c.patch(
        &format!("/Groups/{gid}"),
        &fixture(
            "okta/rename_group_pathless_with_id.json",
            &[("GROUP_ID", &gid), ("DISPLAY_NAME", "x")],
        ),
    )
    .assert_scim_error(404, None);
    for uid in &u {
        assert!(user_groups(&c, uid).is_empty(), "membership gone");
    }
    let lookup = list_filtered(&c, "/Groups", &format!("displayName eq \"{name}\""), "");
    assert_eq!(lookup.total(), 0);
    let again = okta_group(&c, &name);
    assert_eq!(again.status, 201, "{}", again.raw);
    assert_ne!(again.id(), gid);
    assert!(group_members(&c, &again.id()).is_empty());
}

#[test]
fn reading_a_group_without_members_costs_one_dynamodb_call() {
    let c = Client::new_tenant("okta-grp");
    let name = unique("Cheap Reads");
    let gid = okta_group(&c, &name).id();
    add_members(&c, &gid, &users(&c, 3));
    let r = c.get(&format!("/Groups/{gid}?excludedAttributes=members"));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(r.body.get("members").is_none(), "{}", r.raw);
    assert_eq!(r.body["displayName"], name);
    assert_eq!(r.calls(), 1);
    let lookup = list_filtered(
        &c,
        "/Groups",
        &format!("displayName eq \"{}\"", name.to_uppercase()),
        "&excludedAttributes=members",
    );
    assert_list_response(&lookup);
    assert_eq!(lookup.total(), 1, "{}", lookup.raw);
    assert!(resources(&lookup)[0].get("members").is_none());
    assert_eq!(lookup.calls(), 1);
}
