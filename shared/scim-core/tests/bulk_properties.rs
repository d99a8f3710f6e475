//! Properties of the Bulk request parser (RFC 7644 section 3.7) on generated requests: it never
//! panics; it refuses past the operation limit; every accepted POST has a `bulkId`, every other
//! method a target; `bulkId`s it accepts are unique; references it reports are exactly the
//! `bulkId:` strings present, and substituting them all leaves none.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use scim_core::bulk::{
    substitute_references, BulkMethod, BulkRequest, BULK_ID_PREFIX, BULK_REQUEST_SCHEMA,
};
use serde_json::{json, Value};

fn bulk_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        "[a-z0-9]{0,6}",
        any::<String>(),
    ]
}

/// A value that may hold `bulkId:` references, nested.
fn data() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        bulk_id().prop_map(|id| Value::String(format!("{BULK_ID_PREFIX}{id}"))),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("members".to_string()),
                    Just("value".to_string()),
                    "[a-zA-Z]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        Just("POST"),
        Just("put"),
        Just("PATCH"),
        Just("DELETE"),
        Just("GET"),
        Just("")
    ];
    let path = prop_oneof![
        Just("/Users".to_string()),
        Just("/Groups".to_string()),
        bulk_id().prop_map(|id| format!("/Users/{BULK_ID_PREFIX}{id}")),
        "[a-z0-9-]{1,12}".prop_map(|id| format!("/Groups/{id}")),
        any::<String>(),
    ];
    (
        method,
        path,
        prop::option::of(bulk_id()),
        prop::option::of(data()),
        prop::option::of(any::<String>()),
    )
        .prop_map(|(method, path, bulk_id, data, version)| {
            let mut op = json!({"method": method, "path": path});
            if let Some(id) = bulk_id {
                op["bulkId"] = json!(id);
            }
            if let Some(data) = data {
                op["data"] = data;
            }
            if let Some(version) = version {
                op["version"] = json!(version);
            }
            op
        })
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

proptest! {
    #[test]
    fn parsed_requests_keep_the_rules(
        ops in prop::collection::vec(operation(), 0..12),
        fail_on_errors in prop::option::of(any::<i64>()),
        max in 1usize..10,
    ) {
        let mut body = json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": ops.clone()});
        if let Some(n) = fail_on_errors {
            body["failOnErrors"] = json!(n);
        }
        match BulkRequest::parse(&body, max) {
            Err(e) => {
                prop_assert!(e.status() == 400 || e.status() == 413, "{e:?}");
                if ops.len() > max && fail_on_errors.is_none_or(|n| n >= 1) {
                    prop_assert_eq!(e.status(), 413);
                }
            }
            Ok(parsed) => {
                prop_assert!(parsed.operations.len() <= max);
                prop_assert_eq!(parsed.operations.len(), ops.len());
                prop_assert!(parsed.fail_on_errors.is_none_or(|n| n >= 1));
                let mut ids = BTreeSet::new();
                for entry in &parsed.operations {
                    let Ok(op) = &entry.operation else { continue };
                    match op.method {
                        BulkMethod::Post => {
                            prop_assert!(entry.bulk_id.is_some());
                            prop_assert!(op.target.is_none());
                        }
                        _ => prop_assert!(op.target.is_some()),
                    }
                    if let Some(id) = &entry.bulk_id {
                        prop_assert!(ids.insert(id.clone()), "bulkId {id} accepted twice");
                    }
                    // The references are exactly the `bulkId:` strings of path and data.
                    let mut found = Vec::new();
                    if let Some(target) = &op.target {
                        found.push(target.clone());
                    }
                    if let Some(data) = &op.data {
                        strings(data, &mut found);
                    }
                    let expected: BTreeSet<String> = found
                        .iter()
                        .filter_map(|s| s.strip_prefix(BULK_ID_PREFIX))
                        .filter(|id| !id.is_empty())
                        .map(str::to_string)
                        .collect();
                    prop_assert_eq!(op.references(), expected);
                    // Resolving every reference leaves none.
                    if let Some(data) = &op.data {
                        let mut data = data.clone();
                        substitute_references(&mut data, &|_| Some("resolved".to_string()));
                        let mut left = Vec::new();
                        strings(&data, &mut left);
                        prop_assert!(left
                            .iter()
                            .all(|s| s.strip_prefix(BULK_ID_PREFIX).is_none_or(str::is_empty)));
                    }
                }
            }
        }
    }

    /// Any JSON at all: an answer, never a panic.
    #[test]
    fn any_body_is_answered(body in data()) {
        let _ = BulkRequest::parse(&body, 50);
    }
}
