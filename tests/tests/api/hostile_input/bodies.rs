//! Request bodies: wrong JSON types, bad PATCH shapes, deep nesting, duplicate keys, content
//! types. Each refusal is checked to leave the stored resources unchanged.

use integration_tests::{
    patch_body as patch, unique, Client, ENTERPRISE, PATCH_OP, PLATFORM, SCIM_JSON,
};
use serde_json::{json, Value};

use super::assert_scim_4xx;

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
    // without a `value` (or `members: {}`) is dropped. None is an error; pinned here so a change
    // is deliberate.
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
    for (i, members) in [
        json!([{"value": null, "display": "x"}]),
        json!({}),
        json!([{}]),
    ]
    .into_iter()
    .enumerate()
    {
        let r = c.post(
            "/Groups",
            &json!({"displayName": format!("g{i}"), "members": members}),
        );
        assert_eq!(r.status, 201, "{members}: {}", r.raw);
        assert!(
            r.body.get("members").is_none_or(|m| m == &json!([])),
            "{members}: {}",
            r.raw
        );
    }
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
