//! A SCIM 1.1 body (Okta's "SCIM 1.1" templates) as the 1.1 door reads it: strict JSON, then
//! `scim11::patch_from_v1` (the 2.0 PatchOp it gives is parsed and applied to a real user or
//! group, as the core would) and `scim11::resource_from_v1` (then normalised). Never panics;
//! every refusal is a SCIM 400; a translated resource names the 2.0 core schema first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::codec::normalize;
use scim_core::json::parse_strict;
use scim_core::patch::PatchRequest;
use scim_core::schema::{
    ResourceKind, Schemas, DEFAULT_PLATFORM_SCHEMA, GROUP_SCHEMA, USER_SCHEMA,
};
use scim_core::scim11;
use scim_fuzz::{assert_400, bjensen, group_doc};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = parse_strict(data) else {
        return;
    };
    let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
    for (kind, schema, core) in [
        (ResourceKind::User, &schemas.user, USER_SCHEMA),
        (ResourceKind::Group, &schemas.group, GROUP_SCHEMA),
    ] {
        match scim11::patch_from_v1(body.clone(), kind) {
            Err(err) => assert_400(&err),
            Ok(None) => {}
            Ok(Some(patch)) => match PatchRequest::parse(&patch, schema) {
                Err(err) => assert_400(&err),
                Ok(request) => {
                    let result = match kind {
                        ResourceKind::User => {
                            let mut doc = bjensen();
                            request.apply(&mut doc, schema).map(|()| doc)
                        }
                        ResourceKind::Group => request.split_members().and_then(|(rest, _)| {
                            let mut doc = group_doc();
                            rest.apply(&mut doc, schema).map(|()| doc)
                        }),
                    };
                    match result {
                        Ok(doc) => {
                            if let Err(err) = normalize(&doc, schema) {
                                assert_400(&err);
                            }
                        }
                        Err(err) => assert_400(&err),
                    }
                }
            },
        }
        match scim11::resource_from_v1(body.clone(), kind) {
            Err(err) => assert_400(&err),
            Ok(v2) => {
                assert_eq!(v2["schemas"][0], core);
                if let Err(err) = normalize(&v2, schema) {
                    assert_400(&err);
                }
                let _ = scim11::resource_to_v1(v2);
            }
        }
    }
    let _ = scim11::list_to_v1(body);
});
