//! The client credentials grant: authenticate the client (its secret, or its assertion against
//! the issuer's keys), check it is not revoked and its tenant is enabled, and issue an access
//! token for its tenant.

use std::time::Duration;

use super::access_token::{AccessTokens, SCOPE};
use super::assertion;
use super::client::{is_client_id, OAuthClient};
use super::error::OAuthError;
use super::jwks::{JwksCache, JwksFetcher};
use super::request::{ClientAuth, TokenRequest};
use crate::ports::ClientStore;
use crate::tokens::TokenHasher;

/// An issued access token, as the token response carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: &'static str,
    /// For the log.
    pub client_id: String,
    pub tenant: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IssuedToken({}, {}, <redacted>)",
            self.client_id, self.tenant
        )
    }
}

/// The token endpoint's rules, over a client store and a JWKS fetcher.
#[derive(Debug)]
pub struct TokenService<F> {
    hasher: TokenHasher,
    access: AccessTokens,
    keys: JwksCache,
    fetcher: F,
    lifetime: Duration,
}

impl<F: JwksFetcher> TokenService<F> {
    /// `lifetime`: how long issued tokens live (1 to 6 hours; the configuration checks it).
    pub fn new(hasher: TokenHasher, fetcher: F, lifetime: Duration) -> Self {
        Self {
            access: AccessTokens::new(&hasher),
            hasher,
            keys: JwksCache::default(),
            fetcher,
            lifetime,
        }
    }

    /// Grants an access token for `request` at `now` (seconds since the epoch).
    pub async fn grant(
        &self,
        store: &impl ClientStore,
        request: &TokenRequest,
        now: u64,
    ) -> Result<IssuedToken, OAuthError> {
        let client_id = request.auth.client_id();
        if !is_client_id(client_id) {
            return Err(OAuthError::invalid_client("not a client id of ours"));
        }
        let Some((client, settings)) = store.oauth_client(client_id).await? else {
            return Err(OAuthError::invalid_client("unknown client"));
        };
        self.authenticate(&client, &request.auth, now).await?;
        if client.revoked {
            return Err(OAuthError::invalid_client("revoked client"));
        }
        let Some(settings) = settings else {
            return Err(OAuthError::invalid_client(
                "the client's tenant is disabled",
            ));
        };
        let expires_in = self.lifetime.as_secs();
        let access_token = self.access.issue(
            &client.client_id,
            &client.tenant,
            &settings,
            now,
            expires_in,
        )?;
        Ok(IssuedToken {
            access_token,
            expires_in,
            scope: SCOPE,
            client_id: client.client_id,
            tenant: client.tenant.to_string(),
        })
    }

    async fn authenticate(
        &self,
        client: &OAuthClient,
        auth: &ClientAuth,
        now: u64,
    ) -> Result<(), OAuthError> {
        match (auth, &client.secret_hash, &client.assertion) {
            (ClientAuth::Secret { secret, .. }, Some(stored), _) => {
                if constant_time_eq(self.hasher.hash(secret).as_bytes(), stored.as_bytes()) {
                    Ok(())
                } else {
                    Err(OAuthError::invalid_client("wrong client secret"))
                }
            }
            (ClientAuth::Assertion { assertion, .. }, _, Some(trust)) => {
                assertion::verify(assertion, trust, &self.keys, &self.fetcher, now).await
            }
            (ClientAuth::Secret { .. }, None, _) => Err(OAuthError::invalid_client(
                "a secret for a client that authenticates by assertion",
            )),
            (ClientAuth::Assertion { .. }, _, None) => Err(OAuthError::invalid_client(
                "an assertion for a client that authenticates by secret",
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
