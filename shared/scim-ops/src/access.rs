//! Access to the operations, the same for every door: bearer-token verification with a short
//! cache, and the per-token rate limit enforced across all instances.
//!
//! An OAuth access token (a JWT the token endpoint issued, `oauth::access_token`) is verified
//! by its signature alone, with no table read; its rate counter is its client's.
//!
//! A verified token is trusted for `SCIM_TOKEN_CACHE_SECONDS` (60 by default) by the instance
//! that verified it: revoking a token, or disabling its tenant, takes effect everywhere within
//! that time. Unknown tokens are never cached, so a newly issued token works at once; but an
//! instance looks up at most [`REFUSED_LOOKUPS_PER_SECOND`] tokens a second that turn out
//! refused, so a flood of made-up tokens is bounded (a 429 past it).
//!
//! The rate limit: each instance keeps, per token, a lease: a number of requests it may still
//! serve in the current second. When the lease is spent (or the second is over) it claims a new
//! one from the token's shared counter ([`RateCounter::claim_rate`]), which keeps the sum of
//! every instance's claims within the limit. The lease asked for is what this instance served
//! of the token in its last busy second (at least 1, at most a tenth of the limit), so a busy
//! instance pays about one write per second per token. When nothing more can be claimed the
//! request is answered 429 with `Retry-After`. The counter is sharded above
//! [`RATE_SHARD_CAPACITY`] requests a second, and when it cannot be reached the limiter falls
//! back to a per-instance limit rather than letting everything through ([`RateLimiter`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scim_core::ScimError;

use crate::error::RETRY_AFTER_SECS;
use crate::model::{Principal, Refusal};
use crate::oauth::access_token::{looks_like_jwt, AccessTokens};
use crate::ports::{RateCounter, TokenStore};
use crate::tokens::{self, TokenHasher};

/// Entries kept at most; the oldest half is dropped when full (tokens per instance are few).
const MAX_CACHED_TOKENS: usize = 1024;

/// Lookups per second an instance may spend on tokens the table refuses (unknown, revoked, or
/// of a disabled tenant). Past it, a token not in the cache is answered 429 without a lookup
/// until the second is over, so a flood of well-formed made-up tokens costs the table at most
/// this many conditional writes a second per instance; tokens already verified keep working.
pub const REFUSED_LOOKUPS_PER_SECOND: u32 = 20;

#[derive(Debug)]
/// Verifies bearer tokens, trusting a verified one for a short time.
pub struct Authenticator {
    hasher: TokenHasher,
    access_tokens: AccessTokens,
    ttl: Duration,
    /// Keyed by the token's HMAC, never by the plaintext.
    cache: Mutex<HashMap<String, (Principal, Instant)>>,
    /// Refused lookups in a second: `(second, count)`.
    refused: Mutex<(u64, u32)>,
    refused_per_second: u32,
}

