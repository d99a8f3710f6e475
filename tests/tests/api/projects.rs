//! Groups become projects: what the platform reads (through the operator CLI, which uses the
//! same store API the platform would), roles from the deployment or the tenant.

use integration_tests::{
    add_members, admin, patch_body, platform_members, platform_projects, platform_user,
    platform_user_projects, unique, wait_out_token_cache, Client,
};
use serde_json::json;

#[test]
fn project_members_get_the_deployment_default_role_editor() {
    let c = Client::new_tenant("proj");
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    add_members(&c, &group, &[&user]);
    let listed = platform_members(&c.tenant, &group);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["user_id"], user);
    assert_eq!(listed[0]["project_role"], "EDITOR");
    assert_eq!(listed[0]["active"], true);
    let projects = platform_projects(&c.tenant);
    assert_eq!(projects[0]["id"], group);
    let mine = platform_user_projects(&c.tenant, &user);
    assert_eq!(
        mine,
        json!([{"project_id": group, "project_role": "EDITOR"}])
    );
}

#[test]
fn a_tenant_setting_changes_the_role_of_new_project_members() {
    let tenant = unique("viewer");
    let c = Client::for_tenant(&tenant);
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--default-project-role",
        "viewer",
    ]);
    // The setting travels with the verified token; wait out the local cache (2 s).
    wait_out_token_cache();
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    add_members(&c, &group, &[&user]);
    assert_eq!(
        platform_members(&tenant, &group)[0]["project_role"],
        "VIEWER"
    );
}

#[test]
fn a_deactivated_member_stays_in_the_project_as_inactive() {
    let c = Client::new_tenant("proj");
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    add_members(&c, &group, &[&user]);
    let r = c.patch(
        &format!("/Users/{user}"),
        &patch_body(json!([{"op": "replace", "value": {"active": false}}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let listed = platform_members(&c.tenant, &group);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["active"], false);
    let user_view = c.get(&format!("/Users/{user}"));
    assert_eq!(user_view.body["groups"][0]["value"], group);
}

#[test]
fn a_tenant_default_platform_role_applies_to_users_sent_without_one() {
    let tenant = unique("ops");
    let c = Client::for_tenant(&tenant);
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--default-platform-role",
        "operator",
    ]);
    wait_out_token_cache();
    let id = c.create_user(&unique("u")).id();
    assert_eq!(platform_user(&tenant, &id)["platform_role"], "OPERATOR");
}
