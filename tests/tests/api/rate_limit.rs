//! The per-token rate limit: 429 with `Retry-After` beyond the tenant's limit, enforced across
//! function instances through the token's shared counter in the table.
//!
//! Local requests are slow and their speed depends on the machine's load, so the decisive tests
//! do not race the clock: they play "other instances" and claim the token's whole limit for the
//! next seconds through the store (the same conditional write the functions use), then check
//! that every function refuses the token until those seconds are over.
//!
//! The client here sends every request once ([`Client::once`]): the 429 is what these tests
//! assert, where a test's usual client would wait out its `Retry-After` and send again.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use integration_tests::store::{runtime, store, tenant_id};
use integration_tests::{admin, list_filtered, unique, Client, Resp, SCIM_JSON};
use scim_store::RateCounter;
use serde_json::json;

/// Seconds the test claims ahead: longer than any request of a loaded local stack.
const EXHAUSTED_SECONDS: u64 = 20;

fn epoch_second() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A tenant with `limit` requests per second and a client for its only token that sends every
/// request once, plus the token's HMAC (read from its stored item: the test never sees the HMAC
/// key).
fn limited_client(prefix: &str, limit: u32) -> (Client, String) {
    let tenant = unique(prefix);
    admin(&["tenant", "create", &tenant]);
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--rate-limit-per-second",
        &limit.to_string(),
    ]);
    let c = Client::for_tenant(&tenant).once();
    let rt = runtime();
    let store = store(&rt);
    let tokens = rt.block_on(store.list_tokens(&tenant_id(&tenant))).unwrap();
    let hash = tokens[0].pk.trim_start_matches("TOKEN#").to_string();
    (c, hash)
}

/// Claims the token's whole limit for the coming seconds, as busy instances elsewhere would.
/// Returns the first second that is free again.
fn exhaust(hash: &str, limit: u32) -> u64 {
    let rt = runtime();
    let store = store(&rt);
    let now = epoch_second();
    for second in now..now + EXHAUSTED_SECONDS {
        let granted = rt
            .block_on(store.claim_rate(hash, second, limit, limit))
            .unwrap();
        assert_eq!(granted, limit, "second {second} was already in use");
    }
    now + EXHAUSTED_SECONDS
}

fn assert_rate_limited(r: &Resp) {
    assert_eq!(r.status, 429, "{}", r.raw);
    assert_eq!(r.header("retry-after"), Some("1"), "{:?}", r.headers);
    assert!(r.header("content-type").unwrap().starts_with(SCIM_JSON));
    assert_eq!(r.body["status"], "429", "{}", r.raw);
    assert_eq!(
        r.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

fn wait_until(second: u64) {
    while epoch_second() < second {
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_token_whose_limit_other_instances_used_up_gets_429_on_every_function() {
    let (c, hash) = limited_client("rate", 5);
    let free_at = exhaust(&hash, 5);
    assert_rate_limited(&c.get("/Users?count=1"));
    assert_rate_limited(&c.get("/Groups?count=1"));
    assert_rate_limited(&c.get("/ServiceProviderConfig"));
    wait_until(free_at);
    // After Retry-After, the token works again.
    assert_eq!(c.get("/Users?count=1").status, 200);
    assert_eq!(c.get("/Groups?count=1").status, 200);
}

#[test]
fn a_write_refused_by_the_rate_limit_changes_nothing() {
    let (c, hash) = limited_client("ratew", 5);
    let name = format!("{}@x.example", unique("rl"));
    let free_at = exhaust(&hash, 5);
    assert_rate_limited(&c.post("/Users", &json!({"userName": name})));
    assert_rate_limited(&c.post("/Groups", &json!({"displayName": name})));
    wait_until(free_at);
    let users = list_filtered(&c, "/Users", &format!("userName eq \"{name}\""), "");
    assert_eq!(users.status, 200, "{}", users.raw);
    assert_eq!(users.total(), 0, "a refused create left the user behind");
    let groups = list_filtered(&c, "/Groups", &format!("displayName eq \"{name}\""), "");
    assert_eq!(groups.total(), 0, "a refused create left the group behind");
    // The same create, once admitted, works: no uniqueness guard was left either.
    assert_eq!(c.post("/Users", &json!({"userName": name})).status, 201);
}

#[test]
fn a_burst_never_gets_more_than_the_limit_per_second() {
    let (c, _) = limited_client("rateb", 3);
    let started = Instant::now();
    let mut admitted = 0;
    for i in 0..24 {
        // Alternate between two functions: two processes, one shared limit.
        let r = if i % 2 == 0 {
            c.get("/Users?count=1")
        } else {
            c.get("/Groups?count=1")
        };
        match r.status {
            200 => admitted += 1,
            429 => assert_rate_limited(&r),
            other => panic!("unexpected {other}: {}", r.raw),
        }
    }
    // The loop touched at most `elapsed + 2` distinct seconds, each allowing 3.
    let seconds = started.elapsed().as_secs() + 2;
    assert!(
        admitted <= 3 * seconds,
        "{admitted} admitted over at most {seconds} seconds at 3/s"
    );
}
