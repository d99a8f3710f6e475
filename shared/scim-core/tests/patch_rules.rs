//! PATCH request validation, path grammar and application rules (RFC 7644 section 3.5.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{schemas, ENTERPRISE};
use scim_core::patch::{PatchOp, PatchPath, PatchRequest, MAX_PATCH_OPERATIONS};
use scim_core::schema::ResourceSchema;
use scim_core::ScimError;
use serde_json::{json, Value};

fn parse_user(body: Value) -> Result<PatchRequest, ScimError> {
    PatchRequest::parse(&body, &schemas().user)
}

fn scim_type(err: &ScimError) -> &'static str {
    err.scim_type().map_or("", |t| t.as_str())
}

fn ops(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Applies `operations` to `doc` with `schema`.
fn apply(schema: &ResourceSchema, doc: Value, operations: Value) -> Result<Value, ScimError> {
    let req = PatchRequest::parse(&ops(operations), schema)?;
    let mut doc = doc;
    req.apply(&mut doc, schema)?;
    Ok(doc)
}

fn apply_user(doc: Value, operations: Value) -> Value {
    apply(&schemas().user, doc, operations).unwrap()
}

#[test]
fn operations_key_and_op_names_are_case_insensitive() {
    let req = parse_user(json!({"operations": [
        {"OP": "Add", "Path": "title", "Value": "x"},
        {"op": "REPLACE", "path": "title", "value": "y"},
        {"op": "remove", "path": "title"}
    ]}))
    .unwrap();
    let kinds: Vec<PatchOp> = req.operations.iter().map(|o| o.op).collect();
    assert_eq!(kinds, [PatchOp::Add, PatchOp::Replace, PatchOp::Remove]);
}

#[test]
fn malformed_bodies_are_invalid_syntax() {
    for body in [
        json!([]),
        json!("x"),
        json!({}),
        json!({"Operations": {}}),
        json!({"Operations": ["add"]}),
        json!({"Operations": [{"path": "title", "value": "x"}]}),
        json!({"Operations": [{"op": 1, "path": "title", "value": "x"}]}),
        json!({"Operations": [{"op": "move", "path": "title", "value": "x"}]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
    ] {
        let err = parse_user(body.clone()).unwrap_err();
        assert_eq!(scim_type(&err), "invalidSyntax", "{body}: {err:?}");
    }
}

#[test]
fn schemas_may_be_absent() {
    assert!(
        parse_user(json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]})).is_ok()
    );
}

#[test]
fn operation_count_is_limited() {
    let op = json!({"op": "add", "path": "title", "value": "x"});
    assert!(parse_user(ops(Value::Array(vec![op.clone(); MAX_PATCH_OPERATIONS]))).is_ok());
    let err = parse_user(ops(Value::Array(vec![op; MAX_PATCH_OPERATIONS + 1]))).unwrap_err();
    assert_eq!(scim_type(&err), "invalidValue");
}

#[test]
fn add_and_replace_need_a_value_and_path_less_values_must_be_objects() {
    for op in [
        json!({"op": "add", "path": "title"}),
        json!({"op": "replace"}),
        json!({"op": "add", "value": "x"}),
        json!({"op": "replace", "value": [{"title": "x"}]}),
    ] {
        let err = parse_user(ops(json!([op]))).unwrap_err();
        assert_eq!(scim_type(&err), "invalidValue", "{op}");
    }
}

#[test]
fn errors_name_the_operation_index() {
    let err = parse_user(ops(json!([
        {"op": "add", "path": "title", "value": "x"},
        {"op": "add", "path": "nope", "value": "x"}
    ])))
    .unwrap_err();
    assert!(
        err.detail().starts_with("Operations[1]: "),
        "{}",
        err.detail()
    );
}

#[test]
fn read_only_paths_are_mutability_errors() {
    for path in [
        "id",
        "ID",
        "meta",
        "meta.lastModified",
        "groups",
        "groups[value eq \"g\"]",
        "schemas",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
    ] {
        for op in ["add", "replace", "remove"] {
            let err = parse_user(ops(json!([{"op": op, "path": path, "value": "x"}]))).unwrap_err();
            assert_eq!(scim_type(&err), "mutability", "{op} {path}");
        }
    }
    let err = PatchRequest::parse(
        &ops(json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}])),
        &schemas().group,
    )
    .unwrap_err();
    assert_eq!(scim_type(&err), "mutability");
}

#[test]
fn bad_paths_are_invalid_path_and_bad_path_filters_invalid_filter() {
    let s = schemas();
    for (path, expected) in [
        ("nope", "invalidPath"),
        ("name.nope", "invalidPath"),
        ("emails[type eq \"work\"].nope", "invalidPath"),
        ("emails[type eq \"work\"]value", "invalidPath"),
        ("emails[type eq \"work\"].value.x", "invalidPath"),
        ("userName[value eq \"x\"]", "invalidPath"),
        ("name[givenName eq \"x\"]", "invalidPath"),
        ("emails.value[type eq \"x\"]", "invalidPath"),
        ("urn:ietf:params:scim:schemas:core:2.0:User", "invalidPath"),
        ("[type eq \"work\"]", "invalidPath"),
        ("emails[type eq work]", "invalidFilter"),
        ("emails[type eq \"work\"", "invalidFilter"),
        ("emails[nope eq \"work\"]", "invalidFilter"),
        ("emails[type eq \"work\" and]", "invalidFilter"),
        ("emails[primary gt true]", "invalidFilter"),
        ("schemas eq \"urn:x\"", "invalidPath"),
    ] {
        let err = PatchPath::parse(path, &s.user).unwrap_err();
        assert_eq!(scim_type(&err), expected, "{path}: {err:?}");
    }
}

