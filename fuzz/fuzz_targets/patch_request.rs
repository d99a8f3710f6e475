//! A PATCH body as the edge reads it: strict JSON, `PatchRequest::parse`, applied to a real user
//! (then normalised, as the Users endpoint does) and, members split off, to a group. Never
//! panics; every refusal is a SCIM 400.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::codec::normalize;
use scim_core::json::parse_strict;
use scim_core::patch::PatchRequest;
use scim_core::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA};
use scim_fuzz::{assert_400, bjensen, group_doc};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = parse_strict(data) else {
        return;
    };
    let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
    match PatchRequest::parse(&body, &schemas.user) {
        Ok(request) => {
            let mut doc = bjensen();
            match request.apply(&mut doc, &schemas.user) {
                Ok(()) => {
                    assert!(doc.is_object());
                    if let Err(err) = normalize(&doc, &schemas.user) {
                        assert_400(&err);
                    }
                }
                Err(err) => assert_400(&err),
            }
        }
        Err(err) => assert_400(&err),
    }
    match PatchRequest::parse(&body, &schemas.group) {
        Ok(request) => match request.split_members() {
            Ok((rest, _changes)) => {
                let mut doc = group_doc();
                if let Err(err) = rest.apply(&mut doc, &schemas.group) {
                    assert_400(&err);
                }
            }
            Err(err) => assert_400(&err),
        },
        Err(err) => assert_400(&err),
    }
});
