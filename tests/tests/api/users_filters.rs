//! RFC 7644 section 3.4.2 over HTTP: filters (3.4.2.2), sorting (3.4.2.3), paging (3.4.2.4),
//! attribute projection (3.9), POST `.search` (3.4.3), and what indexed lookups cost.

use std::collections::BTreeSet;

use integration_tests::{
    assert_list_response, enc, find_users, fixture, list_filtered, matching_user_names, resources,
    set, unique, user_names, Client, Resp, ENTERPRISE, SEARCH_REQUEST,
};
use serde_json::{json, Value};

const ALICE: &str = "alice@x.example";
const BOB: &str = "bob@y.example";
const CAROL: &str = "carol@x.example";
const DAVE: &str = "dave@z.example";

/// Four users, created in this order (alice first), with attributes chosen so that each
/// operator selects a different subset:
///
/// | user | displayName | title | externalId | emails | department | active |
/// |---|---|---|---|---|---|---|
/// | alice | Smith, Alice | Engineer | abc-s | work alice@x (primary) | Eng | true |
/// | bob | Bob Jones | Designer | bob-s | work bob@y, home bob@x | Design | true |
/// | carol | Smithers, Carol | - | CAROL-s | work carol@x | Sales | false |
/// | dave | Dave Smith | Manager | - | home dave@z | Eng | true |
struct Seeded {
    c: Client,
    suffix: String,
    ids: Vec<String>,
    bodies: Vec<Value>,
}

fn seed() -> Seeded {
    let c = Client::new_tenant("filters");
    let suffix = unique("s");
    let users = [
        json!({"userName": ALICE, "displayName": "Smith, Alice", "title": "Engineer",
               "externalId": format!("abc-{suffix}"),
               "emails": [{"value": ALICE, "type": "work", "primary": true}],
               ENTERPRISE: {"department": "Eng", "employeeNumber": "100"}}),
        json!({"userName": BOB, "displayName": "Bob Jones", "title": "Designer",
               "externalId": format!("bob-{suffix}"),
               "emails": [{"value": BOB, "type": "work"}, {"value": "bob@x.example", "type": "home"}],
               ENTERPRISE: {"department": "Design"}}),
        json!({"userName": CAROL, "displayName": "Smithers, Carol", "active": false,
               "externalId": format!("CAROL-{suffix}"),
               "emails": [{"value": CAROL, "type": "work"}],
               ENTERPRISE: {"department": "Sales"}}),
        json!({"userName": DAVE, "displayName": "Dave Smith", "title": "Manager",
               "emails": [{"value": DAVE, "type": "home"}],
               ENTERPRISE: {"department": "Eng"}}),
    ];
    let mut ids = Vec::new();
    let mut bodies = Vec::new();
    for user in users {
        let r = c.post("/Users", &user);
        assert_eq!(r.status, 201, "{}", r.raw);
        ids.push(r.id());
        bodies.push(r.body);
    }
    Seeded {
        c,
        suffix,
        ids,
        bodies,
    }
}

fn assert_selects(c: &Client, filter: &str, expected: &[&str]) {
    assert_eq!(
        matching_user_names(c, filter),
        set(expected),
        "filter {filter}"
    );
}

fn list(c: &Client, query: &str) -> Resp {
    let r = c.get(&format!("/Users?{query}"));
    assert_list_response(&r);
    r
}

#[test]
fn eq_ne_co_sw_ew_and_pr_compare_strings_case_insensitively() {
    let s = seed();
    let c = &s.c;
    assert_selects(c, "userName eq \"ALICE@X.EXAMPLE\"", &[ALICE]);
    assert_selects(c, "userName ne \"alice@x.example\"", &[BOB, CAROL, DAVE]);
    assert_selects(c, "userName co \"@X.\"", &[ALICE, CAROL]);
    assert_selects(c, "userName sw \"B\"", &[BOB]);
    assert_selects(c, "userName ew \".EXAMPLE\"", &[ALICE, BOB, CAROL, DAVE]);
    assert_selects(c, "title pr", &[ALICE, BOB, DAVE]);
    assert_selects(c, "title eq \"engineer\"", &[ALICE]);
    assert_selects(c, "displayName sw \"smith\"", &[ALICE, CAROL]);
    assert_selects(c, "title ne \"Engineer\"", &[BOB, CAROL, DAVE]);
    assert_selects(c, "USERNAME EQ \"bob@y.example\"", &[BOB]);
}