#[test]
fn patch_paths_resolve_to_canonical_names_and_display_canonically() {
    let s = schemas();
    for (input, canonical) in [
        ("NAME.GIVENNAME", "name.givenName"),
        (
            "emails[TYPE EQ \"work\"].VALUE",
            "emails[type eq \"work\"].value",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:platform:2.0:User:platformRole",
            "urn:ietf:params:scim:schemas:extension:platform:2.0:User:platformRole",
        ),
        (
            "addresses[type eq \"work\" or primary eq true]",
            "addresses[type eq \"work\" or primary eq true]",
        ),
    ] {
        let path = PatchPath::parse(input, &s.user).unwrap();
        assert_eq!(path.to_string(), canonical);
        assert_eq!(PatchPath::parse(canonical, &s.user).unwrap(), path);
    }
}

#[test]
fn bare_extension_urn_path_sets_that_extensions_attributes() {
    let doc = apply_user(
        json!({"userName": "u"}),
        json!([{"op": "add", "path": ENTERPRISE, "value": {"department": "Sales", "Manager": "m1", "bogus": 1}}]),
    );
    assert_eq!(
        doc,
        json!({"userName": "u", ENTERPRISE: {"department": "Sales", "manager": {"value": "m1"}}})
    );
    // Removing the bare extension URN removes the whole extension (see
    // `removing_a_whole_extension_removes_each_of_its_attributes`).
    let removed = apply_user(doc, json!([{"op": "remove", "path": ENTERPRISE}]));
    assert_eq!(removed, json!({"userName": "u"}));
}

#[test]
fn path_less_values_ignore_unknown_and_read_only_keys() {
    let doc = apply_user(
        json!({"id": "1", "userName": "u", "meta": {"resourceType": "User"}}),
        json!([{"op": "replace", "value": {
            "id": "2", "meta": {"created": "x"}, "schemas": ["x"], "groups": [{"value": "g"}],
            "favouriteColour": "blue", "urn:example:unknown:1.0:User:x": "y",
            "Active": "False", "NAME.familyName": "Smith",
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Boss",
            "urn:ietf:params:scim:schemas:core:2.0:User": {"nickName": "Bo"},
            ENTERPRISE: {"department": "Ops", "manager": {"value": "m", "displayName": "ignored"}}
        }}]),
    );
    assert_eq!(
        doc,
        json!({
            "id": "1", "userName": "u", "meta": {"resourceType": "User"},
            "active": "False", "name": {"familyName": "Smith"}, "title": "Boss", "nickName": "Bo",
            ENTERPRISE: {"department": "Ops", "manager": {"value": "m"}}
        })
    );
}

#[test]
fn multi_valued_add_accepts_a_single_item_and_skips_duplicates() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x", "type": "work"}]}),
        json!([
            {"op": "add", "path": "emails", "value": {"value": "b@x", "type": "home"}},
            {"op": "add", "path": "emails", "value": [{"value": "A@X", "type": "work"}, {"value": "a@x", "type": "other"}]}
        ]),
    );
    assert_eq!(
        doc["emails"],
        json!([{"value": "A@X", "type": "work"}, {"value": "b@x", "type": "home"}, {"value": "a@x", "type": "other"}])
    );
}

#[test]
fn adding_a_primary_value_clears_primary_on_the_others() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": "True"}]}),
        json!([{"op": "add", "path": "emails", "value": [{"value": "c@x", "primary": true}]}]),
    );
    assert_eq!(
        doc["emails"],
        json!([{"value": "a@x", "primary": false}, {"value": "b@x", "primary": false}, {"value": "c@x", "primary": true}])
    );
}

#[test]
fn replacing_a_multi_valued_attribute_with_an_empty_list_unassigns_it() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x"}]}),
        json!([{"op": "replace", "path": "emails", "value": []}]),
    );
    assert_eq!(doc, json!({}));
}

#[test]
fn sub_attribute_of_multi_valued_attribute_without_filter_applies_to_every_value() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]}),
        json!([{"op": "replace", "path": "emails.type", "value": "work"}]),
    );
    assert_eq!(
        doc["emails"],
        json!([{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "work"}])
    );
    let doc = apply_user(
        json!({}),
        json!([{"op": "add", "path": "emails.value", "value": "a@x"}]),
    );
    assert_eq!(doc["emails"], json!([{"value": "a@x"}]));
}

