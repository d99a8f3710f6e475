//! Value helpers for PATCH: normalising values sent by clients against the attribute
//! definitions, comparing values of multi-valued attributes, and case-insensitive key handling
//! in JSON objects (attribute names are case-insensitive, RFC 7643 section 2.1).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{get_ci, is_true};
use crate::schema::{AttributeDef, AttributeType};

pub(super) type Object = Map<String, Value>;

/// Whether `element` is one of the values listed in a `remove` value: the same `value`
/// sub-attribute when the listed item has one (or is a bare id), else the same non-null
/// sub-attributes.
pub(super) fn listed_matches(def: &AttributeDef, element: &Value, item: &Value) -> bool {
    if def.ty != AttributeType::Complex {
        return scalar_eq(def, element, item);
    }
    let value_def = def.sub_attribute("value");
    match item {
        Value::Null => false,
        Value::Object(fields) => match (get_ci(item, "value"), value_def) {
            (Some(v), Some(vd)) if !v.is_null() => {
                get_ci(element, "value").is_some_and(|ev| scalar_eq(vd, ev, v))
            }
            _ => {
                let mut given = fields.iter().filter(|(_, v)| !v.is_null()).peekable();
                given.peek().is_some()
                    && given.all(|(k, v)| {
                        get_ci(element, k).is_some_and(|ev| match def.sub_attribute(k) {
                            Some(sd) => scalar_eq(sd, ev, v),
                            None => ev == v,
                        })
                    })
            }
        },
        scalar => value_def
            .is_some_and(|vd| get_ci(element, "value").is_some_and(|ev| scalar_eq(vd, ev, scalar))),
    }
}

/// The values of a multi-valued attribute: an array or a single item; `""`/`null` items dropped.
pub(super) fn normalize_items(def: &AttributeDef, value: &Value) -> Result<Vec<Value>, ScimError> {
    let raw: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut out = Vec::with_capacity(raw.len());
    for item in raw.into_iter().filter(|v| !is_clear(v)) {
        if def.ty == AttributeType::Complex {
            let object = strip_nulls(normalize_complex(def, item)?);
            if !object.is_empty() {
                out.push(Value::Object(object));
            }
        } else {
            check_scalar(def, item)?;
            out.push(item.clone());
        }
    }
    Ok(out)
}

/// A complex value with canonical sub-attribute names. Unknown and readOnly sub-attributes are
/// dropped; `""`/`null` sub-attributes become `null` (meaning "clear" when merged). A scalar
/// stands for `{"value": scalar}` when the attribute has a `value` sub-attribute (Entra sends
/// the enterprise `manager` as a bare id).
pub(super) fn normalize_complex(def: &AttributeDef, value: &Value) -> Result<Object, ScimError> {
    match value {
        Value::Object(fields) => {
            let mut out = Object::new();
            for (key, v) in fields {
                let Some(sub) = def.sub_attribute(key) else {
                    continue;
                };
                if !sub.is_writable() {
                    continue;
                }
                if is_clear(v) {
                    out.insert(sub.name.to_owned(), Value::Null);
                } else {
                    check_scalar(sub, v)?;
                    out.insert(sub.name.to_owned(), v.clone());
                }
            }
            Ok(out)
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => match def.sub_attribute("value") {
            Some(sub) => Ok(Object::from_iter([(sub.name.to_owned(), value.clone())])),
            None => Err(ScimError::invalid_value(format!(
                "values of '{}' must be objects of its sub-attributes",
                def.name
            ))),
        },
        _ => Err(ScimError::invalid_value(format!(
            "values of '{}' must be objects of its sub-attributes",
            def.name
        ))),
    }
}

pub(super) fn check_scalar(def: &AttributeDef, value: &Value) -> Result<(), ScimError> {
    match value {
        Value::Array(_) | Value::Object(_) => Err(ScimError::invalid_value(format!(
            "'{}' takes a single {} value, not {}",
            def.name,
            type_name(def.ty),
            if value.is_array() {
                "an array"
            } else {
                "an object"
            }
        ))),
        _ => Ok(()),
    }
}

pub(super) fn type_name(ty: AttributeType) -> &'static str {
    match ty {
        AttributeType::Boolean => "boolean",
        AttributeType::Integer | AttributeType::Decimal => "numeric",
        AttributeType::DateTime => "dateTime",
        AttributeType::Reference => "reference",
        AttributeType::Complex => "complex",
        AttributeType::String | AttributeType::Binary => "string",
    }
}

