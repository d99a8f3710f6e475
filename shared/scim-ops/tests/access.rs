//! Access: bearer-token verification with its cache, and the per-token rate limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use scim_ops::access::{
    epoch_second, rate_shards, Authenticator, RateLimiter, FALLBACK_SECONDS,
    REFUSED_LOOKUPS_PER_SECOND,
};
use scim_ops::memory::{Fault, MemoryStore};
use scim_ops::tokens::{self, TokenHasher};
use scim_ops::{Principal, RateCounter, Refusal, StoreError, TenantSettings, RETRY_AFTER_SECS};

const KEY: [u8; 32] = [7; 32];

fn hasher() -> TokenHasher {
    TokenHasher::new(&KEY).unwrap()
}

fn authenticator() -> Authenticator {
    Authenticator::new(hasher(), Duration::from_secs(60))
}

/// A freshly issued token registered in `store` for the tenant `acme`.
fn issued(store: &MemoryStore) -> (String, Principal) {
    let token = tokens::generate().unwrap();
    let principal = Principal {
        token_prefix: token.prefix.clone(),
        token_hash: hasher().hash(&token.plaintext),
        ..principal(TENANT)
    };
    store.add_token(&principal.token_hash, Ok(principal.clone()));
    (token.plaintext, principal)
}

// ---- authentication ----

#[tokio::test]
async fn a_flood_of_unknown_tokens_costs_a_bounded_number_of_lookups_a_second() {
    let store = MemoryStore::new();
    let auth = authenticator();
    let (known, principal) = issued(&store);
    // Verified before the flood: cached, it keeps working throughout.
    assert_eq!(
        auth.authenticate_in(&store, &known, NOW, 1).await.unwrap(),
        principal
    );
    let lookups = store.count("verify_token");
    let (mut unauthorized, mut too_many) = (0, 0);
    for _ in 0..100 {
        let made_up = tokens::generate().unwrap().plaintext;
        match auth.authenticate_in(&store, &made_up, NOW, 5).await {
            Err(err) if err.status() == 401 => unauthorized += 1,
            Err(err) if err.status() == 429 => {
                assert_eq!(err.retry_after(), Some(RETRY_AFTER_SECS));
                too_many += 1;
            }
            other => panic!("a made-up token got {other:?}"),
        }
        assert!(auth.authenticate_in(&store, &known, NOW, 5).await.is_ok());
    }
    let budget = REFUSED_LOOKUPS_PER_SECOND as usize;
    assert_eq!((unauthorized, too_many), (budget, 100 - budget));
    assert_eq!(store.count("verify_token") - lookups, budget);
    // The next second, lookups resume: a token issued meanwhile works.
    let (fresh, fresh_principal) = issued(&store);
    assert!(auth.authenticate_in(&store, &fresh, NOW, 5).await.is_err());
    assert_eq!(
        auth.authenticate_in(&store, &fresh, NOW, 6).await.unwrap(),
        fresh_principal
    );
}

