//! The audit trail (issue #5, point 6): every change a tenant's token makes is recorded in the
//! tenant's audit partition, derived from the table's stream by the `audit` function (fed locally
//! by scripts/stream_pump.py), read here through the store API the platform uses.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use integration_tests::store::{runtime, store, tenant_id};
use integration_tests::{patch_body, token_prefix, unique, Client, ENTERPRISE};
use scim_core::ids::TenantId;
use scim_store::{AuditRecord, AuditTrail, Store};
use serde_json::{json, Value};

/// How long the stream pump and the audit function may take to catch up. Usually a second or
/// two; but the local server is serialised, so while another test writes thousands of members
/// the audit trail (one more write per change) falls behind and drains afterwards.
const CATCH_UP: Duration = Duration::from_secs(180);

/// The tenant's audit records once at least `expected` have arrived (oldest first).
fn audit_records(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    tenant: &TenantId,
    expected: usize,
) -> Vec<AuditRecord> {
    let started = Instant::now();
    loop {
        let records = rt.block_on(store.records(tenant, None, 1000)).unwrap();
        if records.len() >= expected || started.elapsed() > CATCH_UP {
            return records;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn retention_days() -> u64 {
    std::env::var("SCIM_AUDIT_RETENTION_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(90)
}

#[test]
fn every_change_is_audited_with_its_actor_in_order_without_values() {
    let rt = runtime();
    let store = store(&rt);
    let c = Client::new_tenant("audit");
    let actor = token_prefix(&c.token);
    let user_name = format!("{}@audit.example", unique("ann"));
    let created = c.post(
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Annabel", "familyName": "Zyxwright"},
            "emails": [{"value": user_name, "type": "work"}],
        }),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(
        created.calls(),
        1,
        "auditing adds no DynamoDB call to create"
    );
    let uid = created.id();
    let user = format!("/Users/{uid}");
    let patched = c.patch(
        &user,
        &patch_body(json!([
            {"op": "replace", "path": "displayName", "value": "Annabel Quokka"},
            {"op": "add", "path": "title", "value": "Chief Wombat"},
            {"op": "replace", "path": "name.familyName", "value": "Quokkaford"},
            {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Vexillology"},
        ])),
    );
    assert_eq!(patched.status, 200, "{}", patched.raw);
    let off = c.patch(
        &user,
        &patch_body(json!([{"op": "replace", "value": {"active": false}}])),
    );
    assert_eq!(off.status, 200, "{}", off.raw);
    assert_eq!(
        off.calls(),
        1,
        "auditing adds no DynamoDB call to deactivation"
    );
    let on = c.patch(
        &user,
        &patch_body(json!([{"op": "replace", "path": "active", "value": true}])),
    );
    assert_eq!(on.status, 200, "{}", on.raw);
    let group_name = unique("Audited Project");
    let gid = c.create_group(&group_name).id();
    let group = format!("/Groups/{gid}");
    let add = c.patch(
        &group,
        &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}])),
    );
    assert_eq!(add.status, 204, "{}", add.raw);
    let remove = c.patch(
        &group,
        &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
    );
    assert_eq!(remove.status, 204, "{}", remove.raw);
    let new_name = unique("Renamed Project");
    let renamed = c.patch(
        &group,
        &patch_body(json!([{"op": "replace", "path": "displayName", "value": new_name}])),
    );
    assert_eq!(renamed.status, 204, "{}", renamed.raw);
    // A refused request changes nothing, so it leaves no audit record.
    c.post("/Users", &json!({"userName": user_name.to_uppercase()}))
        .assert_scim_error(409, Some("uniqueness"));
    assert_eq!(c.delete(&user).status, 204);
    assert_eq!(c.delete(&group).status, 204);

    let tenant = tenant_id(&c.tenant);
    let mut records = audit_records(&rt, &store, &tenant, 10);
    // Nothing more is on its way: the stream has been drained by now.
    std::thread::sleep(Duration::from_millis(1500));
    if records.len() == 10 {
        records = rt.block_on(store.records(&tenant, None, 1000)).unwrap();
    }
    let summary: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.resource_type.as_str(),
                r.resource_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("user.create", "User", uid.as_str()),
            ("user.update", "User", uid.as_str()),
            ("user.deactivate", "User", uid.as_str()),
            ("user.reactivate", "User", uid.as_str()),
            ("group.create", "Group", gid.as_str()),
            ("member.add", "User", uid.as_str()),
            ("member.remove", "User", uid.as_str()),
            ("group.update", "Group", gid.as_str()),
            ("user.delete", "User", uid.as_str()),
            ("group.delete", "Group", gid.as_str()),
        ],
        "{records:#?}"
    );
    assert!(records.iter().all(|r| r.actor == actor), "{records:#?}");
    assert!(records.iter().all(|r| r.tenant_id == tenant.as_str()));
    let attributes: Vec<Vec<&str>> = records
        .iter()
        .map(|r| r.attributes.iter().map(String::as_str).collect())
        .collect();
    let department = format!("{ENTERPRISE}:department");
    assert_eq!(attributes[0], ["active", "emails", "name", "userName"]);
    assert_eq!(
        attributes[1],
        ["displayName", "name", "title", department.as_str()]
    );
    assert_eq!(attributes[2], ["active"]);
    assert_eq!(attributes[3], ["active"]);
    assert_eq!(attributes[4], ["displayName"]);
    assert_eq!(attributes[7], ["displayName"]);
    assert_eq!(records[5].groups_added, [gid.as_str()]);
    assert_eq!(records[6].groups_removed, [gid.as_str()]);
    // The audit time is the change's own time, as the client saw it in meta.lastModified.
    assert_eq!(
        records[0].at,
        created.body["meta"]["lastModified"].as_str().unwrap()
    );
    assert_eq!(
        records[1].at,
        patched.body["meta"]["lastModified"].as_str().unwrap()
    );
    assert_eq!(
        records[2].at,
        off.body["meta"]["lastModified"].as_str().unwrap()
    );
    let versions: Vec<Option<u64>> = records.iter().map(|r| r.version).collect();
    assert_eq!(versions[..4], [Some(1), Some(2), Some(3), Some(4)]);
    // Kept for the retention period (DynamoDB's TTL removes it after expires_at).
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expected = now + retention_days() * 86_400;
    for r in &records {
        assert!(
            r.expires_at.abs_diff(expected) < 300,
            "expires_at {} is not about {} days ahead",
            r.expires_at,
            retention_days()
        );
    }
    // Names only: no value the client sent is in the trail.
    let stored = serde_json::to_string(
        &records
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect::<Vec<Value>>(),
    )
    .unwrap();
    for value in [
        user_name.as_str(),
        "Annabel",
        "Zyxwright",
        "Quokka",
        "Chief Wombat",
        "Vexillology",
        group_name.as_str(),
        new_name.as_str(),
        c.token.as_str(),
    ] {
        assert!(
            !stored.contains(value),
            "{value:?} is in the audit trail: {stored}"
        );
    }
}

