//! The functions' JSON request logs (what CloudWatch receives): one line per request with who,
//! what and how it went, and never a token, a password or the HMAC key.

use std::time::Duration;

use integration_tests::{issue_token, patch_body, token_prefix, unique, unique_login, Client};
use serde_json::{json, Value};

/// The functions' output under `cargo lambda watch` (the stack exports its path).
fn function_log() -> String {
    let path = std::env::var("SCIM_FUNCTION_LOG").expect("SCIM_FUNCTION_LOG is set by the stack");
    std::fs::read_to_string(path).expect("read the functions' log")
}

/// The request lines logged for the token with this prefix.
fn request_lines(prefix: &str) -> Vec<Value> {
    function_log()
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request" && v["token_prefix"] == prefix)
        .collect()
}

#[test]
fn each_request_logs_who_what_and_the_outcome_but_never_secrets() {
    let tenant = unique("logs");
    let token = issue_token(&tenant);
    let prefix = token_prefix(&token).to_string();
    let c = Client::with_token(&tenant, &token);
    let password = format!("Pw-{}", unique("secret"));
    let name = unique_login("x.example");
    let created = c.post(
        "/Users",
        &json!({"userName": name, "password": password, "active": true}),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let id = created.id();
    assert_eq!(c.get(&format!("/Users/{id}")).status, 200);
    c.patch(
        &format!("/Users/{id}"),
        &patch_body(json!([{"op": "replace", "value": {"active": false}}])),
    );
    c.get("/Users/not-an-id").assert_scim_error(404, None);

    // The watch process writes lines as they come; give it a moment.
    let mut lines = Vec::new();
    for _ in 0..20 {
        lines = request_lines(&prefix);
        if lines.len() >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let op = |o: &str| {
        lines
            .iter()
            .find(|l| l["operation"] == o)
            .unwrap_or_else(|| panic!("no {o} line in {lines:?}"))
            .clone()
    };
    let create = op("user.create");
    assert_eq!(create["status"], 201);
    assert!(create["tenant"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(create["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(create["dynamodb_calls"], 1);
    let get = op("user.get");
    assert_eq!(get["resource_id"], id.as_str());
    assert_eq!(get["status"], 200);
    assert_eq!(op("user.patch")["status"], 200);
    assert!(lines.iter().any(|l| l["status"] == 404));

    let log = function_log();
    assert!(!log.contains(&token), "the token was logged");
    assert!(
        !log.contains(&token[14..]),
        "the token's secret part was logged"
    );
    assert!(!log.contains(&password), "a password was logged");
}
