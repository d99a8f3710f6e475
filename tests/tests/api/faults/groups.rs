//! Group membership (and a group create) under throttling, lost responses and transaction
//! conflicts: each member pair is written with its user, so the two views never disagree.

use super::*;

/// A group and `n` users, none a member yet (set up honouring `Retry-After`: no fault is on).
fn group_and_users(c: &Client, n: usize) -> (String, Vec<String>) {
    let setup = c.retrying();
    let gid = setup.create_group(&unique("Engineering")).id();
    let names: Vec<String> = (0..n).map(|_| login()).collect();
    (gid, create_users_parallel(&setup, &names, 4))
}

/// Every membership is stored twice (the member item and the user's groups): both agree.
fn assert_memberships_agree(c: &Client, gid: &str, users: &[String]) {
    let members = group_members(c, gid);
    for user in users {
        assert_eq!(
            user_groups(c, user).contains(gid),
            members.contains(user),
            "user {user}: its groups and the group's members disagree"
        );
    }
    assert_eq!(platform_member_ids(&c.tenant, gid), members);
}

#[test]
fn a_membership_change_throttled_past_the_retries_changes_neither_the_group_nor_its_users() {
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 3);
    let gpath = format!("/Groups/{gid}");
    let group_version = version(&c, &gpath);
    let user_versions: Vec<u64> = users
        .iter()
        .map(|u| version(&c, &format!("/Users/{u}")))
        .collect();

    let fault = Fault::always(TRANSACT, &gid, FaultKind::Throttle);
    c.patch(&gpath, &add_members_body(&users))
        .assert_retry_later(429);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    assert!(group_members(&c, &gid).is_empty());
    assert_eq!(version(&c, &gpath), group_version);
    for (user, v) in users.iter().zip(&user_versions) {
        assert!(user_groups(&c, user).is_empty(), "user {user}");
        assert_eq!(version(&c, &format!("/Users/{user}")), *v, "user {user}");
    }
    assert!(platform_member_ids(&c.tenant, &gid).is_empty());

    // The IdP's retry lands every member.
    let r = c.patch(&gpath, &add_members_body(&users));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&users));
    for user in &users {
        assert_eq!(user_groups(&c, user), BTreeSet::from([gid.clone()]));
    }
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn an_okta_rename_and_member_swap_throttled_twice_lands_whole_after_the_sdk_retries() {
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 2);
    let gpath = format!("/Groups/{gid}");
    assert_eq!(c.patch(&gpath, &add_members_body(&users[..1])).status, 204);
    let new_name = unique("Platform Team");
    let body = fixture(
        "okta/update_group_membership.json",
        &[
            ("GROUP_ID", &gid),
            ("DISPLAY_NAME", &new_name),
            ("REMOVED_ID", &users[0]),
            ("ADDED_ID", &users[1]),
            ("ADDED_USER_NAME", "added@faults.example"),
        ],
    );
    let fault = Fault::inject(TRANSACT, &gid, FaultKind::ProvisionedThroughput, 2);
    let r = c.patch(&gpath, &body);
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(fault.hits(), 2);
    drop(fault);
    let got = c.get(&gpath);
    assert_eq!(got.body["displayName"], new_name.as_str());
    assert_eq!(group_members(&c, &gid), set(&users[1..]));
    assert!(user_groups(&c, &users[0]).is_empty());
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn a_membership_change_whose_response_is_lost_once_is_applied_once() {
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 3);
    let user_versions: Vec<u64> = users
        .iter()
        .map(|u| version(&c, &format!("/Users/{u}")))
        .collect();
    let gpath = format!("/Groups/{gid}");
    let group_version = version(&c, &gpath);
    let fault = Fault::inject(TRANSACT, &gid, FaultKind::LostResponse, 1);
    let r = c.patch(&gpath, &add_members_body(&users));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    drop(fault);
    assert_eq!(group_members(&c, &gid), set(&users));
    // The SDK's retry reused the transaction's token and was answered as the completed
    // transaction: not even the group's version moved twice.
    assert_eq!(version(&c, &gpath), group_version + 1);
    for (user, v) in users.iter().zip(&user_versions) {
        assert_eq!(
            version(&c, &format!("/Users/{user}")),
            v + 1,
            "written once"
        );
    }
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn a_membership_change_whose_responses_are_all_lost_converges_when_the_idp_retries() {
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 3);
    let gpath = format!("/Groups/{gid}");
    let fault = Fault::always(TRANSACT, &gid, FaultKind::LostResponse);
    c.patch(&gpath, &add_members_body(&users))
        .assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // The first try landed whole.
    assert_eq!(group_members(&c, &gid), set(&users));
    let user_versions: Vec<u64> = users
        .iter()
        .map(|u| version(&c, &format!("/Users/{u}")))
        .collect();
    // The IdP's retry adds members that are members already: a no-op for every user.
    let r = c.patch(&gpath, &add_members_body(&users));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&users));
    for (user, v) in users.iter().zip(&user_versions) {
        assert_eq!(
            version(&c, &format!("/Users/{user}")),
            *v,
            "user {user} untouched"
        );
        assert_eq!(user_groups(&c, user), BTreeSet::from([gid.clone()]));
    }
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn an_okta_member_swap_whose_responses_are_all_lost_converges_when_okta_retries() {
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 2);
    let gpath = format!("/Groups/{gid}");
    assert_eq!(c.patch(&gpath, &add_members_body(&users[..1])).status, 204);
    let new_name = unique("Renamed Team");
    let swap = fixture(
        "okta/update_group_membership.json",
        &[
            ("GROUP_ID", &gid),
            ("DISPLAY_NAME", &new_name),
            ("REMOVED_ID", &users[0]),
            ("ADDED_ID", &users[1]),
            ("ADDED_USER_NAME", "added@faults.example"),
        ],
    );
    let fault = Fault::always(TRANSACT, &gid, FaultKind::LostResponse);
    c.patch(&gpath, &swap).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // The rename, the removal and the addition landed together.
    let landed = c.get(&gpath).body;
    assert_eq!(landed["displayName"], new_name.as_str());
    assert_eq!(group_members(&c, &gid), set(&users[1..]));
    let user_versions: Vec<u64> = users
        .iter()
        .map(|u| version(&c, &format!("/Users/{u}")))
        .collect();
    // Okta's retry: the removed user stays removed, the added one added, and neither is touched.
    let r = c.patch(&gpath, &swap);
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(c.get(&gpath).body["displayName"], new_name.as_str());
    assert_eq!(group_members(&c, &gid), set(&users[1..]));
    for (user, v) in users.iter().zip(&user_versions) {
        assert_eq!(
            version(&c, &format!("/Users/{user}")),
            *v,
            "user {user} untouched"
        );
    }
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn a_group_create_whose_responses_are_all_lost_converges_when_okta_retries() {
    let c = faults_client();
    let name = unique("Sales");
    let body = fixture("okta/create_group.json", &[("DISPLAY_NAME", &name)]);
    let fault = Fault::always(TRANSACT, &tenant_key(&c), FaultKind::LostResponse);
    c.post("/Groups", &body).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // Okta's retry is told the name is taken; its lookup by displayName finds the one group.
    c.post("/Groups", &body)
        .assert_scim_error(409, Some("uniqueness"));
    let found = list_filtered(
        &c,
        "/Groups",
        &format!("displayName eq \"{name}\""),
        "&excludedAttributes=members",
    );
    assert_eq!(found.status, 200, "{}", found.raw);
    assert_eq!(found.total(), 1, "{}", found.raw);
    assert_eq!(c.get("/Groups").total(), 1);
}

