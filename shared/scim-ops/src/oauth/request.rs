//! The token request (RFC 6749 section 4.4, client credentials), parsed once from its
//! `application/x-www-form-urlencoded` body and `Authorization` header, with the client's
//! authentication: a secret (`client_secret_basic`, `client_secret_post`, RFC 6749 section
//! 2.3.1) or a JWT assertion (`private_key_jwt`, RFC 7523 section 2.2, what Entra's workload
//! identity federation sends).
//!
//! Refusals follow RFC 6749 section 5.2: a malformed request (not a form, a parameter twice,
//! two ways of authenticating, a missing `client_id` beside an assertion) is `invalid_request`;
//! a grant other than `client_credentials` is `unsupported_grant_type`; no client
//! authentication at all is `invalid_client`. Unknown parameters are ignored (section 3.2).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::OAuthError;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest `client_id` accepted.
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// Longest client secret accepted.
pub const MAX_SECRET_LEN: usize = 256;
/// Longest client assertion accepted (a signed JWT is well under this).
pub const MAX_ASSERTION_LEN: usize = 16 * 1024;
/// Largest token request body.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic` or `client_secret_post`.
    Secret { client_id: String, secret: String },
    /// `private_key_jwt` (RFC 7523): the signed assertion, and the `client_id` naming the client.
    Assertion {
        client_id: String,
        assertion: String,
    },
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret { client_id, .. } => write!(f, "Secret({client_id}, <redacted>)"),
            Self::Assertion { client_id, .. } => write!(f, "Assertion({client_id}, <redacted>)"),
        }
    }
}

impl ClientAuth {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Secret { client_id, .. } | Self::Assertion { client_id, .. } => client_id,
        }
    }

    /// The method's name, for logs (`client_secret`, `private_key_jwt`).
    pub fn method(&self) -> &'static str {
        match self {
            Self::Secret { .. } => "client_secret",
            Self::Assertion { .. } => "private_key_jwt",
        }
    }
}

/// A client credentials token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub auth: ClientAuth,
    /// The `scope` asked for, as sent (Entra sends one; any is granted as `scim`).
    pub scope: Option<String>,
}

impl TokenRequest {
    /// Parses a token request from its `Content-Type`, `Authorization` header and body.
    pub fn parse(
        content_type: Option<&str>,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<Self, OAuthError> {
        let media = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        if media.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "The token request must be application/x-www-form-urlencoded.",
            ));
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(OAuthError::invalid_request(
                "The token request is too large.",
            ));
        }
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "The parameter `{}` is repeated.",
                    clip(&name)
                )));
            }
        }
        let param = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        match param("grant_type") {
            None => return Err(OAuthError::invalid_request("`grant_type` is missing.")),
            Some("client_credentials") => {}
            Some(_) => {
                return Err(OAuthError::new(
                    super::OAuthErrorCode::UnsupportedGrantType,
                    "Only the client_credentials grant is supported.",
                ))
            }
        }
        let basic = authorization.map(basic_credentials).transpose()?;
        let posted_secret = param("client_secret");
        let assertion = match (param("client_assertion_type"), param("client_assertion")) {
            (None, None) => None,
            (Some(JWT_BEARER_ASSERTION), Some(jwt)) => Some(jwt),
            (Some(JWT_BEARER_ASSERTION), None) => {
                return Err(OAuthError::invalid_request(
                    "`client_assertion` is missing.",
                ))
            }
            (Some(_), _) => {
                return Err(OAuthError::invalid_request(format!(
                    "`client_assertion_type` must be {JWT_BEARER_ASSERTION}."
                )))
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "`client_assertion_type` is missing.",
                ))
            }
        };
        let client_id = param("client_id");
        let methods = usize::from(basic.is_some())
            + usize::from(posted_secret.is_some())
            + usize::from(assertion.is_some());
        if methods > 1 {
            return Err(OAuthError::invalid_request(
                "The client must authenticate in exactly one way.",
            ));
        }
        let auth = match (basic, posted_secret, assertion) {
            (Some((id, secret)), None, None) => {
                if client_id.is_some_and(|posted| posted != id) {
                    return Err(OAuthError::invalid_request(
                        "`client_id` differs from the Authorization header's.",
                    ));
                }
                ClientAuth::Secret {
                    client_id: id,
                    secret,
                }
            }
            (None, Some(secret), None) => ClientAuth::Secret {
                client_id: client_id
                    .ok_or_else(|| OAuthError::invalid_request("`client_id` is missing."))?
                    .to_string(),
                secret: secret.to_string(),
            },
            (None, None, Some(jwt)) => ClientAuth::Assertion {
                client_id: client_id
                    .ok_or_else(|| OAuthError::invalid_request("`client_id` is missing."))?
                    .to_string(),
                assertion: jwt.to_string(),
            },
            _ => return Err(OAuthError::invalid_client("no client authentication")),
        };
        check_lengths(&auth)?;
        Ok(Self {
            auth,
            scope: param("scope").map(str::to_string),
        })
    }
}

