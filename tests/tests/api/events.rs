//! Provisioning events on the EventBridge bus (issue #13): every committed change of a tenant's
//! users, projects and memberships reaches a platform's rule as one event, derived from the
//! table's stream by the `events` function (fed locally by scripts/stream_pump.py), with the
//! tenant, the actor, a per-resource sequence and the platform-facing state. Read here the way a
//! platform reads them: a rule on the bus for one tenant, to an SQS queue.

use std::collections::BTreeSet;
use std::time::Duration;

use integration_tests::{
    add_members_body, admin_json, admin_lambda, fixture, patch_body, random_guid, tenant_id,
    token_prefix, unique, user_body, Client, EventTap, Fault, FaultKind,
};
use serde_json::{json, Value};

fn kinds<'a>(events: impl IntoIterator<Item = &'a Value>) -> Vec<&'a str> {
    events
        .into_iter()
        .map(|e| e["type"].as_str().unwrap_or("?"))
        .collect()
}

/// The events about one resource (`user` id, or `project` id), ordered by `seq` and then by
/// event id (events of one change share their `seq`), as a consumer orders them.
fn about<'a>(events: &'a [Value], key: &str, id: &str) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e[key]["id"] == id
                || (key == "user" && e["membership"]["userId"] == id)
                || (key == "project" && e["membership"]["projectId"] == id)
        })
        .collect();
    out.sort_by_key(|e| (e["seq"].as_u64(), e["id"].as_str().map(str::to_string)));
    out
}

fn assert_unique_ids(events: &[Value]) {
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), events.len(), "event ids repeat: {events:#?}");
}

#[test]
fn a_users_life_reaches_the_bus_as_ordered_events_with_actor_and_state() {
    let c = Client::new_tenant("events-user");
    let tenant = tenant_id(&c.tenant);
    let mut tap = EventTap::for_tenant(&tenant);
    let user_name = format!("{}@events.example", unique("ada"));
    let created = c.post(
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": user_name, "type": "work", "primary": true}],
        }),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let id = created.id();
    let path = format!("/Users/{id}");
    let rename = patch_body(json!([{"op": "replace", "path": "name.familyName", "value": "King"}]));
    assert_eq!(c.patch(&path, &rename).status, 200);
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&path, &off).status, 200);
    let on = patch_body(json!([{"op": "replace", "path": "active", "value": true}]));
    assert_eq!(c.patch(&path, &on).status, 200);
    assert_eq!(c.delete(&path).status, 204);

    let events = tap.wait_for(5);
    let mine = about(&events, "user", &id);
    assert_eq!(
        kinds(mine.iter().copied()),
        vec![
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated",
            "user.deleted"
        ],
        "{events:#?}"
    );
    assert_unique_ids(&events);
    let seqs: Vec<u64> = mine.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq grows per change: {seqs:?}"
    );
    for event in &mine {
        assert_eq!(event["v"], 1);
        assert_eq!(event["tenant"], tenant.as_str());
        assert_eq!(event["actor"], token_prefix(&c.token));
        assert_eq!(event["user"]["userName"], user_name.as_str());
        assert_eq!(event["user"]["platformRole"], "MEMBER");
    }
    assert_eq!(mine[0]["user"]["name"]["familyName"], "Lovelace");
    assert_eq!(mine[0]["user"]["emails"][0]["value"], user_name.as_str());
    assert_eq!(mine[1]["user"]["name"]["familyName"], "King");
    assert_eq!(mine[2]["user"]["active"], false);
    assert_eq!(mine[3]["user"]["active"], true);
    // The bus envelope: our source, the event type as the detail type.
    let envelope = &tap.envelopes()[0];
    assert_eq!(envelope["source"], "scim.provisioning");
    assert_eq!(envelope["detail-type"], envelope["detail"]["type"]);
    // Nothing else, and no event twice.
    let all = tap.settle(Duration::from_secs(2));
    assert_eq!(all.len(), 5, "{all:#?}");
}

