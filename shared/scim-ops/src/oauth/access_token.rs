//! Access tokens the token endpoint issues: JWTs (RFC 9068 shape) signed with HS256 under a key
//! derived from the deployment's token key (Secrets Manager), so every SCIM function verifies
//! them locally, without a table read. They carry the tenant and its settings as of issue.
//!
//! Revoking a client stops new tokens at once; a token already issued works until it expires
//! (at most `SCIM_ACCESS_TOKEN_HOURS`, 1 by default). Disabling the tenant likewise.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use scim_core::ids::TenantId;
use sha2::Sha256;

use super::error::{OAuthError, OAuthErrorCode};
use crate::model::{Principal, Refusal, TenantSettings};
use crate::tokens::TokenHasher;

/// `iss` of our access tokens.
pub const ISSUER: &str = "scim-serverless";
/// `aud` of our access tokens: the SCIM API.
pub const AUDIENCE: &str = "scim";
/// The scope every token is granted.
pub const SCOPE: &str = "scim";
/// Longest accepted lifetime, in hours (Entra expects 1 to 6).
pub const MAX_HOURS: u64 = 6;
/// Clock skew allowed when verifying.
const SKEW_SECS: u64 = 30;
/// The label the signing key is derived under.
const KEY_LABEL: &str = "scim-serverless oauth access-token signing key v1";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    /// The tenant id.
    tid: String,
    iat: u64,
    exp: u64,
    jti: String,
    scope: String,
    /// The tenant's settings when the token was issued.
    #[serde(default)]
    settings: TenantSettings,
}

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessTokens(<redacted>)")
    }
}

/// Whether a presented bearer credential has a JWT's shape (three base64url parts, a JSON
/// header); our opaque tokens never do.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ")
        && token.len() <= 8192
        && token.bytes().filter(|b| *b == b'.').count() == 2
}

impl AccessTokens {
    /// The signer whose key is derived from the deployment's token key.
    pub fn new(hasher: &TokenHasher) -> Self {
        let derived = hex::decode(hasher.hash(KEY_LABEL)).unwrap_or_default();
        Self { key: derived }
    }

    /// A token for `client_id` of `tenant`, valid `lifetime_secs` from `now`.
    pub fn issue(
        &self,
        client_id: &str,
        tenant: &TenantId,
        settings: &TenantSettings,
        now: u64,
        lifetime_secs: u64,
    ) -> Result<String, OAuthError> {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: client_id.into(),
            tid: tenant.to_string(),
            iat: now,
            exp: now + lifetime_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: SCOPE.into(),
            settings: settings.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&self.key)).map_err(|e| {
            tracing::error!(error = %e, "access token signing failed");
            OAuthError::new(OAuthErrorCode::ServerError, "Internal error.")
        })
    }

    /// The principal of a valid access token: signed by us, for the SCIM API, not expired.
    pub fn verify(&self, token: &str) -> Result<Principal, Refusal> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = SKEW_SECS;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.key),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Refusal::Expired,
            _ => Refusal::Malformed,
        })?;
        let claims = data.claims;
        let tenant = TenantId::parse(&claims.tid).ok_or(Refusal::Malformed)?;
        Ok(Principal {
            tenant,
            token_hash: self.rate_key(&claims.sub),
            token_prefix: claims.sub,
            settings: claims.settings,
        })
    }

    /// The key of a client's rate counter: one budget per client, however many tokens it holds.
    fn rate_key(&self, client_id: &str) -> String {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(b"rate:");
                mac.update(client_id.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Err(_) => String::from("invalid-key"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tokens(key: u8) -> AccessTokens {
        AccessTokens::new(&TokenHasher::new(&[key; 32]).unwrap())
    }

    fn tenant() -> TenantId {
        TenantId::parse("0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70").unwrap()
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn an_issued_token_is_the_clients_principal_for_its_tenant() {
        let signer = tokens(1);
        let token = signer
            .issue(
                "scimc_00",
                &tenant(),
                &TenantSettings::default(),
                now(),
                3600,
            )
            .unwrap();
        assert!(looks_like_jwt(&token));
        let principal = signer.verify(&token).unwrap();
        assert_eq!(principal.tenant, tenant());
        assert_eq!(principal.token_prefix, "scimc_00");
        assert_eq!(principal.token_hash.len(), 64);
    }

    #[test]
    fn expired_foreign_and_altered_tokens_are_refused() {
        let signer = tokens(1);
        let expired = signer
            .issue(
                "c",
                &tenant(),
                &TenantSettings::default(),
                now() - 7200,
                3600,
            )
            .unwrap();
        assert_eq!(signer.verify(&expired).unwrap_err(), Refusal::Expired);
        let foreign = tokens(2)
            .issue("c", &tenant(), &TenantSettings::default(), now(), 3600)
            .unwrap();
        assert_eq!(signer.verify(&foreign).unwrap_err(), Refusal::Malformed);
        let token = signer
            .issue("c", &tenant(), &TenantSettings::default(), now(), 3600)
            .unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        parts[0] = none_header;
        assert_eq!(
            signer.verify(&parts.join(".")).unwrap_err(),
            Refusal::Malformed
        );
        assert_eq!(
            signer
                .verify(&format!(
                    "{none_header}.{}.",
                    token.split('.').nth(1).unwrap()
                ))
                .unwrap_err(),
            Refusal::Malformed
        );
    }

    #[test]
    fn opaque_tokens_do_not_look_like_jwts() {
        let opaque = crate::tokens::generate().unwrap().plaintext;
        assert!(!looks_like_jwt(&opaque));
    }
}
