//! Tenant and token administration through the admin Lambda (the platform backend's path:
//! a direct, IAM-authorised invoke with a JSON command) and the operator CLI, which run the
//! same library.

use std::time::Duration;

use integration_tests::{
    admin, admin_json, admin_lambda, issue_token, token_prefix, unique, unique_login,
    wait_out_token_cache, Client,
};
use serde_json::{json, Value};

fn ok(command: Value) -> Value {
    let answer = admin_lambda(&command);
    assert_eq!(answer["ok"], true, "{command} -> {answer}");
    answer["result"].clone()
}

fn refused(command: Value) -> String {
    let answer = admin_lambda(&command);
    assert_eq!(answer["ok"], false, "{command} -> {answer}");
    assert!(answer["error"]["message"].is_string(), "{answer}");
    answer["error"]["code"].as_str().unwrap().to_string()
}

fn tokens(tenant: &str) -> Vec<Value> {
    ok(json!({"command": "token.list", "tenant": tenant}))
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_admin_function_issues_lists_rotates_and_revokes_tokens() {
    let tenant = unique("adm");
    let created = ok(json!({"command": "tenant.create", "name": tenant}));
    assert_eq!(created["status"], "active");
    let issued = ok(json!({
        "command": "token.issue", "tenant": tenant, "name": "Okta - Production"
    }));
    let old_token = issued["token"].as_str().unwrap().to_string();
    let old_prefix = issued["prefix"].as_str().unwrap().to_string();
    assert!(old_token.starts_with(&old_prefix), "{issued}");
    let old = Client::with_token(&tenant, &old_token);
    assert_eq!(old.get("/Users").status, 200);

    let listed = tokens(&tenant);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["prefix"], old_prefix.as_str());
    assert_eq!(listed[0]["name"], "Okta - Production");
    assert!(listed[0]["created"].is_string());
    assert!(
        listed[0]["last_used"].is_string(),
        "used once: {}",
        listed[0]
    );
    assert!(listed[0]["revoked_at"].is_null());
    assert!(
        !listed[0].to_string().contains(&old_token[14..]),
        "a listing never shows the secret part"
    );

    // Rotation: a new token with the same name; the old one keeps working until revoked.
    let rotated = ok(json!({"command": "token.rotate", "tenant": tenant, "prefix": old_prefix}));
    assert_eq!(rotated["rotated_from"], old_prefix.as_str());
    assert_eq!(rotated["name"], "Okta - Production");
    let new = Client::with_token(&tenant, rotated["token"].as_str().unwrap());
    let user = new.create_user(&unique_login("x.example"));
    assert_eq!(user.status, 201);
    assert_eq!(old.get(&format!("/Users/{}", user.id())).status, 200);

    let revoked = ok(json!({"command": "token.revoke", "tenant": tenant, "prefix": old_prefix}));
    assert_eq!(revoked["revoked"], old_prefix.as_str());
    wait_out_token_cache();
    old.get("/Users").assert_scim_error(401, None);
    assert_eq!(new.get("/Users").status, 200);
    let listed = tokens(&tenant);
    assert_eq!(listed.len(), 2);
    let old_entry = listed
        .iter()
        .find(|t| t["prefix"] == old_prefix.as_str())
        .unwrap();
    assert!(old_entry["revoked_at"].is_string(), "{old_entry}");
    let new_entry = listed
        .iter()
        .find(|t| t["prefix"] != old_prefix.as_str())
        .unwrap();
    assert_eq!(new_entry["rotated_from"], old_prefix.as_str());
    assert!(new_entry["revoked_at"].is_null());

    // A revoked token can't be rotated (that would resurrect access).
    assert_eq!(
        refused(json!({"command": "token.rotate", "tenant": tenant, "prefix": old_prefix})),
        "token_not_found"
    );
}

/// Before any token the admin function issues: a look-alike listed first.
const EARLIER: &str = "2000-01-01T00:00:00Z";

