//! Attribute paths (RFC 7644 section 3.4.2.2 `attrPath`, section 3.10 fully qualified names):
//! resolution against the schema, and reading the values a path names from a resource.

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::AttrPath;
use super::eval;
use super::MAX_FILTER_LEN;
use crate::error::ScimError;
use crate::schema::{
    AttributeDef, AttributeType, Mutability, ResourceSchema, Returned, Uniqueness,
    COMMON_ATTRIBUTES,
};

/// `schemas` (RFC 7643 section 3): not in the attribute tables of `schema.rs`, yet RFC 7644
/// section 3.4.2.2 filters on it (`schemas eq "urn:...:enterprise:2.0:User"`). Clients never
/// write it through PATCH (the service derives it), hence `readOnly` here.
pub(crate) static SCHEMAS_ATTRIBUTE: AttributeDef = AttributeDef {
    name: "schemas",
    ty: AttributeType::Reference,
    multi_valued: true,
    description: "The schema URNs the resource conforms to.",
    required: true,
    case_exact: false,
    mutability: Mutability::ReadOnly,
    returned: Returned::Always,
    uniqueness: Uniqueness::None,
    canonical_values: &[],
    reference_types: &["uri"],
    sub_attributes: &[],
    // Whatever else the table grows, taken from `id` (also readOnly and always returned).
    ..COMMON_ATTRIBUTES[0]
};
/// Resolves a whole attribute path word (`attr`, `attr.sub`, `urn:...:attr[.sub]`) against
/// `schema`. Errors are a human-readable detail; callers choose the `scimType`.
pub(crate) fn resolve_word(word: &str, schema: &ResourceSchema) -> Result<AttrPath, String> {
    let (urn, rest) = match schema.split_urn(word) {
        Some((urn, rest)) => (Some(urn), rest),
        None => (None, word),
    };
    if rest.is_empty() {
        return Err(format!(
            "'{}' names a schema, not an attribute",
            super::lexer::excerpt(word)
        ));
    }
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let Some((extension, def)) = resolve_attribute(schema, urn, name) else {
        return Err(if urn.is_none() && name.contains(':') {
            format!(
                "unknown schema URN or attribute '{}'",
                super::lexer::excerpt(word)
            )
        } else {
            format!("unknown attribute '{}'", super::lexer::excerpt(name))
        });
    };
    let path = AttrPath {
        extension,
        attr: def.name,
        sub_attr: None,
        def,
        sub_def: None,
    };
    match sub {
        None => Ok(path),
        Some(sub) => resolve_sub(&path, sub),
    }
}

/// Resolves `name` as a sub-attribute of `parent` (inside brackets, or after `.`).
pub(crate) fn resolve_sub(parent: &AttrPath, name: &str) -> Result<AttrPath, String> {
    if parent.def.sub_attributes.is_empty() {
        return Err(format!(
            "'{}' has no sub-attributes, so '{}' cannot follow it",
            parent.attr,
            super::lexer::excerpt(name)
        ));
    }
    match parent.def.sub_attribute(name) {
        Some(sub) => Ok(parent.with_sub(sub)),
        None => Err(format!(
            "'{}' has no sub-attribute '{}'",
            parent.attr,
            super::lexer::excerpt(name)
        )),
    }
}

/// A top-level attribute in the core schema (`urn` `None` or the core URN) or an extension.
fn resolve_attribute(
    schema: &ResourceSchema,
    urn: Option<&str>,
    name: &str,
) -> Option<(Option<String>, &'static AttributeDef)> {
    if let Some(resolved) = schema.resolve(urn, name) {
        return Some((resolved.extension.map(str::to_owned), resolved.def));
    }
    let core = urn.is_none_or(|urn| schema.core.id.eq_ignore_ascii_case(urn));
    (core && name.eq_ignore_ascii_case(SCHEMAS_ATTRIBUTE.name))
        .then_some((None, &SCHEMAS_ATTRIBUTE))
}

/// Looks `key` up in a JSON object: the exact key first, then case-insensitively (attribute
/// names are case-insensitive, RFC 7643 section 2.1).
pub(crate) fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = value.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The object holding the attribute: the resource, or its extension object.
pub(crate) fn container<'a>(resource: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    match &path.extension {
        Some(urn) => get_ci(resource, urn),
        None => Some(resource),
    }
}

/// Pushes `value`, or each element when it is an array, skipping nulls.
pub(crate) fn push_flat<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null())),
        other => out.push(other),
    }
}