#[test]
fn projects_and_their_memberships_reach_the_bus() {
    let c = Client::new_tenant("events-project");
    let tenant = tenant_id(&c.tenant);
    let mut tap = EventTap::for_tenant(&tenant);
    let uid = c
        .create_user(&format!("{}@events.example", unique("bo")))
        .id();
    let gid = c.create_group(&unique("Apollo")).id();
    let path = format!("/Groups/{gid}");
    let added = c.patch(&path, &add_members_body(&[uid.as_str()]));
    assert!(matches!(added.status, 200 | 204), "{}", added.raw);
    let new_name = unique("Artemis");
    let renamed = c.patch(
        &path,
        &patch_body(json!([{"op": "replace", "path": "displayName", "value": new_name}])),
    );
    assert!(matches!(renamed.status, 200 | 204), "{}", renamed.raw);
    let removed = c.patch(
        &path,
        &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
    );
    assert!(matches!(removed.status, 200 | 204), "{}", removed.raw);
    assert_eq!(c.delete(&path).status, 204);

    // user.created, project.created, member_added, renamed, member_removed, deleted.
    let events = tap.wait_for(6);
    assert_unique_ids(&events);
    let project: Vec<Value> = about(&events, "project", &gid)
        .into_iter()
        .filter(|e| e["project"].is_object())
        .cloned()
        .collect();
    assert_eq!(
        kinds(&project),
        vec!["project.created", "project.renamed", "project.deleted"],
        "{events:#?}"
    );
    assert_eq!(project[1]["project"]["name"], new_name.as_str());
    let memberships: Vec<Value> = events
        .iter()
        .filter(|e| e["membership"].is_object())
        .cloned()
        .collect();
    assert_eq!(
        kinds(&memberships),
        vec!["project.member_added", "project.member_removed"],
        "{events:#?}"
    );
    for m in &memberships {
        assert_eq!(m["membership"]["userId"], uid.as_str());
        assert_eq!(m["membership"]["projectId"], gid.as_str());
        assert_eq!(m["actor"], token_prefix(&c.token));
    }
    let all = tap.settle(Duration::from_secs(2));
    assert_eq!(all.len(), 6, "{all:#?}");
}

#[test]
fn refused_requests_publish_nothing_and_other_tenants_events_never_arrive() {
    let c = Client::new_tenant("events-refused");
    let other = Client::new_tenant("events-other");
    let mut tap = EventTap::for_tenant(&tenant_id(&c.tenant));
    let user_name = format!("{}@events.example", unique("cy"));
    c.create_user(&user_name);
    // A duplicate, a malformed PATCH, a member that does not exist: all refused.
    let duplicate = c.post("/Users", &user_body(&user_name));
    duplicate.assert_scim_error(409, Some("uniqueness"));
    let gid = c.create_group(&unique("Gemini")).id();
    let missing = "00000000-0000-4000-8000-000000000000";
    let bad = c.patch(&format!("/Groups/{gid}"), &add_members_body(&[missing]));
    assert_eq!(bad.status, 400, "{}", bad.raw);
    let nonsense = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "explode", "path": "displayName"}])),
    );
    assert_eq!(nonsense.status, 400, "{}", nonsense.raw);
    // Another tenant's change, made meanwhile.
    other.create_user(&format!("{}@events.example", unique("dee")));

    let events = tap.wait_for(2);
    assert_eq!(
        kinds(&events),
        vec!["user.created", "project.created"],
        "{events:#?}"
    );
    let all = tap.settle(Duration::from_secs(3));
    assert_eq!(all.len(), 2, "{all:#?}");
}

