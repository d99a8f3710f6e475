//! Hostile input over HTTP (issue #5, point 4): ids that look like table keys or carry `/`, `#`,
//! `..`, NUL or odd Unicode; out-of-range paging; wrong JSON types, deep nesting, duplicate keys;
//! filters beyond their budgets. Each gets a 4xx SCIM error (or the RFC's clamping), never a 5xx.
//!
//! Bodies that are not UTF-8 are not sent here: cargo-lambda answers them with its own 500
//! before our code runs; the strict JSON reader's unit tests (`scim_core::json`) cover them.

use integration_tests::{enc, unique, Client, Resp, SCIM_JSON};
use serde_json::{json, Value};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM error with a 4xx status: the right media type, `status` as a string, a `detail`.
fn assert_scim_4xx(r: &Resp, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: status {} {}",
        r.status,
        r.raw
    );
    assert_eq!(
        r.header("content-type"),
        Some(SCIM_JSON),
        "{what}: {}",
        r.raw
    );
    assert_eq!(
        r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{what}: {}",
        r.raw
    );
    assert_eq!(r.body["status"], r.status.to_string(), "{what}: {}", r.raw);
    assert!(r.body["detail"].is_string(), "{what}: {}", r.raw);
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

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
            format!("{}0", &real_user[..35]),
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

/// `Ok((startIndex, itemsPerPage))` of the page answered, or `Err(())` for 400 invalidValue.
type Outcome = Result<(u64, u64), ()>;

/// `(query, expected)` for a tenant with 3 users.
fn paging_cases() -> Vec<(&'static str, Outcome)> {
    vec![
        // RFC 7644 3.4.2.4: a negative count is read as 0, startIndex < 1 as 1.
        ("count=-1", Ok((1, 0))),
        ("count=-99999999999999999999", Ok((1, 0))),
        ("count=0", Ok((1, 0))),
        ("count=2", Ok((1, 2))),
        ("count=99999999999999999999", Ok((1, 3))),
        ("count=9223372036854775807", Ok((1, 3))),
        ("count=abc", Err(())),
        ("count=1.5", Err(())),
        ("count=1e3", Err(())),
        ("count=0x10", Err(())),
        ("count=%00", Err(())),
        ("count=", Ok((1, 3))),
        ("startIndex=0", Ok((1, 3))),
        ("startIndex=-5", Ok((1, 3))),
        ("startIndex=-9223372036854775808", Ok((1, 3))),
        ("startIndex=3", Ok((3, 1))),
        ("startIndex=4", Ok((4, 0))),
        ("startIndex=1000000", Ok((1_000_000, 0))),
        ("startIndex=1000001", Err(())),
        ("startIndex=99999999999999999999", Err(())),
        ("startIndex=-99999999999999999999", Ok((1, 3))),
        ("startIndex=one", Err(())),
        ("startIndex=1&count=-1&startIndex=0", Ok((1, 0))),
    ]
}

fn check_page(r: &Resp, what: &str, expected: Outcome) {
    match expected {
        Ok((start, per_page)) => {
            assert_eq!(r.status, 200, "{what}: {}", r.raw);
            assert_eq!(r.total(), 3, "{what}: {}", r.raw);
            assert_eq!(r.body["startIndex"], json!(start), "{what}: {}", r.raw);
            assert_eq!(r.body["itemsPerPage"], json!(per_page), "{what}: {}", r.raw);
            let got = r.body["Resources"].as_array().map_or(0, Vec::len) as u64;
            assert_eq!(got, per_page, "{what}: {}", r.raw);
        }
        Err(()) => {
            assert_scim_4xx(r, what);
            assert_eq!(r.status, 400, "{what}: {}", r.raw);
            assert_eq!(r.body["scimType"], "invalidValue", "{what}: {}", r.raw);
        }
    }
}

#[test]
fn paging_parameters_are_clamped_as_the_rfc_says_or_refused_with_invalid_value() {
    let c = Client::new_tenant("hostile-paging");
    for i in 0..3 {
        c.create_user(&unique(&format!("p{i}")));
    }
    for (query, expected) in paging_cases() {
        let r = c.get(&format!("/Users?{query}"));
        check_page(&r, &format!("GET /Users?{query}"), expected);
    }
}

