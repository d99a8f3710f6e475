//! The resource codec: turns what a client sent into the canonical document we store.
//!
//! Input is read the way IdPs really send it: attribute names in any case (Entra's test suite
//! sends `UserName`), booleans as strings (`"False"`), explicit `null`s, extension attributes
//! under their URN. The output uses canonical names from the schema table, typed values, no
//! nulls, no read-only or unknown attributes, and never the password (RFC 7643 section 4.1.1:
//! we accept it and drop it, since the platform authenticates users through SSO).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::limits::MAX_DOCUMENT_BYTES;
use crate::schema::{AttributeDef, AttributeType, Mutability, ResourceSchema};

/// Normalises a client's representation of a resource into the canonical stored document.
///
/// Read-only attributes (`id`, `meta`, `groups`) and unknown attributes are ignored (RFC 7644
/// section 3.3: the service provider SHALL ignore read-only attributes); `schemas` is rebuilt by
/// the caller from what is present. Required attributes must be present afterwards, and the
/// result must keep within the size limits ([`crate::limits`]): every create, replace and PATCH
/// result passes through here, so this is where they are enforced.
pub fn normalize(input: &Value, schema: &ResourceSchema) -> Result<Value, ScimError> {
    let Some(object) = input.as_object() else {
        return Err(ScimError::invalid_syntax(
            "The request body must be a JSON object.",
        ));
    };
    let mut out = Map::new();
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") {
            check_schemas(value)?;
            continue;
        }
        if let Some(extension) = schema.extension(key) {
            normalize_extension(&mut out, extension.id.as_str(), extension, value)?;
            continue;
        }
        if let Some((urn, rest)) = schema.split_urn(key) {
            if !rest.is_empty() {
                // A URN-qualified attribute name at the top level, such as
                // `urn:...:enterprise:2.0:User:department`.
                let single = Map::from_iter([(rest.to_string(), value.clone())]);
                if let Some(extension) = schema.extension(urn) {
                    normalize_extension(
                        &mut out,
                        extension.id.as_str(),
                        extension,
                        &Value::Object(single),
                    )?;
                } else {
                    normalize_attributes(&mut out, &single, |name| schema.core_attribute(name))?;
                }
            }
            continue;
        }
        let single = Map::from_iter([(key.clone(), value.clone())]);
        normalize_attributes(&mut out, &single, |name| schema.core_attribute(name))?;
    }
    check_required(&out, schema)?;
    check_document_size(&out, schema)?;
    Ok(Value::Object(out))
}

/// The stored document stays under [`MAX_DOCUMENT_BYTES`] of canonical JSON; attributes stored
/// apart (a group's `members`) do not count.
fn check_document_size(out: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), ScimError> {
    let stored: std::collections::BTreeMap<&str, &Value> = out
        .iter()
        .filter(|(name, _)| {
            !schema
                .core_attribute(name)
                .is_some_and(|def| def.stored_apart)
        })
        .map(|(name, value)| (name.as_str(), value))
        .collect();
    let mut size = ByteCount(0);
    serde_json::to_writer(&mut size, &stored)
        .map_err(|_| ScimError::invalid_value("The resource cannot be written as JSON."))?;
    if size.0 > MAX_DOCUMENT_BYTES {
        return Err(ScimError::invalid_value(format!(
            "The resource would be {} bytes of JSON; at most {MAX_DOCUMENT_BYTES} are stored.",
            size.0
        )));
    }
    Ok(())
}

/// Counts the bytes written to it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn check_schemas(value: &Value) -> Result<(), ScimError> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
        Value::Null => Ok(()),
        _ => Err(ScimError::invalid_syntax(
            "`schemas` must be an array of schema URNs.",
        )),
    }
}

fn normalize_extension(
    out: &mut Map<String, Value>,
    urn: &str,
    extension: &crate::schema::Schema,
    value: &Value,
) -> Result<(), ScimError> {
    let attrs = match value {
        Value::Null => return Ok(()),
        Value::Object(attrs) => attrs,
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "The extension `{urn}` must be a JSON object."
            )))
        }
    };
    let mut target = match out.remove(urn) {
        Some(Value::Object(existing)) => existing,
        _ => Map::new(),
    };
    normalize_attributes(&mut target, attrs, |name| extension.attribute(name))?;
    if !target.is_empty() {
        out.insert(urn.to_string(), Value::Object(target));
    }
    Ok(())
}

