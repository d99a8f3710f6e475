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
use integration_tests::{Fault, FaultKind};
use scim_ops::access::{fallback_per_second, rate_shards, shard_limit};
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
    let shards = rate_shards(limit);
    exhaust_shards(hash, limit, &(0..shards).collect::<Vec<_>>())
}

/// Claims the whole part of `limit` of each of these shards of the token's counter for the
/// coming seconds. Returns the first second that is free again.
fn exhaust_shards(hash: &str, limit: u32, shards: &[u32]) -> u64 {
    let rt = runtime();
    let store = store(&rt);
    let now = epoch_second();
    for second in now..now + EXHAUSTED_SECONDS {
        for &shard in shards {
            let part = shard_limit(limit, rate_shards(limit), shard);
            let granted = rt
                .block_on(store.claim_rate(hash, shard, second, part, part))
                .unwrap();
            assert_eq!(granted, part, "second {second} was already in use");
        }
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

/// A token above one shard's worth (500/s) is counted on several partitions: the limit is
/// their sum, and a claim goes on to another shard when the instance's own is used up.
#[test]
fn a_busy_tokens_counter_is_sharded_and_every_shard_counts() {
    let limit = 1_500;
    assert_eq!(rate_shards(limit), 3);
    let (c, hash) = limited_client("rates", limit);
    // Other instances used up two shards of three: the third still admits.
    let free_at = exhaust_shards(&hash, limit, &[0, 1]);
    let r = c.get("/ServiceProviderConfig");
    assert_eq!(r.status, 200, "{}", r.raw);
    wait_until(free_at);
    // All three used up: 429, after asking each shard once.
    let free_at = exhaust(&hash, limit);
    let r = c.get("/ServiceProviderConfig");
    assert_rate_limited(&r);
    let asked: u64 = r
        .header("x-scim-ratelimit-dynamodb-calls")
        .unwrap()
        .parse()
        .unwrap();
    assert!(asked <= 3, "{asked} claims for three shards");
    wait_until(free_at);
    assert_eq!(c.get("/ServiceProviderConfig").status, 200);
}

/// When the counter cannot be reached, an instance neither lets every request through nor
/// refuses them all: it admits a tenth of the limit a second on its own.
#[test]
fn a_counter_outage_limits_each_instance_instead_of_admitting_everything() {
    let limit = 10;
    assert_eq!(fallback_per_second(limit), 1);
    let (c, hash) = limited_client("ratef", limit);
    let outage = Fault::always(
        "UpdateItem",
        &format!("TOKEN#{hash}#RATE#"),
        FaultKind::Throttle,
    );
    let started = Instant::now();
    let (mut admitted, mut refused) = (0, 0);
    // One function (one instance locally), until refusals show or a minute has passed.
    while (refused < 3 || admitted == 0) && started.elapsed() < Duration::from_secs(60) {
        let r = c.get("/ServiceProviderConfig");
        match r.status {
            200 => admitted += 1,
            429 => {
                assert_rate_limited(&r);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", r.raw),
        }
    }
    assert!(outage.hits() >= 1, "the counter was tried");
    assert!(
        admitted >= 1,
        "an outage of the counter is not an outage of the API"
    );
    assert!(refused >= 3, "{admitted} admitted, {refused} refused");
    let seconds = started.elapsed().as_secs() + 2;
    assert!(
        admitted <= seconds,
        "{admitted} admitted over at most {seconds} seconds at 1/s"
    );
}
