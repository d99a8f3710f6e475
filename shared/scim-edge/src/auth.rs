//! Bearer-token authentication with a short verification cache.
//!
//! A verified token is trusted for `SCIM_TOKEN_CACHE_SECONDS` (60 by default) by the Lambda
//! instance that verified it: revoking a token, or disabling its tenant, takes effect everywhere
//! within that time. Unknown tokens are never cached, so a newly issued token works at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use scim_core::ScimError;
use scim_store::tokens::TokenHasher;
use scim_store::{Principal, Refusal, Store};

use crate::http::Request;

/// Entries kept at most; the oldest half is dropped when full (tokens per instance are few).
const MAX_CACHED: usize = 1024;

#[derive(Debug)]
pub struct Authenticator {
    hasher: TokenHasher,
    ttl: Duration,
    /// Keyed by the token's HMAC, never by the plaintext.
    cache: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl Authenticator {
    pub fn new(hasher: TokenHasher, ttl: Duration) -> Self {
        Self {
            hasher,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The principal behind the request's bearer token, or a 401 SCIM error.
    pub async fn authenticate(
        &self,
        store: &Store,
        request: &Request,
        now: &str,
    ) -> Result<Principal, ScimError> {
        let token = bearer_token(request)?;
        let hash = self.hasher.hash(token);
        if let Some(principal) = self.cached(&hash) {
            return Ok(principal);
        }
        match store.authenticate(token, &self.hasher, now).await {
            Ok(Ok(principal)) => {
                self.remember(hash, principal.clone());
                Ok(principal)
            }
            Ok(Err(refusal)) => {
                tracing::info!(reason = ?refusal, "token refused");
                Err(unauthorized(refusal))
            }
            Err(err) => Err(crate::errors::from_store(err)),
        }
    }

    fn cached(&self, hash: &str) -> Option<Principal> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(p, _)| p.clone())
    }

    fn remember(&self, hash: String, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                let ttl = self.ttl;
                cache.retain(|_, (_, at)| at.elapsed() < ttl);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(hash, (principal, Instant::now()));
        }
    }
}

fn unauthorized(refusal: Refusal) -> ScimError {
    let detail = match refusal {
        Refusal::Malformed | Refusal::UnknownOrRevoked => "The bearer token is invalid or revoked.",
        Refusal::TenantDisabled => "The bearer token's tenant is disabled.",
    };
    ScimError::Unauthorized(detail.into())
}

/// The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750).
fn bearer_token(request: &Request) -> Result<&str, ScimError> {
    let header = request.header("authorization").ok_or_else(|| {
        ScimError::Unauthorized("The request has no Authorization header.".into())
    })?;
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ScimError::Unauthorized(
            "The Authorization header must be `Bearer <token>`.".into(),
        ));
    }
    Ok(token.trim())
}
