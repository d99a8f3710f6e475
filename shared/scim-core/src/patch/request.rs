//! Parsing and validating a PATCH body (RFC 7644 section 3.5.2).

use serde_json::{Map, Value};

use super::{
    at_operation, PatchOp, PatchOperation, PatchPath, PatchRequest, MAX_PATCH_OPERATIONS,
    PATCH_OP_SCHEMA,
};
use crate::error::ScimError;
use crate::filter::get_ci;
use crate::schema::ResourceSchema;

impl PatchRequest {
    /// Validates a PATCH body and resolves every path against `schema`.
    ///
    /// - the body must be an object with an `Operations` array (key in any case) of 1 to
    ///   [`MAX_PATCH_OPERATIONS`] operations (`400 invalidValue` outside that range; missing or
    ///   not an array is `400 invalidSyntax`); `schemas`, when sent, must list [`PATCH_OP_SCHEMA`];
    /// - `op` is `add`, `remove` or `replace` in any case, anything else `400 invalidSyntax`;
    /// - a malformed path or unknown attribute is `400 invalidPath`, a malformed value filter
    ///   `400 invalidFilter`, a path naming a readOnly attribute (`id`, `meta`, a user's
    ///   `groups`, `schemas`) `400 mutability`;
    /// - `add`/`replace` need a `value` (`400 invalidValue`), an object when there is no path;
    /// - `remove` without a path is `400 noTarget` (RFC 7644 section 3.5.2.2).
    ///
    /// A path that is a bare extension URN (`urn:...:enterprise:2.0:User`) with an object value
    /// is read as a path-less operation on that extension's attributes.
    pub fn parse(body: &Value, schema: &ResourceSchema) -> Result<PatchRequest, ScimError> {
        if !body.is_object() {
            return Err(ScimError::invalid_syntax(
                "The PATCH body must be a JSON object with an 'Operations' array.",
            ));
        }
        check_schemas(get_ci(body, "schemas"))?;
        let operations = match get_ci(body, "Operations") {
            Some(Value::Array(ops)) => ops,
            Some(_) => return Err(ScimError::invalid_syntax("'Operations' must be an array.")),
            None => {
                return Err(ScimError::invalid_syntax(
                    "The PATCH body has no 'Operations' array.",
                ))
            }
        };
        if operations.is_empty() {
            return Err(ScimError::invalid_value("'Operations' is empty."));
        }
        if operations.len() > MAX_PATCH_OPERATIONS {
            return Err(ScimError::invalid_value(format!(
                "'Operations' has {} operations; the limit is {MAX_PATCH_OPERATIONS}.",
                operations.len()
            )));
        }
        let operations = operations
            .iter()
            .enumerate()
            .map(|(i, op)| parse_operation(op, schema).map_err(|e| at_operation(i, e)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        Ok(PatchRequest { operations })
    }
}

fn check_schemas(schemas: Option<&Value>) -> Result<(), ScimError> {
    let listed = match schemas {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(items)) => items.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
        }),
        Some(Value::String(s)) => s.eq_ignore_ascii_case(PATCH_OP_SCHEMA),
        Some(_) => false,
    };
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "'schemas' must be [\"{PATCH_OP_SCHEMA}\"]."
        )))
    }
}

/// Parses one operation; a `remove` of a whole extension becomes one `remove` per attribute.
fn parse_operation(op: &Value, schema: &ResourceSchema) -> Result<Vec<PatchOperation>, ScimError> {
    if !op.is_object() {
        return Err(ScimError::invalid_syntax(
            "each operation must be a JSON object",
        ));
    }
    let kind = match get_ci(op, "op") {
        Some(Value::String(name)) => parse_op(name)?,
        Some(_) => return Err(ScimError::invalid_syntax("'op' must be a string")),
        None => return Err(ScimError::invalid_syntax("the operation has no 'op'")),
    };
    let mut value = get_ci(op, "value").cloned();
    let path = match get_ci(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => {
            let path = path.trim();
            if let Some(extension) = schema.extension(path) {
                // The whole extension object: `{"path": "urn:...:User", "value": {"department": ..}}`.
                if kind == PatchOp::Remove {
                    // Removing the whole extension removes each of its attributes.
                    return extension
                        .attributes
                        .iter()
                        .map(|attr| {
                            let full = format!("{}:{}", extension.id, attr.name);
                            Ok(PatchOperation {
                                op: PatchOp::Remove,
                                path: Some(PatchPath::parse(&full, schema)?),
                                value: None,
                            })
                        })
                        .collect();
                }
                value = value.map(|v| Value::Object(Map::from_iter([(extension.id.clone(), v)])));
                None
            } else {
                let parsed = PatchPath::parse(path, schema)?;
                if parsed.attr.is_read_only() {
                    return Err(ScimError::mutability(format!(
                        "'{}' is readOnly and cannot be modified",
                        parsed.attr
                    )));
                }
                Some(parsed)
            }
        }
        Some(_) => return Err(ScimError::invalid_path("'path' must be a string")),
    };
    match (kind, &path, &value) {
        (PatchOp::Remove, None, _) => {
            return Err(ScimError::no_target(
                "'remove' needs a 'path' naming what to remove",
            ))
        }
        (PatchOp::Add | PatchOp::Replace, _, None) => {
            return Err(ScimError::invalid_value(format!(
                "'{}' needs a 'value'",
                kind.as_str()
            )))
        }
        (PatchOp::Add | PatchOp::Replace, None, Some(v)) if !v.is_object() => {
            return Err(ScimError::invalid_value(format!(
                "without a 'path', the value of '{}' must be an object of attributes",
                kind.as_str()
            )))
        }
        _ => {}
    }
    if kind == PatchOp::Remove && value.as_ref().is_some_and(Value::is_null) {
        value = None;
    }
    Ok(vec![PatchOperation {
        op: kind,
        path,
        value,
    }])
}

fn parse_op(name: &str) -> Result<PatchOp, ScimError> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("add") {
        Ok(PatchOp::Add)
    } else if name.eq_ignore_ascii_case("replace") {
        Ok(PatchOp::Replace)
    } else if name.eq_ignore_ascii_case("remove") {
        Ok(PatchOp::Remove)
    } else {
        Err(ScimError::invalid_syntax(format!(
            "unknown op '{}': expected add, remove or replace",
            crate::filter::excerpt(name)
        )))
    }
}