#[test]
fn removing_sub_attributes_removes_emptied_parents_and_extensions() {
    let doc = apply_user(
        json!({"name": {"givenName": "A", "familyName": "B"}, ENTERPRISE: {"department": "D"}}),
        json!([
            {"op": "remove", "path": "name.givenName"},
            {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}
        ]),
    );
    assert_eq!(doc, json!({"name": {"familyName": "B"}}));
    let doc = apply_user(doc, json!([{"op": "remove", "path": "name.familyName"}]));
    assert_eq!(doc, json!({}));
}

#[test]
fn remove_with_filter_and_sub_attribute_removes_only_that_sub_attribute() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x", "type": "work", "display": "A"}, {"value": "b@x", "type": "home", "display": "B"}]}),
        json!([{"op": "remove", "path": "emails[type eq \"work\"].display"}]),
    );
    assert_eq!(
        doc["emails"],
        json!([{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home", "display": "B"}])
    );
}

#[test]
fn remove_with_value_list_on_user_attribute_removes_only_listed_values() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x"}, {"value": "b@x"}, {"value": "c@x", "type": "home"}]}),
        json!([{"op": "remove", "path": "emails", "value": [{"value": "A@X"}, "b@x", {"type": "home"}, {"value": null}, {}]}]),
    );
    assert_eq!(doc, json!({}));
    let doc = apply_user(
        json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]}),
        json!([{"op": "remove", "path": "emails", "value": [{"value": "z@x"}]}]),
    );
    assert_eq!(doc["emails"].as_array().unwrap().len(), 2);
}

#[test]
fn add_with_eq_filter_and_no_match_creates_the_value() {
    let doc = apply_user(
        json!({"addresses": [{"type": "home", "locality": "A", "primary": true}]}),
        json!([{"op": "add", "path": "addresses[type eq \"work\" and primary eq true]", "value": {"locality": "B"}}]),
    );
    assert_eq!(
        doc["addresses"],
        json!([{"type": "home", "locality": "A", "primary": false}, {"type": "work", "primary": true, "locality": "B"}])
    );
}

#[test]
fn clearing_a_filtered_target_that_matches_nothing_is_a_no_op() {
    let before = json!({"emails": [{"value": "a@x", "type": "home"}]});
    let doc = apply_user(
        before.clone(),
        json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": ""},
            {"op": "replace", "path": "emails[value co \"zzz\"]", "value": null}
        ]),
    );
    assert_eq!(doc, before);
}

#[test]
fn clearing_a_filtered_target_removes_the_matching_values() {
    let doc = apply_user(
        json!({"emails": [{"value": "a@x", "type": "home"}, {"value": "b@x", "type": "work"}]}),
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": null}]),
    );
    assert_eq!(doc["emails"], json!([{"value": "a@x", "type": "home"}]));
}

#[test]
fn values_of_the_wrong_shape_are_invalid_value() {
    for op in [
        json!({"op": "replace", "path": "userName", "value": {"x": 1}}),
        json!({"op": "replace", "path": "userName", "value": ["a"]}),
        json!({"op": "add", "path": "name.givenName", "value": ["a"]}),
        json!({"op": "add", "path": "emails", "value": [[1]]}),
        json!({"op": "add", "path": "emails", "value": [{"value": {"nested": 1}}]}),
        json!({"op": "add", "path": "addresses", "value": ["just a string"]}),
        json!({"op": "add", "value": {ENTERPRISE: "not an object"}}),
    ] {
        let err = apply(&schemas().user, json!({}), json!([op.clone()])).unwrap_err();
        assert_eq!(scim_type(&err), "invalidValue", "{op}");
    }
}

#[test]
fn apply_refuses_a_resource_that_is_not_an_object() {
    let req = parse_user(ops(json!([{"op": "add", "path": "title", "value": "x"}]))).unwrap();
    let mut doc = json!([]);
    assert_eq!(
        req.apply(&mut doc, &schemas().user),
        Err(ScimError::Internal)
    );
}

#[test]
fn add_replace_remove_of_platform_role_uses_the_custom_extension() {
    let path = "urn:ietf:params:scim:schemas:extension:platform:2.0:User:platformRole";
    let doc = apply_user(
        json!({}),
        json!([{"op": "add", "path": path, "value": "ADMIN"}]),
    );
    assert_eq!(
        doc,
        json!({"urn:ietf:params:scim:schemas:extension:platform:2.0:User": {"platformRole": "ADMIN"}})
    );
    let doc = apply_user(doc, json!([{"op": "remove", "path": path}]));
    assert_eq!(doc, json!({}));
}

#[test]
fn removing_a_whole_extension_removes_each_of_its_attributes() {
    let schema = scim_core::schema::Schemas::new(scim_core::schema::DEFAULT_PLATFORM_SCHEMA).user;
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let mut doc =
        serde_json::json!({"userName": "a", ext: {"department": "Eng", "manager": {"value": "m"}}});
    let req = scim_core::patch::PatchRequest::parse(
        &serde_json::json!({"Operations": [{"op": "remove", "path": ext}]}),
        &schema,
    )
    .unwrap();
    req.apply(&mut doc, &schema).unwrap();
    assert_eq!(doc, serde_json::json!({"userName": "a"}));
}
