//! Applying PATCH operations to a canonical resource document (RFC 7644 sections 3.5.2.1-3).

use serde_json::Value;

use super::values::{
    canonical_key, check_scalar, enforce_single_primary, is_clear, is_empty_object, listed_matches,
    merge, merge_or_push, normalize_complex, normalize_items, put_array, remove_ci, set_ci, set_in,
    strip_nulls, take_array, Object,
};
use super::{at_operation, PatchOp, PatchOperation, PatchPath, PatchRequest};
use crate::error::ScimError;
use crate::filter::{matches_value, resolve_word, FilterExpr, Relative};
use crate::schema::{AttributeDef, AttributeType, ResourceSchema};

impl PatchRequest {
    /// Applies the operations in order to `resource`, a canonical resource document.
    ///
    /// On error the document may be partly modified: apply to a copy and keep it only on `Ok`.
    /// Run the resource codec on the result: values are stored as sent (`"False"` stays a
    /// string), and required attributes are not checked here.
    ///
    /// Semantics (RFC 7644 section 3.5.2 and the leniencies listed in [`crate::patch`]):
    /// - `add` on a multi-valued attribute appends the values not already present (same
    ///   `value`, and same `type` when both have one; a duplicate's other sub-attributes are
    ///   merged into it); `replace` replaces the whole array;
    /// - `add` and `replace` on a single-valued complex attribute merge the given
    ///   sub-attributes, leaving the others unchanged (section 3.5.2.3), except that a
    ///   `replace` whose `value` sub-attribute differs (a different manager) starts afresh so
    ///   no stale `$ref` or `displayName` survives;
    /// - `attr.sub` on a single-valued complex attribute sets the sub-attribute, creating the
    ///   parent; on a multi-valued one it sets it on every value (creating one if none);
    /// - `attr[filter]` merges (`add`) into or replaces (`replace`) every matching value;
    ///   `attr[filter].sub` sets the sub-attribute of every matching value; when nothing
    ///   matches and the filter is a conjunction of `eq` terms, a value is created from them,
    ///   otherwise `400 noTarget`;
    /// - `""` or `null` as the value clears the target; clearing or removing what is absent
    ///   is not an error;
    /// - a value that sets `primary` to true clears `primary` on the attribute's other values
    ///   (section 3.5.2);
    /// - unknown sub-attributes and readOnly sub-attributes (`members.display`,
    ///   `manager.displayName`) inside values are dropped, like readOnly attributes in a
    ///   path-less value (RFC 7643 section 7: the service provider ignores them);
    /// - emptied complex values, arrays and extension objects are removed.
    pub fn apply(&self, resource: &mut Value, schema: &ResourceSchema) -> Result<(), ScimError> {
        let Some(doc) = resource.as_object_mut() else {
            return Err(ScimError::Internal);
        };
        for (i, op) in self.operations.iter().enumerate() {
            apply_operation(doc, op, schema).map_err(|e| at_operation(i, e))?;
        }
        Ok(())
    }
}

fn apply_operation(
    doc: &mut Object,
    op: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    match (&op.path, op.op, &op.value) {
        (None, PatchOp::Remove, _) => Err(ScimError::no_target("'remove' needs a 'path'")),
        (None, _, Some(Value::Object(values))) => apply_pathless(doc, op.op, values, schema),
        (None, _, _) => Err(ScimError::invalid_value(
            "without a 'path', the value must be an object of attributes",
        )),
        (Some(path), _, _) if path.attr.is_read_only() => Err(ScimError::mutability(format!(
            "'{}' is readOnly and cannot be modified",
            path.attr
        ))),
        (Some(path), PatchOp::Remove, value) => {
            remove(doc, path, value.as_ref());
            Ok(())
        }
        (Some(path), _, Some(value)) => set(doc, op.op, path, value),
        (Some(_), _, None) => Err(ScimError::invalid_value(format!(
            "'{}' needs a 'value'",
            op.op.as_str()
        ))),
    }
}

