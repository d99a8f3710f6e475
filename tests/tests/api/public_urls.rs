//! `meta.location`, `Location` and `$ref` come from the configured public base URL (the local
//! stack sets `SCIM_PUBLIC_BASE_URL`; the template, API Gateway's own domain name), never from
//! request headers a client chooses.

use integration_tests::{base_url, unique, unique_login, Client, GROUP_SCHEMA};
use serde_json::{json, Value};

/// Headers a client (or anything between it and us) may set to steer the URLs we answer with.
const STEERING: &[(&str, &str)] = &[
    ("Host", "attacker.example"),
    ("X-Forwarded-Proto", "javascript"),
    ("X-Forwarded-Host", "attacker.example"),
    ("Forwarded", "host=attacker.example;proto=javascript"),
];

/// Every URL-valued string in an answer: `location`, `$ref` and the `Location` header.
fn urls(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("location" | "$ref", Value::String(s)) => out.push(s.clone()),
                    _ => urls(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| urls(v, out)),
        _ => {}
    }
}

fn assert_urls_under_base(what: &str, r: &integration_tests::Resp) {
    let base = base_url();
    let mut found = Vec::new();
    urls(&r.body, &mut found);
    found.extend(r.header("location").map(str::to_string));
    assert!(!found.is_empty(), "{what}: no URL in {}", r.raw);
    for url in found {
        assert!(
            url.starts_with(&format!("{base}/")),
            "{what}: {url} is not under {base}"
        );
    }
}

#[test]
fn locations_and_refs_ignore_host_and_forwarded_headers() {
    let c = Client::new_tenant("urls");
    let user = c.send(
        "POST",
        "/Users",
        Some(&json!({"userName": unique_login("example.com")})),
        STEERING,
    );
    assert_eq!(user.status, 201, "{}", user.raw);
    assert_urls_under_base("POST /Users", &user);
    let uid = user.id();
    let group = c.send(
        "POST",
        "/Groups",
        Some(
            &json!({"schemas": [GROUP_SCHEMA], "displayName": unique("g"),
            "members": [{"value": uid}]}),
        ),
        STEERING,
    );
    assert_eq!(group.status, 201, "{}", group.raw);
    assert_urls_under_base("POST /Groups (members' $ref)", &group);
    for path in [
        format!("/Users/{uid}"),
        "/Users".to_string(),
        format!("/Groups/{}", group.id()),
        "/ServiceProviderConfig".to_string(),
        "/Schemas".to_string(),
        "/ResourceTypes".to_string(),
    ] {
        let r = c.send("GET", &path, None, STEERING);
        assert_eq!(r.status, 200, "{path}: {}", r.raw);
        assert_urls_under_base(&path, &r);
    }
}
