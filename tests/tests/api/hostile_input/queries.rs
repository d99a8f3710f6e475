//! Query input: paging out of range or mistyped, filters beyond their budgets, hostile
//! projection and sort parameters.

use integration_tests::{enc, unique, Client, Resp};
use serde_json::{json, Value};

use super::assert_scim_4xx;

/// `Ok((startIndex, itemsPerPage))` of the page answered, or `Err(())` for 400 invalidValue.
type Outcome = Result<(u64, u64), ()>;

/// `(query, expected)` for a tenant with 3 users.
fn paging_cases() -> Vec<(&'static str, Outcome)> {
    vec![
        // RFC 7644 3.4.2.4: a negative count is read as 0, startIndex < 1 as 1.
        ("count=-1", Ok((1, 0))),
        ("count=-99999999999999999999", Ok((1, 0))),
        ("count=0", Ok((1, 0))),
        ("count=2", Ok((1, 2))),
        ("count=99999999999999999999", Ok((1, 3))),
        ("count=9223372036854775807", Ok((1, 3))),
        ("count=abc", Err(())),
        ("count=1.5", Err(())),
        ("count=1e3", Err(())),
        ("count=0x10", Err(())),
        ("count=%00", Err(())),
        ("count=", Ok((1, 3))),
        ("startIndex=0", Ok((1, 3))),
        ("startIndex=-5", Ok((1, 3))),
        ("startIndex=-9223372036854775808", Ok((1, 3))),
        ("startIndex=3", Ok((3, 1))),
        ("startIndex=4", Ok((4, 0))),
        ("startIndex=1000000", Ok((1_000_000, 0))),
        ("startIndex=1000001", Err(())),
        ("startIndex=99999999999999999999", Err(())),
        ("startIndex=-99999999999999999999", Ok((1, 3))),
        ("startIndex=one", Err(())),
        ("startIndex=1&count=-1&startIndex=0", Ok((1, 0))),
    ]
}

fn check_page(r: &Resp, what: &str, expected: Outcome) {
    match expected {
        Ok((start, per_page)) => {
            assert_eq!(r.status, 200, "{what}: {}", r.raw);
            assert_eq!(r.total(), 3, "{what}: {}", r.raw);
            assert_eq!(r.body["startIndex"], json!(start), "{what}: {}", r.raw);
            assert_eq!(r.body["itemsPerPage"], json!(per_page), "{what}: {}", r.raw);
            let got = r.body["Resources"].as_array().map_or(0, Vec::len) as u64;
            assert_eq!(got, per_page, "{what}: {}", r.raw);
        }
        Err(()) => {
            assert_scim_4xx(r, what);
            assert_eq!(r.status, 400, "{what}: {}", r.raw);
            assert_eq!(r.body["scimType"], "invalidValue", "{what}: {}", r.raw);
        }
    }
}

#[test]
fn paging_parameters_are_clamped_as_the_rfc_says_or_refused_with_invalid_value() {
    let c = Client::new_tenant("hostile-paging");
    for i in 0..3 {
        c.create_user(&unique(&format!("p{i}")));
    }
    for (query, expected) in paging_cases() {
        let r = c.get(&format!("/Users?{query}"));
        check_page(&r, &format!("GET /Users?{query}"), expected);
    }
}

