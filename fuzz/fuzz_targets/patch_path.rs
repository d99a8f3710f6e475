//! The PATCH path parser (RFC 7644 figure 7) on arbitrary text: never panics, refuses with
//! invalidPath or invalidFilter, and what it accepts prints as a path that parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::patch::PatchPath;
use scim_core::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
    for schema in [&schemas.user, &schemas.group] {
        match PatchPath::parse(input, schema) {
            Ok(path) => {
                let text = path.to_string();
                let again = PatchPath::parse(&text, schema).unwrap_or_else(|e| {
                    panic!("{input:?} printed as {text:?}, which fails: {e:?}")
                });
                assert_eq!(again, path, "{input:?} -> {text:?}");
            }
            Err(err) => {
                assert_eq!(err.status(), 400);
                assert!(matches!(
                    err.scim_type().map(|t| t.as_str()),
                    Some("invalidPath" | "invalidFilter")
                ));
            }
        }
    }
});
