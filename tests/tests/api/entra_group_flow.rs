//! Microsoft Entra ID's group provisioning: create with the ADSCIM schema and an `externalId`,
//! lookup by `displayName` without members, `Add`/`Remove` of members with
//! `[{"$ref": null, "value": id}]` (a Remove with a value list removes only those members),
//! `Replace` of `displayName`, 204 answers, delete.

use std::collections::BTreeSet;

use integration_tests::{
    assert_list_response, fixture, group_members, list_filtered, patch_body, random_guid,
    resources, set, unique, user_groups, users, Client, Resp, ENTRA_GROUP_SCHEMA, GROUP_SCHEMA,
};
use serde_json::json;

fn entra_group(c: &Client, name: &str, external_id: &str) -> Resp {
    c.post(
        "/Groups",
        &fixture(
            "entra/create_group.json",
            &[("DISPLAY_NAME", name), ("EXTERNAL_ID", external_id)],
        ),
    )
}

fn entra_add(c: &Client, gid: &str, uid: &str) -> Resp {
    c.patch(
        &format!("/Groups/{gid}"),
        &fixture("entra/add_members_with_null_ref.json", &[("USER_ID", uid)]),
    )
}

fn entra_remove(c: &Client, gid: &str, uid: &str) -> Resp {
    c.patch(
        &format!("/Groups/{gid}"),
        &fixture("entra/remove_group_member.json", &[("USER_ID", uid)]),
    )
}

#[test]
fn entra_create_group_with_the_adscim_schema_and_external_id() {
    let c = Client::new_tenant("entra-grp");
    let name = unique("Entra Group");
    let ext = random_guid();
    let r = entra_group(&c, &name, &ext);
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["displayName"], name);
    assert_eq!(r.body["externalId"], ext);
    assert_eq!(r.body["meta"]["resourceType"], "Group");
    assert!(
        r.body["schemas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == GROUP_SCHEMA),
        "{}",
        r.raw
    );
    assert!(
        !r.raw.contains("null"),
        "no nulls in what Entra reads: {}",
        r.raw
    );
    let by_ext = list_filtered(&c, "/Groups", &format!("externalId eq \"{ext}\""), "");
    assert_list_response(&by_ext);
    assert_eq!(by_ext.total(), 1, "{}", by_ext.raw);
    assert_eq!(resources(&by_ext)[0]["id"], r.id());
    // The ADSCIM URN is accepted but carries nothing; it must not be needed to read back.
    let got = c.get(&format!("/Groups/{}", r.id()));
    assert_eq!(got.status, 200);
    assert!(got.body.get(ENTRA_GROUP_SCHEMA).is_none(), "{}", got.raw);
}

#[test]
fn entra_lookup_by_display_name_excluding_members_costs_one_call() {
    let c = Client::new_tenant("entra-grp");
    let name = unique("Lookup Me");
    let gid = entra_group(&c, &name, &random_guid()).id();
    for uid in users(&c, 2) {
        assert_eq!(entra_add(&c, &gid, &uid).status, 204);
    }
    let r = list_filtered(
        &c,
        "/Groups",
        &format!("displayName eq \"{name}\""),
        "&excludedAttributes=members",
    );
    assert_list_response(&r);
    assert_eq!(r.total(), 1, "{}", r.raw);
    let g = &resources(&r)[0];
    assert_eq!(g["id"], gid);
    assert!(g.get("members").is_none(), "{g}");
    assert_eq!(r.calls(), 1);
    let miss = list_filtered(
        &c,
        "/Groups",
        &format!("displayName eq \"{}\"", random_guid()),
        "&excludedAttributes=members",
    );
    assert_list_response(&miss);
    assert_eq!(miss.total(), 0);
}

#[test]
fn entra_lookup_of_a_group_whose_name_mentions_members_still_costs_one_call() {
    let c = Client::new_tenant("entra-grp");
    let name = unique("All members of staff");
    let gid = entra_group(&c, &name, &random_guid()).id();
    assert_eq!(entra_add(&c, &gid, &users(&c, 1)[0]).status, 204);
    let r = list_filtered(
        &c,
        "/Groups",
        &format!("displayName eq \"{name}\""),
        "&excludedAttributes=members",
    );
    assert_list_response(&r);
    assert_eq!(r.total(), 1, "{}", r.raw);
    assert!(resources(&r)[0].get("members").is_none(), "{}", r.raw);
    assert_eq!(r.calls(), 1, "the group's name is not a members filter");
}

