//! Groups as RFC 7644 describes them, beyond what Okta and Entra send: the section 3.5.2 member
//! examples, filtering groups by member (section 3.4.2.2), and creates with more members than
//! one DynamoDB transaction holds, which must still be all-or-nothing.

use integration_tests::{
    add_members_body, assert_list_response, create_users_parallel, fixture, group_members,
    list_filtered, member_values, resource_ids, resources, set, unique, user_groups, users, Client,
};
use serde_json::json;

#[test]
fn rfc_member_examples_add_remove_all_and_replace() {
    let c = Client::new_tenant("rfc-grp");
    let gid = c.create_group(&unique("Tour Guides")).id();
    let u = users(&c, 3);
    let path = format!("/Groups/{gid}");
    let base = c.base.clone();

    let r = c.patch(
        &path,
        &fixture(
            "rfc7644/s3.5.2.1_add_member.json",
            &[("BASE_URL", &base), ("USER_ID", &u[0])],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&u[..1]));

    let r = c.patch(
        &path,
        &fixture(
            "rfc7644/s3.5.2.2_replace_all_members_by_remove_then_add.json",
            &[
                ("BASE_URL", &base),
                ("FIRST_ID", &u[1]),
                ("SECOND_ID", &u[2]),
            ],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&u[1..]));
    assert!(user_groups(&c, &u[0]).is_empty());

    let r = c.patch(
        &path,
        &fixture(
            "rfc7644/s3.5.2.3_replace_members.json",
            &[
                ("BASE_URL", &base),
                ("FIRST_ID", &u[0]),
                ("SECOND_ID", &u[2]),
            ],
        ),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&[u[0].clone(), u[2].clone()]));

    let r = c.patch(
        &path,
        &fixture("rfc7644/s3.5.2.2_remove_all_members.json", &[]),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(group_members(&c, &gid).is_empty());
    for uid in &u {
        assert!(
            user_groups(&c, uid).is_empty(),
            "{uid} still lists the group"
        );
    }
}

#[test]
fn groups_can_be_filtered_by_member() {
    let c = Client::new_tenant("rfc-grp");
    let u = users(&c, 2);
    let with = c.create_group(&unique("With Member")).id();
    let without = c.create_group(&unique("Without Member")).id();
    let r = c.patch(&format!("/Groups/{with}"), &add_members_body(&u[..1]));
    assert_eq!(r.status, 204, "{}", r.raw);
    let r = c.patch(&format!("/Groups/{without}"), &add_members_body(&u[1..]));
    assert_eq!(r.status, 204, "{}", r.raw);
    for filter in [
        format!("members.value eq \"{}\"", u[0]),
        format!("members[value eq \"{}\"]", u[0]),
        format!("members eq \"{}\"", u[0]),
    ] {
        let r = list_filtered(&c, "/Groups", &filter, "&excludedAttributes=members");
        assert_list_response(&r);
        assert_eq!(
            resource_ids(&r),
            std::slice::from_ref(&with),
            "{filter}: {}",
            r.raw
        );
    }
}

#[test]
fn a_create_with_more_members_than_one_transaction_holds_is_all_or_nothing() {
    let c = Client::new_tenant("rfc-grp");
    let names: Vec<String> = (0..60)
        .map(|i| format!("{}-{i}@rfc.example", unique("bulk")))
        .collect();
    let ids = create_users_parallel(&c, &names, 1);

    // A good create with 60 members: every member is there.
    let name = unique("Sixty");
    let r = c.post(
        "/Groups",
        &json!({"displayName": name, "members": member_values(&ids)}),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(group_members(&c, &r.id()), set(&ids));

    // The 60th member does not exist: the create fails and leaves nothing behind.
    let mut bad = ids.clone();
    bad[59] = "3f1b9a6e-0c1d-4e2f-8a3b-5c6d7e8f9a0b".to_string();
    let failed = unique("Half Created");
    let r = c.post(
        "/Groups",
        &json!({"displayName": failed, "members": member_values(&bad)}),
    );
    r.assert_scim_error(400, Some("invalidValue"));
    let lookup = list_filtered(&c, "/Groups", &format!("displayName eq \"{failed}\""), "");
    let left_behind = resources(&lookup)
        .first()
        .map(|g| g["members"].as_array().map_or(0, Vec::len));
    assert_eq!(
        lookup.total(),
        0,
        "a refused create must not leave a group (found one with {left_behind:?} members)"
    );
    assert_eq!(
        user_groups(&c, &ids[0]).len(),
        1,
        "only the good group lists the first user"
    );
    // Entra's retry of the same create must now succeed, not collide with a half-made group.
    let retry = c.post(
        "/Groups",
        &json!({"displayName": failed, "members": member_values(&ids[..59])}),
    );
    assert_eq!(retry.status, 201, "{}", retry.raw);
}