#[test]
fn events_the_bus_refuses_are_delayed_but_never_lost_nor_repeated() {
    let c = Client::new_tenant("events-fault");
    let tenant = tenant_id(&c.tenant);
    let mut tap = EventTap::for_tenant(&tenant);
    let user_name = format!("{}@events.example", unique("eve"));
    // Six puts carrying this user's event fail: the events function's four attempts in one
    // invocation, then it reports the record and the retried invocation gets two more.
    let fault = Fault::inject("PutEvents", &user_name, FaultKind::EntriesFailed, 6);
    c.create_user(&user_name);

    let events = tap.wait_for(1);
    assert_eq!(kinds(&events), vec!["user.created"], "{events:#?}");
    assert_eq!(events[0]["user"]["userName"], user_name.as_str());
    assert_eq!(fault.hits(), 6);
    let all = tap.settle(Duration::from_secs(3));
    assert_eq!(all.len(), 1, "{all:#?}");
}

/// The types of a tenant's events in the order a consumer applies them: by `seq` per resource,
/// then by event id; resources in the order their first event arrived.
fn applied_order(events: &[Value]) -> Vec<String> {
    let mut sorted: Vec<&Value> = events.iter().collect();
    sorted.sort_by_key(|e| (e["seq"].as_u64(), e["id"].as_str().map(str::to_string)));
    sorted
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn oktas_user_lifecycle_is_created_updated_deactivated_reactivated_each_exactly_once() {
    let c = Client::new_tenant("events-okta");
    let mut tap = EventTap::for_tenant(&tenant_id(&c.tenant));
    let user_name = format!("{}@okta.example", unique("olga"));
    let created = c.post(
        "/Users",
        &fixture(
            "okta/create_user.json",
            &[("USER_NAME", &user_name), ("EXTERNAL_ID", &unique("00u"))],
        ),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let path = format!("/Users/{}", created.id());
    // Okta's profile push: the whole user again, with a new family name.
    let mut profile = created.body.clone();
    profile["name"]["familyName"] = json!("Userova");
    assert_eq!(c.put(&path, &profile).status, 200);
    // The same PUT again changes nothing the platform sees: no event.
    assert_eq!(c.put(&path, &profile).status, 200);
    let off = c.patch(
        &path,
        &fixture("okta/deactivate_pathless_replace.json", &[]),
    );
    assert_eq!(off.status, 200, "{}", off.raw);
    // Okta may repeat a deactivation: still one `user.deactivated`.
    assert_eq!(
        c.patch(
            &path,
            &fixture("okta/deactivate_pathless_replace.json", &[])
        )
        .status,
        200
    );
    let on = c.patch(&path, &fixture("okta/reactivate_user.json", &[]));
    assert_eq!(on.status, 200, "{}", on.raw);

    let events = tap.wait_for(4);
    assert_eq!(
        applied_order(&events),
        [
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated"
        ],
        "{events:#?}"
    );
    assert_eq!(events[0]["user"]["name"]["familyName"], "User");
    assert_eq!(tap.settle(Duration::from_secs(3)).len(), 4);
}

#[test]
fn entras_multi_operation_patch_is_one_update_and_its_string_false_one_deactivation() {
    let c = Client::new_tenant("events-entra");
    let mut tap = EventTap::for_tenant(&tenant_id(&c.tenant));
    let user_name = format!("{}@entra.example", unique("emil"));
    let created = c.post(
        "/Users",
        &fixture(
            "entra/create_user.json",
            &[
                ("USER_NAME", &user_name),
                ("EXTERNAL_ID", &random_guid()),
                ("EMPLOYEE_NUMBER", "42"),
            ],
        ),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let id = created.id();
    let path = format!("/Users/{id}");
    let new_email = format!("{}@entra.example", unique("emil-new"));
    let update = c.patch(
        &path,
        &fixture(
            "entra/update_user_multiple_ops.json",
            &[
                ("NEW_EMAIL", &new_email),
                ("NEW_EXTERNAL_ID", &random_guid()),
            ],
        ),
    );
    assert_eq!(update.status, 200, "{}", update.raw);
    let off = c.patch(
        &path,
        &fixture("entra/disable_user_string_boolean.json", &[]),
    );
    assert_eq!(off.status, 200, "{}", off.raw);
    assert_eq!(c.delete(&path).status, 204);

    let events = tap.wait_for(4);
    assert_eq!(
        applied_order(&events),
        [
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.deleted"
        ],
        "{events:#?}"
    );
    let updated = events.iter().find(|e| e["type"] == "user.updated").unwrap();
    assert_eq!(updated["user"]["emails"][0]["value"], new_email.as_str());
    assert_eq!(updated["user"]["name"]["familyName"], "Pkqf");
    assert_eq!(tap.settle(Duration::from_secs(3)).len(), 4);
}

#[test]
fn the_event_log_lists_what_the_bus_received_in_order_page_by_page() {
    let c = Client::new_tenant("events-log");
    let mut tap = EventTap::for_tenant(&tenant_id(&c.tenant));
    let id = c
        .create_user(&format!("{}@events.example", unique("lou")))
        .id();
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&format!("/Users/{id}"), &off).status, 200);
    let delivered = tap.wait_for(2);
    assert_eq!(delivered.len(), 2, "{delivered:#?}");

    // The log is written before the bus, so once the bus has them the log does too.
    let logged = admin_json(&["events", "list", "--tenant", &c.tenant]);
    let logged = logged.as_array().expect("a list");
    assert_eq!(
        logged
            .iter()
            .map(|l| l["event"].clone())
            .collect::<Vec<_>>(),
        delivered,
        "the log holds exactly what the bus delivered, in order"
    );
    // Paging: one at a time, each page after the previous one's cursor.
    let first = admin_json(&["events", "list", "--tenant", &c.tenant, "--limit", "1"]);
    let cursor = first[0]["cursor"].as_str().expect("a cursor");
    assert_eq!(first[0]["event"]["type"], "user.created");
    let second = admin_json(&[
        "events", "list", "--tenant", &c.tenant, "--after", cursor, "--limit", "5",
    ]);
    let second: Vec<Value> = second
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["event"].clone())
        .collect();
    assert_eq!(kinds(&second), ["user.deactivated"]);
    // A time bound: nothing before the first event's time.
    let time = delivered[0]["time"].as_str().unwrap();
    let before = admin_json(&["events", "list", "--tenant", &c.tenant, "--before", time]);
    assert_eq!(before, json!([]));
    // The admin Lambda serves the same list.
    let answer = admin_lambda(&json!({"command": "events.list", "tenant": c.tenant, "limit": 1}));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["result"][0]["cursor"], cursor);
}

