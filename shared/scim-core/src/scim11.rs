//! SCIM 1.1 (draft-scim-core-schema-01 and draft-scim-api-01), as Okta's "SCIM 1.1" catalog
//! templates speak it, translated to and from the SCIM 2.0 messages the rest of the service
//! handles. The translation is the whole difference between the two versions here: the same
//! schemas validate, the same operations write, and a user created through 1.1 is the same user
//! through 2.0.
//!
//! What differs (see `../shared/IDP-NOTES.md`, "Okta SCIM 1.1"):
//! - schema URNs: `urn:scim:schemas:core:1.0` for both resource types, and
//!   `urn:scim:schemas:extension:enterprise:1.0`; Okta's `urn:okta:custom:group:1.0` group
//!   description is accepted and not stored;
//! - PATCH carries a partial resource: attributes it names are set, multi-valued values are
//!   added unless marked `"operation": "delete"`, and `meta.attributes` names attributes to
//!   clear. It becomes a 2.0 PatchOp: the clears, then the deletions, then one path-less `add`
//!   (whose 2.0 meaning is exactly 1.1's: set singular attributes, merge complex ones, add
//!   multi-valued values);
//! - errors are `{"Errors": [{"description": ..., "code": ...}]}`.
//!
//! Nothing here knows HTTP, so it can be fuzzed (`fuzz/fuzz_targets/scim11_body.rs`).

use serde_json::{json, Map, Value};

use crate::patch::PATCH_OP_SCHEMA;
use crate::schema::{ResourceKind, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use crate::ScimError;

/// The SCIM 1.1 core schema of users and groups alike.
pub const CORE_SCHEMA_V1: &str = "urn:scim:schemas:core:1.0";
/// The SCIM 1.1 enterprise extension (the same attributes as 2.0's).
pub const ENTERPRISE_SCHEMA_V1: &str = "urn:scim:schemas:extension:enterprise:1.0";
/// Okta's group extension (`{"description": ...}`), sent when the Okta group has a description.
pub const OKTA_GROUP_SCHEMA_V1: &str = "urn:okta:custom:group:1.0";

/// The 2.0 core URN of a resource type.
fn core_schema(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => USER_SCHEMA,
        ResourceKind::Group => GROUP_SCHEMA,
    }
}

fn object(body: Value) -> Result<Map<String, Value>, ScimError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ScimError::invalid_syntax(
            "A SCIM 1.1 message must be a JSON object.",
        )),
    }
}

/// The 2.0 name of a 1.1 schema URN; `None` for a URN this service does not keep (Okta's group
/// description).
fn urn_to_v2(urn: &str, kind: ResourceKind) -> Option<String> {
    if urn.eq_ignore_ascii_case(CORE_SCHEMA_V1) {
        Some(core_schema(kind).to_string())
    } else if urn.eq_ignore_ascii_case(ENTERPRISE_SCHEMA_V1) {
        Some(ENTERPRISE_USER_SCHEMA.to_string())
    } else if urn.eq_ignore_ascii_case(OKTA_GROUP_SCHEMA_V1) {
        None
    } else {
        Some(urn.to_string())
    }
}

/// An attribute path as 2.0 names it: `urn:scim:schemas:extension:enterprise:1.0:department`
/// becomes the 2.0 enterprise URN's; anything else is unchanged.
fn path_to_v2(path: &str) -> String {
    match path.get(..ENTERPRISE_SCHEMA_V1.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(ENTERPRISE_SCHEMA_V1) => {
            format!(
                "{ENTERPRISE_USER_SCHEMA}{}",
                path.get(ENTERPRISE_SCHEMA_V1.len()..).unwrap_or("")
            )
        }
        _ => path.to_string(),
    }
}

fn is_key(key: &str, name: &str) -> bool {
    key.eq_ignore_ascii_case(name)
}

