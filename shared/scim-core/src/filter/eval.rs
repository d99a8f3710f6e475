//! Filter evaluation against a canonical resource document (RFC 7644 section 3.4.2.2).

use std::cmp::Ordering;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::ast::{AttrPath, CompValue, CompareOp, FilterExpr};
use super::path::{container, get_ci, push_flat};
use crate::schema::{AttributeDef, AttributeType};

/// Evaluates `expr` against a resource (`element` false) or against one value of a complex
/// attribute (`element` true: inside brackets, where paths name sub-attributes of that value).
pub(crate) fn eval(expr: &FilterExpr, target: &Value, element: bool) -> bool {
    match expr {
        FilterExpr::Compare { path, op, value } => {
            let leaves = leaves(path, target, element);
            compare(path.target_def(), *op, value, &leaves)
        }
        FilterExpr::Present(path) => leaves(path, target, element).into_iter().any(is_present),
        FilterExpr::And(a, b) => eval(a, target, element) && eval(b, target, element),
        FilterExpr::Or(a, b) => eval(a, target, element) || eval(b, target, element),
        FilterExpr::Not(inner) => !eval(inner, target, element),
        FilterExpr::ValuePath { path, filter } => {
            if element {
                // The parser never nests value paths; nothing to match if it ever happened.
                return false;
            }
            let mut values = Vec::new();
            if let Some(v) = container(target, path).and_then(|c| get_ci(c, path.attr)) {
                push_flat(v, &mut values);
            }
            values.into_iter().any(|v| eval(filter, v, true))
        }
    }
}

/// The values a path names: in a resource, or (inside brackets) the sub-attribute of a value.
fn leaves<'a>(path: &AttrPath, target: &'a Value, element: bool) -> Vec<&'a Value> {
    if element {
        let mut out = Vec::new();
        if let Some(v) = path.sub_attr.and_then(|sub| get_ci(target, sub)) {
            push_flat(v, &mut out);
        }
        out
    } else {
        path.values(target)
    }
}

/// RFC 7644 section 3.4.2.2: a comparison on a multi-valued attribute holds when any value
/// satisfies it. `ne` is the negation of `eq` (no value equals), so `title ne "x"` holds for a
/// resource without a title and `emails.type ne "work"` means "no work email". `eq null` holds
/// when the attribute is absent (RFC 7643 section 2.5: null is unassigned) and `ne null` when it
/// is present, exactly like `not (attr pr)` and `attr pr`.
fn compare(def: &AttributeDef, op: CompareOp, value: &CompValue, leaves: &[&Value]) -> bool {
    match (op, value) {
        (CompareOp::Eq, CompValue::Null) => !leaves.iter().any(|v| is_present(v)),
        (CompareOp::Ne, CompValue::Null) => leaves.iter().any(|v| is_present(v)),
        (CompareOp::Ne, _) => !leaves
            .iter()
            .any(|leaf| leaf_matches(def, CompareOp::Eq, value, leaf)),
        _ => leaves.iter().any(|leaf| leaf_matches(def, op, value, leaf)),
    }
}

fn leaf_matches(def: &AttributeDef, op: CompareOp, value: &CompValue, leaf: &Value) -> bool {
    match (def.ty, value) {
        (AttributeType::Boolean, CompValue::Bool(b)) => {
            op == CompareOp::Eq && as_bool(leaf) == Some(*b)
        }
        (AttributeType::Integer | AttributeType::Decimal, CompValue::Number(n)) => {
            match (leaf.as_f64(), n.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|ord| ordering_holds(op, ord)),
                _ => false,
            }
        }
        (AttributeType::DateTime, CompValue::String(s)) if !op.is_substring() => {
            let Some(leaf) = leaf.as_str() else {
                return false;
            };
            match (parse_instant(leaf), parse_instant(s)) {
                (Some(a), Some(b)) => ordering_holds(op, a.cmp(&b)),
                // An unparsable stored value can still be equal as text.
                _ => op == CompareOp::Eq && fold(def, leaf) == fold(def, s),
            }
        }
        (_, CompValue::String(s)) => match leaf.as_str() {
            Some(leaf) => string_matches(op, &fold(def, leaf), &fold(def, s)),
            None => false,
        },
        _ => false,
    }
}

fn string_matches(op: CompareOp, leaf: &str, value: &str) -> bool {
    match op {
        CompareOp::Eq => leaf == value,
        CompareOp::Ne => leaf != value,
        CompareOp::Co => leaf.contains(value),
        CompareOp::Sw => leaf.starts_with(value),
        CompareOp::Ew => leaf.ends_with(value),
        _ => ordering_holds(op, leaf.cmp(value)),
    }
}

fn ordering_holds(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Case-folds ([`crate::fold`]) unless the attribute is `caseExact` (RFC 7643 section 2.3.1;
/// binary values are always case-exact, section 2.3.6).
fn fold(def: &AttributeDef, s: &str) -> String {
    if def.case_exact || def.ty == AttributeType::Binary {
        s.to_owned()
    } else {
        crate::fold(s)
    }
}

/// An RFC 3339 instant (RFC 7643 section 2.3.5 `dateTime` is `xsd:dateTime` with a zone).
pub(crate) fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `true`, or a string spelling it in any case (Microsoft Entra sends `"True"`).
pub(crate) fn is_true(v: &Value) -> bool {
    as_bool(v) == Some(true)
}

/// A boolean, or a string `"true"`/`"false"` in any case.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// RFC 7644 section 3.4.2.2 `pr`: present and not null, and not an empty string, array or
/// object (an array or object counts only if something in it is present).
pub(crate) fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(map) => map.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// A total order on two values of attribute `def`, for sorting: instants for dateTime, numbers
/// numerically, strings case-folded unless `caseExact`; values of different JSON types order by
/// type (booleans, numbers, strings, others).
pub(crate) fn compare_json(def: &AttributeDef, a: &Value, b: &Value) -> Ordering {
    if def.ty == AttributeType::DateTime {
        if let (Some(x), Some(y)) = (
            a.as_str().and_then(parse_instant),
            b.as_str().and_then(parse_instant),
        ) {
            return x.cmp(&y);
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => fold(def, x).cmp(&fold(def, y)),
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn presence_ignores_empty_values() {
        for absent in [
            json!(null),
            json!(""),
            json!([]),
            json!({}),
            json!([null, ""]),
            json!({"a": null}),
        ] {
            assert!(!is_present(&absent), "{absent}");
        }
        for present in [json!(false), json!(0), json!("x"), json!([{"value": "x"}])] {
            assert!(is_present(&present), "{present}");
        }
    }

    #[test]
    fn string_booleans_are_read_as_booleans() {
        assert_eq!(as_bool(&json!("False")), Some(false));
        assert_eq!(as_bool(&json!("TRUE")), Some(true));
        assert_eq!(as_bool(&json!("yes")), None);
    }

    #[test]
    fn instants_compare_across_offsets() {
        let a = parse_instant("2011-05-13T04:42:34Z");
        let b = parse_instant("2011-05-13T06:42:34+02:00");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(parse_instant("yesterday").is_none());
    }
}