/// Normalises `attrs` into `out`, resolving each name through `lookup`. Dotted names
/// (`name.givenName`) address a sub-attribute of a single-valued complex attribute.
fn normalize_attributes(
    out: &mut Map<String, Value>,
    attrs: &Map<String, Value>,
    lookup: impl Fn(&str) -> Option<&'static AttributeDef>,
) -> Result<(), ScimError> {
    for (name, value) in attrs {
        let (head, sub) = match name.split_once('.') {
            Some((head, sub)) => (head, Some(sub)),
            None => (name.as_str(), None),
        };
        let Some(def) = lookup(head) else {
            continue; // unknown attributes are ignored, never stored
        };
        if !accepts_input(def) {
            continue;
        }
        if out.contains_key(def.name) && sub.is_none() {
            return Err(ScimError::invalid_syntax(format!(
                "The attribute `{}` is given more than once.",
                def.name
            )));
        }
        match sub {
            None => {
                if let Some(normalized) = normalize_value(def, value)? {
                    out.insert(def.name.to_string(), normalized);
                }
            }
            Some(sub) if def.ty == AttributeType::Complex && !def.multi_valued => {
                let Some(sub_def) = def.sub_attribute(sub) else {
                    continue;
                };
                if !accepts_input(sub_def) {
                    continue;
                }
                if let Some(normalized) = normalize_single(sub_def, value)? {
                    let parent = out
                        .entry(def.name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(parent) = parent {
                        parent.insert(sub_def.name.to_string(), normalized);
                    }
                }
            }
            Some(_) => continue,
        }
    }
    Ok(())
}

/// Whether a value sent by a client for this attribute is kept: read-only values are ignored
/// and the write-only password is never stored.
fn accepts_input(def: &AttributeDef) -> bool {
    !matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly)
}

/// Normalises one attribute's value; `None` means "absent" (null, empty string, empty list).
pub fn normalize_value(def: &AttributeDef, value: &Value) -> Result<Option<Value>, ScimError> {
    if !def.multi_valued {
        return normalize_single(def, value);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        other => vec![other], // a lone value where a list is expected: read it as a list of one
    };
    let limit = def.value_limit();
    let mut out = Vec::with_capacity(limit.unwrap_or(items.len()).min(items.len()));
    for item in items {
        if let Some(normalized) = normalize_single(def, item)? {
            if !out.contains(&normalized) {
                out.push(normalized);
            }
        }
        // Refused as soon as it is over, so a hostile list costs at most `limit` comparisons
        // per value.
        if let Some(limit) = limit.filter(|limit| out.len() > *limit) {
            return Err(ScimError::invalid_value(format!(
                "`{}` may hold at most {limit} values.",
                def.name
            )));
        }
    }
    ensure_single_primary(def, &mut out)?;
    Ok(if out.is_empty() {
        None
    } else {
        Some(Value::Array(out))
    })
}

/// RFC 7643 section 2.4: the primary attribute value `true` MUST appear no more than once.
fn ensure_single_primary(def: &AttributeDef, values: &mut [Value]) -> Result<(), ScimError> {
    let primaries = values
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "At most one value of `{}` may be primary.",
            def.name
        )));
    }
    Ok(())
}