#[test]
fn a_replay_delivers_the_same_events_again_with_their_ids() {
    let c = Client::new_tenant("events-replay");
    let mut tap = EventTap::for_tenant(&tenant_id(&c.tenant));
    let id = c
        .create_user(&format!("{}@events.example", unique("rae")))
        .id();
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&format!("/Users/{id}"), &off).status, 200);
    let original = tap.wait_for(2);
    assert_eq!(original.len(), 2, "{original:#?}");

    // The platform lost its state: the operator replays the tenant's log (the CLI), then the
    // platform's backend asks for the same through the admin Lambda.
    let replayed = admin_json(&["events", "replay", "--tenant", &c.tenant]);
    assert_eq!(replayed["replayed"], 2, "{replayed}");
    assert!(replayed.get("next").is_none() || replayed["next"].is_null());
    let answer = admin_lambda(&json!({"command": "events.replay", "tenant": c.tenant}));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["result"]["replayed"], 2);

    let all = tap.wait_for(6);
    assert_eq!(all.len(), 6, "{all:#?}");
    assert_eq!(&all[2..4], &original[..], "the same events, ids included");
    assert_eq!(&all[4..6], &original[..]);
}

/// `meta.version` (`W/"3"`) as a number.
fn version_of(resource: &Value) -> u64 {
    resource["meta"]["version"]
        .as_str()
        .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok())
        .unwrap_or_else(|| panic!("no version: {resource}"))
}

