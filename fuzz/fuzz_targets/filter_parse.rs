//! The filter parser (RFC 7644 section 3.4.2.2) on arbitrary text: never panics, stays within
//! its budgets, prints a filter that parses back to itself, and evaluates against real documents.
//! When the input has a newline, what follows it is read as a JSON document to evaluate against
//! too (stored documents are canonical, but evaluation must not panic on any shape).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::filter::{Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS};
use scim_core::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA};
use scim_fuzz::{bjensen, group_doc};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (input, extra) = match text.split_once('\n') {
        Some((filter, doc)) => (filter, scim_core::json::parse_strict(doc.as_bytes()).ok()),
        None => (text, None),
    };
    let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
    for (schema, doc) in [(&schemas.user, bjensen()), (&schemas.group, group_doc())] {
        match Filter::parse(input, schema) {
            Ok(filter) => {
                assert!(input.len() <= MAX_FILTER_LEN);
                assert!(filter.expr().term_count() <= MAX_FILTER_TERMS);
                assert!(filter.expr().nesting_depth() <= MAX_FILTER_DEPTH);
                let text = filter.to_string();
                let again = Filter::parse(&text, schema).unwrap_or_else(|e| {
                    panic!("{input:?} printed as {text:?}, which fails: {e:?}")
                });
                assert_eq!(again, filter, "{input:?} -> {text:?}");
                let _ = filter.matches(&doc);
                let _ = filter.matches(&serde_json::Value::Null);
                if let Some(extra) = &extra {
                    let _ = filter.matches(extra);
                }
                let _ = filter.index_key();
            }
            Err(err) => {
                assert_eq!(err.status(), 400);
                assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidFilter"));
            }
        }
    }
});
