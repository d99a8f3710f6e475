//! What a list, a search or a membership change costs (issue #12): the page, not the tenant.
//! DynamoDB pages a Query at 1 MB, so a tenant of large users shows any cost that grows with
//! the tenant as extra calls (`x-scim-dynamodb-calls`); so does a membership change that writes
//! what changes nothing.

use std::collections::BTreeSet;

use integration_tests::{
    add_members, group_members, parallel_map, patch_body, resource_ids, unique, unique_login,
    user_body, users, Client,
};
use serde_json::{json, Value};

/// Users of about 40 KB each: 40 of them fill more than one 1 MB Query page.
const LARGE_USERS: usize = 40;

fn large_user(name: &str) -> Value {
    let mut body = user_body(name);
    body["title"] = json!("t".repeat(40_000));
    body
}

/// A tenant holding [`LARGE_USERS`] large users; returns the client and their ids.
fn tenant_of_large_users(prefix: &str) -> (Client, Vec<String>) {
    let c = Client::new_tenant(prefix);
    let names: Vec<String> = (0..LARGE_USERS)
        .map(|_| unique_login("example.com"))
        .collect();
    let ids = parallel_map(&names, 4, |name| {
        let r = c.post("/Users", &large_user(name));
        assert_eq!(r.status, 201, "{}", r.raw);
        r.id()
    });
    (c, ids)
}

#[test]
fn total_results_cost_one_call_however_large_the_tenant() {
    let (c, _) = tenant_of_large_users("cost-total");
    let page = c.get("/Users?count=1&attributes=userName");
    assert_eq!(page.status, 200, "{}", page.raw);
    assert_eq!(page.total(), LARGE_USERS as u64);
    // The count (one Query of the count shards), the page, and where it ended (for the next
    // page): never the tenant's items.
    assert_eq!(page.calls(), 3, "{:?}", page.headers);
    let none = c.get("/Users?count=0");
    assert_eq!((none.total(), none.calls()), (LARGE_USERS as u64, 1));
}

#[test]
fn totals_follow_creates_refusals_and_deletes() {
    let c = Client::new_tenant("cost-count");
    let ids = users(&c, 3);
    let name = unique_login("example.com");
    assert_eq!(c.post("/Users", &user_body(&name)).status, 201);
    assert_eq!(
        c.post("/Users", &user_body(&name)).status,
        409,
        "refused: not counted"
    );
    assert_eq!(c.delete(&format!("/Users/{}", ids[0])).status, 204);
    assert_eq!(
        c.delete(&format!("/Users/{}", ids[0])).status,
        404,
        "not counted twice"
    );
    assert_eq!(c.get("/Users?count=0").total(), 3);
    let g = c.create_group(&unique("g")).id();
    c.create_group(&unique("g"));
    assert_eq!(c.delete(&format!("/Groups/{g}")).status, 204);
    assert_eq!(c.get("/Groups?count=0").total(), 1);
}

#[test]
fn paging_the_way_okta_imports_costs_the_same_for_every_page() {
    let (c, ids) = tenant_of_large_users("cost-import");
    let mut seen = BTreeSet::new();
    let mut costs = Vec::new();
    let mut start = 1;
    while start <= LARGE_USERS {
        let page = c.get(&format!(
            "/Users?startIndex={start}&count=5&attributes=userName"
        ));
        assert_eq!(page.status, 200, "{}", page.raw);
        assert_eq!(page.body["startIndex"], start);
        seen.extend(resource_ids(&page));
        costs.push(page.calls());
        start += 5;
    }
    assert_eq!(seen, ids.iter().cloned().collect(), "every user once");
    // After the first page, each starts where the previous one ended: the count, the
    // remembered position, the page and where it ends. Skipping 35 large users would have
    // cost more pages of counting.
    assert!(costs[1..].iter().all(|c| *c <= 4), "{costs:?}");
    assert_eq!(costs[1], costs[costs.len() - 2], "{costs:?}");
}

#[test]
fn a_client_that_jumps_still_gets_the_right_page() {
    let c = Client::new_tenant("cost-jump");
    users(&c, 7);
    let all = resource_ids(&c.get("/Users?count=100"));
    let page = c.get("/Users?startIndex=4&count=2");
    assert_eq!(resource_ids(&page), all[3..5].to_vec());
    let past = c.get("/Users?startIndex=50&count=2");
    assert_eq!((past.total(), resource_ids(&past).len()), (7, 0));
}

#[test]
fn cursor_paging_walks_the_tenant_once_and_costs_each_page_alike() {
    let (c, ids) = tenant_of_large_users("cost-cursor");
    let mut seen = Vec::new();
    let mut costs = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = c.get(&format!(
            "/Users?cursor={cursor}&count=7&attributes=userName"
        ));
        assert_eq!(page.status, 200, "{}", page.raw);
        assert_eq!(page.total(), LARGE_USERS as u64);
        assert!(page.body.get("startIndex").is_none(), "{}", page.raw);
        seen.extend(resource_ids(&page));
        costs.push(page.calls());
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), ids.len(), "no repeats");
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>(),
        ids.iter().collect(),
        "every user"
    );
    // The first page also remembers where it ended (it is offset 0 to an index client too).
    assert!(
        costs[0] <= 3 && costs[1..].iter().all(|c| *c == 2),
        "{costs:?}"
    );

    let config = c.get("/ServiceProviderConfig");
    assert_eq!(config.body["pagination"]["cursor"], true);
    assert_eq!(config.body["pagination"]["index"], true);
}