/// Appends `item` unless an equal value is present, in which case `item`'s sub-attributes are
/// merged into it (RFC 7644 section 3.5.2.1: no duplicates). Returns the index written.
pub(super) fn merge_or_push(def: &AttributeDef, array: &mut Vec<Value>, item: Value) -> usize {
    match array.iter().position(|e| same_value(def, e, &item)) {
        Some(i) => {
            if let (Some(Value::Object(target)), Value::Object(fields)) = (array.get_mut(i), item) {
                merge(target, fields);
            }
            i
        }
        None => {
            array.push(item);
            array.len() - 1
        }
    }
}

/// Two values of a multi-valued attribute are the same when equal, or for complex values when
/// their `value` sub-attributes are equal and their `type`s do not differ.
pub(super) fn same_value(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    if def.ty != AttributeType::Complex {
        return scalar_eq(def, a, b);
    }
    let Some(value_def) = def.sub_attribute("value") else {
        return false;
    };
    match (get_ci(a, "value"), get_ci(b, "value")) {
        (Some(x), Some(y)) if scalar_eq(value_def, x, y) => {
            match (get_ci(a, "type"), get_ci(b, "type")) {
                (Some(Value::String(s)), Some(Value::String(t))) => s.eq_ignore_ascii_case(t),
                _ => true,
            }
        }
        _ => false,
    }
}

pub(super) fn scalar_eq(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !def.case_exact => crate::fold(x) == crate::fold(y),
        _ => a == b,
    }
}

/// RFC 7644 section 3.5.2: setting `primary` to true on some values sets it to false on the
/// others.
pub(super) fn enforce_single_primary(def: &AttributeDef, array: &mut [Value], touched: &[usize]) {
    let Some(primary) = def.sub_attribute("primary") else {
        return;
    };
    let winners: Vec<usize> = touched
        .iter()
        .copied()
        .filter(|&i| {
            array
                .get(i)
                .and_then(|e| get_ci(e, primary.name))
                .is_some_and(is_true)
        })
        .collect();
    if winners.is_empty() {
        return;
    }
    for (i, element) in array.iter_mut().enumerate() {
        if winners.contains(&i) {
            continue;
        }
        if let Some(object) = element.as_object_mut() {
            let was_primary = object
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(primary.name) && is_true(v));
            if was_primary {
                set_ci(object, primary.name, Value::Bool(false));
            }
        }
    }
}

/// Merges `incoming` into `target`; a `null` in `incoming` removes the sub-attribute.
pub(super) fn merge(target: &mut Object, incoming: Object) {
    for (key, value) in incoming {
        if value.is_null() {
            remove_ci(target, &key);
        } else {
            set_ci(target, &key, value);
        }
    }
}

pub(super) fn strip_nulls(object: Object) -> Object {
    object.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

/// `""` or `null`: the value that clears its target (Entra's "null update").
pub(super) fn is_clear(value: &Value) -> bool {
    value.is_null() || value.as_str() == Some("")
}

pub(super) fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(Object::is_empty)
}

/// Sets `name` in `element` when it is an object (other values are left alone).
pub(super) fn set_in(element: &mut Value, name: &str, value: &Value) {
    if let Some(object) = element.as_object_mut() {
        set_ci(object, name, value.clone());
    }
}

/// Inserts under the canonical `name`, dropping any differently-cased spelling.
pub(super) fn set_ci(object: &mut Object, name: &str, value: Value) {
    remove_ci(object, name);
    object.insert(name.to_owned(), value);
}

/// Removes `name` in any case.
pub(super) fn remove_ci(object: &mut Object, name: &str) {
    object.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

/// Renames a differently-cased spelling of `name` to `name`.
pub(super) fn canonical_key(object: &mut Object, name: &str) {
    if object.contains_key(name) {
        return;
    }
    let other = object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned();
    if let Some(value) = other.and_then(|k| object.remove(&k)) {
        object.insert(name.to_owned(), value);
    }
}

/// Takes the attribute's values out of the container (a lone value becomes a one-item list).
pub(super) fn take_array(container: &mut Object, name: &str) -> Vec<Value> {
    match container.remove(name) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other],
    }
}

/// Puts the values back; an empty list leaves the attribute unassigned (RFC 7644 section
/// 3.5.2.2: "If no other values remain ... considered unassigned").
pub(super) fn put_array(container: &mut Object, name: &str, array: Vec<Value>) {
    if !array.is_empty() {
        container.insert(name.to_owned(), Value::Array(array));
    }
}
