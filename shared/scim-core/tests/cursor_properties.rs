//! Property tests of the RFC 9865 cursor codec (`scim_core::cursor`): a client sends cursors
//! back as it likes, so decoding never panics, refuses with `invalidCursor`, and accepts only
//! the texts the encoder writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use scim_core::cursor::Cursor;

fn cursor() -> impl Strategy<Value = Cursor> {
    prop_oneof![
        any::<usize>().prop_map(Cursor::Offset),
        // Store positions as the store writes them (`<id> <sort key>`), and any other text.
        "[0-9a-f-]{36} [A-Za-z0-9#:@._ -]{0,60}".prop_map(Cursor::Store),
        ".{1,80}".prop_map(Cursor::Store),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn every_issued_cursor_decodes_to_itself(c in cursor()) {
        let text = c.encode();
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_eq!(Cursor::decode(&text).unwrap(), c);
    }

    #[test]
    fn any_text_decodes_to_a_cursor_that_encodes_back_to_it_or_is_refused(text in ".{0,200}") {
        check(&text)?;
    }

    #[test]
    fn base64url_text_decodes_canonically_or_is_refused(text in "[A-Za-z0-9_-]{0,120}") {
        check(&text)?;
    }

    #[test]
    fn encoded_arbitrary_payloads_decode_canonically_or_are_refused(payload in "[os]?.{0,60}") {
        use base64::Engine;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        check(&text)?;
    }
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match Cursor::decode(text) {
        Ok(cursor) => prop_assert_eq!(cursor.encode(), text),
        Err(err) => {
            prop_assert_eq!(err.status(), 400);
            prop_assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidCursor"));
        }
    }
    Ok(())
}