/// RFC 7644 sections 3.5.2.1 and 3.5.2.3 without `path`: each key of the value names an
/// attribute (any case, dotted, URN-qualified) or an extension whose object holds attributes.
/// Unknown and readOnly keys are ignored (RFC 7644 section 3.5.2: the service provider ignores
/// readOnly attributes sent by clients; Okta sends `id` along with the new `displayName`).
fn apply_pathless(
    doc: &mut Object,
    op: PatchOp,
    values: &Object,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    for (key, value) in values {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(extension) = schema.extension(key) {
            let urn = extension.id.clone();
            match value {
                Value::Object(inner) => {
                    for (name, v) in inner {
                        if let Some(path) = writable_path(&format!("{urn}:{name}"), schema) {
                            set(doc, op, &path, v)?;
                        }
                    }
                }
                v if is_clear(v) => remove_ci(doc, &urn),
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "'{urn}' must be an object of that extension's attributes"
                    )))
                }
            }
            continue;
        }
        if schema.core.id.eq_ignore_ascii_case(key) {
            // Some clients nest core attributes under the core schema URN.
            if let Value::Object(inner) = value {
                for (name, v) in inner {
                    if let Some(path) = writable_path(name, schema) {
                        set(doc, op, &path, v)?;
                    }
                }
            }
            continue;
        }
        if let Some(path) = writable_path(key, schema) {
            set(doc, op, &path, value)?;
        }
    }
    Ok(())
}

fn writable_path(word: &str, schema: &ResourceSchema) -> Option<PatchPath> {
    let attr = resolve_word(word, schema).ok()?;
    (!attr.is_read_only()).then_some(PatchPath { attr, filter: None })
}

/// `add` or `replace` with a path.
fn set(doc: &mut Object, op: PatchOp, path: &PatchPath, value: &Value) -> Result<(), ScimError> {
    let attr = &path.attr;
    let Some(container) = container_mut(doc, attr.extension.as_deref(), !is_clear(value)) else {
        return Ok(());
    };
    let result = match (&path.filter, attr.sub_def) {
        (None, None) => set_attribute(container, op, attr.def, value),
        (None, Some(sub)) => set_sub(container, attr.def, sub, value),
        (Some(filter), None) => set_filtered(container, op, attr.def, filter, value),
        (Some(filter), Some(sub)) => set_filtered_sub(container, attr.def, filter, sub, value),
    };
    if let Some(urn) = &attr.extension {
        drop_if_empty(doc, urn);
    }
    result
}

fn set_attribute(
    container: &mut Object,
    op: PatchOp,
    def: &AttributeDef,
    value: &Value,
) -> Result<(), ScimError> {
    canonical_key(container, def.name);
    if is_clear(value) {
        container.remove(def.name);
        return Ok(());
    }
    if def.multi_valued {
        let items = normalize_items(def, value)?;
        if op == PatchOp::Replace {
            container.remove(def.name);
            put_array(container, def.name, items);
            return Ok(());
        }
        let mut array = take_array(container, def.name);
        let touched: Vec<usize> = items
            .into_iter()
            .map(|item| merge_or_push(def, &mut array, item))
            .collect();
        enforce_single_primary(def, &mut array, &touched);
        put_array(container, def.name, array);
    } else if def.ty == AttributeType::Complex {
        let incoming = normalize_complex(def, value)?;
        let mut object = match container.remove(def.name) {
            Some(Value::Object(existing)) => existing,
            _ => Object::new(),
        };
        let new_referent = incoming
            .get("value")
            .is_some_and(|v| !v.is_null() && object.get("value") != Some(v));
        if op == PatchOp::Replace && new_referent {
            object.clear();
        }
        merge(&mut object, incoming);
        if !object.is_empty() {
            container.insert(def.name.to_owned(), Value::Object(object));
        }
    } else {
        check_scalar(def, value)?;
        container.insert(def.name.to_owned(), value.clone());
    }
    Ok(())
}