/// Every page of a snapshot, through `next`, one entry per page.
fn snapshot_all(tenant: &str, kind: &str) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut command =
            json!({"command": "tenant.snapshot", "tenant": tenant, "kind": kind, "limit": 1});
        if let Some(a) = &after {
            command["after"] = json!(a);
        }
        let answer = admin_lambda(&command);
        assert_eq!(answer["ok"], true, "{answer}");
        pages += 1;
        all.extend(
            answer["result"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        match answer["result"]["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return (all, pages),
        }
        assert!(pages < 10, "the snapshot does not end: {all:#?}");
    }
}

#[test]
fn a_snapshot_gives_each_user_and_project_at_the_seq_of_its_latest_event() {
    let c = Client::new_tenant("events-snapshot");
    let mut tap = EventTap::for_tenant(&tenant_id(&c.tenant));
    let names: Vec<String> = (0..3)
        .map(|i| format!("{i}-{}@snapshot.example", unique("sam")))
        .collect();
    let ids: Vec<String> = names.iter().map(|n| c.create_user(n).id()).collect();
    let gid = c.create_group(&unique("Orion")).id();
    let added = c.patch(&format!("/Groups/{gid}"), &add_members_body(&ids[..2]));
    assert!(matches!(added.status, 200 | 204), "{}", added.raw);
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&format!("/Users/{}", ids[1]), &off).status, 200);
    assert_eq!(c.delete(&format!("/Users/{}", ids[2])).status, 204);
    // 3 created, the project, 2 members added, 1 deactivated, 1 deleted.
    let events = tap.wait_for(8);
    assert_eq!(events.len(), 8, "{events:#?}");

    let (users, pages) = snapshot_all(&c.tenant, "users");
    assert!(pages >= 2, "one user a page");
    let listed: Vec<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(
        listed,
        [ids[0].as_str(), ids[1].as_str()],
        "in userName order, the deleted one gone"
    );
    for (user, id) in users.iter().zip(&ids) {
        let scim = c.get(&format!("/Users/{id}"));
        assert_eq!(user["seq"], version_of(&scim.body), "{user}");
        let latest = events
            .iter()
            .filter(|e| e["user"]["id"] == id.as_str() || e["membership"]["userId"] == id.as_str())
            .filter_map(|e| e["seq"].as_u64())
            .max();
        assert_eq!(user["seq"].as_u64(), latest, "the seq of its latest event");
        assert_eq!(user["projectIds"], json!([gid]));
        assert_eq!(user["userName"], scim.body["userName"]);
    }
    assert_eq!(users[0]["active"], true);
    assert_eq!(users[1]["active"], false);

    let (projects, _) = snapshot_all(&c.tenant, "projects");
    let [project] = projects.as_slice() else {
        panic!("one project: {projects:#?}");
    };
    assert_eq!(project["id"], gid.as_str());
    let group = c.get(&format!("/Groups/{gid}"));
    assert_eq!(project["name"], group.body["displayName"]);
    assert_eq!(project["seq"], version_of(&group.body));
    // Another tenant's snapshot does not see them, even when handed this tenant's position.
    let other = Client::new_tenant("events-snapshot-other");
    let (theirs, _) = snapshot_all(&other.tenant, "users");
    assert!(theirs.is_empty(), "{theirs:#?}");
    let first = admin_lambda(
        &json!({"command": "tenant.snapshot", "tenant": c.tenant, "kind": "users", "limit": 1}),
    );
    let position = first["result"]["next"].as_str().expect("a next page");
    let crossed = admin_lambda(
        &json!({"command": "tenant.snapshot", "tenant": other.tenant,
        "kind": "users", "after": position}),
    );
    assert_eq!(crossed["ok"], true, "{crossed}");
    assert_eq!(crossed["result"]["items"], json!([]), "{crossed}");
}
