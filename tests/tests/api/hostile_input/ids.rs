//! Ids that cannot be ours, on every method of both resource types, and hostile credentials.

use integration_tests::{patch_body as patch, unique, Client, SCIM_JSON};
use serde_json::json;

use super::assert_scim_4xx;

/// Path segments (already percent-encoded as they go on the wire) that cannot name a resource.
fn hostile_ids(real_user: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "table key of a user",
            format!("TENANT%23other%23USER%23{real_user}"),
        ),
        (
            "table key, raw '#'",
            format!("TENANT#other#USER#{real_user}"),
        ),
        (
            "group partition key",
            "TENANT%23x%23GROUP%230192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70".into(),
        ),
        (
            "uniqueness key",
            "TENANT%23x%23UNIQUE%23USERNAME%23admin".into(),
        ),
        ("token key", "TOKEN%23abc".into()),
        ("encoded slash", format!("{real_user}%2F..")),
        ("encoded dot-dot traversal", "..%2F..%2Fetc%2Fpasswd".into()),
        ("encoded dots", "%2E%2E".into()),
        ("NUL", "%00".into()),
        ("uuid then NUL", format!("{real_user}%00")),
        (
            "NUL inside a uuid",
            format!("{}%00{}", &real_user[..8], &real_user[9..]),
        ),
        ("zero-width space", format!("%E2%80%8B{real_user}")),
        ("right-to-left override", format!("%E2%80%AE{real_user}")),
        ("emoji", "%F0%9F%98%80".into()),
        ("overlong UTF-8 for '.'", "%C0%AE%C0%AE".into()),
        ("overlong UTF-8 for '/'", "%C0%AF".into()),
        ("invalid byte", "%FF%FE".into()),
        ("lone surrogate", "%ED%A0%80".into()),
        ("broken escapes", "%zz%2".into()),
        ("uppercase uuid of a real user", real_user.to_uppercase()),
        ("uuid with braces", format!("%7B{real_user}%7D")),
        ("uuid without hyphens", real_user.replace('-', "")),
        ("8 KiB id", "a".repeat(8 * 1024)),
        ("JSON in the id", "%7B%22S%22%3A%22x%22%7D".into()),
        (
            "percent-encoded uuid of a real user's neighbour",
            // The last digit changed (never to itself: an id ending in 0 gets 1).
            format!(
                "{}{}",
                &real_user[..35],
                if real_user.ends_with('0') { '1' } else { '0' }
            ),
        ),
    ]
}

#[test]
fn ids_that_are_not_our_uuids_are_404_on_every_method_never_5xx() {
    let c = Client::new_tenant("hostile-ids");
    let user = c.create_user(&unique("victim")).id();
    let group = c.create_group(&unique("victim-group")).id();
    let user_before = c.get(&format!("/Users/{user}")).body;
    let bodies = [
        ("GET", None),
        ("PUT", Some(json!({"userName": "x", "displayName": "x"}))),
        // A body valid for both resource types, so only the id can be wrong.
        (
            "PATCH",
            Some(patch(
                json!([{"op": "replace", "path": "externalId", "value": "x"}]),
            )),
        ),
        ("DELETE", None),
    ];
    let mut failures = Vec::new();
    for (what, id) in hostile_ids(&user) {
        for resource in ["Users", "Groups"] {
            for (method, body) in &bodies {
                let r = c.send(method, &format!("/{resource}/{id}"), body.as_ref(), &[]);
                let ok = r.status == 404
                    && r.header("content-type") == Some(SCIM_JSON)
                    && r.body["status"] == "404";
                if !ok {
                    failures.push(format!(
                        "{method} /{resource}/<{what}>: {} {}",
                        r.status, r.raw
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // None of it touched the real resources.
    assert_eq!(c.get(&format!("/Users/{user}")).body, user_before);
    assert_eq!(c.get(&format!("/Groups/{group}")).status, 200);
}

#[test]
fn a_real_id_followed_by_more_path_is_404() {
    let c = Client::new_tenant("hostile-ids");
    let user = c.create_user(&unique("u")).id();
    // A trailing slash is not the resource's route either (API Gateway and the local router
    // both match `/Users/{id}` exactly); it is a SCIM 404, not a 5xx.
    for suffix in ["/", "/x", "/..", "/.search", "%2Fx", "/%2e%2e", "%00"] {
        let r = c.get(&format!("/Users/{user}{suffix}"));
        assert_scim_4xx(&r, suffix);
        assert_eq!(r.status, 404, "{suffix}: {}", r.raw);
    }
    assert_eq!(c.get(&format!("/Users/{user}")).status, 200);
}

#[test]
fn hostile_authorization_headers_are_a_scim_401_and_reveal_nothing() {
    let c = Client::new_tenant("hostile-auth");
    let user = c.create_user(&unique("u")).id();
    let real = c.token.clone();
    let huge = "a".repeat(60_000);
    let headers = [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Bearer scim_".to_string(),
        format!("Bearer scim_1a2b3c4d_{}", "x".repeat(43)),
        format!("Bearer {huge}"),
        format!("Bearer {real}x"),
        format!("Bearer {}", &real[..real.len() - 1]),
        format!("Bearer {real} {real}"),
        format!("Basic {real}"),
        real.clone(),
        "Bearer scim_%00".to_string(),
        format!("Bearer TENANT#{}#USER#{user}", c.tenant),
    ];
    for header in &headers {
        let short: String = header.chars().take(40).collect();
        for path in [
            format!("/Users/{user}"),
            "/Users".to_string(),
            "/Groups".to_string(),
        ] {
            let r = c.send_raw("GET", &path, None, &[("Authorization", header)], false);
            assert_scim_4xx(&r, &short);
            assert_eq!(r.status, 401, "{short} {path}: {}", r.raw);
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{short}"
            );
            assert!(!r.raw.contains(&user), "{short}: {}", r.raw);
        }
    }
    // The real token still works (nothing above disabled it).
    assert_eq!(c.get(&format!("/Users/{user}")).status, 200);
}