#[test]
fn gt_ge_lt_le_order_string_values() {
    let s = seed();
    let c = &s.c;
    assert_selects(c, "userName gt \"bob@y.example\"", &[CAROL, DAVE]);
    assert_selects(c, "userName ge \"BOB@Y.EXAMPLE\"", &[BOB, CAROL, DAVE]);
    assert_selects(c, "userName lt \"bob@y.example\"", &[ALICE]);
    assert_selects(c, "userName le \"bob@y.example\"", &[ALICE, BOB]);
}

#[test]
fn and_or_not_and_parentheses_combine_with_and_binding_tighter() {
    let s = seed();
    let c = &s.c;
    assert_selects(c, "title pr and not (userName sw \"a\")", &[BOB, DAVE]);
    assert_selects(c, "userName sw \"a\" or userName sw \"d\"", &[ALICE, DAVE]);
    assert_selects(
        c,
        "userName sw \"a\" or userName sw \"b\" and title eq \"Designer\"",
        &[ALICE, BOB],
    );
    assert_selects(
        c,
        "(userName sw \"a\" or userName sw \"b\") and title eq \"Designer\"",
        &[BOB],
    );
    assert_selects(c, "not (title pr)", &[CAROL]);
    assert_selects(
        c,
        "userName eq \"alice@x.example\" and active eq false",
        &[],
    );
}

#[test]
fn value_path_filter_on_emails_must_hold_within_one_value() {
    let s = seed();
    let c = &s.c;
    // bob has a work address at @y and a home address at @x: no single value matches both.
    assert_selects(
        c,
        "emails[type eq \"work\" and value co \"@x\"]",
        &[ALICE, CAROL],
    );
    assert_selects(c, "emails.value co \"@x\"", &[ALICE, BOB, CAROL]);
    assert_selects(c, "emails[type eq \"home\"]", &[BOB, DAVE]);
    assert_selects(c, "emails[primary eq true]", &[ALICE]);
    assert_selects(c, "emails.type eq \"work\"", &[ALICE, BOB, CAROL]);
}

#[test]
fn enterprise_urn_paths_filter_extension_attributes() {
    let s = seed();
    let c = &s.c;
    assert_selects(
        c,
        &format!("{ENTERPRISE}:department eq \"Eng\""),
        &[ALICE, DAVE],
    );
    assert_selects(
        c,
        &format!("{ENTERPRISE}:department eq \"eng\""),
        &[ALICE, DAVE],
    );
    assert_selects(c, &format!("{ENTERPRISE}:employeeNumber pr"), &[ALICE]);
    assert_selects(
        c,
        &format!("{ENTERPRISE}:department eq \"Eng\" and title eq \"Manager\""),
        &[DAVE],
    );
    assert_selects(
        c,
        "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"carol@x.example\"",
        &[CAROL],
    );
}

#[test]
fn meta_last_modified_compares_as_a_date_time() {
    let s = seed();
    let c = &s.c;
    let alice = s.bodies[0]["meta"]["lastModified"].as_str().unwrap();
    let dave_created = s.bodies[3]["meta"]["created"].as_str().unwrap();
    assert!(alice.ends_with('Z'), "{alice}");
    assert_selects(
        c,
        "meta.lastModified gt \"2000-01-01T00:00:00Z\"",
        &[ALICE, BOB, CAROL, DAVE],
    );
    assert_selects(c, "meta.lastModified lt \"2000-01-01T00:00:00Z\"", &[]);
    assert_selects(
        c,
        &format!("meta.lastModified gt \"{alice}\""),
        &[BOB, CAROL, DAVE],
    );
    assert_selects(c, &format!("meta.created ge \"{dave_created}\""), &[DAVE]);
    // The same instant written with an offset: only an instant comparison (not a text one)
    // finds alice here, since "...Z" sorts after "...+00:00" as text.
    let same_instant = format!("{}+00:00", alice.trim_end_matches('Z'));
    assert_selects(
        c,
        &format!("meta.lastModified le \"{same_instant}\""),
        &[ALICE],
    );
    assert_selects(
        c,
        &format!("meta.lastModified eq \"{same_instant}\""),
        &[ALICE],
    );
}

#[test]
fn active_eq_false_matches_deactivated_users() {
    let s = seed();
    let c = &s.c;
    assert_selects(c, "active eq false", &[CAROL]);
    assert_selects(c, "active eq true", &[ALICE, BOB, DAVE]);
    assert_selects(c, "active ne true", &[CAROL]);
}

