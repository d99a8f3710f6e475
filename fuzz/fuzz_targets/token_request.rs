//! The token endpoint's untrusted input: the form body and `Authorization` header
//! (`TokenRequest::parse`), and a presented JWT, both as a client assertion's header
//! (`jsonwebtoken::decode_header`, what `assertion::verify` reads first) and as an access token
//! on a SCIM route (`AccessTokens::verify`). Never panics; a refusal is an RFC 6749 error with
//! its status; nothing unsigned is ever accepted as an access token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_ops::oauth::access_token::{looks_like_jwt, AccessTokens};
use scim_ops::oauth::{OAuthErrorCode, TokenRequest};
use scim_ops::tokens::TokenHasher;

fuzz_target!(|data: &[u8]| {
    // The first line is the Authorization header, the rest the body.
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    match TokenRequest::parse(Some("application/x-www-form-urlencoded"), header, body) {
        Ok(request) => assert!(!request.auth.client_id().is_empty()),
        Err(err) => {
            let expected = if err.code == OAuthErrorCode::InvalidClient {
                401
            } else {
                400
            };
            assert_eq!(err.status(), expected, "{err:?}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = jsonwebtoken::decode_header(text);
        if let Ok(hasher) = TokenHasher::new(&[7u8; 32]) {
            let verified = AccessTokens::new(&hasher).verify(text);
            assert!(verified.is_err() || looks_like_jwt(text));
        }
    }
});
