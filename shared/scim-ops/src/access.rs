//! Access to the operations, the same for every door: bearer-token verification with a short
//! cache, and the per-token rate limit enforced across all instances.
//!
//! A verified token is trusted for `SCIM_TOKEN_CACHE_SECONDS` (60 by default) by the instance
//! that verified it: revoking a token, or disabling its tenant, takes effect everywhere within
//! that time. Unknown tokens are never cached, so a newly issued token works at once.
//!
//! The rate limit: each instance keeps, per token, a lease: a number of requests it may still
//! serve in the current second. When the lease is spent (or the second is over) it claims a new
//! one from the token's shared counter ([`RateCounter::claim_rate`]), which keeps the sum of
//! every instance's claims within the limit. The lease asked for is what this instance served
//! of the token in its last busy second (at least 1, at most a tenth of the limit), so a busy
//! instance pays about one write per second per token. When nothing more can be claimed the
//! request is answered 429 with `Retry-After`. If the counter cannot be reached (throttling, an
//! outage), the request is let through and a warning logged: the limit protects the service,
//! and refusing every request because of it would turn a hiccup into an outage.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scim_core::ScimError;

use crate::error::RETRY_AFTER_SECS;
use crate::model::{Principal, Refusal};
use crate::ports::{RateCounter, TokenStore};
use crate::tokens::{self, TokenHasher};

/// Entries kept at most; the oldest half is dropped when full (tokens per instance are few).
const MAX_CACHED_TOKENS: usize = 1024;

#[derive(Debug)]
/// Verifies bearer tokens, trusting a verified one for a short time.
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

    /// The principal behind a presented bearer token, or a 401 SCIM error. A token without our
    /// shape is refused without a store read.
    pub async fn authenticate(
        &self,
        store: &impl TokenStore,
        token: &str,
        now: &str,
    ) -> Result<Principal, ScimError> {
        if !tokens::is_well_formed(token) {
            tracing::info!(reason = ?Refusal::Malformed, "token refused");
            return Err(unauthorized(Refusal::Malformed));
        }
        let hash = self.hasher.hash(token);
        if let Some(principal) = self.cached(&hash) {
            return Ok(principal);
        }
        match store.verify_token(&hash, now).await {
            Ok(Ok(principal)) => {
                self.remember(hash, principal.clone());
                Ok(principal)
            }
            Ok(Err(refusal)) => {
                tracing::info!(reason = ?refusal, "token refused");
                Err(unauthorized(refusal))
            }
            Err(err) => Err(err.into()),
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
            if cache.len() >= MAX_CACHED_TOKENS {
                let ttl = self.ttl;
                cache.retain(|_, (_, at)| at.elapsed() < ttl);
                if cache.len() >= MAX_CACHED_TOKENS {
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

/// Tokens tracked per instance before stale entries are dropped.
const MAX_TRACKED: usize = 1024;

#[derive(Debug, Clone, Copy, Default)]
struct Lease {
    second: u64,
    remaining: u32,
    /// Requests served in `second` (sizes the next claim).
    served: u32,
    /// Requests served in the last second that had any (the demand estimate).
    demand: u32,
}

#[derive(Debug)]
pub struct RateLimiter {
    default_per_second: u32,
    leases: Mutex<HashMap<String, Lease>>,
}

impl RateLimiter {
    pub fn new(default_per_second: u32) -> Self {
        Self {
            default_per_second,
            leases: Mutex::new(HashMap::new()),
        }
    }

    /// The limit that applies to `principal`: its tenant's setting, else the deployment's.
    pub fn limit_for(&self, principal: &Principal) -> u32 {
        principal
            .settings
            .rate_limit_per_second
            .filter(|l| *l > 0)
            .unwrap_or(self.default_per_second)
    }

    /// Admits one request of `principal`, or answers 429.
    pub async fn admit(
        &self,
        store: &impl RateCounter,
        principal: &Principal,
    ) -> Result<(), ScimError> {
        let limit = self.limit_for(principal);
        let second = epoch_second();
        let want = match self.take_local(&principal.token_hash, second) {
            Take::Admitted => return Ok(()),
            Take::Claim(want) => want.clamp(1, (limit / 10).max(1)),
        };
        match store
            .claim_rate(&principal.token_hash, second, want, limit)
            .await
        {
            Ok(0) => {
                tracing::info!(
                    tenant = principal.tenant.as_str(),
                    token_prefix = principal.token_prefix.as_str(),
                    limit,
                    "rate limit reached"
                );
                Err(ScimError::TooManyRequests {
                    retry_after_secs: RETRY_AFTER_SECS,
                })
            }
            Ok(granted) => {
                self.grant(&principal.token_hash, second, granted);
                Ok(())
            }
            Err(err) => {
                tracing::warn!(error = %err, "rate counter unavailable; request let through");
                Ok(())
            }
        }
    }

    /// Spends one request of the local lease, or says how many to claim.
    fn take_local(&self, token_hash: &str, second: u64) -> Take {
        let Ok(mut leases) = self.leases.lock() else {
            return Take::Claim(1);
        };
        let lease = leases.entry(token_hash.to_string()).or_default();
        if lease.second != second {
            if lease.served > 0 {
                lease.demand = lease.served;
            }
            *lease = Lease {
                second,
                remaining: 0,
                served: 0,
                demand: lease.demand,
            };
        }
        if lease.remaining > 0 {
            lease.remaining -= 1;
            lease.served += 1;
            Take::Admitted
        } else {
            Take::Claim(lease.demand.max(1))
        }
    }

    /// Records a granted claim, of which this request uses one.
    fn grant(&self, token_hash: &str, second: u64, granted: u32) {
        let Ok(mut leases) = self.leases.lock() else {
            return;
        };
        if leases.len() >= MAX_TRACKED && !leases.contains_key(token_hash) {
            leases.retain(|_, l| l.second >= second.saturating_sub(1));
        }
        let lease = leases.entry(token_hash.to_string()).or_default();
        if lease.second == second {
            lease.remaining += granted.saturating_sub(1);
            lease.served += 1;
        }
    }
}

enum Take {
    Admitted,
    Claim(u32),
}

/// Seconds since the Unix epoch (the rate counters' window).
pub fn epoch_second() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod rate_tests {
    use super::*;

    #[test]
    fn a_lease_is_spent_locally_until_it_runs_out() {
        let limiter = RateLimiter::new(100);
        let Take::Claim(first) = limiter.take_local("h", 10) else {
            unreachable!("an empty lease must claim")
        };
        assert_eq!(first, 1);
        limiter.grant("h", 10, 3);
        assert!(matches!(limiter.take_local("h", 10), Take::Admitted));
        assert!(matches!(limiter.take_local("h", 10), Take::Admitted));
        assert!(matches!(limiter.take_local("h", 10), Take::Claim(_)));
    }

    #[test]
    fn the_next_claim_asks_for_what_the_last_busy_second_served() {
        let limiter = RateLimiter::new(100);
        assert!(matches!(limiter.take_local("h", 10), Take::Claim(1)));
        limiter.grant("h", 10, 5);
        for _ in 0..4 {
            assert!(matches!(limiter.take_local("h", 10), Take::Admitted));
        }
        // five served in second 10: second 11 starts by claiming five
        assert!(matches!(limiter.take_local("h", 11), Take::Claim(5)));
    }

    #[test]
    fn a_lease_from_an_earlier_second_is_not_spent() {
        let limiter = RateLimiter::new(100);
        let _ = limiter.take_local("h", 10);
        limiter.grant("h", 10, 10);
        assert!(matches!(limiter.take_local("h", 12), Take::Claim(_)));
    }
}