/// The top-level members of a 1.1 resource that the 2.0 document takes as they are, with the
/// enterprise extension renamed. `schemas`, `id` and `meta` are left to the caller; Okta's group
/// description is dropped.
fn attributes_to_v2(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        if is_key(&key, "schemas")
            || is_key(&key, "id")
            || is_key(&key, "meta")
            || is_key(&key, OKTA_GROUP_SCHEMA_V1)
        {
            continue;
        }
        if is_key(&key, ENTERPRISE_SCHEMA_V1) {
            out.insert(ENTERPRISE_USER_SCHEMA.to_string(), value);
        } else {
            out.insert(key, value);
        }
    }
    out
}

/// The 2.0 `schemas` list for a 1.1 one: the resource type's core URN first, then the
/// extensions named, translated. A `schemas` that is not a list of strings is `400
/// invalidSyntax`; a missing one is taken as the core schema alone.
fn schemas_to_v2(schemas: Option<&Value>, kind: ResourceKind) -> Result<Vec<Value>, ScimError> {
    let mut out = vec![Value::String(core_schema(kind).to_string())];
    let Some(schemas) = schemas else {
        return Ok(out);
    };
    let list = schemas
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("`schemas` must be a list of URNs."))?;
    for urn in list {
        let urn = urn
            .as_str()
            .ok_or_else(|| ScimError::invalid_syntax("`schemas` must be a list of URNs."))?;
        if let Some(v2) = urn_to_v2(urn, kind) {
            if !out.iter().any(|u| u.as_str() == Some(v2.as_str())) {
                out.push(Value::String(v2));
            }
        }
    }
    Ok(out)
}

fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| is_key(k, name)).map(|(_, v)| v)
}

/// A 1.1 resource (the body of a POST or PUT) as the 2.0 resource the core validates. `id` and
/// `meta`, which Okta echoes on PUT, are read-only and dropped; the core judges the rest as it
/// judges any 2.0 body.
pub fn resource_from_v1(body: Value, kind: ResourceKind) -> Result<Value, ScimError> {
    let map = object(body)?;
    let schemas = schemas_to_v2(get_ci(&map, "schemas"), kind)?;
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.extend(attributes_to_v2(map));
    Ok(Value::Object(out))
}

/// A 1.1 PATCH body (a partial resource) as a 2.0 PatchOp message, or `None` when it asks for no
/// change (only `schemas` and `id`, as Okta sends around an unchanged group).
///
/// - each name in `meta.attributes` becomes a `remove` of that attribute;
/// - each value of a multi-valued attribute marked `"operation": "delete"` becomes a `remove`
///   of the value with that `value` (for `members`, one `remove` naming them all);
/// - everything else becomes one path-less `add`.
///
/// A value marked for deletion without a string `value`, an `operation` other than `delete`, or
/// a `meta.attributes` that is not a list of names is `400 invalidValue`.
pub fn patch_from_v1(body: Value, kind: ResourceKind) -> Result<Option<Value>, ScimError> {
    let mut map = object(body)?;
    let mut operations = Vec::new();
    if let Some(meta) = get_ci(&map, "meta") {
        clears(meta, &mut operations)?;
    }
    // `groups` of a user is read-only in both versions; Okta echoes it.
    if kind == ResourceKind::User {
        map.retain(|k, _| !is_key(k, "groups"));
    }
    let mut additions = Map::new();
    for (key, value) in attributes_to_v2(map) {
        match value {
            Value::Array(values) => {
                let kept = deletions(&key, values, &mut operations)?;
                if !kept.is_empty() {
                    additions.insert(key, Value::Array(kept));
                }
            }
            value => {
                additions.insert(key, value);
            }
        }
    }
    if !additions.is_empty() {
        operations.push(json!({"op": "add", "value": Value::Object(additions)}));
    }
    if operations.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({
        "schemas": [PATCH_OP_SCHEMA],
        "Operations": operations,
    })))
}