#[test]
fn forged_or_mixed_cursors_are_scim_400s() {
    let c = Client::new_tenant("cost-forged");
    users(&c, 3);
    for forged in ["%%%", "b3h5eg", "czEyMw"] {
        c.get(&format!("/Users?cursor={forged}"))
            .assert_scim_error(400, Some("invalidCursor"));
    }
    c.get("/Users?cursor=&startIndex=2")
        .assert_scim_error(400, Some("invalidValue"));
    let r = c.post(
        "/Users/.search",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "cursor": "", "count": 2}),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(r.body["nextCursor"].is_string(), "{}", r.raw);
}

#[test]
fn another_tenants_cursor_only_moves_within_the_callers_tenant() {
    let a = Client::new_tenant("cost-cur-a");
    let b = Client::new_tenant("cost-cur-b");
    users(&a, 3);
    let b_ids: BTreeSet<String> = users(&b, 3).into_iter().collect();
    let first = a.get("/Users?cursor=&count=1");
    let cursor = first.body["nextCursor"].as_str().unwrap().to_string();
    let r = b.get(&format!("/Users?cursor={cursor}&count=10"));
    assert_eq!(r.status, 200, "{}", r.raw);
    for id in resource_ids(&r) {
        assert!(b_ids.contains(&id), "{id} is not B's");
    }
}

#[test]
fn a_page_of_groups_reads_no_member_list() {
    let c = Client::new_tenant("cost-groups");
    let members = users(&c, 2);
    let groups: Vec<String> = (0..20).map(|_| c.create_group(&unique("g")).id()).collect();
    parallel_map(&groups, 4, |g| add_members(&c, g, &members));
    let page = c.get("/Groups?count=20");
    assert_eq!(page.status, 200, "{}", page.raw);
    assert_eq!(resource_ids(&page).len(), 20);
    for group in page.body["Resources"].as_array().unwrap() {
        assert!(group.get("members").is_none(), "{group}");
    }
    assert_eq!(page.calls(), 2, "the count and the page");
    // By id, a group is complete.
    assert_eq!(group_members(&c, &groups[0]).len(), 2);
}

#[test]
fn groups_of_a_member_are_found_from_the_users_own_group_list() {
    let c = Client::new_tenant("cost-member-of");
    let ids = users(&c, 2);
    let mine: Vec<String> = (0..3).map(|_| c.create_group(&unique("g")).id()).collect();
    for _ in 0..30 {
        c.create_group(&unique("other"));
    }
    for g in &mine {
        add_members(&c, g, &ids[..1]);
    }
    let r = c.get(&format!(
        "/Groups?filter=members.value%20eq%20%22{}%22",
        ids[0]
    ));
    assert_eq!(r.status, 200, "{}", r.raw);
    let found: BTreeSet<String> = resource_ids(&r).into_iter().collect();
    assert_eq!(found, mine.iter().cloned().collect());
    assert_eq!(r.calls(), 2, "the user, then its groups");
    let none = c.get(&format!(
        "/Groups?filter=members.value%20eq%20%22{}%22",
        ids[1]
    ));
    assert_eq!(none.total(), 0);
    c.get("/Groups?filter=members.display%20eq%20%22x%22")
        .assert_scim_error(400, Some("invalidFilter"));
}

#[test]
fn removing_non_members_writes_nothing_and_keeps_the_etag() {
    let c = Client::new_tenant("cost-noop");
    let member = users(&c, 1);
    let g = c.create_group(&unique("g")).id();
    add_members(&c, &g, &member);
    let before = c.get(&format!("/Groups/{g}"));
    let strangers: Vec<Value> = (0..500)
        .map(|_| json!({"value": integration_tests::random_guid()}))
        .collect();
    let r = c.patch(
        &format!("/Groups/{g}"),
        &patch_body(json!([
            {"op": "remove", "path": "members", "value": strangers},
            {"op": "add", "path": "members", "value": [{"value": member[0]}]},
        ])),
    );
    assert!(matches!(r.status, 200 | 204), "{}", r.raw);
    // The group, then one read per 100 ids named: no transaction.
    assert_eq!(r.calls(), 1 + 6, "{:?}", r.headers);
    let after = c.get(&format!("/Groups/{g}"));
    assert_eq!(
        after.body["meta"]["version"],
        before.body["meta"]["version"]
    );
    assert_eq!(after.header("etag"), before.header("etag"));
    assert_eq!(group_members(&c, &g), member.into_iter().collect());
}

#[test]
fn no_membership_survives_a_group_delete_racing_a_large_add() {
    let c = Client::new_tenant("cost-race");
    let names: Vec<String> = (0..300).map(|_| unique_login("example.com")).collect();
    let ids = integration_tests::create_users_parallel(&c, &names, 4);
    for round in 0..3 {
        let g = c.create_group(&unique("race")).id();
        let (patched, deleted) = std::thread::scope(|s| {
            let adding = s.spawn(|| {
                c.patch(
                    &format!("/Groups/{g}"),
                    &integration_tests::add_members_body(&ids),
                )
                .status
            });
            std::thread::sleep(std::time::Duration::from_millis(40 + 40 * round));
            let deleting = s.spawn(|| c.delete(&format!("/Groups/{g}")).status);
            (adding.join().unwrap(), deleting.join().unwrap())
        });
        assert!(
            matches!(patched, 204 | 404 | 412),
            "PATCH answered {patched}"
        );
        assert_eq!(deleted, 204);
        c.get(&format!("/Groups/{g}")).assert_scim_error(404, None);
        let naming: Vec<&String> = ids
            .iter()
            .filter(|u| {
                c.get(&format!("/Users/{u}?attributes=groups")).body["groups"]
                    .as_array()
                    .is_some_and(|gs| gs.iter().any(|x| x["value"] == g.as_str()))
            })
            .collect();
        assert!(
            naming.is_empty(),
            "round {round}: {} users name the deleted group",
            naming.len()
        );
    }
}
