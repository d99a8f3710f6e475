//! The per-token rate limit: 429 with `Retry-After` beyond the tenant's limit, enforced across
//! function instances (Users and Groups run in separate processes here, sharing one counter).

use std::time::{Duration, Instant};

use integration_tests::{admin, issue_token, unique, Client, SCIM_JSON};

#[test]
fn requests_beyond_the_tenants_limit_get_429_with_retry_after() {
    let tenant = unique("rate");
    admin(&["tenant", "create", &tenant]);
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--rate-limit-per-second",
        "3",
    ]);
    let c = Client::with_token(&tenant, &issue_token(&tenant));

    let started = Instant::now();
    let mut admitted = 0;
    let mut refused = Vec::new();
    for i in 0..24 {
        // Alternate between two functions: two processes, one shared limit.
        let r = if i % 2 == 0 {
            c.get("/Users?count=1")
        } else {
            c.get("/Groups?count=1")
        };
        match r.status {
            200 => admitted += 1,
            429 => refused.push(r),
            other => panic!("unexpected {other}: {}", r.raw),
        }
    }
    let seconds = started.elapsed().as_secs() + 1;
    assert!(
        !refused.is_empty(),
        "24 requests at a limit of 3/s were all admitted"
    );
    // Each whole second the loop touched allows 3; the loop spans at most `seconds + 1` of them.
    assert!(
        admitted <= 3 * (seconds + 1),
        "{admitted} admitted in {seconds} s at 3/s"
    );
    for r in &refused {
        assert_eq!(r.header("retry-after"), Some("1"), "{:?}", r.headers);
        assert!(r.header("content-type").unwrap().starts_with(SCIM_JSON));
        assert_eq!(r.body["status"], "429", "{}", r.raw);
        assert_eq!(
            r.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    // After Retry-After, the token works again.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(c.get("/Users?count=1").status, 200);
}

#[test]
fn a_refused_request_changes_nothing() {
    let tenant = unique("ratew");
    admin(&["tenant", "create", &tenant]);
    admin(&[
        "tenant",
        "settings",
        &tenant,
        "--rate-limit-per-second",
        "1",
    ]);
    let c = Client::with_token(&tenant, &issue_token(&tenant));
    let mut names = Vec::new();
    let mut created = 0u64;
    for i in 0..6 {
        let name = format!("{}-{i}@x.example", unique("rl"));
        let r = c.post(
            "/Users",
            &serde_json::json!({"userName": name, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
        );
        match r.status {
            201 => created += 1,
            429 => names.push(name),
            other => panic!("unexpected {other}: {}", r.raw),
        }
    }
    assert!(!names.is_empty(), "6 creates at 1/s were all admitted");
    std::thread::sleep(Duration::from_millis(1100));
    let all = c.get("/Users?count=100");
    assert_eq!(all.status, 200);
    assert_eq!(all.total(), created, "only admitted creates exist");
    for name in names {
        std::thread::sleep(Duration::from_millis(1000));
        let found = c.get(&format!(
            "/Users?filter={}",
            integration_tests::enc(&format!("userName eq \"{name}\""))
        ));
        assert_eq!(found.status, 200, "{}", found.raw);
        assert_eq!(found.total(), 0, "a refused create left {name} behind");
    }
}
