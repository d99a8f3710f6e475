//! The Bulk request parser (RFC 7644 section 3.7) on arbitrary JSON: never panics, refuses with
//! 400 or 413, and what it accepts keeps the limit and gives every POST a `bulkId`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::bulk::{BulkMethod, BulkRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match BulkRequest::parse(&body, 10) {
        Err(e) => assert!(e.status() == 400 || e.status() == 413, "{e:?}"),
        Ok(parsed) => {
            assert!(parsed.operations.len() <= 10);
            for entry in &parsed.operations {
                if let Ok(op) = &entry.operation {
                    assert_eq!(op.method == BulkMethod::Post, op.target.is_none());
                    if op.method == BulkMethod::Post {
                        assert!(entry.bulk_id.is_some());
                    }
                    let _ = op.references();
                }
            }
        }
    }
});