#[test]
fn entra_display_name_is_unique() {
    let c = Client::new_tenant("entra-grp");
    let name = unique("Unique Group");
    assert_eq!(entra_group(&c, &name, &random_guid()).status, 201);
    entra_group(&c, &name.to_lowercase(), &random_guid())
        .assert_scim_error(409, Some("uniqueness"));
}

#[test]
fn entra_add_members_with_a_null_ref_answers_204() {
    let c = Client::new_tenant("entra-grp");
    let gid = entra_group(&c, &unique("Adds"), &random_guid()).id();
    let u = users(&c, 2);
    for uid in &u {
        let r = entra_add(&c, &gid, uid);
        assert_eq!(r.status, 204, "{}", r.raw);
        assert!(r.raw.is_empty());
    }
    assert_eq!(group_members(&c, &gid), set([&u[0], &u[1]]));
    assert_eq!(user_groups(&c, &u[0]), BTreeSet::from([gid]));
}

#[test]
fn entra_remove_with_value_list_removes_only_listed_members() {
    let c = Client::new_tenant("entra-grp");
    let gid = entra_group(&c, &unique("Removes"), &random_guid()).id();
    let u = users(&c, 3);
    for uid in &u {
        assert_eq!(entra_add(&c, &gid, uid).status, 204);
    }
    let r = entra_remove(&c, &gid, &u[0]);
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(
        group_members(&c, &gid),
        set([&u[1], &u[2]]),
        "only the listed member left"
    );
    assert!(user_groups(&c, &u[0]).is_empty());
    assert_eq!(user_groups(&c, &u[1]), BTreeSet::from([gid.clone()]));

    let r = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "Remove", "path": "members",
                            "value": [{"$ref": null, "value": u[1]}, {"$ref": null, "value": u[2]}]}])),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(group_members(&c, &gid).is_empty());
}

#[test]
fn entra_remove_with_the_flag_uses_a_value_filter_and_removes_only_that_member() {
    let c = Client::new_tenant("entra-grp");
    let gid = entra_group(&c, &unique("Flagged"), &random_guid()).id();
    let u = users(&c, 2);
    for uid in &u {
        assert_eq!(entra_add(&c, &gid, uid).status, 204);
    }
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &fixture(
            "entra/remove_group_member_aadoptscim062020.json",
            &[("USER_ID", &u[1])],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set([&u[0]]));
}

#[test]
fn entra_add_and_remove_in_one_request_apply_in_order() {
    let c = Client::new_tenant("entra-grp");
    let gid = entra_group(&c, &unique("Both"), &random_guid()).id();
    let u = users(&c, 3);
    assert_eq!(entra_add(&c, &gid, &u[0]).status, 204);
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": u[1]}, {"$ref": null, "value": u[2]}]},
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": u[0]}]},
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": u[2]}]}
        ])),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set([&u[1]]));
}

#[test]
fn entra_replace_display_name_and_external_id() {
    let c = Client::new_tenant("entra-grp");
    let old = unique("Before");
    let gid = entra_group(&c, &old, &random_guid()).id();
    let uid = users(&c, 1).remove(0);
    assert_eq!(entra_add(&c, &gid, &uid).status, 204);
    let new = unique("After");
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &fixture(
            "entra/replace_group_display_name.json",
            &[("DISPLAY_NAME", &new)],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    let new_ext = random_guid();
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "Replace", "path": "externalId", "value": new_ext}])),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    let got = c.get(&format!("/Groups/{gid}"));
    assert_eq!(got.body["displayName"], new);
    assert_eq!(got.body["externalId"], new_ext);
    assert_eq!(
        group_members(&c, &gid),
        BTreeSet::from([uid]),
        "members stay"
    );
    let by_ext = list_filtered(&c, "/Groups", &format!("externalId eq \"{new_ext}\""), "");
    assert_eq!(by_ext.total(), 1, "{}", by_ext.raw);
}

#[test]
fn entra_delete_group_is_204_then_404() {
    let c = Client::new_tenant("entra-grp");
    let name = unique("Deleted");
    let ext = random_guid();
    let gid = entra_group(&c, &name, &ext).id();
    let uid = users(&c, 1).remove(0);
    assert_eq!(entra_add(&c, &gid, &uid).status, 204);
    let r = c.delete(&format!("/Groups/{gid}"));
    assert_eq!(r.status, 204, "{}", r.raw);
    c.get(&format!("/Groups/{gid}"))
        .assert_scim_error(404, None);
    assert!(user_groups(&c, &uid).is_empty());
    assert_eq!(
        entra_group(&c, &name, &ext).status,
        201,
        "name and externalId are free again"
    );
}
