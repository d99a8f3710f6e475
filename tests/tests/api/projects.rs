//! Groups become projects: what the platform reads (through the operator CLI, which uses the
//! same store API the platform would), roles from the deployment or the tenant.

use integration_tests::{admin, issue_token, unique, Client};
use serde_json::{json, Value};

fn members(tenant: &str, project: &str) -> Vec<Value> {
    let out = admin(&[
        "platform",
        "members",
        "--tenant",
        tenant,
        "--project",
        project,
    ]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

fn add_member(c: &Client, group: &str, user: &str) {
    let r = c.patch(
        &format!("/Groups/{group}"),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}]}),
    );
    assert_eq!(r.status, 204, "{}", r.raw);
}

#[test]
fn project_members_get_the_deployment_default_role_editor() {
    let c = Client::new_tenant("proj");
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    add_member(&c, &group, &user);
    let listed = members(&c.tenant, &group);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["user_id"], user);
    assert_eq!(listed[0]["project_role"], "EDITOR");
    assert_eq!(listed[0]["active"], true);
    let projects: Value =
        serde_json::from_str(&admin(&["platform", "projects", "--tenant", &c.tenant])).unwrap();
    assert_eq!(projects[0]["id"], group);
    let mine: Value = serde_json::from_str(&admin(&[
        "platform",
        "user-projects",
        "--tenant",
        &c.tenant,
        "--user",
        &user,
    ]))
    .unwrap();
    assert_eq!(
        mine,
        json!([{"project_id": group, "project_role": "EDITOR"}])
    );
}

#[test]
fn a_tenant_setting_changes_the_role_of_new_project_members() {
    let tenant = unique("viewer");
    let c = Client::with_token(&tenant, &issue_token(&tenant));
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--default-project-role",
        "viewer",
    ]);
    // The setting travels with the verified token; wait out the local cache (2 s).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    add_member(&c, &group, &user);
    assert_eq!(members(&tenant, &group)[0]["project_role"], "VIEWER");
}

#[test]
fn a_deactivated_member_stays_in_the_project_as_inactive() {
    let c = Client::new_tenant("proj");
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    add_member(&c, &group, &user);
    let r = c.patch(
        &format!("/Users/{user}"),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": false}}]}),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let listed = members(&c.tenant, &group);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["active"], false);
    let user_view = c.get(&format!("/Users/{user}"));
    assert_eq!(user_view.body["groups"][0]["value"], group);
}

#[test]
fn a_tenant_default_platform_role_applies_to_users_sent_without_one() {
    let tenant = unique("ops");
    let c = Client::with_token(&tenant, &issue_token(&tenant));
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--default-platform-role",
        "operator",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let id = c.create_user(&unique("u")).id();
    let platform: Value = serde_json::from_str(&admin(&[
        "platform", "user", "--tenant", &tenant, "--user", &id,
    ]))
    .unwrap();
    assert_eq!(platform["platform_role"], "OPERATOR");
}