#[test]
fn external_id_is_case_exact_but_user_name_is_not() {
    let s = seed();
    let c = &s.c;
    let sfx = &s.suffix;
    assert_selects(c, &format!("externalId eq \"abc-{sfx}\""), &[ALICE]);
    assert_selects(
        c,
        &format!("externalId eq \"ABC-{}\"", sfx.to_uppercase()),
        &[],
    );
    assert_selects(c, &format!("externalId eq \"ABC-{sfx}\""), &[]);
    assert_selects(c, &format!("externalId eq \"carol-{sfx}\""), &[]);
    assert_selects(c, &format!("externalId eq \"CAROL-{sfx}\""), &[CAROL]);
    assert_selects(c, "externalId sw \"ABC\"", &[]);
    assert_selects(c, "externalId sw \"abc\"", &[ALICE]);
    assert_selects(c, "userName eq \"Carol@X.Example\"", &[CAROL]);
}

#[test]
fn sort_by_and_sort_order_order_the_results() {
    let s = seed();
    let c = &s.c;
    let names = |query: &str| user_names(&list(c, query));
    assert_eq!(names("sortBy=userName"), [ALICE, BOB, CAROL, DAVE]);
    assert_eq!(
        names("sortBy=userName&sortOrder=descending"),
        [DAVE, CAROL, BOB, ALICE]
    );
    // "Bob Jones" < "Dave Smith" < "Smith, Alice" < "Smithers, Carol"
    assert_eq!(names("sortBy=displayName"), [BOB, DAVE, ALICE, CAROL]);
    assert_eq!(
        names("sortBy=displayName&startIndex=2&count=2"),
        [DAVE, ALICE]
    );
    // Resources without a title sort last.
    assert_eq!(names("sortBy=title"), [BOB, ALICE, DAVE, CAROL]);
    assert_eq!(
        names("sortBy=meta.created&sortOrder=descending"),
        [DAVE, CAROL, BOB, ALICE]
    );
    assert_eq!(
        names(&format!(
            "filter={}&sortBy=displayName&sortOrder=descending",
            enc("userName co \"@x\"")
        )),
        [CAROL, ALICE]
    );
    c.get("/Users?sortBy=userName&sortOrder=sideways")
        .assert_scim_error(400, Some("invalidValue"));
}

#[test]
fn attributes_return_only_those_plus_id_and_schemas() {
    let s = seed();
    let c = &s.c;
    let r = list(c, "attributes=userName");
    for u in resources(&r) {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["schemas", "id", "userName"]), "{u}");
    }
    let r = list(
        c,
        &format!(
            "filter={}&attributes=name.givenName,emails.value,{ENTERPRISE}:department",
            enc("userName eq \"alice@x.example\"")
        ),
    );
    let alice = &resources(&r)[0];
    assert_eq!(alice["emails"], json!([{"value": ALICE}]), "{alice}");
    assert_eq!(alice[ENTERPRISE], json!({"department": "Eng"}), "{alice}");
    assert!(alice.get("userName").is_none(), "{alice}");
    assert!(
        alice["id"].is_string() && alice["schemas"].is_array(),
        "{alice}"
    );

    let one = c.get(&format!("/Users/{}?attributes=displayName", s.ids[1]));
    assert_eq!(one.status, 200, "{}", one.raw);
    assert_eq!(one.body["displayName"], "Bob Jones");
    assert_eq!(one.body["id"], s.ids[1]);
    assert!(one.body.get("emails").is_none(), "{}", one.raw);
}

#[test]
fn excluded_attributes_drop_them_but_never_id_or_schemas() {
    let s = seed();
    let c = &s.c;
    let r = list(c, "excludedAttributes=emails");
    assert_eq!(resources(&r).len(), 4);
    for u in resources(&r) {
        assert!(u.get("emails").is_none(), "{u}");
        assert!(u["userName"].is_string(), "{u}");
    }
    let r = list(c, "excludedAttributes=id,schemas,userName");
    for u in resources(&r) {
        assert!(u["id"].is_string() && u["schemas"].is_array(), "{u}");
        assert!(u.get("userName").is_none(), "{u}");
    }
    let one = c.get(&format!(
        "/Users/{}?excludedAttributes={ENTERPRISE}",
        s.ids[0]
    ));
    assert_eq!(one.status, 200, "{}", one.raw);
    assert!(one.body.get(ENTERPRISE).is_none(), "{}", one.raw);
    assert_eq!(one.body["userName"], ALICE);
}

#[test]
fn post_search_with_a_search_request_body_filters_projects_and_pages() {
    let s = seed();
    let c = &s.c;
    let r = c.post(
        "/Users/.search",
        &fixture("rfc7644/s3.4.3_search_request.json", &[]),
    );
    assert_list_response(&r);
    assert_eq!(r.total(), 2, "{}", r.raw);
    assert_eq!(set([ALICE, CAROL]), user_names(&r).into_iter().collect());
    for u in resources(&r) {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["schemas", "id", "userName", "displayName"]),
            "{u}"
        );
    }
    let paged = c.post(
        "/Users/.search",
        &json!({"schemas": [SEARCH_REQUEST], "filter": "title pr", "sortBy": "userName",
                "sortOrder": "descending", "startIndex": 2, "count": 1,
                "excludedAttributes": ["emails"]}),
    );
    assert_list_response(&paged);
    assert_eq!(paged.total(), 3);
    assert_eq!(paged.body["startIndex"], 2);
    assert_eq!(user_names(&paged), [BOB]);
    assert!(resources(&paged)[0].get("emails").is_none());
}