#[test]
fn a_membership_change_in_a_transaction_conflict_is_retried_by_the_handler() {
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 2);
    let gpath = format!("/Groups/{gid}");
    // Twice: the handler's own retries (the SDK does not retry a cancelled transaction) win.
    let fault = Fault::inject(TRANSACT, &gid, FaultKind::TransactionConflict, 2);
    let r = c.patch(&gpath, &add_members_body(&users[..1]));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(fault.hits(), 2);
    drop(fault);
    assert_eq!(group_members(&c, &gid), set(&users[..1]));
    // Always: 503 after the handler's attempts, and the second user is not a member.
    let fault = Fault::always(TRANSACT, &gid, FaultKind::TransactionConflict);
    c.patch(&gpath, &add_members_body(&users[1..]))
        .assert_retry_later(503);
    assert_eq!(fault.hits(), GROUP_WRITE_ATTEMPTS);
    drop(fault);
    assert_eq!(group_members(&c, &gid), set(&users[..1]));
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn a_membership_change_larger_than_one_transaction_failing_midway_converges_on_retry() {
    // 60 members are two transactions (49 member pairs fit beside the group's own write, see
    // docs/DATA-MODEL.md): the second fails, so the first stays written. Each member pair is
    // atomic and the change commutes, so the IdP's retry completes it.
    let c = faults_client();
    let (gid, users) = group_and_users(&c, 60);
    let gpath = format!("/Groups/{gid}");
    let fault = Fault::inject_after(TRANSACT, &gid, FaultKind::Throttle, 1_000_000, 1);
    c.patch(&gpath, &add_members_body(&users))
        .assert_retry_later(429);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    assert_eq!(group_members(&c, &gid).len(), 49);
    assert_memberships_agree(&c, &gid, &users);
    let r = c.patch(&gpath, &add_members_body(&users));
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&users));
    assert_memberships_agree(&c, &gid, &users);
}

#[test]
fn a_group_created_with_more_members_than_one_transaction_failing_midway_converges_via_put() {
    // A create with more members than fit beside the group's own items (48 here: the group, its
    // displayName guard and the tenant's group count leave room for 48 member pairs) writes the
    // group with the first 48 in one transaction, then the rest (every member was checked
    // first). When the rest fails the group exists with 48 members, each pair consistent; the IdP's recovery (its retry gets 409, it looks the
    // group up and PUTs the full member list, as Okta's custom apps do) completes it.
    let c = faults_client();
    let names: Vec<String> = (0..60).map(|_| login()).collect();
    let users = create_users_parallel(&c.retrying(), &names, 4);
    let name = unique("Everyone");
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": member_values(&users),
    });
    // The last member is in the second transaction only.
    let fault = Fault::always(TRANSACT, &users[59], FaultKind::Throttle);
    c.post("/Groups", &group).assert_retry_later(429);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    c.post("/Groups", &group)
        .assert_scim_error(409, Some("uniqueness"));
    let found = list_filtered(
        &c,
        "/Groups",
        &format!("displayName eq \"{name}\""),
        "&excludedAttributes=members",
    );
    assert_eq!(found.total(), 1, "{}", found.raw);
    let gid = resources(&found)[0]["id"].as_str().unwrap().to_string();
    assert_eq!(group_members(&c, &gid), set(&users[..48]));
    assert_memberships_agree(&c, &gid, &users);
    let r = c.put(&format!("/Groups/{gid}"), &group);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(group_members(&c, &gid), set(&users));
    assert_memberships_agree(&c, &gid, &users);
}