#[test]
fn revoking_a_prefix_shared_with_a_revoked_token_revokes_the_live_one() {
    let tenant = unique("admpfx");
    ok(json!({"command": "tenant.create", "name": tenant}));
    let issued = ok(json!({"command": "token.issue", "tenant": tenant, "name": "Okta"}));
    let prefix = issued["prefix"].as_str().unwrap().to_string();
    let live = Client::with_token(&tenant, issued["token"].as_str().unwrap());
    assert_eq!(live.get("/Users").status, 200);
    // An older, already revoked token with the same 32-bit prefix.
    integration_tests::store::put_token_record(&tenant, &prefix, EARLIER, true);

    let revoked = ok(json!({"command": "token.revoke", "tenant": tenant, "prefix": prefix}));
    assert_eq!(revoked["revoked"], prefix.as_str());
    wait_out_token_cache();
    live.get("/Users").assert_scim_error(401, None);
}

#[test]
fn a_prefix_shared_by_two_live_tokens_is_refused_and_revokes_nothing() {
    let tenant = unique("admamb");
    ok(json!({"command": "tenant.create", "name": tenant}));
    let issued = ok(json!({"command": "token.issue", "tenant": tenant, "name": "Entra"}));
    let prefix = issued["prefix"].as_str().unwrap().to_string();
    let live = Client::with_token(&tenant, issued["token"].as_str().unwrap());
    integration_tests::store::put_token_record(&tenant, &prefix, EARLIER, false);

    for command in ["token.revoke", "token.rotate"] {
        assert_eq!(
            refused(json!({"command": command, "tenant": tenant, "prefix": prefix})),
            "ambiguous_prefix",
            "{command}"
        );
    }
    wait_out_token_cache();
    assert_eq!(live.get("/Users").status, 200, "the live token still works");
    let listed = tokens(&tenant);
    assert_eq!(listed.len(), 2, "no token issued by the refused rotation");
    assert!(
        listed.iter().all(|t| t["revoked_at"].is_null()),
        "{listed:?}"
    );
}

#[test]
fn a_tenant_disabled_through_the_admin_function_is_refused_until_enabled() {
    let tenant = unique("admdis");
    ok(json!({"command": "tenant.create", "name": tenant}));
    let issued = ok(json!({"command": "token.issue", "tenant": tenant, "name": "Entra"}));
    let c = Client::with_token(&tenant, issued["token"].as_str().unwrap());
    assert_eq!(c.get("/Groups").status, 200);
    ok(json!({"command": "tenant.disable", "tenant": tenant}));
    wait_out_token_cache();
    c.get("/Groups").assert_scim_error(401, None);
    let listed = ok(json!({"command": "tenant.list"}));
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tenant.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["status"], "disabled");
    ok(json!({"command": "tenant.enable", "tenant": tenant}));
    assert_eq!(c.get("/Groups").status, 200);
}

#[test]
fn tenant_settings_set_through_the_admin_function_decide_default_roles() {
    let tenant = unique("admset");
    ok(json!({"command": "tenant.create", "name": tenant}));
    let settings = ok(json!({
        "command": "tenant.settings", "tenant": tenant,
        "default_platform_role": "operator", "default_project_role": "VIEWER",
        "rate_limit_per_second": 250
    }));
    assert_eq!(
        settings,
        json!({"default_platform_role": "OPERATOR", "default_project_role": "VIEWER",
               "rate_limit_per_second": 250})
    );
    // One setting alone leaves the others as they were.
    ok(json!({"command": "tenant.settings", "tenant": tenant, "rate_limit_per_second": 300}));
    let got = ok(json!({"command": "tenant.get", "tenant": tenant}));
    assert_eq!(got["settings"]["default_project_role"], "VIEWER");
    assert_eq!(got["settings"]["rate_limit_per_second"], 300);

    let issued = ok(json!({"command": "token.issue", "tenant": tenant, "name": "t"}));
    let c = Client::with_token(&tenant, issued["token"].as_str().unwrap());
    let user = c.create_user(&unique_login("x.example"));
    let group = c.post(
        "/Groups",
        &json!({"displayName": unique("proj"), "members": [{"value": user.id()}]}),
    );
    assert_eq!(group.status, 201, "{}", group.raw);
    let platform_user =
        ok(json!({"command": "platform.user", "tenant": tenant, "user": user.id()}));
    assert_eq!(platform_user["platform_role"], "OPERATOR");
    let members = ok(json!({
        "command": "platform.members", "tenant": tenant, "project": group.id()
    }));
    assert_eq!(members[0]["project_role"], "VIEWER", "{members}");
}