#[test]
fn count_zero_returns_only_the_total() {
    let s = seed();
    let c = &s.c;
    for query in [
        "count=0".to_string(),
        format!("count=0&filter={}", enc("userName ew \"example\"")),
    ] {
        let r = c.get(&format!("/Users?{query}"));
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.total(), 4, "{query}: {}", r.raw);
        assert!(
            r.body
                .get("Resources")
                .is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)),
            "{query}: {}",
            r.raw
        );
    }
    let by_name = c.get(&format!(
        "/Users?count=0&filter={}",
        enc("userName eq \"bob@y.example\"")
    ));
    assert_eq!(by_name.total(), 1, "{}", by_name.raw);
}

#[test]
fn non_integer_paging_parameters_are_invalid_value() {
    let s = seed();
    let c = &s.c;
    for query in [
        "startIndex=abc",
        "count=ten",
        "count=1.5",
        "startIndex=1.0",
        "count=0x10",
    ] {
        c.get(&format!("/Users?{query}"))
            .assert_scim_error(400, Some("invalidValue"));
    }
    for body in [
        json!({"schemas": [SEARCH_REQUEST], "count": "abc"}),
        json!({"schemas": [SEARCH_REQUEST], "startIndex": 1.5}),
        json!({"schemas": [SEARCH_REQUEST], "count": true}),
    ] {
        c.post("/Users/.search", &body)
            .assert_scim_error(400, Some("invalidValue"));
    }
}

#[test]
fn count_above_the_maximum_is_reduced_not_refused() {
    let s = seed();
    let c = &s.c;
    for count in ["5000", "99999999999"] {
        let r = list(c, &format!("count={count}"));
        assert_eq!(r.total(), 4);
        assert_eq!(r.body["itemsPerPage"], 4, "{}", r.raw);
    }
    // Out-of-range values are read as RFC 7644 section 3.4.2.4 says: startIndex < 1 is 1.
    let r = list(c, "startIndex=0&count=2");
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(user_names(&r), [ALICE, BOB]);
}

#[test]
fn malformed_filters_are_invalid_filter() {
    let s = seed();
    let c = &s.c;
    for filter in [
        "userName eq",
        "userName xx \"a\"",
        "(userName eq \"a\"",
        "userName eq \"a\")",
        "userName eq \"a\" and",
        "userName eq \"unterminated",
        "nosuchattribute eq \"a\"",
        "emails[type eq \"work\"",
        "active gt true",
        "name eq \"x\"",
        "userName eq 'single quotes'",
    ] {
        list_filtered(c, "/Users", filter, "").assert_scim_error(400, Some("invalidFilter"));
    }
}

#[test]
fn indexed_lookups_cost_one_or_two_dynamodb_calls() {
    let s = seed();
    let c = &s.c;
    let by_name = find_users(c, "userName eq \"Dave@Z.example\"");
    assert_eq!(by_name.total(), 1);
    assert_eq!(by_name.calls(), 1, "userName eq");
    let by_id = find_users(c, &format!("id eq \"{}\"", s.ids[2]));
    assert_eq!(user_names(&by_id), [CAROL]);
    assert_eq!(by_id.calls(), 1, "id eq");
    let by_ext = find_users(c, &format!("externalId eq \"bob-{}\"", s.suffix));
    assert_eq!(user_names(&by_ext), [BOB]);
    assert!(by_ext.calls() <= 2, "externalId eq: {}", by_ext.calls());
    let missing_ext = find_users(c, "externalId eq \"nobody\"");
    assert_eq!(missing_ext.total(), 0);
    assert!(missing_ext.calls() <= 2);
    for filter in [
        "emails.value eq \"BOB@X.EXAMPLE\"",
        "emails[value eq \"bob@x.example\"]",
        "emails[type eq \"home\"].value eq \"bob@x.example\"",
    ] {
        let r = find_users(c, filter);
        assert_eq!(user_names(&r), [BOB], "{filter}");
        assert!(r.calls() <= 2, "{filter}: {} calls", r.calls());
    }
    let not_an_id = find_users(c, "id eq \"not-a-uuid\"");
    assert_eq!(not_an_id.total(), 0);
}