#[test]
fn a_tenant_reads_only_its_own_audit_trail() {
    let rt = runtime();
    let store = store(&rt);
    let a = Client::new_tenant("audit-a");
    let b = Client::new_tenant("audit-b");
    let a_user = a.create_user(&unique("a")).id();
    let b_user = b.create_user(&unique("b")).id();
    let a_records = audit_records(&rt, &store, &tenant_id(&a.tenant), 1);
    let b_records = audit_records(&rt, &store, &tenant_id(&b.tenant), 1);
    assert_eq!(a_records.len(), 1, "{a_records:#?}");
    assert_eq!(b_records.len(), 1, "{b_records:#?}");
    assert_eq!(
        (
            a_records[0].resource_id.as_str(),
            a_records[0].actor.as_str()
        ),
        (a_user.as_str(), token_prefix(&a.token))
    );
    assert_eq!(
        (
            b_records[0].resource_id.as_str(),
            b_records[0].actor.as_str()
        ),
        (b_user.as_str(), token_prefix(&b.token))
    );
    // `since` continues after a record's sort key (paging), or from a time.
    let tenant = tenant_id(&a.tenant);
    let after = rt
        .block_on(store.records(&tenant, Some(&a_records[0].cursor), 10))
        .unwrap();
    assert!(after.is_empty(), "{after:#?}");
    let from = rt
        .block_on(store.records(&tenant, Some(&a_records[0].at[..10]), 10))
        .unwrap();
    assert_eq!(from.len(), 1);
}