#[test]
fn the_admin_function_answers_mistakes_with_stable_codes() {
    let tenant = unique("admerr");
    ok(json!({"command": "tenant.create", "name": tenant}));
    assert_eq!(
        refused(json!({"command": "tenant.drop", "tenant": tenant})),
        "bad_command"
    );
    assert_eq!(
        refused(json!({"command": "token.issue", "tenant": tenant})),
        "bad_command"
    );
    assert_eq!(
        refused(json!({"command": "token.issue", "tenant": unique("nobody"), "name": "x"})),
        "tenant_not_found"
    );
    assert_eq!(
        refused(json!({"command": "token.revoke", "tenant": tenant, "prefix": "scim_00000000"})),
        "token_not_found"
    );
    assert_eq!(
        refused(
            json!({"command": "tenant.settings", "tenant": tenant, "default_project_role": "OWNER"})
        ),
        "invalid_argument"
    );
    assert_eq!(
        refused(
            json!({"command": "tenant.settings", "tenant": tenant, "rate_limit_per_second": 0})
        ),
        "invalid_argument"
    );
    // Nothing was issued by the refused commands.
    assert!(tokens(&tenant).is_empty());
}

#[test]
fn the_cli_rotates_tokens_with_the_same_library() {
    let tenant = unique("clirot");
    let first = issue_token(&tenant);
    let prefix = token_prefix(&first);
    let out = admin(&["token", "rotate", "--tenant", &tenant, prefix]);
    let second = out.lines().last().unwrap().trim().to_string();
    assert_ne!(second, first);
    assert_eq!(
        Client::with_token(&tenant, &second).get("/Users").status,
        200
    );
    assert_eq!(
        Client::with_token(&tenant, &first).get("/Users").status,
        200
    );
    let listed = admin_json(&["token", "list", "--tenant", &tenant, "--json"]);
    let rotated = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["prefix"] == token_prefix(&second))
        .unwrap();
    assert_eq!(rotated["rotated_from"], prefix);
}

#[test]
fn administration_has_no_route_on_the_public_api() {
    let c = Client::new_tenant("admroute");
    for path in ["/Admin", "/admin", "/Tenants", "/Tokens"] {
        c.get(path).assert_scim_error(404, None);
        c.post(path, &json!({"command": "tenant.list"}))
            .assert_scim_error(404, None);
    }
    // Without a token, the answer is the same 404 or 401: never a tenant listing.
    let anonymous = c.send_raw("POST", "/Tenants", Some("{}"), &[], false);
    assert!(matches!(anonymous.status, 401 | 404), "{}", anonymous.raw);
    assert!(!anonymous.raw.contains("tenant_id"));
}

#[test]
fn the_platform_reads_a_tenants_audit_trail_through_the_admin_function() {
    let tenant = unique("admaudit");
    ok(json!({"command": "tenant.create", "name": tenant}));
    let issued = ok(json!({"command": "token.issue", "tenant": tenant, "name": "Okta"}));
    let prefix = issued["prefix"].as_str().unwrap().to_string();
    let c = Client::with_token(&tenant, issued["token"].as_str().unwrap());
    let user = c.create_user(&unique_login("x.example"));
    assert_eq!(user.status, 201);
    // The stream pump delivers changes to the audit function within a few seconds.
    let mut records = Vec::new();
    for _ in 0..80 {
        records = ok(json!({"command": "audit.list", "tenant": tenant, "limit": 10}))
            .as_array()
            .unwrap()
            .clone();
        if !records.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["action"], "user.create");
    assert_eq!(records[0]["actor"], prefix.as_str());
    assert_eq!(records[0]["resource_id"], user.id().as_str());
    // `since` set to the last record's sort key pages past it.
    let after = ok(json!({
        "command": "audit.list", "tenant": tenant, "since": records[0]["cursor"]
    }));
    assert_eq!(after, json!([]));
}
