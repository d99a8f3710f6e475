//! Properties of the token endpoint's parsers and tokens on generated input: the token request
//! parser never panics and refuses with RFC 6749's statuses; whatever characters a client id
//! and secret hold, form-encoding them (in the body or in `Authorization: Basic`) gives them
//! back exactly; an access token verifies as its client and tenant, and any change to it is
//! refused.
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;
use scim_core::ids::TenantId;
use scim_ops::oauth::access_token::AccessTokens;
use scim_ops::oauth::request::ClientAuth;
use scim_ops::oauth::{OAuthErrorCode, TokenRequest};
use scim_ops::tokens::TokenHasher;
use scim_ops::TenantSettings;

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_request_is_parsed_or_refused_with_its_status(
        body in prop::collection::vec(any::<u8>(), 0..300),
        header in proptest::option::of(".{0,80}"),
        form_like in "(grant_type|client_id|client_secret|client_assertion|client_assertion_type|scope)=[a-z0-9%:._-]{0,12}(&(grant_type|client_id|client_secret|client_assertion|client_assertion_type)=[a-z0-9%:._-]{0,12}){0,4}",
    ) {
        for body in [body.as_slice(), form_like.as_bytes()] {
            match TokenRequest::parse(FORM, header.as_deref(), body) {
                Ok(request) => prop_assert!(!request.auth.client_id().is_empty()),
                Err(err) => {
                    let expected = if err.code == OAuthErrorCode::InvalidClient { 401 } else { 400 };
                    prop_assert_eq!(err.status(), expected);
                }
            }
        }
    }

    #[test]
    fn client_credentials_survive_form_encoding_in_the_body_and_in_basic(
        id in "[^\u{0}]{1,40}",
        secret in "[^\u{0}]{1,60}",
    ) {
        let expected = ClientAuth::Secret { client_id: id.clone(), secret: secret.clone() };
        let posted = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            enc(&id),
            enc(&secret)
        );
        let request = TokenRequest::parse(FORM, None, posted.as_bytes()).unwrap();
        prop_assert_eq!(&request.auth, &expected);
        let basic = format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(&id), enc(&secret))));
        let request = TokenRequest::parse(FORM, Some(&basic), b"grant_type=client_credentials").unwrap();
        prop_assert_eq!(&request.auth, &expected);
    }

    #[test]
    fn an_access_token_verifies_as_its_client_and_any_change_is_refused(
        client in "scimc_[0-9a-f]{16}",
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_-]",
    ) {
        let tokens = AccessTokens::new(&TokenHasher::new(&[3u8; 32]).unwrap());
        let tenant = TenantId::parse("0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70").unwrap();
        let token = tokens.issue(&client, &tenant, &TenantSettings::default(), now(), 3600).unwrap();
        let principal = tokens.verify(&token).unwrap();
        prop_assert_eq!(&principal.tenant, &tenant);
        prop_assert_eq!(&principal.token_prefix, &client);
        let i = position.index(token.len());
        let mut altered = token.clone();
        altered.replace_range(i..=i, &replacement);
        if altered != token {
            // Changing the last character of the signature may only flip unused bits of its
            // final base64 digit; any other change must be refused.
            let last = i == token.len() - 1;
            prop_assert!(tokens.verify(&altered).is_err() || last, "{} accepted", altered);
        }
    }
}
