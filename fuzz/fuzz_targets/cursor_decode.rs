//! The RFC 9865 cursor decoder on arbitrary text: never panics, refuses with invalidCursor, and
//! what it accepts encodes back to exactly the text it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::cursor::Cursor;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match Cursor::decode(input) {
        Ok(cursor) => assert_eq!(cursor.encode(), input, "{cursor:?}"),
        Err(err) => {
            assert_eq!(err.status(), 400);
            assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidCursor"));
        }
    }
});