/// `attr.sub` without a filter.
fn set_sub(
    container: &mut Object,
    def: &AttributeDef,
    sub: &AttributeDef,
    value: &Value,
) -> Result<(), ScimError> {
    let clear = is_clear(value);
    if !clear {
        check_scalar(sub, value)?;
    }
    canonical_key(container, def.name);
    if def.multi_valued {
        let mut array = take_array(container, def.name);
        if clear {
            for element in &mut array {
                if let Some(object) = element.as_object_mut() {
                    remove_ci(object, sub.name);
                }
            }
        } else if array.is_empty() {
            array.push(Value::Object(Object::from_iter([(
                sub.name.to_owned(),
                value.clone(),
            )])));
        } else {
            for element in &mut array {
                set_in(element, sub.name, value);
            }
        }
        array.retain(|e| !is_empty_object(e));
        put_array(container, def.name, array);
    } else {
        let mut object = match container.remove(def.name) {
            Some(Value::Object(existing)) => existing,
            _ => Object::new(),
        };
        if clear {
            remove_ci(&mut object, sub.name);
        } else {
            set_ci(&mut object, sub.name, value.clone());
        }
        if !object.is_empty() {
            container.insert(def.name.to_owned(), Value::Object(object));
        }
    }
    Ok(())
}

/// `attr[filter]`.
fn set_filtered(
    container: &mut Object,
    op: PatchOp,
    def: &AttributeDef,
    filter: &FilterExpr,
    value: &Value,
) -> Result<(), ScimError> {
    canonical_key(container, def.name);
    if is_clear(value) {
        let mut array = take_array(container, def.name);
        array.retain(|e| !matches_value(filter, e));
        put_array(container, def.name, array);
        return Ok(());
    }
    let incoming = normalize_complex(def, value)?;
    let mut array = take_array(container, def.name);
    let matched = matching(&array, filter);
    let touched = if matched.is_empty() {
        let Some(mut created) = element_from_eq_terms(filter) else {
            put_array(container, def.name, array);
            return Err(no_match(def, filter));
        };
        merge(&mut created, incoming);
        array.push(Value::Object(created));
        vec![array.len() - 1]
    } else {
        for &i in &matched {
            if let Some(element) = array.get_mut(i) {
                match (op, element.as_object_mut()) {
                    (PatchOp::Add, Some(object)) => merge(object, incoming.clone()),
                    _ => *element = Value::Object(strip_nulls(incoming.clone())),
                }
            }
        }
        matched
    };
    enforce_single_primary(def, &mut array, &touched);
    array.retain(|e| !is_empty_object(e));
    put_array(container, def.name, array);
    Ok(())
}

/// `attr[filter].sub`.
fn set_filtered_sub(
    container: &mut Object,
    def: &AttributeDef,
    filter: &FilterExpr,
    sub: &AttributeDef,
    value: &Value,
) -> Result<(), ScimError> {
    let clear = is_clear(value);
    if !clear {
        check_scalar(sub, value)?;
    }
    canonical_key(container, def.name);
    let mut array = take_array(container, def.name);
    let matched = matching(&array, filter);
    if clear {
        for &i in &matched {
            if let Some(object) = array.get_mut(i).and_then(Value::as_object_mut) {
                remove_ci(object, sub.name);
            }
        }
        array.retain(|e| !is_empty_object(e));
        put_array(container, def.name, array);
        return Ok(());
    }
    let touched = if matched.is_empty() {
        let Some(mut created) = element_from_eq_terms(filter) else {
            put_array(container, def.name, array);
            return Err(no_match(def, filter));
        };
        created.insert(sub.name.to_owned(), value.clone());
        array.push(Value::Object(created));
        vec![array.len() - 1]
    } else {
        for &i in &matched {
            if let Some(element) = array.get_mut(i) {
                set_in(element, sub.name, value);
            }
        }
        matched
    };
    enforce_single_primary(def, &mut array, &touched);
    put_array(container, def.name, array);
    Ok(())
}