#[test]
fn search_bodies_with_out_of_range_or_mistyped_paging_are_clamped_or_invalid_value() {
    let c = Client::new_tenant("hostile-paging");
    for i in 0..3 {
        c.create_user(&unique(&format!("p{i}")));
    }
    let cases: Vec<(Value, Outcome)> = vec![
        (json!({"count": -1}), Ok((1, 0))),
        (json!({"count": 0}), Ok((1, 0))),
        (json!({"count": "2"}), Ok((1, 2))),
        (json!({"count": 9_223_372_036_854_775_807_i64}), Ok((1, 3))),
        (json!({"count": 18_446_744_073_709_551_615_u64}), Err(())),
        (json!({"count": 1.5}), Err(())),
        (json!({"count": true}), Err(())),
        (json!({"count": [1]}), Err(())),
        (json!({"count": {"n": 1}}), Err(())),
        (json!({"startIndex": -1}), Ok((1, 3))),
        (json!({"startIndex": 2}), Ok((2, 2))),
        (json!({"startIndex": "x"}), Err(())),
        (json!({"startIndex": 1_000_001}), Err(())),
        (json!({"startIndex": null, "count": null}), Ok((1, 3))),
    ];
    for (body, expected) in cases {
        let r = c.post("/Users/.search", &body);
        check_page(&r, &format!("POST /Users/.search {body}"), expected);
    }
    // Numbers beyond what JSON parsers hold exactly are not integers.
    let r = c.send_raw(
        "POST",
        "/Users/.search",
        Some(r#"{"count": 99999999999999999999}"#),
        &[],
        true,
    );
    assert_scim_4xx(&r, "count as a huge JSON number");
    assert_eq!(r.body["scimType"], "invalidValue", "{}", r.raw);
}

/// Sends each `(method, path, body, scimType)` and returns a line per response that is not a
/// 400 SCIM error with that `scimType`.
fn refused(c: &Client, cases: &[(&str, String, Value, &str)]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|(method, path, body, scim_type)| {
            let r = c.send(method, path, Some(body), &[]);
            let ok = r.status == 400
                && r.header("content-type") == Some(SCIM_JSON)
                && r.body["status"] == "400"
                && r.body["scimType"] == *scim_type;
            (!ok).then(|| {
                format!(
                    "{method} {path} {body}: expected 400 {scim_type}, got {} {}",
                    r.status, r.raw
                )
            })
        })
        .collect()
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PLATFORM: &str = "urn:ietf:params:scim:schemas:extension:platform:2.0:User";

#[test]
fn user_bodies_of_the_wrong_json_types_are_refused_and_nothing_is_stored() {
    let c = Client::new_tenant("hostile-types");
    let rows: Vec<(Value, &str)> = vec![
        (json!({"userName": ["a"]}), "invalidValue"),
        (json!({"userName": {"a": 1}}), "invalidValue"),
        (json!({"userName": true}), "invalidValue"),
        (json!({"userName": null}), "invalidValue"),
        (json!({"userName": ""}), "invalidValue"),
        (json!({"userName": "a", "active": "maybe"}), "invalidValue"),
        (json!({"userName": "a", "active": 1}), "invalidValue"),
        (json!({"userName": "a", "active": []}), "invalidValue"),
        (json!({"userName": "a", "name": []}), "invalidValue"),
        (json!({"userName": "a", "name": "Ann"}), "invalidValue"),
        (
            json!({"userName": "a", "name": {"givenName": {"x": 1}}}),
            "invalidValue",
        ),
        (json!({"userName": "a", "emails": [[]]}), "invalidValue"),
        (json!({"userName": "a", "emails": 5}), "invalidValue"),
        (
            json!({"userName": "a", "emails": [{"value": "a@x", "primary": "perhaps"}]}),
            "invalidValue",
        ),
        (
            json!({"userName": "a", "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
            "invalidValue",
        ),
        (json!({"userName": "a", ENTERPRISE: "x"}), "invalidSyntax"),
        (
            json!({"userName": "a", ENTERPRISE: [{"department": "x"}]}),
            "invalidSyntax",
        ),
        (
            json!({"userName": "a", ENTERPRISE: {"manager": 5}}),
            "invalidValue",
        ),
        (
            json!({"userName": "a", PLATFORM: {"platformRole": "ROOT"}}),
            "invalidValue",
        ),
        (
            json!({"userName": "a", PLATFORM: {"platformRole": 1}}),
            "invalidValue",
        ),
        (json!({"userName": "a", "schemas": "x"}), "invalidSyntax"),
        (json!({"userName": "a", "USERNAME": "b"}), "invalidSyntax"),
        (json!([]), "invalidSyntax"),
        (json!("x"), "invalidSyntax"),
        (json!(5), "invalidSyntax"),
        (json!(null), "invalidSyntax"),
    ];
    let user = c.create_user(&unique("u")).id();
    let before = c.get(&format!("/Users/{user}")).body;
    let mut cases = Vec::new();
    for (body, scim_type) in rows {
        cases.push(("POST", "/Users".to_string(), body.clone(), scim_type));
        cases.push(("PUT", format!("/Users/{user}"), body, scim_type));
    }
    let failures = refused(&c, &cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing of the above was stored or changed.
    assert_eq!(c.get("/Users").total(), 1);
    assert_eq!(c.get(&format!("/Users/{user}")).body, before);
}

#[test]
fn lenient_readings_of_near_miss_types_are_documented_here() {
    // Numbers for string attributes, a lone value for a multi-valued attribute and a scalar for
    // a complex attribute with a `value` are read the way IdPs mean them (codec.rs); a member
    // without a `value` is dropped. None is an error; pinned here so a change is deliberate.
    let c = Client::new_tenant("hostile-types");
    let r = c.post(
        "/Users",
        &json!({"userName": 5, "emails": "five@example.com"}),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["userName"], "5");
    assert_eq!(r.body["emails"], json!([{"value": "five@example.com"}]));
    let user = r.id();
    let r = c.patch(
        &format!("/Users/{user}"),
        &patch(json!([{"op": "add", "path": "emails", "value": 6}])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["emails"][1], json!({"value": "6"}));
    let r = c.post(
        "/Groups",
        &json!({"displayName": "g", "members": [{"value": null, "display": "x"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(
        r.body.get("members").is_none_or(|m| m == &json!([])),
        "{}",
        r.raw
    );
}

#[test]
fn group_bodies_of_the_wrong_json_types_are_refused_and_nothing_is_stored() {
    let c = Client::new_tenant("hostile-types");
    let user = c.create_user(&unique("m")).id();
    let rows: Vec<(Value, &str)> = vec![
        (json!({"displayName": ["g"]}), "invalidValue"),
        (json!({"displayName": {"g": 1}}), "invalidValue"),
        (json!({"displayName": null}), "invalidValue"),
        (json!({"displayName": "g", "members": [5]}), "invalidValue"),
        (json!({"displayName": "g", "members": "x"}), "invalidValue"),
        (
            json!({"displayName": "g", "members": [{"value": 5.5}]}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": [{"value": ["a"]}]}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": [{"value": "not-a-uuid"}]}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": "not-a-uuid"}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": {"value": "not-a-uuid"}}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": [{"value": user.to_uppercase()}]}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": [{"value": format!("TENANT#x#USER#{user}")}]}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "members": [{"value": "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70"}]}),
            "invalidValue",
        ),
        (
            json!({"displayName": "g", "schemas": {"a": 1}}),
            "invalidSyntax",
        ),
        (json!([{"displayName": "g"}]), "invalidSyntax"),
    ];
    let group = c.create_group(&unique("g")).id();
    let before = c.get(&format!("/Groups/{group}")).body;
    let mut cases = Vec::new();
    for (body, scim_type) in rows {
        cases.push(("POST", "/Groups".to_string(), body.clone(), scim_type));
        cases.push(("PUT", format!("/Groups/{group}"), body, scim_type));
    }
    let failures = refused(&c, &cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(c.get("/Groups").total(), 1);
    assert_eq!(c.get(&format!("/Groups/{group}")).body, before);
}

#[test]
fn patch_bodies_of_the_wrong_shape_are_refused_with_the_rfc_scim_type_and_change_nothing() {
    let c = Client::new_tenant("hostile-patch");
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    let user_before = c.get(&format!("/Users/{user}")).body;
    let group_before = c.get(&format!("/Groups/{group}")).body;
    let common: Vec<(Value, &str)> = vec![
        (json!({"Operations": {}}), "invalidSyntax"),
        (json!({"Operations": "x"}), "invalidSyntax"),
        (json!({"Operations": null}), "invalidSyntax"),
        (json!({"schemas": [PATCH_OP]}), "invalidSyntax"),
        (
            json!({"schemas": "urn:x", "Operations": [{"op": "add", "path": "externalId", "value": "x"}]}),
            "invalidSyntax",
        ),
        (json!([{"op": "add"}]), "invalidSyntax"),
        (patch(json!([])), "invalidValue"),
        (patch(json!(["add"])), "invalidSyntax"),
        (
            patch(json!([{"op": 5, "path": "externalId", "value": "x"}])),
            "invalidSyntax",
        ),
        (
            patch(json!([{"op": "move", "path": "externalId", "value": "x"}])),
            "invalidSyntax",
        ),
        (
            patch(json!([{"op": "replace", "path": 5, "value": "x"}])),
            "invalidPath",
        ),
        (
            patch(json!([{"op": "replace", "path": "externalId"}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "value": "x"}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "value": [{"externalId": "x"}]}])),
            "invalidValue",
        ),
        (patch(json!([{"op": "remove"}])), "noTarget"),
        (
            patch(json!([{"op": "replace", "path": "TENANT#x#USER#y", "value": "x"}])),
            "invalidPath",
        ),
        (
            patch(json!([{"op": "replace", "path": "externalId\u{0}", "value": "x"}])),
            "invalidPath",
        ),
        (
            patch(json!([{"op": "replace", "path": "..", "value": "x"}])),
            "invalidPath",
        ),
        (
            patch(json!([{"op": "replace", "path": "\u{202e}externalId", "value": "x"}])),
            "invalidPath",
        ),
        (
            patch(json!([{"op": "replace", "path": "externalId", "value": ["x"]}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "externalId", "value": {"x": 1}}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "id", "value": "x"}])),
            "mutability",
        ),
        (
            patch(json!([{"op": "replace", "path": "meta.version", "value": "x"}])),
            "mutability",
        ),
    ];
    let user_rows: Vec<(Value, &str)> = vec![
        (
            patch(json!([{"op": "replace", "path": "active", "value": "maybe"}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "active", "value": [true]}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "name", "value": 5}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "name.givenName", "value": {"a": 1}}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "add", "path": "emails", "value": [[1]]}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "add", "path": "emails", "value": true}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "userName", "value": ["x"]}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "remove", "path": "userName"}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "value": {"active": "maybe"}}])),
            "invalidValue",
        ),
        (
            patch(
                json!([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "perhaps"}]),
            ),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "emails[type eq work]", "value": "x"}])),
            "invalidFilter",
        ),
        (
            patch(json!([{"op": "replace", "path": "emails[emails[type pr]]", "value": "x"}])),
            "invalidFilter",
        ),
        (
            patch(json!([{"op": "replace", "path": "groups", "value": []}])),
            "mutability",
        ),
    ];
    let group_rows: Vec<(Value, &str)> = vec![
        (
            patch(json!([{"op": "add", "path": "members", "value": "x"}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "add", "path": "members", "value": [{"value": 5}]}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "add", "path": "members", "value": {"value": "not-a-uuid"}}])),
            "invalidValue",
        ),
        (
            patch(
                json!([{"op": "replace", "path": "members", "value": [{"value": "TENANT#x#USER#y"}]}]),
            ),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "displayName", "value": {"x": 1}}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "replace", "path": "displayName", "value": ""}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "remove", "path": "displayName"}])),
            "invalidValue",
        ),
        (
            patch(json!([{"op": "remove", "path": "members[value eq 5]"}])),
            "invalidFilter",
        ),
    ];
    let mut cases = Vec::new();
    for (path, specific) in [
        (format!("/Users/{user}"), &user_rows),
        (format!("/Groups/{group}"), &group_rows),
    ] {
        for (body, scim_type) in common.iter().chain(specific.iter()) {
            cases.push(("PATCH", path.clone(), body.clone(), *scim_type));
        }
    }
    let failures = refused(&c, &cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(c.get(&format!("/Users/{user}")).body, user_before);
    assert_eq!(c.get(&format!("/Groups/{group}")).body, group_before);
}

