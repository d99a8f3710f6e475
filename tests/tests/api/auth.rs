//! Tenant tokens: the token alone decides the tenant; bad, unknown and revoked tokens get a
//! SCIM 401 with `WWW-Authenticate: Bearer`.

use std::time::Duration;

use integration_tests::{
    admin, admin_json, issue_token, token_prefix, unique, unique_login, wait_out_token_cache,
    Client, Resp,
};

fn assert_unauthorized(r: &Resp) {
    r.assert_scim_error(401, None);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{:?}",
        r.headers
    );
}

#[test]
fn a_request_without_a_token_is_a_scim_401() {
    let c = Client::new_tenant("auth");
    for path in ["/ServiceProviderConfig", "/Users", "/Groups", "/Schemas"] {
        assert_unauthorized(&c.send_raw("GET", path, None, &[], false));
    }
}

#[test]
fn okta_non_token_authorization_is_a_scim_401() {
    let c = Client::new_tenant("auth");
    // Okta's SPEC test sends `Authorization: non-token`.
    let r = c.send_raw(
        "GET",
        "/Users?count=1&startIndex=1",
        None,
        &[("Authorization", "non-token")],
        false,
    );
    assert_unauthorized(&r);
    let unknown = Client::with_token(
        "x",
        "scim_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_unauthorized(&unknown.get("/Users"));
}

#[test]
fn a_revoked_token_stops_working_after_the_cache_time() {
    let tenant = unique("revoke");
    let token = issue_token(&tenant);
    let c = Client::with_token(&tenant, &token);
    assert_eq!(c.get("/ServiceProviderConfig").status, 200);
    let prefix = token_prefix(&token);
    let listing = admin(&["token", "list", "--tenant", &tenant]);
    assert!(listing.contains(prefix), "{listing}");
    assert!(!listing.contains(&token), "listings never show the token");
    admin(&["token", "revoke", "--tenant", &tenant, prefix]);
    // The local stack trusts a verified token for SCIM_TOKEN_CACHE_SECONDS=2.
    wait_out_token_cache();
    assert_unauthorized(&c.get("/ServiceProviderConfig"));
    let listing = admin_json(&["token", "list", "--tenant", &tenant, "--json"]);
    let entry = listing
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["prefix"] == prefix)
        .unwrap();
    assert!(
        entry["revoked_at"].is_string(),
        "revoked time listed: {entry}"
    );
}

#[test]
fn a_second_token_of_the_same_tenant_sees_the_same_users() {
    let tenant = unique("rotate");
    let a = Client::for_tenant(&tenant);
    let b = Client::for_tenant(&tenant);
    let id = a.create_user(&unique_login("x.com")).id();
    assert_eq!(b.get(&format!("/Users/{id}")).status, 200);
}

#[test]
fn a_disabled_tenants_tokens_are_refused() {
    let tenant = unique("disabled");
    let c = Client::for_tenant(&tenant);
    assert_eq!(c.get("/Users").status, 200);
    admin(&["tenant", "disable", &tenant]);
    wait_out_token_cache();
    assert_unauthorized(&c.get("/Users"));
    admin(&["tenant", "enable", &tenant]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(c.get("/Users").status, 200);
}

#[test]
fn token_verification_costs_no_table_read_on_a_warm_cache() {
    let c = Client::new_tenant("warm");
    // The functions run several instances; each verifies once, then trusts its cache.
    let mut warm = 0;
    for _ in 0..12 {
        let r = c.get("/Users?count=1");
        if r.header("x-scim-auth-dynamodb-calls") == Some("0") {
            warm += 1;
        }
    }
    assert!(warm >= 4, "only {warm} of 12 requests used the cache");
}