#[tokio::test]
async fn a_known_token_authenticates_as_its_tenant() {
    let store = MemoryStore::new();
    let (token, principal) = issued(&store);
    let got = authenticator()
        .authenticate(&store, &token, NOW)
        .await
        .unwrap();
    assert_eq!(got, principal);
    assert_eq!(got.tenant.as_str(), TENANT);
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_a_store_call() {
    let store = MemoryStore::new();
    let auth = authenticator();
    let good = tokens::generate().unwrap().plaintext;
    let too_long = format!("{good}x");
    let wrong_prefix = format!("tok_{}", &good[4..]);
    let bad_byte = format!("{}/", &good[..good.len() - 1]);
    for token in [
        "",
        "Bearer",
        "scim_",
        good.as_str()[..good.len() - 1].as_ref(),
        too_long.as_str(),
        wrong_prefix.as_str(),
        bad_byte.as_str(),
    ] {
        let err = auth.authenticate(&store, token, NOW).await.unwrap_err();
        assert_eq!(err.status(), 401, "{token:?}");
    }
    assert!(store.calls().is_empty(), "{:?}", store.calls());
}

#[tokio::test]
async fn a_verified_token_is_cached() {
    let store = MemoryStore::new();
    let (token, principal) = issued(&store);
    let auth = authenticator();
    assert_eq!(
        auth.authenticate(&store, &token, NOW).await.unwrap(),
        principal
    );
    assert_eq!(
        auth.authenticate(&store, &token, NOW).await.unwrap(),
        principal
    );
    assert_eq!(
        auth.authenticate(&store, &token, NOW).await.unwrap(),
        principal
    );
    assert_eq!(store.count("verify_token"), 1);

    // even after the token is revoked, until the cache time runs out
    store.add_token(&principal.token_hash, Err(Refusal::UnknownOrRevoked));
    assert!(auth.authenticate(&store, &token, NOW).await.is_ok());
    assert_eq!(store.count("verify_token"), 1);
}

#[tokio::test]
async fn the_cache_is_per_token() {
    let store = MemoryStore::new();
    let (first, _) = issued(&store);
    let (second, _) = issued(&store);
    let auth = authenticator();
    auth.authenticate(&store, &first, NOW).await.unwrap();
    auth.authenticate(&store, &second, NOW).await.unwrap();
    auth.authenticate(&store, &first, NOW).await.unwrap();
    assert_eq!(store.count("verify_token"), 2);
}

#[tokio::test]
async fn refusals_are_never_cached() {
    let store = MemoryStore::new();
    let token = tokens::generate().unwrap().plaintext;
    let auth = authenticator();
    for _ in 0..2 {
        let err = auth.authenticate(&store, &token, NOW).await.unwrap_err();
        assert_eq!(err.status(), 401);
    }
    assert_eq!(store.count("verify_token"), 2);

    // a token issued after a refusal works at once
    let principal = Principal {
        token_hash: hasher().hash(&token),
        ..principal(TENANT)
    };
    store.add_token(&principal.token_hash, Ok(principal.clone()));
    assert_eq!(
        auth.authenticate(&store, &token, NOW).await.unwrap(),
        principal
    );
    assert_eq!(store.count("verify_token"), 3);
}

#[tokio::test]
async fn a_disabled_tenant_is_401_and_not_cached() {
    let store = MemoryStore::new();
    let token = tokens::generate().unwrap().plaintext;
    store.add_token(&hasher().hash(&token), Err(Refusal::TenantDisabled));
    let auth = authenticator();
    for _ in 0..2 {
        let err = auth.authenticate(&store, &token, NOW).await.unwrap_err();
        assert_eq!(err.status(), 401);
    }
    assert_eq!(store.count("verify_token"), 2);
}

#[tokio::test]
async fn a_store_failure_while_verifying_is_not_a_401_and_not_cached() {
    let store = MemoryStore::new();
    let (token, principal) = issued(&store);
    store.inject("verify_token", Fault::Fail(StoreError::Throttled));
    let auth = authenticator();
    let err = auth.authenticate(&store, &token, NOW).await.unwrap_err();
    assert_eq!(err.status(), 429);
    assert_eq!(err.retry_after(), Some(RETRY_AFTER_SECS));
    store.inject(
        "verify_token",
        Fault::Fail(StoreError::Unavailable("timeout".into())),
    );
    let err = auth.authenticate(&store, &token, NOW).await.unwrap_err();
    assert_eq!(err.status(), 503);
    // the next try verifies again and succeeds
    assert_eq!(
        auth.authenticate(&store, &token, NOW).await.unwrap(),
        principal
    );
    assert_eq!(store.count("verify_token"), 3);
}

#[tokio::test]
async fn a_zero_cache_time_verifies_every_request() {
    let store = MemoryStore::new();
    let (token, _) = issued(&store);
    let auth = Authenticator::new(hasher(), Duration::ZERO);
    auth.authenticate(&store, &token, NOW).await.unwrap();
    auth.authenticate(&store, &token, NOW).await.unwrap();
    assert_eq!(store.count("verify_token"), 2);
}

#[tokio::test]
async fn a_token_hashed_with_another_key_is_unknown() {
    let store = MemoryStore::new();
    let (token, _) = issued(&store);
    let other = Authenticator::new(TokenHasher::new(&[8; 32]).unwrap(), Duration::from_secs(60));
    let err = other.authenticate(&store, &token, NOW).await.unwrap_err();
    assert_eq!(err.status(), 401);
}

// ---- rate limit ----

fn limited(token_hash: &str, limit: u32) -> Principal {
    Principal {
        token_hash: token_hash.into(),
        ..principal_with(
            TENANT,
            TenantSettings {
                rate_limit_per_second: Some(limit),
                ..TenantSettings::default()
            },
        )
    }
}

/// Runs `scenario` until it completes within one clock second (the limiter's window), so a
/// second boundary in the middle cannot make the test flaky. Returns its result.
async fn within_one_second<T, F, Fut>(mut scenario: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..5 {
        let start = epoch_second();
        let result = scenario().await;
        if epoch_second() == start {
            return result;
        }
    }
    panic!("could not run the scenario within one second");
}

#[tokio::test]
async fn requests_within_the_limit_are_admitted_and_the_next_is_429() {
    let (admitted, refusal, claims) = within_one_second(|| async {
        let store = MemoryStore::new();
        let limiter = RateLimiter::new(100);
        let principal = limited("limited-token", 3);
        let mut admitted = 0;
        for _ in 0..3 {
            if limiter.admit(&store, &principal).await.is_ok() {
                admitted += 1;
            }
        }
        let refusal = limiter.admit(&store, &principal).await.err();
        (admitted, refusal, store.count("claim_rate"))
    })
    .await;
    assert_eq!(admitted, 3);
    let err = refusal.expect("the fourth request is refused");
    assert_eq!(err.status(), 429);
    assert_eq!(err.retry_after(), Some(RETRY_AFTER_SECS));
    assert_eq!(claims, 4);
}

#[tokio::test]
async fn the_tenant_limit_overrides_the_deployment_default() {
    let limiter = RateLimiter::new(100);
    assert_eq!(limiter.limit_for(&limited("t", 5)), 5);
    assert_eq!(limiter.limit_for(&principal(TENANT)), 100);
    assert_eq!(limiter.limit_for(&limited("t", 0)), 100, "0 is unset");

    let refused = within_one_second(|| async {
        let store = MemoryStore::new();
        let limiter = RateLimiter::new(1);
        let principal = limited("generous", 20);
        let mut refused = 0;
        for _ in 0..20 {
            if limiter.admit(&store, &principal).await.is_err() {
                refused += 1;
            }
        }
        refused
    })
    .await;
    assert_eq!(refused, 0);
}

#[tokio::test]
async fn each_token_has_its_own_limit() {
    let results = within_one_second(|| async {
        let store = MemoryStore::new();
        let limiter = RateLimiter::new(100);
        let first = limited("first", 1);
        let second = limited("second", 1);
        (
            limiter.admit(&store, &first).await.is_ok(),
            limiter.admit(&store, &second).await.is_ok(),
            limiter.admit(&store, &first).await.is_ok(),
        )
    })
    .await;
    assert_eq!(results, (true, true, false));
}

#[tokio::test]
async fn instances_share_the_limit_through_the_counter() {
    let admitted = within_one_second(|| async {
        let store = MemoryStore::new();
        let instances = [
            RateLimiter::new(100),
            RateLimiter::new(100),
            RateLimiter::new(100),
        ];
        let principal = limited("shared", 50);
        let mut admitted = 0;
        for _ in 0..40 {
            for limiter in &instances {
                if limiter.admit(&store, &principal).await.is_ok() {
                    admitted += 1;
                }
            }
        }
        admitted
    })
    .await;
    assert_eq!(
        admitted, 50,
        "120 requests over three instances, 50 admitted"
    );
}

#[tokio::test]
async fn an_unreachable_counter_falls_back_to_a_tenth_of_the_limit_per_instance() {
    let store = MemoryStore::new();
    let limiter = RateLimiter::with_seed(100, 0);
    let principal = limited("outage", 50);
    store.inject("claim_rate", Fault::Fail(StoreError::Throttled));
    let admitted_in = |second: u64| {
        let (store, limiter, principal) = (&store, &limiter, &principal);
        async move {
            let mut admitted = 0;
            for _ in 0..20 {
                match limiter.admit_at(store, principal, second).await {
                    Ok(()) => admitted += 1,
                    Err(err) => assert_eq!(err.status(), 429),
                }
            }
            admitted
        }
    };
    // Not every request (fail open), not none (fail closed): 5 of 50 a second, on its own.
    assert_eq!(admitted_in(100).await, 5);
    assert_eq!(
        store.count("claim_rate"),
        1,
        "the failed counter is not asked again"
    );
    assert_eq!(admitted_in(101).await, 5);
    assert_eq!(store.count("claim_rate"), 1);
    // After the fallback period, the counter (reachable again) decides.
    assert_eq!(admitted_in(100 + FALLBACK_SECONDS).await, 20);
    assert!(store.count("claim_rate") > 1);
}

#[tokio::test]
async fn a_limit_of_one_still_admits_one_a_second_when_the_counter_is_down() {
    let store = MemoryStore::new();
    let limiter = RateLimiter::with_seed(100, 0);
    let principal = limited("outage-1", 1);
    store.inject(
        "claim_rate",
        Fault::Fail(StoreError::Unavailable("down".into())),
    );
    assert!(limiter.admit_at(&store, &principal, 7).await.is_ok());
    assert!(limiter.admit_at(&store, &principal, 7).await.is_err());
    assert!(limiter.admit_at(&store, &principal, 8).await.is_ok());
}

#[tokio::test]
async fn a_used_up_shard_sends_the_claim_to_the_next_and_all_used_up_is_429() {
    let store = MemoryStore::new();
    let limiter = RateLimiter::with_seed(100, 0);
    let principal = limited("sharded", 1_500);
    assert_eq!(rate_shards(1_500), 3);
    // Other instances used up shard 0 in second 50.
    assert_eq!(
        store.claim_rate("sharded", 0, 50, 500, 500).await.unwrap(),
        500
    );
    assert!(limiter.admit_at(&store, &principal, 50).await.is_ok());
    assert_eq!(
        store.count("claim_rate"),
        3,
        "shard 0 refused, shard 1 granted"
    );

    // Every shard used up in second 60: 429, and the next request asks no shard again.
    for shard in 0..3 {
        store
            .claim_rate("sharded", shard, 60, 500, 500)
            .await
            .unwrap();
    }
    let before = store.count("claim_rate");
    let err = limiter.admit_at(&store, &principal, 60).await.unwrap_err();
    assert_eq!(err.status(), 429);
    assert_eq!(store.count("claim_rate"), before + 3);
    assert!(limiter.admit_at(&store, &principal, 60).await.is_err());
    assert_eq!(store.count("claim_rate"), before + 3);
}

#[tokio::test]
async fn instances_on_different_shards_together_admit_exactly_the_limit() {
    let store = MemoryStore::new();
    let instances: Vec<RateLimiter> = (0..4)
        .map(|seed| RateLimiter::with_seed(100, seed))
        .collect();
    let principal = limited("busy", 1_200);
    let mut admitted = 0;
    for _ in 0..600 {
        for limiter in &instances {
            if limiter.admit_at(&store, &principal, 9).await.is_ok() {
                admitted += 1;
            }
        }
    }
    assert_eq!(
        admitted, 1_200,
        "2,400 requests over four instances and three shards"
    );
}