#[test]
fn search_bodies_with_out_of_range_or_mistyped_paging_are_clamped_or_invalid_value() {
    let c = Client::new_tenant("hostile-paging");
    for i in 0..3 {
        c.create_user(&unique(&format!("p{i}")));
    }
    let cases: Vec<(Value, Outcome)> = vec![
        (json!({"count": -1}), Ok((1, 0))),
        (json!({"count": 0}), Ok((1, 0))),
        (json!({"count": "2"}), Ok((1, 2))),
        (json!({"count": 9_223_372_036_854_775_807_i64}), Ok((1, 3))),
        (json!({"count": 18_446_744_073_709_551_615_u64}), Err(())),
        (json!({"count": 1.5}), Err(())),
        (json!({"count": true}), Err(())),
        (json!({"count": [1]}), Err(())),
        (json!({"count": {"n": 1}}), Err(())),
        (json!({"startIndex": -1}), Ok((1, 3))),
        (json!({"startIndex": 2}), Ok((2, 2))),
        (json!({"startIndex": "x"}), Err(())),
        (json!({"startIndex": 1_000_001}), Err(())),
        (json!({"startIndex": null, "count": null}), Ok((1, 3))),
    ];
    for (body, expected) in cases {
        let r = c.post("/Users/.search", &body);
        check_page(&r, &format!("POST /Users/.search {body}"), expected);
    }
    // Numbers beyond what JSON parsers hold exactly are not integers.
    let r = c.send_raw(
        "POST",
        "/Users/.search",
        Some(r#"{"count": 99999999999999999999}"#),
        &[],
        true,
    );
    assert_scim_4xx(&r, "count as a huge JSON number");
    assert_eq!(r.body["scimType"], "invalidValue", "{}", r.raw);
}

#[test]
fn filters_beyond_the_budgets_are_invalid_filter_through_get_and_search() {
    let c = Client::new_tenant("hostile-filter");
    c.create_user(&unique("u"));
    let nest = |n: usize| format!("{}title pr{}", "(".repeat(n), ")".repeat(n));
    let filters = [
        format!("userName eq \"{}\"", "x".repeat(5000)),
        nest(17),
        "(".repeat(4000),
        format!("{}title pr{}", "not(".repeat(17), ")".repeat(17)),
        vec!["title pr"; 51].join(" or "),
        vec!["emails[type pr]"; 51].join(" and "),
        "userName eq \"a\u{0}\"".to_string(),
        "userName eq \"\\ud800\"".to_string(),
        "userName eq \"a\" and".to_string(),
        "userName eq jyoung".to_string(),
        "\u{202e}userName eq \"a\"".to_string(),
        "TENANT#x#USER#y eq \"a\"".to_string(),
        "emails[emails[type pr]]".to_string(),
        "meta.created gt \"yesterday\"".to_string(),
        "active gt true".to_string(),
    ];
    for filter in &filters {
        let short: String = filter.chars().take(50).collect();
        let r = c.get(&format!("/Users?filter={}", enc(filter)));
        assert_scim_4xx(&r, &short);
        assert_eq!(
            r.body["scimType"], "invalidFilter",
            "GET {short}: {}",
            r.raw
        );
        let r = c.post("/Users/.search", &json!({"filter": filter}));
        assert_scim_4xx(&r, &short);
        assert_eq!(
            r.body["scimType"], "invalidFilter",
            "search {short}: {}",
            r.raw
        );
        let r = c.get(&format!("/Groups?filter={}", enc(filter)));
        assert_scim_4xx(&r, &short);
        assert_eq!(
            r.body["scimType"], "invalidFilter",
            "GET groups {short}: {}",
            r.raw
        );
    }
    // The budgets themselves are accepted: depth 16 and 50 terms.
    let r = c.get(&format!("/Users?filter={}", enc(&nest(16))));
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = c.get(&format!(
        "/Users?filter={}",
        enc(&vec!["title pr"; 50].join(" or "))
    ));
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[test]
fn hostile_projection_and_sort_parameters_are_invalid_value() {
    let c = Client::new_tenant("hostile-params");
    let user = c.create_user(&unique("u")).id();
    for query in [
        format!("attributes={}", "a".repeat(5000)),
        "attributes=%00".to_string(),
        "attributes=TENANT%23x".to_string(),
        "excludedAttributes=..".to_string(),
        "excludedAttributes=name%5B".to_string(),
        "sortBy=%E2%80%AEuserName".to_string(),
        "sortBy=emails%5Btype%20eq%20%22work%22%5D".to_string(),
        "sortOrder=sideways".to_string(),
    ] {
        let r = c.get(&format!("/Users?{query}"));
        assert_scim_4xx(&r, &query);
        assert_eq!(r.body["scimType"], "invalidValue", "{query}: {}", r.raw);
    }
    let r = c.get(&format!("/Users/{user}?attributes=%F0%9F%98%80"));
    assert_scim_4xx(&r, "emoji attribute");
    assert_eq!(r.body["scimType"], "invalidValue", "{}", r.raw);
}
