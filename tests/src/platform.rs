//! The operator's side: the real admin CLI and the admin Lambda, tokens, and the platform's view
//! of a tenant (users, projects and members as the platform reads them, through the same store
//! API the platform uses).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::client::{agent, base_url};

/// Runs the real admin CLI against the local stack and returns its stdout.
pub fn admin(args: &[&str]) -> String {
    let bin = std::env::var("SCIM_ADMIN_BIN").expect("SCIM_ADMIN_BIN is not set");
    let out = Command::new(bin)
        .args(args)
        .output()
        .expect("run scim-admin");
    assert!(
        out.status.success(),
        "scim-admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the admin CLI and parses its JSON output.
pub fn admin_json(args: &[&str]) -> Value {
    let out = admin(args);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("scim-admin {args:?} printed {out:?}: {e}"))
}

/// Invokes the admin Lambda with a JSON command the way the platform's backend does (the Lambda
/// Invoke API; under `cargo lambda watch` it is served on the stack's port without IAM).
/// Returns the function's JSON answer (`{"ok": ..., "result" | "error": ...}`).
pub fn admin_lambda(command: &Value) -> Value {
    let base = base_url();
    let root = base.trim_end_matches("/scim/v2");
    let url = format!("{root}/2015-03-31/functions/admin/invocations");
    let mut response = agent()
        .post(&url)
        .header("Content-Type", "application/json")
        .send(command.to_string())
        .unwrap_or_else(|e| panic!("invoke admin: {e}"));
    let raw = response.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(response.status().as_u16(), 200, "invoke admin: {raw}");
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("admin answered {raw:?}: {e}"))
}

/// Issues a token for `tenant` (creating it), as `make token` does.
pub fn issue_token(tenant: &str) -> String {
    let out = admin(&[
        "token",
        "issue",
        "--tenant",
        tenant,
        "--name",
        "tests",
        "--create-tenant",
    ]);
    out.lines().last().unwrap_or_default().trim().to_string()
}

/// `scim_1a2b3c4d` of `scim_1a2b3c4d_<secret>`: what listings, logs and the audit trail show.
pub fn token_prefix(token: &str) -> &str {
    let end = token
        .match_indices('_')
        .nth(1)
        .map_or(token.len(), |(i, _)| i);
    &token[..end]
}

/// Waits out the local stack's token verification cache (`SCIM_TOKEN_CACHE_SECONDS=2`), after
/// which a revoked token, a disabled tenant or a changed tenant setting takes effect.
pub fn wait_out_token_cache() {
    std::thread::sleep(Duration::from_millis(2500));
}

/// The tenant's id (a UUID) of the tenant named `tenant`: `tenant create` shows an existing one.
pub fn tenant_id(tenant: &str) -> String {
    admin_json(&["tenant", "create", tenant])["tenant_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no tenant_id for {tenant}"))
        .to_string()
}

/// A user as the platform reads it (`active`, `platform_role`, `user_name`, ...).
pub fn platform_user(tenant: &str, user: &str) -> Value {
    admin_json(&["platform", "user", "--tenant", tenant, "--user", user])
}

/// A project's members as the platform reads them (`user_id`, `project_role`, `active`).
pub fn platform_members(tenant: &str, project: &str) -> Vec<Value> {
    admin_json(&[
        "platform",
        "members",
        "--tenant",
        tenant,
        "--project",
        project,
    ])
    .as_array()
    .cloned()
    .unwrap_or_else(|| panic!("platform members of {project}: not a list"))
}

/// The user ids of a project's members, as the platform reads them.
pub fn platform_member_ids(tenant: &str, project: &str) -> BTreeSet<String> {
    platform_members(tenant, project)
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_string())
        .collect()
}

/// The tenant's projects as the platform reads them.
pub fn platform_projects(tenant: &str) -> Value {
    admin_json(&["platform", "projects", "--tenant", tenant])
}

/// A user's projects and roles as the platform reads them.
pub fn platform_user_projects(tenant: &str, user: &str) -> Value {
    admin_json(&[
        "platform",
        "user-projects",
        "--tenant",
        tenant,
        "--user",
        user,
    ])
}