/// Normalises one value of an attribute (one element, for a multi-valued attribute).
fn normalize_single(def: &AttributeDef, value: &Value) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if def.ty == AttributeType::Complex {
        return normalize_complex(def, value);
    }
    let normalized = match def.ty {
        AttributeType::Boolean => Some(Value::Bool(parse_boolean(def, value)?)),
        AttributeType::Integer | AttributeType::Decimal => Some(parse_number(def, value)?),
        AttributeType::DateTime => {
            let text = expect_string(def, value)?;
            if text.is_empty() {
                None
            } else {
                crate::datetime::parse(text).map_err(|_| {
                    ScimError::invalid_value(format!(
                        "`{}` must be an RFC 3339 date-time.",
                        def.name
                    ))
                })?;
                Some(Value::String(text.to_string()))
            }
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => {
            let text = match value {
                Value::String(s) => s.clone(),
                // Numbers for string attributes (employeeNumber: 42) are common and harmless.
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "`{}` must be a string.",
                        def.name
                    )))
                }
            };
            check_length(def, &text)?;
            if text.is_empty() {
                None
            } else if def.strict_canonical {
                Some(Value::String(canonical_value(def, &text)?.to_string()))
            } else {
                Some(Value::String(text))
            }
        }
        AttributeType::Complex => None,
    };
    Ok(normalized)
}

/// A value no longer than the attribute's `max_length` characters, when it has one.
fn check_length(def: &AttributeDef, text: &str) -> Result<(), ScimError> {
    match def.max_length {
        Some(limit) if text.chars().count() > limit => Err(ScimError::invalid_value(format!(
            "`{}` may be at most {limit} characters long.",
            def.name
        ))),
        _ => Ok(()),
    }
}

fn normalize_complex(def: &AttributeDef, value: &Value) -> Result<Option<Value>, ScimError> {
    let object = match value {
        Value::Object(object) => object,
        // Entra sends the manager as a bare id string; other complex values may arrive the same
        // way. The RFC's `value` sub-attribute is the natural home for it.
        Value::String(s) if def.sub_attribute("value").is_some() => {
            if s.is_empty() {
                return Ok(None);
            }
            return Ok(Some(Value::Object(Map::from_iter([(
                "value".to_string(),
                Value::String(s.clone()),
            )]))));
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "`{}` must be a JSON object.",
                def.name
            )))
        }
    };
    let mut out = Map::new();
    for (name, sub_value) in object {
        let Some(sub_def) = def.sub_attribute(name) else {
            continue;
        };
        if !accepts_input(sub_def) {
            continue;
        }
        if let Some(normalized) = normalize_single(sub_def, sub_value)? {
            out.insert(sub_def.name.to_string(), normalized);
        }
    }
    Ok(if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    })
}

/// Booleans, including the strings `"True"`/`"False"` that Microsoft Entra sends.
pub fn parse_boolean(def: &AttributeDef, value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "`{}` must be a boolean.",
            def.name
        ))),
    }
}

fn parse_number(def: &AttributeDef, value: &Value) -> Result<Value, ScimError> {
    let invalid = || ScimError::invalid_value(format!("`{}` must be a number.", def.name));
    match value {
        Value::Number(n) if def.ty == AttributeType::Integer && !(n.is_i64() || n.is_u64()) => {
            Err(invalid())
        }
        Value::Number(_) => Ok(value.clone()),
        Value::String(s) => serde_json::from_str::<serde_json::Number>(s.trim())
            .map(Value::Number)
            .map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

fn expect_string<'v>(def: &AttributeDef, value: &'v Value) -> Result<&'v str, ScimError> {
    value
        .as_str()
        .ok_or_else(|| ScimError::invalid_value(format!("`{}` must be a string.", def.name)))
}

/// The canonical spelling of a strictly canonical value (`admin` -> `ADMIN`).
pub fn canonical_value(def: &AttributeDef, text: &str) -> Result<&'static str, ScimError> {
    def.canonical_values
        .iter()
        .copied()
        .find(|canonical| canonical.eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            ScimError::invalid_value(format!(
                "`{}` must be one of {}.",
                def.name,
                def.canonical_values.join(", ")
            ))
        })
}

fn check_required(out: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), ScimError> {
    for def in schema.core.attributes.iter().filter(|d| d.required) {
        if !out.contains_key(def.name) {
            return Err(ScimError::invalid_value(format!(
                "`{}` is required.",
                def.name
            )));
        }
    }
    Ok(())
}