impl AttrPath {
    /// Parses an attribute path as used by the `sortBy`, `attributes` and `excludedAttributes`
    /// parameters (RFC 7644 sections 3.4.2.3, 3.9): `attr`, `attr.sub`, optionally prefixed by
    /// a schema URN. No filters. Unknown or malformed paths are `400 invalidValue`.
    pub fn parse(input: &str, schema: &ResourceSchema) -> Result<AttrPath, ScimError> {
        let input = input.trim();
        if input.len() > MAX_FILTER_LEN {
            return Err(ScimError::invalid_value(format!(
                "attribute path longer than {MAX_FILTER_LEN} bytes"
            )));
        }
        if input.is_empty() {
            return Err(ScimError::invalid_value("empty attribute path"));
        }
        if let Some(bad) = input.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '$' | '-' | '/'))
        }) {
            return Err(ScimError::invalid_value(format!(
                "unexpected character {bad:?} in attribute path '{}'",
                super::lexer::excerpt(input)
            )));
        }
        resolve_word(input, schema).map_err(ScimError::invalid_value)
    }

    /// Parses a comma-separated list of attribute paths (the `attributes` and
    /// `excludedAttributes` parameters, RFC 7644 section 3.9). Empty entries are skipped.
    pub fn parse_list(input: &str, schema: &ResourceSchema) -> Result<Vec<AttrPath>, ScimError> {
        if input.len() > MAX_FILTER_LEN {
            return Err(ScimError::invalid_value(format!(
                "attribute list longer than {MAX_FILTER_LEN} bytes"
            )));
        }
        input
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| Self::parse(part, schema))
            .collect()
    }

    /// Every value the path names in `resource`, multi-valued attributes flattened, nulls
    /// skipped: `emails.value` gives each email address, `name.givenName` at most one value.
    pub fn values<'a>(&self, resource: &'a Value) -> Vec<&'a Value> {
        let mut out = Vec::new();
        let Some(value) = container(resource, self).and_then(|c| get_ci(c, self.attr)) else {
            return out;
        };
        match self.sub_attr {
            None => push_flat(value, &mut out),
            Some(sub) => {
                let mut parents = Vec::new();
                push_flat(value, &mut parents);
                for parent in parents {
                    if let Some(v) = get_ci(parent, sub) {
                        push_flat(v, &mut out);
                    }
                }
            }
        }
        out
    }

    /// The value to sort `resource` by (RFC 7644 section 3.4.2.3): for a multi-valued attribute
    /// the value marked `primary`, else the first; for a multi-valued complex attribute named
    /// without a sub-attribute, that value's `value` sub-attribute.
    pub fn sort_value<'a>(&self, resource: &'a Value) -> Option<&'a Value> {
        let value = container(resource, self).and_then(|c| get_ci(c, self.attr))?;
        let chosen = match value {
            Value::Array(items) => items
                .iter()
                .find(|item| get_ci(item, "primary").is_some_and(eval::is_true))
                .or_else(|| items.iter().find(|item| !item.is_null()))?,
            other => other,
        };
        let leaf = match (self.sub_attr, chosen) {
            (Some(sub), _) => get_ci(chosen, sub)?,
            (None, Value::Object(_)) => get_ci(chosen, "value")?,
            (None, _) => chosen,
        };
        (!leaf.is_null()).then_some(leaf)
    }

    /// Orders two resources by this path for `sortBy` (RFC 7644 section 3.4.2.3), comparing the
    /// [`Self::sort_value`]s by the attribute's type (`caseExact`, dateTime instants, numbers).
    /// Resources without a value sort last; reverse the result for `sortOrder=descending`.
    pub fn compare_resources(&self, a: &Value, b: &Value) -> Ordering {
        let def = self.sort_def();
        match (self.sort_value(a), self.sort_value(b)) {
            (Some(x), Some(y)) => eval::compare_json(def, x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }

    fn sort_def(&self) -> &'static AttributeDef {
        match self.sub_def {
            Some(sub) => sub,
            None if self.def.ty == AttributeType::Complex => {
                self.def.sub_attribute("value").unwrap_or(self.def)
            }
            None => self.def,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA, ENTERPRISE_USER_SCHEMA};
    use crate::ScimType;
    use serde_json::json;

    fn schemas() -> Schemas {
        Schemas::new(DEFAULT_PLATFORM_SCHEMA)
    }

    #[test]
    fn resolves_canonical_names_case_insensitively() {
        let s = schemas();
        let p = AttrPath::parse("NAME.GIVENNAME", &s.user).unwrap();
        assert_eq!(
            (p.attr, p.sub_attr, p.extension),
            ("name", Some("givenName"), None)
        );
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            &s.user,
        )
        .unwrap();
        assert_eq!((p.attr, p.extension), ("userName", None));
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Manager.Value",
            &s.user,
        )
        .unwrap();
        assert_eq!(p.extension.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!((p.attr, p.sub_attr), ("manager", Some("value")));
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
    }

    #[test]
    fn unknown_or_malformed_paths_are_invalid_value() {
        let s = schemas();
        for bad in [
            "nope",
            "name.nope",
            "userName.x",
            "emails.value.x",
            "",
            "a b",
            "name[",
            "urn:x:y",
        ] {
            let err = AttrPath::parse(bad, &s.user).unwrap_err();
            assert_eq!(err.scim_type(), Some(ScimType::InvalidValue), "{bad}");
        }
        assert!(AttrPath::parse("members", &s.user).is_err());
        assert!(AttrPath::parse("members.value", &s.group).is_ok());
    }

    #[test]
    fn parse_list_splits_on_commas() {
        let s = schemas();
        let list = AttrPath::parse_list("userName, emails.value,,name", &s.user).unwrap();
        let names: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["userName", "emails.value", "name"]);
    }

    #[test]
    fn sort_value_prefers_the_primary_value() {
        let s = schemas();
        let doc = json!({"emails": [{"value": "b@x"}, {"value": "a@x", "primary": true}]});
        let p = AttrPath::parse("emails", &s.user).unwrap();
        assert_eq!(p.sort_value(&doc), Some(&json!("a@x")));
        let p = AttrPath::parse("emails.value", &s.user).unwrap();
        assert_eq!(p.values(&doc).len(), 2);
    }

    #[test]
    fn compare_resources_folds_case_and_puts_missing_last() {
        let s = schemas();
        let p = AttrPath::parse("userName", &s.user).unwrap();
        let a = json!({"userName": "alice"});
        let b = json!({"userName": "Bob"});
        let none = json!({});
        assert_eq!(p.compare_resources(&a, &b), Ordering::Less);
        assert_eq!(p.compare_resources(&none, &a), Ordering::Greater);
    }
}