/// The `remove` operations of `meta.attributes`.
fn clears(meta: &Value, operations: &mut Vec<Value>) -> Result<(), ScimError> {
    let Some(meta) = meta.as_object() else {
        return Err(ScimError::invalid_value("`meta` must be an object."));
    };
    let Some(names) = get_ci(meta, "attributes") else {
        return Ok(());
    };
    let names = names.as_array().ok_or_else(|| {
        ScimError::invalid_value("`meta.attributes` must be a list of attribute names.")
    })?;
    for name in names {
        let name = name
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                ScimError::invalid_value("`meta.attributes` must be a list of attribute names.")
            })?;
        operations.push(json!({"op": "remove", "path": path_to_v2(name.trim())}));
    }
    Ok(())
}

/// Splits the values of a multi-valued attribute into those to add (returned, without their
/// `operation` marker) and those marked for deletion (pushed as `remove` operations).
fn deletions(
    attribute: &str,
    values: Vec<Value>,
    operations: &mut Vec<Value>,
) -> Result<Vec<Value>, ScimError> {
    let mut kept = Vec::with_capacity(values.len());
    let mut deleted = Vec::new();
    for value in values {
        let Value::Object(mut entry) = value else {
            kept.push(value);
            continue;
        };
        let marker = entry
            .keys()
            .find(|k| is_key(k, "operation"))
            .cloned()
            .and_then(|k| entry.remove(&k));
        match marker {
            None => kept.push(Value::Object(entry)),
            Some(Value::String(op)) if op.eq_ignore_ascii_case("delete") => {
                let target = get_ci(&entry, "value")
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        ScimError::invalid_value(format!(
                            "A value of `{}` marked for deletion needs its `value`.",
                            clip(attribute)
                        ))
                    })?;
                deleted.push(target.to_string());
            }
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "The only `operation` SCIM 1.1 defines on a value is \"delete\".",
                ))
            }
        }
    }
    if deleted.is_empty() {
        return Ok(kept);
    }
    if is_key(attribute, "members") {
        let named: Vec<Value> = deleted.into_iter().map(|v| json!({"value": v})).collect();
        operations.push(json!({"op": "remove", "path": "members", "value": named}));
    } else {
        for value in deleted {
            // A JSON string is a SCIM filter string literal (RFC 7644 section 3.4.2.2).
            let literal = Value::String(value).to_string();
            operations.push(json!({
                "op": "remove",
                "path": format!("{attribute}[value eq {literal}]"),
            }));
        }
    }
    Ok(kept)
}

fn clip(text: &str) -> String {
    text.chars().take(100).filter(|c| !c.is_control()).collect()
}

/// The 1.1 name of a 2.0 schema URN.
fn urn_to_v1(urn: &str) -> &str {
    if urn == USER_SCHEMA || urn == GROUP_SCHEMA {
        CORE_SCHEMA_V1
    } else if urn == ENTERPRISE_USER_SCHEMA {
        ENTERPRISE_SCHEMA_V1
    } else {
        urn
    }
}

/// A 2.0 resource as SCIM 1.1 shows it: 1.1 schema URNs, the enterprise extension under its 1.1
/// name, and `meta` without 2.0's `resourceType`.
pub fn resource_to_v1(body: Value) -> Value {
    let Value::Object(map) = body else {
        return body;
    };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "schemas" => {
                let mut urns: Vec<Value> = Vec::new();
                for urn in value.as_array().into_iter().flatten() {
                    if let Some(urn) = urn.as_str().map(urn_to_v1) {
                        if !urns.iter().any(|u| u.as_str() == Some(urn)) {
                            urns.push(Value::String(urn.to_string()));
                        }
                    }
                }
                out.insert(key, Value::Array(urns));
            }
            "meta" => {
                let mut meta = value;
                if let Some(m) = meta.as_object_mut() {
                    m.remove("resourceType");
                }
                out.insert(key, meta);
            }
            ENTERPRISE_USER_SCHEMA => {
                out.insert(ENTERPRISE_SCHEMA_V1.to_string(), value);
            }
            _ => {
                out.insert(key, value);
            }
        }
    }
    Value::Object(out)
}