#[test]
fn deep_nesting_and_duplicate_keys_are_invalid_syntax_on_every_body() {
    let c = Client::new_tenant("hostile-json");
    let user = c.create_user(&unique("u")).id();
    let group = c.create_group(&unique("g")).id();
    let deep_value = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let just_too_deep = format!("{}1{}", "[".repeat(32), "]".repeat(32));
    let bodies = [
        format!("{{\"userName\":\"a\",\"x\":{deep_value}}}"),
        format!("{{\"userName\":\"a\",\"x\":{just_too_deep}}}"),
        format!("{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)),
        r#"{"userName":"a","name":{"givenName":"x","givenName":"y"}}"#.to_string(),
        r#"{"userName":"a","userName":"b"}"#.to_string(),
        r#"{"userName":"a","user\u004eame":"b"}"#.to_string(),
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","op":"remove","path":"title"}]}"#.to_string(),
        r#"{"filter":"userName pr","filter":"title pr"}"#.to_string(),
        r#"{"userName":"a"} trailing"#.to_string(),
        r#"{"userName":"\ud800"}"#.to_string(),
        "{\"userName\":\"a\u{0}\"}".to_string(),
    ];
    let routes = [
        ("POST", "/Users".to_string()),
        ("PUT", format!("/Users/{user}")),
        ("PATCH", format!("/Users/{user}")),
        ("POST", "/Users/.search".to_string()),
        ("POST", "/Groups".to_string()),
        ("PUT", format!("/Groups/{group}")),
        ("PATCH", format!("/Groups/{group}")),
        ("POST", "/Groups/.search".to_string()),
    ];
    for (method, path) in &routes {
        for body in &bodies {
            let r = c.send_raw(method, path, Some(body), &[], true);
            let what = format!(
                "{method} {path} {}",
                body.chars().take(60).collect::<String>()
            );
            assert_scim_4xx(&r, &what);
            assert_eq!(r.status, 400, "{what}: {}", r.raw);
            assert_eq!(r.body["scimType"], "invalidSyntax", "{what}: {}", r.raw);
        }
    }
    assert_eq!(c.get("/Users").total(), 1);
}

#[test]
fn filters_beyond_the_budgets_are_invalid_filter_through_get_and_search() {
    let c = Client::new_tenant("hostile-filter");
    c.create_user(&unique("u"));
    let nest = |n: usize| format!("{}title pr{}", "(".repeat(n), ")".repeat(n));
    let filters = [
        format!("userName eq \"{}\"", "x".repeat(5000)),
        nest(17),
        "(".repeat(4000),
        format!("{}title pr{}", "not(".repeat(17), ")".repeat(17)),
        vec!["title pr"; 51].join(" or "),
        vec!["emails[type pr]"; 51].join(" and "),
        "userName eq \"a\u{0}\"".to_string(),
        "userName eq \"\\ud800\"".to_string(),
        "userName eq \"a\" and".to_string(),
        "userName eq jyoung".to_string(),
        "\u{202e}userName eq \"a\"".to_string(),
        "TENANT#x#USER#y eq \"a\"".to_string(),
        "emails[emails[type pr]]".to_string(),
        "meta.created gt \"yesterday\"".to_string(),
        "active gt true".to_string(),
    ];
    for filter in &filters {
        let short: String = filter.chars().take(50).collect();
        let r = c.get(&format!("/Users?filter={}", enc(filter)));
        assert_scim_4xx(&r, &short);
        assert_eq!(
            r.body["scimType"], "invalidFilter",
            "GET {short}: {}",
            r.raw
        );
        let r = c.post("/Users/.search", &json!({"filter": filter}));
        assert_scim_4xx(&r, &short);
        assert_eq!(
            r.body["scimType"], "invalidFilter",
            "search {short}: {}",
            r.raw
        );
        let r = c.get(&format!("/Groups?filter={}", enc(filter)));
        assert_scim_4xx(&r, &short);
        assert_eq!(
            r.body["scimType"], "invalidFilter",
            "GET groups {short}: {}",
            r.raw
        );
    }
    // The budgets themselves are accepted: depth 16 and 50 terms.
    let r = c.get(&format!("/Users?filter={}", enc(&nest(16))));
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = c.get(&format!(
        "/Users?filter={}",
        enc(&vec!["title pr"; 50].join(" or "))
    ));
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[test]
fn hostile_projection_and_sort_parameters_are_invalid_value() {
    let c = Client::new_tenant("hostile-params");
    let user = c.create_user(&unique("u")).id();
    for query in [
        format!("attributes={}", "a".repeat(5000)),
        "attributes=%00".to_string(),
        "attributes=TENANT%23x".to_string(),
        "excludedAttributes=..".to_string(),
        "excludedAttributes=name%5B".to_string(),
        "sortBy=%E2%80%AEuserName".to_string(),
        "sortBy=emails%5Btype%20eq%20%22work%22%5D".to_string(),
        "sortOrder=sideways".to_string(),
    ] {
        let r = c.get(&format!("/Users?{query}"));
        assert_scim_4xx(&r, &query);
        assert_eq!(r.body["scimType"], "invalidValue", "{query}: {}", r.raw);
    }
    let r = c.get(&format!("/Users/{user}?attributes=%F0%9F%98%80"));
    assert_scim_4xx(&r, "emoji attribute");
    assert_eq!(r.body["scimType"], "invalidValue", "{}", r.raw);
}

#[test]
fn unsupported_content_types_are_415_and_empty_bodies_invalid_syntax() {
    let c = Client::new_tenant("hostile-ct");
    for ct in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = c.send_raw(
            "POST",
            "/Users",
            Some(r#"{"userName":"a"}"#),
            &[("Content-Type", ct)],
            true,
        );
        assert_scim_4xx(&r, ct);
        assert_eq!(r.status, 415, "{ct}: {}", r.raw);
    }
    let r = c.send_raw("POST", "/Users", None, &[], true);
    assert_scim_4xx(&r, "empty body");
    assert_eq!(r.body["scimType"], "invalidSyntax", "{}", r.raw);
    assert_eq!(c.get("/Users").total(), 0);
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
