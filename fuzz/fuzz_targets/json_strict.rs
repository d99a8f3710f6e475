//! The strict JSON reader on arbitrary bytes: never panics or overflows the stack, refuses with
//! invalidSyntax, and what it accepts is exactly what serde_json reads (no duplicate keys, at
//! most `MAX_JSON_DEPTH` levels).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::json::{parse_strict, MAX_JSON_DEPTH};
use serde_json::Value;

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    match parse_strict(data) {
        Ok(value) => {
            assert!(depth(&value) <= MAX_JSON_DEPTH, "{value}");
            let plain: Value =
                serde_json::from_slice(data).expect("serde_json rejects what we accept");
            assert_eq!(plain, value);
        }
        Err(err) => {
            assert_eq!(err.status(), 400);
            assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidSyntax"));
        }
    }
});