/// A 2.0 ListResponse as 1.1's: the core schema, integer paging numbers, resources in 1.1 form.
pub fn list_to_v1(body: Value) -> Value {
    let Value::Object(mut map) = body else {
        return body;
    };
    let resources = match map.remove("Resources") {
        Some(Value::Array(items)) => items.into_iter().map(resource_to_v1).collect(),
        _ => Vec::new(),
    };
    let number = |map: &Map<String, Value>, key: &str| map.get(key).cloned().unwrap_or(json!(0));
    json!({
        "schemas": [CORE_SCHEMA_V1],
        "totalResults": number(&map, "totalResults"),
        "startIndex": map.get("startIndex").cloned().unwrap_or(json!(1)),
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The 1.1 error body (draft-scim-api-01 section 3.9): one error, its description and the HTTP
/// status as `code`.
pub fn error_to_v1(err: &ScimError) -> Value {
    json!({"Errors": [{"description": err.detail(), "code": err.status()}]})
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::patch::PatchRequest;
    use crate::schema::Schemas;

    fn patch(body: Value, kind: ResourceKind) -> Value {
        patch_from_v1(body, kind).unwrap().unwrap()
    }

    #[test]
    fn an_okta_user_body_becomes_a_v2_user_without_its_read_only_echoes() {
        let v2 = resource_from_v1(
            json!({
                "schemas": ["urn:scim:schemas:core:1.0", "urn:scim:schemas:extension:enterprise:1.0"],
                "id": "abc", "meta": {"created": "x"},
                "userName": "a@x.io", "active": true, "groups": [],
                "urn:scim:schemas:extension:enterprise:1.0": {"department": "R&D"},
            }),
            ResourceKind::User,
        )
        .unwrap();
        assert_eq!(v2["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
        assert_eq!(v2[ENTERPRISE_USER_SCHEMA]["department"], "R&D");
        assert!(v2.get("id").is_none() && v2.get("meta").is_none());
        assert_eq!(v2["userName"], "a@x.io");
    }

    #[test]
    fn the_okta_group_description_is_accepted_and_dropped() {
        let v2 = resource_from_v1(
            json!({
                "schemas": ["urn:scim:schemas:core:1.0", "urn:okta:custom:group:1.0"],
                "displayName": "Eng",
                "urn:okta:custom:group:1.0": {"description": "Engineers"},
            }),
            ResourceKind::Group,
        )
        .unwrap();
        assert_eq!(v2, json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng"}));
    }

    #[test]
    fn a_schemas_that_is_not_a_list_of_urns_is_invalid_syntax() {
        for schemas in [json!("urn:scim:schemas:core:1.0"), json!([1])] {
            let err =
                resource_from_v1(json!({"schemas": schemas}), ResourceKind::User).unwrap_err();
            assert_eq!(err.status(), 400);
            assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidSyntax"));
        }
        assert_eq!(
            resource_from_v1(json!([]), ResourceKind::User)
                .unwrap_err()
                .status(),
            400
        );
    }

    #[test]
    fn a_deactivation_patch_sets_active_only() {
        let body = patch(
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "id": "abc", "active": false}),
            ResourceKind::User,
        );
        let schemas = Schemas::new(crate::schema::DEFAULT_PLATFORM_SCHEMA);
        let request = PatchRequest::parse(&body, &schemas.user).unwrap();
        assert_eq!(request.only_sets_active(), Some(false));
    }

    #[test]
    fn members_marked_delete_are_removed_and_the_others_added() {
        let body = patch(
            json!({
                "schemas": ["urn:scim:schemas:core:1.0"], "id": "g", "displayName": "Eng",
                "members": [
                    {"value": "u1", "display": "One"},
                    {"value": "u2", "operation": "delete"},
                    {"value": "u3", "operation": "DELETE"},
                ],
            }),
            ResourceKind::Group,
        );
        assert_eq!(
            body["Operations"],
            json!([
                {"op": "remove", "path": "members", "value": [{"value": "u2"}, {"value": "u3"}]},
                {"op": "add", "value": {"displayName": "Eng", "members": [{"value": "u1", "display": "One"}]}},
            ])
        );
        let schemas = Schemas::new(crate::schema::DEFAULT_PLATFORM_SCHEMA);
        let (_, changes) = PatchRequest::parse(&body, &schemas.group)
            .unwrap()
            .split_members()
            .unwrap();
        assert_eq!(
            changes,
            vec![
                crate::patch::MemberChange::Remove(vec!["u2".into(), "u3".into()]),
                crate::patch::MemberChange::Add(vec!["u1".into()]),
            ]
        );
    }

    #[test]
    fn meta_attributes_are_cleared_before_anything_is_set() {
        let body = patch(
            json!({
                "meta": {"attributes": ["name.familyName", "urn:scim:schemas:extension:enterprise:1.0:department"]},
                "emails": [{"value": "old@x.io", "operation": "delete"}, {"value": "new@x.io", "type": "work"}],
                "displayName": "New",
            }),
            ResourceKind::User,
        );
        assert_eq!(
            body["Operations"],
            json!([
                {"op": "remove", "path": "name.familyName"},
                {"op": "remove", "path": format!("{ENTERPRISE_USER_SCHEMA}:department")},
                {"op": "remove", "path": "emails[value eq \"old@x.io\"]"},
                {"op": "add", "value": {"emails": [{"value": "new@x.io", "type": "work"}], "displayName": "New"}},
            ])
        );
        let schemas = Schemas::new(crate::schema::DEFAULT_PLATFORM_SCHEMA);
        PatchRequest::parse(&body, &schemas.user).unwrap();
    }

    #[test]
    fn a_deleted_value_with_quotes_stays_one_filter_literal() {
        let body = patch(
            json!({"emails": [{"value": "a\"b@x.io", "operation": "delete"}]}),
            ResourceKind::User,
        );
        assert_eq!(
            body["Operations"][0]["path"],
            "emails[value eq \"a\\\"b@x.io\"]"
        );
        let schemas = Schemas::new(crate::schema::DEFAULT_PLATFORM_SCHEMA);
        PatchRequest::parse(&body, &schemas.user).unwrap();
    }

    #[test]
    fn a_patch_naming_nothing_to_change_is_none() {
        assert_eq!(
            patch_from_v1(
                json!({"schemas": ["urn:scim:schemas:core:1.0"], "id": "g", "groups": []}),
                ResourceKind::User
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn malformed_deletions_and_clears_are_invalid_values() {
        for body in [
            json!({"members": [{"operation": "delete"}]}),
            json!({"members": [{"value": "u1", "operation": "add"}]}),
            json!({"meta": {"attributes": "name"}}),
            json!({"meta": {"attributes": [""]}}),
            json!({"meta": 3}),
        ] {
            let err = patch_from_v1(body.clone(), ResourceKind::Group).unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert_eq!(
                err.scim_type().map(|t| t.as_str()),
                Some("invalidValue"),
                "{body}"
            );
        }
    }

    #[test]
    fn a_v2_user_reads_as_a_v1_user() {
        let v1 = resource_to_v1(json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "abc",
            "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "version": "W/\"1\""},
            ENTERPRISE_USER_SCHEMA: {"department": "R&D"},
        }));
        assert_eq!(v1["schemas"], json!([CORE_SCHEMA_V1, ENTERPRISE_SCHEMA_V1]));
        assert_eq!(v1[ENTERPRISE_SCHEMA_V1]["department"], "R&D");
        assert!(v1["meta"].get("resourceType").is_none());
        assert_eq!(v1["meta"]["version"], "W/\"1\"");
    }

    #[test]
    fn a_v2_list_reads_as_a_v1_list_with_integer_paging() {
        let v1 = list_to_v1(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": [],
        }));
        assert_eq!(
            v1,
            json!({"schemas": [CORE_SCHEMA_V1], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
        );
    }

    #[test]
    fn errors_take_the_v1_form_with_the_status_as_code() {
        assert_eq!(
            error_to_v1(&ScimError::Uniqueness("userName is taken.".into())),
            json!({"Errors": [{"description": "userName is taken.", "code": 409}]})
        );
    }
}