impl Authenticator {
    pub fn new(hasher: TokenHasher, ttl: Duration) -> Self {
        Self {
            access_tokens: AccessTokens::new(&hasher),
            hasher,
            ttl,
            cache: Mutex::new(HashMap::new()),
            refused: Mutex::new((0, 0)),
            refused_per_second: REFUSED_LOOKUPS_PER_SECOND,
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
        self.authenticate_in(store, token, now, epoch_second())
            .await
    }

    /// [`Self::authenticate`] in the window `second` of the refused-lookup budget.
    pub async fn authenticate_in(
        &self,
        store: &impl TokenStore,
        token: &str,
        now: &str,
        second: u64,
    ) -> Result<Principal, ScimError> {
        if looks_like_jwt(token) {
            return self.access_tokens.verify(token).map_err(|refusal| {
                tracing::info!(reason = ?refusal, "access token refused");
                unauthorized(refusal)
            });
        }
        if !tokens::is_well_formed(token) {
            tracing::info!(reason = ?Refusal::Malformed, "token refused");
            return Err(unauthorized(Refusal::Malformed));
        }
        let hash = self.hasher.hash(token);
        if let Some(principal) = self.cached(&hash) {
            return Ok(principal);
        }
        if self.refused_in(second) >= self.refused_per_second {
            tracing::info!(
                budget = self.refused_per_second,
                "token not looked up: too many refused tokens this second"
            );
            return Err(ScimError::TooManyRequests {
                retry_after_secs: RETRY_AFTER_SECS,
            });
        }
        match store.verify_token(&hash, now).await {
            Ok(Ok(principal)) => {
                self.remember(hash, principal.clone());
                Ok(principal)
            }
            Ok(Err(refusal)) => {
                self.count_refusal(second);
                tracing::info!(reason = ?refusal, "token refused");
                Err(unauthorized(refusal))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Refused lookups counted in `second`.
    fn refused_in(&self, second: u64) -> u32 {
        match self.refused.lock() {
            Ok(refused) if refused.0 == second => refused.1,
            _ => 0,
        }
    }

    fn count_refusal(&self, second: u64) {
        if let Ok(mut refused) = self.refused.lock() {
            if refused.0 == second {
                refused.1 = refused.1.saturating_add(1);
            } else {
                *refused = (second, 1);
            }
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
        Refusal::Expired => "The access token has expired; request a new one.",
    };
    ScimError::Unauthorized(detail.into())
}

/// Tokens tracked per instance before stale entries are dropped.
const MAX_TRACKED: usize = 1024;

/// Requests per second one shard of a token's counter takes. A shard is one partition key, a
/// partition takes about 1,000 writes a second, and a claim is at least one request, so a
/// shard at its limit stays well below its partition's.
pub const RATE_SHARD_CAPACITY: u32 = 500;

/// Shards one request's claim tries at most, its instance's own first. A token whose counter
/// has more is refused for the rest of the second on that instance when this many in a row are
/// used up: near the limit it may admit a little less than the limit, never more, and a
/// request never costs more than this many claims.
pub const MAX_SHARDS_TRIED: u32 = 3;

/// Seconds an instance limits a token on its own after the token's counter failed, before it
/// tries the counter again.
pub const FALLBACK_SECONDS: u64 = 10;

/// Shards of the counter of a token limited to `limit` requests a second.
pub fn rate_shards(limit: u32) -> u32 {
    limit.div_ceil(RATE_SHARD_CAPACITY).max(1)
}

/// The part of `limit` that `shard` (of `shards`) admits: the parts add up to `limit`.
pub fn shard_limit(limit: u32, shards: u32, shard: u32) -> u32 {
    let shards = shards.max(1);
    limit / shards + u32::from(shard < limit % shards)
}

/// What one instance admits of a token a second while the token's counter cannot be reached:
/// the largest lease it could have claimed (a tenth of the limit, at least 1).
pub fn fallback_per_second(limit: u32) -> u32 {
    (limit / 10).max(1)
}

#[derive(Debug, Clone, Copy, Default)]
struct Lease {
    second: u64,
    remaining: u32,
    /// Requests served in `second` (sizes the next claim).
    served: u32,
    /// Requests served in the last second that had any (the demand estimate).
    demand: u32,
    /// Every shard refused a claim in `second`: nothing more is admitted in it (counts only
    /// grow within a second, so asking again would only cost writes).
    exhausted: bool,
    /// Until this second (excluded) the instance limits the token on its own: its counter
    /// failed.
    local_until: u64,
}

/// The per-token rate limit of one instance: leases claimed from the token's shared counter,
/// spent locally.
///
/// The counter is split into [`rate_shards`] shards (one partition each), each admitting its
/// part of the limit ([`shard_limit`]); an instance claims from its own shard first and from
/// the next ones (up to [`MAX_SHARDS_TRIED`]) when that one is used up, so the sum of all
/// claims never exceeds the limit.
/// When the counter cannot be reached (throttled, failing), the instance does not let every
/// request through: for [`FALLBACK_SECONDS`] it admits at most [`fallback_per_second`] of the
/// token's requests a second on its own, then tries the counter again.
#[derive(Debug)]
pub struct RateLimiter {
    default_per_second: u32,
    /// This instance's first shard (random per instance, so instances spread over the shards).
    seed: u32,
    leases: Mutex<HashMap<String, Lease>>,
}

impl RateLimiter {
    pub fn new(default_per_second: u32) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish() as u32;
        Self::with_seed(default_per_second, seed)
    }

    /// A limiter whose first shard is `seed` modulo the shards (for tests).
    pub fn with_seed(default_per_second: u32, seed: u32) -> Self {
        Self {
            default_per_second,
            seed,
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

    /// Admits one request of `principal` now, or answers 429.
    pub async fn admit(
        &self,
        store: &impl RateCounter,
        principal: &Principal,
    ) -> Result<(), ScimError> {
        self.admit_at(store, principal, epoch_second()).await
    }

    /// Admits one request of `principal` in the window `second`, or answers 429.
    pub async fn admit_at(
        &self,
        store: &impl RateCounter,
        principal: &Principal,
        second: u64,
    ) -> Result<(), ScimError> {
        let limit = self.limit_for(principal);
        let hash = principal.token_hash.as_str();
        let want = match self.take_local(hash, second, limit) {
            Take::Admitted => return Ok(()),
            Take::Refused => return Err(too_many()),
            Take::Claim(want) => want.clamp(1, fallback_per_second(limit)),
        };
        let shards = rate_shards(limit);
        for step in 0..shards.min(MAX_SHARDS_TRIED) {
            let shard = (self.seed % shards + step) % shards;
            let part = shard_limit(limit, shards, shard);
            match store
                .claim_rate(hash, shard, second, want.min(part), part)
                .await
            {
                Ok(0) => continue,
                Ok(granted) => {
                    self.grant(hash, second, granted);
                    return Ok(());
                }
                Err(err) => {
                    tracing::warn!(
                        error = %err,
                        tenant = principal.tenant.as_str(),
                        token_prefix = principal.token_prefix.as_str(),
                        fallback_per_second = fallback_per_second(limit),
                        fallback_seconds = FALLBACK_SECONDS,
                        "rate counter unavailable; this instance limits the token on its own"
                    );
                    self.fall_back(hash, second, limit);
                    return Ok(());
                }
            }
        }
        self.exhaust(hash, second);
        tracing::info!(
            tenant = principal.tenant.as_str(),
            token_prefix = principal.token_prefix.as_str(),
            limit,
            "rate limit reached"
        );
        Err(too_many())
    }

    /// Spends one request of the local lease, refuses, or says how many to claim.
    fn take_local(&self, token_hash: &str, second: u64, limit: u32) -> Take {
        let Ok(mut leases) = self.leases.lock() else {
            return Take::Claim(1);
        };
        let lease = leases.entry(token_hash.to_string()).or_default();
        if lease.second != second {
            if lease.served > 0 {
                lease.demand = lease.served;
            }
            let local = second < lease.local_until;
            *lease = Lease {
                second,
                remaining: if local { fallback_per_second(limit) } else { 0 },
                served: 0,
                demand: lease.demand,
                exhausted: false,
                local_until: lease.local_until,
            };
        }
        if lease.remaining > 0 {
            lease.remaining -= 1;
            lease.served += 1;
            Take::Admitted
        } else if lease.exhausted || second < lease.local_until {
            Take::Refused
        } else {
            Take::Claim(lease.demand.max(1))
        }
    }

    /// The lease of `token_hash` in `second`, made if missing (dropping stale ones when many).
    fn with_lease(&self, token_hash: &str, second: u64, f: impl FnOnce(&mut Lease)) {
        let Ok(mut leases) = self.leases.lock() else {
            return;
        };
        if leases.len() >= MAX_TRACKED && !leases.contains_key(token_hash) {
            leases.retain(|_, l| l.second >= second.saturating_sub(1) || second < l.local_until);
        }
        let lease = leases.entry(token_hash.to_string()).or_default();
        if lease.second == second {
            f(lease);
        }
    }

    /// Records a granted claim, of which this request uses one.
    fn grant(&self, token_hash: &str, second: u64, granted: u32) {
        self.with_lease(token_hash, second, |lease| {
            lease.remaining += granted.saturating_sub(1);
            lease.served += 1;
        });
    }

    /// Every shard is used up for `second`.
    fn exhaust(&self, token_hash: &str, second: u64) {
        self.with_lease(token_hash, second, |lease| lease.exhausted = true);
    }

    /// The counter failed: this request is admitted, and the instance limits the token on its
    /// own until [`FALLBACK_SECONDS`] have passed.
    fn fall_back(&self, token_hash: &str, second: u64, limit: u32) {
        self.with_lease(token_hash, second, |lease| {
            lease.local_until = second + FALLBACK_SECONDS;
            lease.remaining = fallback_per_second(limit).saturating_sub(lease.served + 1);
            lease.served += 1;
        });
    }
}

fn too_many() -> ScimError {
    ScimError::TooManyRequests {
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

enum Take {
    Admitted,
    Refused,
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
        let Take::Claim(first) = limiter.take_local("h", 10, 100) else {
            unreachable!("an empty lease must claim")
        };
        assert_eq!(first, 1);
        limiter.grant("h", 10, 3);
        assert!(matches!(limiter.take_local("h", 10, 100), Take::Admitted));
        assert!(matches!(limiter.take_local("h", 10, 100), Take::Admitted));
        assert!(matches!(limiter.take_local("h", 10, 100), Take::Claim(_)));
    }

    #[test]
    fn the_next_claim_asks_for_what_the_last_busy_second_served() {
        let limiter = RateLimiter::new(100);
        assert!(matches!(limiter.take_local("h", 10, 100), Take::Claim(1)));
        limiter.grant("h", 10, 5);
        for _ in 0..4 {
            assert!(matches!(limiter.take_local("h", 10, 100), Take::Admitted));
        }
        // five served in second 10: second 11 starts by claiming five
        assert!(matches!(limiter.take_local("h", 11, 100), Take::Claim(5)));
    }

    #[test]
    fn a_lease_from_an_earlier_second_is_not_spent() {
        let limiter = RateLimiter::new(100);
        let _ = limiter.take_local("h", 10, 100);
        limiter.grant("h", 10, 10);
        assert!(matches!(limiter.take_local("h", 12, 100), Take::Claim(_)));
    }

    #[test]
    fn a_used_up_second_is_refused_without_asking_again() {
        let limiter = RateLimiter::new(100);
        let _ = limiter.take_local("h", 10, 100);
        limiter.exhaust("h", 10);
        assert!(matches!(limiter.take_local("h", 10, 100), Take::Refused));
        assert!(matches!(limiter.take_local("h", 11, 100), Take::Claim(_)));
    }

    #[test]
    fn shards_split_the_limit_exactly() {
        assert_eq!(rate_shards(1), 1);
        assert_eq!(rate_shards(RATE_SHARD_CAPACITY), 1);
        assert_eq!(rate_shards(RATE_SHARD_CAPACITY + 1), 2);
        assert_eq!(rate_shards(10_000), 20);
        for limit in [1, 7, 499, 500, 501, 1_001, 2_999, 10_000, 123_457] {
            let shards = rate_shards(limit);
            let parts: Vec<u32> = (0..shards).map(|s| shard_limit(limit, shards, s)).collect();
            assert_eq!(parts.iter().sum::<u32>(), limit, "{limit}");
            assert!(parts.iter().all(|p| *p <= RATE_SHARD_CAPACITY), "{limit}");
        }
    }
}
