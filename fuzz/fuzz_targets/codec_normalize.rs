//! The resource codec on any JSON document: never panics, refuses with a SCIM 400, and what it
//! accepts is a fixed point (normalising again, or after a trip through JSON text, changes
//! nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::codec::normalize;
use scim_core::json::parse_strict;
use scim_core::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA};
use scim_fuzz::assert_400;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse_strict(data) else {
        return;
    };
    let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
    for schema in [&schemas.user, &schemas.group] {
        match normalize(&doc, schema) {
            Ok(canonical) => {
                let again = normalize(&canonical, schema)
                    .unwrap_or_else(|e| panic!("not idempotent: {canonical} fails {e:?}"));
                assert_eq!(again, canonical);
                let text = canonical.to_string();
                let reread = parse_strict(text.as_bytes())
                    .unwrap_or_else(|e| panic!("{text} does not read back: {e:?}"));
                assert_eq!(normalize(&reread, schema).ok(), Some(canonical));
            }
            Err(err) => assert_400(&err),
        }
    }
});