fn check_lengths(auth: &ClientAuth) -> Result<(), OAuthError> {
    let too_long = match auth {
        ClientAuth::Secret { client_id, secret } => {
            client_id.len() > MAX_CLIENT_ID_LEN || secret.len() > MAX_SECRET_LEN
        }
        ClientAuth::Assertion {
            client_id,
            assertion,
        } => client_id.len() > MAX_CLIENT_ID_LEN || assertion.len() > MAX_ASSERTION_LEN,
    };
    if too_long {
        return Err(OAuthError::invalid_client(
            "credentials longer than any issued",
        ));
    }
    Ok(())
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 section 2.3.1). Another
/// scheme in `Authorization` is ignored (no client authentication by header).
fn basic_credentials(header: &str) -> Result<(String, String), OAuthError> {
    let (scheme, encoded) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "an Authorization scheme other than Basic",
        ));
    }
    let malformed = || OAuthError::invalid_client("malformed Basic credentials");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    // Each part is form-encoded: decode it as the value of a one-parameter form.
    let decode = |part: &str| -> Result<String, OAuthError> {
        url::form_urlencoded::parse(format!("x={}", part.replace('&', "%26")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .ok_or_else(malformed)
    };
    let (id, secret) = (decode(id)?, decode(secret)?);
    if id.is_empty() || secret.is_empty() {
        return Err(malformed());
    }
    Ok((id, secret))
}

fn clip(text: &str) -> String {
    text.chars().take(40).filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::oauth::OAuthErrorCode;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn parse(auth: Option<&str>, body: &str) -> Result<TokenRequest, OAuthError> {
        TokenRequest::parse(FORM, auth, body.as_bytes())
    }

    fn code(result: Result<TokenRequest, OAuthError>) -> OAuthErrorCode {
        result.unwrap_err().code
    }

    #[test]
    fn entras_federated_request_is_an_assertion_for_the_named_client() {
        let body = format!(
            "grant_type=client_credentials&client_id=scimc_1&client_assertion_type={}&client_assertion=a.b.c&scope=api%3A%2F%2Fscim%2F.default",
            url::form_urlencoded::byte_serialize(JWT_BEARER_ASSERTION.as_bytes()).collect::<String>()
        );
        let request = parse(None, &body).unwrap();
        assert_eq!(
            request.auth,
            ClientAuth::Assertion {
                client_id: "scimc_1".into(),
                assertion: "a.b.c".into()
            }
        );
        assert_eq!(request.scope.as_deref(), Some("api://scim/.default"));
    }

    #[test]
    fn secrets_come_by_basic_or_in_the_body() {
        let basic = format!("Basic {}", STANDARD.encode("scimc_1:s%3Acret"));
        let request = parse(Some(&basic), "grant_type=client_credentials").unwrap();
        assert_eq!(
            request.auth,
            ClientAuth::Secret {
                client_id: "scimc_1".into(),
                secret: "s:cret".into()
            }
        );
        let posted = parse(
            None,
            "grant_type=client_credentials&client_id=scimc_1&client_secret=s%3Acret",
        )
        .unwrap();
        assert_eq!(posted.auth, request.auth);
    }

    #[test]
    fn malformed_requests_are_invalid_request() {
        for body in [
            "client_id=x&client_secret=y",
            "grant_type=client_credentials&grant_type=client_credentials&client_id=x&client_secret=y",
            "grant_type=client_credentials&client_secret=y",
            "grant_type=client_credentials&client_id=x&client_assertion=a.b.c",
            "grant_type=client_credentials&client_id=x&client_assertion_type=urn:x&client_assertion=a.b.c",
            "grant_type=client_credentials&client_id=x&client_secret=y&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c",
        ] {
            assert_eq!(code(parse(None, body)), OAuthErrorCode::InvalidRequest, "{body}");
        }
        assert_eq!(
            code(TokenRequest::parse(Some("application/json"), None, b"{}")),
            OAuthErrorCode::InvalidRequest
        );
        let basic = format!("Basic {}", STANDARD.encode("a:b"));
        assert_eq!(
            code(parse(
                Some(&basic),
                "grant_type=client_credentials&client_id=a&client_secret=b"
            )),
            OAuthErrorCode::InvalidRequest
        );
    }

    #[test]
    fn other_grants_are_unsupported() {
        for grant in ["authorization_code", "password", "refresh_token"] {
            assert_eq!(
                code(parse(
                    None,
                    &format!("grant_type={grant}&client_id=x&client_secret=y")
                )),
                OAuthErrorCode::UnsupportedGrantType
            );
        }
    }

    #[test]
    fn no_or_bad_client_authentication_is_invalid_client() {
        for (auth, body) in [
            (None, "grant_type=client_credentials&client_id=x"),
            (Some("Bearer abc"), "grant_type=client_credentials"),
            (Some("Basic !!!"), "grant_type=client_credentials"),
            (Some("Basic Og=="), "grant_type=client_credentials"),
        ] {
            let err = parse(auth, body).unwrap_err();
            assert_eq!(err.code, OAuthErrorCode::InvalidClient, "{body} {auth:?}");
            assert_eq!(err.status(), 401);
            assert_eq!(err.description, "Client authentication failed.");
        }
    }

    #[test]
    fn the_debug_form_never_shows_a_secret() {
        let request = parse(
            None,
            "grant_type=client_credentials&client_id=x&client_secret=hunter2",
        )
        .unwrap();
        assert!(!format!("{request:?}").contains("hunter2"));
    }
}