/// Reads `externalId` from a client document: a non-empty string, or absent.
pub fn external_id(doc: &Value) -> Option<&str> {
    doc.get("externalId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::limits::{MAX_EMAILS, MAX_NAME_CHARS, MAX_VALUES};
    use crate::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA, ENTERPRISE_USER_SCHEMA};
    use serde_json::json;

    fn user_schema() -> ResourceSchema {
        Schemas::new(DEFAULT_PLATFORM_SCHEMA).user
    }

    #[test]
    fn capitalised_attribute_names_are_read_as_canonical() {
        let doc = normalize(
            &json!({"UserName": "Ann", "Active": "False", "NAME": {"GivenName": "Ann"}}),
            &user_schema(),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"userName": "Ann", "active": false, "name": {"givenName": "Ann"}})
        );
    }

    #[test]
    fn password_read_only_and_unknown_attributes_are_dropped() {
        let doc = normalize(
            &json!({"userName": "a", "password": "hunter2", "id": "x", "meta": {}, "groups": [], "shoeSize": 42}),
            &user_schema(),
        )
        .unwrap();
        assert_eq!(doc, json!({"userName": "a"}));
    }

    #[test]
    fn missing_user_name_is_invalid_value() {
        let err = normalize(&json!({"displayName": "a"}), &user_schema()).unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidValue));
    }

    #[test]
    fn platform_role_is_canonicalised_and_unknown_roles_rejected() {
        let ok = normalize(
            &json!({"userName": "a", DEFAULT_PLATFORM_SCHEMA: {"platformRole": "operator"}}),
            &user_schema(),
        )
        .unwrap();
        assert_eq!(ok[DEFAULT_PLATFORM_SCHEMA]["platformRole"], "OPERATOR");
        let err = normalize(
            &json!({"userName": "a", DEFAULT_PLATFORM_SCHEMA: {"platformRole": "ROOT"}}),
            &user_schema(),
        )
        .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidValue));
    }

    #[test]
    fn explicit_nulls_from_older_entra_tenants_mean_absent() {
        let doc = normalize(
            &json!({"userName": "a", "nickName": null, "emails": null, ENTERPRISE_USER_SCHEMA: {"department": null}}),
            &user_schema(),
        )
        .unwrap();
        assert_eq!(doc, json!({"userName": "a"}));
    }

    #[test]
    fn manager_as_bare_string_becomes_value() {
        let doc = normalize(
            &json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"manager": "m-1", "department": "Eng"}}),
            &user_schema(),
        )
        .unwrap();
        assert_eq!(
            doc[ENTERPRISE_USER_SCHEMA],
            json!({"manager": {"value": "m-1"}, "department": "Eng"})
        );
    }

    #[test]
    fn two_primary_emails_are_rejected() {
        let err = normalize(
            &json!({"userName": "a", "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": "True"}]}),
            &user_schema(),
        )
        .unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidValue));
    }

    #[test]
    fn same_attribute_in_two_casings_is_rejected() {
        let err =
            normalize(&json!({"userName": "a", "USERNAME": "b"}), &user_schema()).unwrap_err();
        assert_eq!(err.status(), 400);
    }

    fn group_schema() -> ResourceSchema {
        Schemas::new(DEFAULT_PLATFORM_SCHEMA).group
    }

    fn refused_as_invalid_value(body: &Value, schema: &ResourceSchema) -> String {
        let err = normalize(body, schema).unwrap_err();
        assert_eq!(err.status(), 400, "{err:?}");
        assert_eq!(
            err.scim_type(),
            Some(crate::ScimType::InvalidValue),
            "{err:?}"
        );
        err.to_json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn names_and_external_ids_over_their_length_limit_are_invalid_value() {
        let at_limit = "\u{e9}".repeat(MAX_NAME_CHARS); // characters, not bytes
        let over = "a".repeat(MAX_NAME_CHARS + 1);
        assert!(normalize(&json!({"userName": at_limit}), &user_schema()).is_ok());
        for body in [
            json!({"userName": over}),
            json!({"userName": "a", "externalId": over}),
            json!({"userName": "a", "displayName": over}),
        ] {
            let detail = refused_as_invalid_value(&body, &user_schema());
            assert!(detail.contains("1024 characters"), "{detail}");
        }
        refused_as_invalid_value(&json!({"displayName": over}), &group_schema());
        refused_as_invalid_value(
            &json!({"displayName": "g", "externalId": over}),
            &group_schema(),
        );
    }

    #[test]
    fn more_than_twenty_emails_are_refused_so_every_email_stays_findable() {
        let emails = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({"value": format!("a{i}@example.com")}))
                .collect()
        };
        let ok = normalize(
            &json!({"userName": "a", "emails": emails(MAX_EMAILS)}),
            &user_schema(),
        )
        .unwrap();
        assert_eq!(ok["emails"].as_array().map(Vec::len), Some(MAX_EMAILS));
        let detail = refused_as_invalid_value(
            &json!({"userName": "a", "emails": emails(5000)}),
            &user_schema(),
        );
        assert!(detail.contains("`emails` may hold at most 20"), "{detail}");
        // Repeats are one value: twenty distinct addresses sent twice are twenty.
        let twice: Vec<Value> = emails(MAX_EMAILS).into_iter().cycle().take(40).collect();
        assert!(normalize(&json!({"userName": "a", "emails": twice}), &user_schema()).is_ok());
    }

    #[test]
    fn other_multi_valued_attributes_hold_at_most_the_value_limit() {
        let values = |n: usize| -> Vec<Value> {
            (0..n).map(|i| json!({"value": format!("r{i}")})).collect()
        };
        for attr in ["phoneNumbers", "roles", "entitlements", "ims"] {
            assert!(normalize(
                &json!({"userName": "a", attr: values(MAX_VALUES)}),
                &user_schema()
            )
            .is_ok());
            refused_as_invalid_value(
                &json!({"userName": "a", attr: values(MAX_VALUES + 1)}),
                &user_schema(),
            );
        }
        let addresses: Vec<Value> = (0..=MAX_VALUES)
            .map(|i| json!({"locality": format!("town {i}")}))
            .collect();
        refused_as_invalid_value(
            &json!({"userName": "a", "addresses": addresses}),
            &user_schema(),
        );
    }

    #[test]
    fn a_document_over_the_size_limit_is_invalid_value() {
        let big = "x".repeat(MAX_DOCUMENT_BYTES);
        let detail =
            refused_as_invalid_value(&json!({"userName": "a", "title": big}), &user_schema());
        assert!(detail.contains("102400"), "{detail}");
        let just_under = "x".repeat(MAX_DOCUMENT_BYTES - 100);
        assert!(normalize(
            &json!({"userName": "a", "title": just_under}),
            &user_schema()
        )
        .is_ok());
    }

    #[test]
    fn a_groups_members_count_toward_neither_the_document_nor_the_value_limit() {
        let members: Vec<Value> = (0..5000)
            .map(|i| json!({"value": format!("00000000-0000-4000-8000-{i:012x}")}))
            .collect();
        let doc = normalize(
            &json!({"displayName": "big", "members": members}),
            &group_schema(),
        )
        .unwrap();
        assert_eq!(doc["members"].as_array().map(Vec::len), Some(5000));
    }

    #[test]
    fn schemas_advertise_the_limits() {
        let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
        let user = schemas.user.core.to_json("https://x/scim/v2");
        let described = |name: &str| {
            user["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["name"] == name)
                .and_then(|a| a["description"].as_str())
                .unwrap_or_default()
                .to_string()
        };
        assert!(described("userName").ends_with("At most 1024 characters."));
        assert!(described("emails").ends_with("At most 20 values."));
        assert!(described("phoneNumbers").ends_with("At most 100 values."));
        assert!(!described("groups").contains("At most"));
    }

    #[test]
    fn wrong_json_types_are_invalid_value() {
        for body in [
            json!({"userName": ["a"]}),
            json!({"userName": "a", "active": 3}),
            json!({"userName": "a", "name": "Ann"}),
            json!({"userName": {"x": 1}}),
        ] {
            let err = normalize(&body, &user_schema()).unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
        }
    }
}
