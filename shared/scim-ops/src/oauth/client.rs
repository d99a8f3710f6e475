//! OAuth clients: who may ask the token endpoint for an access token, for which tenant, and how
//! they prove it. A client either holds a secret (only its keyed hash is stored, as for bearer
//! tokens) or is trusted through a JWT assertion: its issuer, subject and audience, and the
//! JWKS URL its signing keys are published at (Entra's workload identity federation).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use scim_core::ids::TenantId;

use crate::tokens::RandomError;
use crate::webhooks::{validate_url, UrlPolicy};

/// Client ids start with this.
pub const CLIENT_ID_PREFIX: &str = "scimc_";
/// Client secrets start with this, so secret scanners and people can tell what they are.
pub const CLIENT_SECRET_PREFIX: &str = "scimcs_";

/// What a client must present in a JWT assertion, as the administrator copied it from the IdP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AssertionTrust {
    /// `iss`, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`.
    pub issuer: String,
    /// `sub`, e.g. the Entra service principal's object id.
    pub subject: String,
    /// `aud`: what the assertion must be addressed to.
    pub audience: String,
    /// Where the issuer publishes its signing keys (public `https`).
    pub jwks_url: String,
}

/// Why an assertion configuration is refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct TrustError {
    pub field: &'static str,
    pub problem: String,
}

impl AssertionTrust {
    /// Checks every field: non-empty, of bounded length, the JWKS URL a public `https` URL
    /// (the webhook rules: no credentials, no private or loopback address).
    pub fn validate(&self, urls: UrlPolicy) -> Result<(), TrustError> {
        for (field, value) in [
            ("issuer", &self.issuer),
            ("subject", &self.subject),
            ("audience", &self.audience),
            ("jwks_url", &self.jwks_url),
        ] {
            if value.trim().is_empty() || value.trim() != value {
                return Err(TrustError {
                    field,
                    problem: "must be set, without surrounding spaces".into(),
                });
            }
            if value.len() > 1024 {
                return Err(TrustError {
                    field,
                    problem: "is longer than 1024 characters".into(),
                });
            }
        }
        validate_url(&self.jwks_url, urls).map_err(|e| TrustError {
            field: "jwks_url",
            problem: e.to_string(),
        })?;
        Ok(())
    }
}

/// A client as the token endpoint reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    pub tenant: TenantId,
    /// The keyed hash of its secret, for a secret client.
    pub secret_hash: Option<String>,
    /// The assertion it must present, for a federated client.
    pub assertion: Option<AssertionTrust>,
    pub revoked: bool,
}

/// A new client id: `scimc_` and 16 hex digits.
pub fn new_client_id() -> Result<String, RandomError> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|_| RandomError)?;
    Ok(format!("{CLIENT_ID_PREFIX}{}", hex::encode(id)))
}

/// A new client secret: `scimcs_` and 256 random bits (shown once; only its keyed hash is kept).
pub fn new_client_secret() -> Result<String, RandomError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|_| RandomError)?;
    Ok(format!(
        "{CLIENT_SECRET_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(secret)
    ))
}

/// Whether `id` has our client id shape (anything else is refused without a table read).
pub fn is_client_id(id: &str) -> bool {
    id.len() == CLIENT_ID_PREFIX.len() + 16
        && id.starts_with(CLIENT_ID_PREFIX)
        && id.get(CLIENT_ID_PREFIX.len()..).is_some_and(|h| {
            h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn trust() -> AssertionTrust {
        AssertionTrust {
            issuer: "https://login.microsoftonline.com/t/v2.0".into(),
            subject: "sp-object-id".into(),
            audience: "api://scim".into(),
            jwks_url: "https://login.microsoftonline.com/t/discovery/v2.0/keys".into(),
        }
    }

    #[test]
    fn generated_ids_and_secrets_have_their_shape() {
        let id = new_client_id().unwrap();
        assert!(is_client_id(&id), "{id}");
        assert_ne!(id, new_client_id().unwrap());
        let secret = new_client_secret().unwrap();
        assert!(secret.starts_with(CLIENT_SECRET_PREFIX));
        assert_eq!(secret.len(), CLIENT_SECRET_PREFIX.len() + 43);
        assert!(!is_client_id("scimc_XYZ"));
    }

    #[test]
    fn an_assertion_trust_names_the_field_it_refuses() {
        assert_eq!(trust().validate(UrlPolicy::default()), Ok(()));
        let mut no_subject = trust();
        no_subject.subject = " ".into();
        assert_eq!(
            no_subject.validate(UrlPolicy::default()).unwrap_err().field,
            "subject"
        );
        for url in [
            "http://login.example.com/keys",
            "https://169.254.169.254/keys",
            "https://localhost/k",
        ] {
            let mut private = trust();
            private.jwks_url = url.into();
            assert_eq!(
                private.validate(UrlPolicy::default()).unwrap_err().field,
                "jwks_url",
                "{url}"
            );
        }
    }
}