/// `remove` with a path (RFC 7644 section 3.5.2.2). Removing what is absent is a no-op.
fn remove(doc: &mut Object, path: &PatchPath, value: Option<&Value>) {
    let attr = &path.attr;
    let def = attr.def;
    let Some(container) = container_mut(doc, attr.extension.as_deref(), false) else {
        return;
    };
    canonical_key(container, def.name);
    match (&path.filter, attr.sub_def) {
        (None, None) => match value {
            // Entra: `{"op":"Remove","path":"members","value":[{"value":"id"}]}` removes only
            // the listed values, never the whole attribute.
            Some(listed) if def.multi_valued => {
                let listed: Vec<&Value> = match listed {
                    Value::Array(items) => items.iter().collect(),
                    single => vec![single],
                };
                let mut array = take_array(container, def.name);
                array.retain(|e| !listed.iter().any(|item| listed_matches(def, e, item)));
                put_array(container, def.name, array);
            }
            _ => remove_ci(container, def.name),
        },
        (None, Some(sub)) => match container.get_mut(def.name) {
            Some(Value::Array(array)) => {
                for element in array.iter_mut() {
                    if let Some(object) = element.as_object_mut() {
                        remove_ci(object, sub.name);
                    }
                }
                array.retain(|e| !is_empty_object(e));
                if array.is_empty() {
                    container.remove(def.name);
                }
            }
            Some(Value::Object(object)) => {
                remove_ci(object, sub.name);
                if object.is_empty() {
                    container.remove(def.name);
                }
            }
            _ => {}
        },
        (Some(filter), sub) => {
            let mut array = take_array(container, def.name);
            match sub {
                None => array.retain(|e| !matches_value(filter, e)),
                Some(sub) => {
                    for element in &mut array {
                        if matches_value(filter, element) {
                            if let Some(object) = element.as_object_mut() {
                                remove_ci(object, sub.name);
                            }
                        }
                    }
                    array.retain(|e| !is_empty_object(e));
                }
            }
            put_array(container, def.name, array);
        }
    }
    if let Some(urn) = &attr.extension {
        drop_if_empty(doc, urn);
    }
}

fn matching(array: &[Value], filter: &FilterExpr) -> Vec<usize> {
    array
        .iter()
        .enumerate()
        .filter(|(_, e)| matches_value(filter, e))
        .map(|(i, _)| i)
        .collect()
}

fn no_match(def: &AttributeDef, filter: &FilterExpr) -> ScimError {
    ScimError::no_target(format!(
        "no value of '{}' matches [{}]",
        def.name,
        Relative(filter)
    ))
}

/// A new value from the `eq` terms of a value filter, e.g. `{"type": "work"}` from
/// `emails[type eq "work"]`: what Microsoft Entra expects when it sets the work email of a user
/// who has none.
fn element_from_eq_terms(filter: &FilterExpr) -> Option<Object> {
    let terms = filter.eq_terms()?;
    Some(
        terms
            .into_iter()
            .map(|(sub, value)| (sub.name.to_owned(), value.to_json()))
            .collect(),
    )
}

/// The object holding the attribute: the document, or its extension object (created when
/// `create`, so clearing an absent extension attribute creates nothing).
fn container_mut<'a>(
    doc: &'a mut Object,
    extension: Option<&str>,
    create: bool,
) -> Option<&'a mut Object> {
    let Some(urn) = extension else {
        return Some(doc);
    };
    canonical_key(doc, urn);
    if !create && !doc.get(urn).is_some_and(Value::is_object) {
        return None;
    }
    let slot = doc
        .entry(urn.to_owned())
        .or_insert_with(|| Value::Object(Object::new()));
    if !slot.is_object() {
        *slot = Value::Object(Object::new());
    }
    slot.as_object_mut()
}

fn drop_if_empty(doc: &mut Object, urn: &str) {
    if doc.get(urn).is_some_and(is_empty_object) {
        doc.remove(urn);
    }
}
