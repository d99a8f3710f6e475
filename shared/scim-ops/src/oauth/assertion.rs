//! Client assertions (RFC 7523 section 2.2; section 3 lists the checks): a JWT the client's
//! identity provider signed, checked against what the administrator configured for the client.
//!
//! - Only RS256 and ES256 are accepted: never `none`, never an HMAC (a public key used as an
//!   HMAC secret would let anyone sign), and the key's own `alg`, when it names one, must agree.
//! - The key is the issuer's key named by the header's `kid` ([`JwksCache`]).
//! - `iss`, `sub` and `aud` must be exactly the configured values; `exp` must be present;
//!   `exp`, `nbf` and `iat` are judged with [`CLOCK_SKEW_SECS`] of skew.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::client::AssertionTrust;
use super::error::OAuthError;
use super::jwks::{JwksCache, JwksFetcher, KeyError};

/// Clock skew allowed on `exp`, `nbf` and `iat`.
pub const CLOCK_SKEW_SECS: u64 = 60;

#[derive(Debug, serde::Deserialize)]
struct Claims {
    #[serde(default)]
    iat: Option<serde_json::Value>,
}

/// Verifies `jwt` as an assertion of the client configured with `trust`, at `now` (seconds
/// since the epoch). Every refusal is `invalid_client`, its reason logged.
pub async fn verify(
    jwt: &str,
    trust: &AssertionTrust,
    keys: &JwksCache,
    fetcher: &impl JwksFetcher,
    now: u64,
) -> Result<(), OAuthError> {
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|e| OAuthError::invalid_client(format!("malformed assertion: {e}")))?;
    let alg = match header.alg {
        Algorithm::RS256 | Algorithm::ES256 => header.alg,
        other => {
            return Err(OAuthError::invalid_client(format!(
                "assertion algorithm {other:?} is not accepted"
            )))
        }
    };
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_client("assertion without kid"))?;
    let jwk = keys
        .key(fetcher, &trust.jwks_url, kid)
        .await
        .map_err(|e| match e {
            KeyError::UnknownKid => OAuthError::invalid_client("assertion kid is not in the JWKS"),
            KeyError::Unavailable(why) => {
                OAuthError::invalid_client(format!("JWKS unavailable: {why}"))
            }
        })?;
    if let Some(key_alg) = jwk.common.key_algorithm {
        if format!("{key_alg:?}") != format!("{alg:?}") {
            return Err(OAuthError::invalid_client(
                "the key's alg differs from the assertion's",
            ));
        }
    }
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|e| OAuthError::invalid_client(format!("unusable key: {e}")))?;
    let mut validation = Validation::new(alg);
    validation.leeway = CLOCK_SKEW_SECS;
    validation.validate_nbf = true;
    validation.set_issuer(&[&trust.issuer]);
    validation.set_audience(&[&trust.audience]);
    validation.sub = Some(trust.subject.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let data = jsonwebtoken::decode::<Claims>(jwt, &key, &validation)
        .map_err(|e| OAuthError::invalid_client(format!("assertion refused: {e}")))?;
    match data.claims.iat {
        None => {}
        Some(serde_json::Value::Number(n))
            if n.as_u64().is_some_and(|iat| iat <= now + CLOCK_SKEW_SECS) => {}
        Some(_) => return Err(OAuthError::invalid_client("assertion iat is in the future")),
    }
    Ok(())
}
