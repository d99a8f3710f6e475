//! The functions' JSON logs (what CloudWatch receives): one line per request with who, what and
//! how it went, and never a token, a password or the HMAC key; and the metrics those lines carry
//! in CloudWatch Embedded Metric Format, checked against what template.yaml's dashboard and
//! alarms reference.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integration_tests::{
    issue_token, patch_body, random_guid, tenant_id, token_prefix, unique, unique_login, Client,
    Hook,
};
use serde_json::{json, Value};

/// The functions' output under `cargo lambda watch` (the stack exports its path).
fn function_log() -> String {
    let path = std::env::var("SCIM_FUNCTION_LOG").expect("SCIM_FUNCTION_LOG is set by the stack");
    std::fs::read_to_string(path).expect("read the functions' log")
}

/// Every JSON line of the functions' log.
fn log_lines() -> Vec<Value> {
    function_log()
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The request lines logged for the token with this prefix.
fn request_lines(prefix: &str) -> Vec<Value> {
    log_lines()
        .into_iter()
        .filter(|v| v["message"] == "request" && v["token_prefix"] == prefix)
        .collect()
}

/// The log lines `select` picks, once there are at least `n` (the watch process and the stream
/// pump write as things happen; give them up to `secs`).
fn wait_for_lines(n: usize, secs: u64, select: impl Fn(&Value) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let lines: Vec<Value> = log_lines().into_iter().filter(|l| select(l)).collect();
        if lines.len() >= n || started.elapsed() > Duration::from_secs(secs) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
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

// ---- Metrics (EMF) against template.yaml ------------------------------------------------------

/// The template's namespace (`SCIM/${AWS::StackName}`, with the stack name read as `stack`).
const TEMPLATE_NAMESPACE: &str = "SCIM/stack";

/// One metric the template references: its name and dimensions, with the value when the
/// reference fixes it (a SEARCH expression fixes only the dimension names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct MetricRef {
    name: String,
    dimensions: Vec<(String, Option<String>)>,
}

fn template() -> String {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines of the `!Sub |` block under the line that starts with `key` (the template is read
/// as text, as openapi_spec.rs reads openapi.yaml), and the range of template lines it spans.
fn sub_block(template: &str, key: &str) -> (String, std::ops::Range<usize>) {
    let lines: Vec<&str> = template.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no `{key}` in template.yaml"));
    let indent = indent_of(lines[start]);
    let end = (start + 1..lines.len())
        .find(|&i| !lines[i].trim().is_empty() && indent_of(lines[i]) <= indent)
        .unwrap_or(lines.len());
    (lines[start + 1..end].join("\n"), start..end)
}

/// A `!Sub` string with its substitutions resolved: the stack name as `stack`, others as `x`.
fn substitute(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
        out.push_str(if &rest[i..end] == "${AWS::StackName}" {
            "stack"
        } else {
            "x"
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn sub_json(template: &str, key: &str) -> Value {
    let (block, _) = sub_block(template, key);
    serde_json::from_str(&substitute(&block))
        .unwrap_or_else(|e| panic!("`{key}` is not JSON once substituted: {e}"))
}

/// The metrics of the namespace in a metric math expression's SEARCH calls:
/// `SEARCH('{"SCIM/stack",function,operation} MetricName="requests"', 'Sum', 300)`.
fn search_refs(expression: &str) -> Vec<MetricRef> {
    let mut refs = Vec::new();
    for search in expression.split("SEARCH(").skip(1) {
        let schema = search
            .split_once('{')
            .and_then(|(_, s)| s.split_once('}'))
            .map(|(s, _)| s)
            .unwrap_or_else(|| panic!("SEARCH without a schema: {expression}"));
        let mut parts = schema.split(',').map(|p| p.trim().trim_matches('"'));
        if parts.next() != Some(TEMPLATE_NAMESPACE) {
            continue;
        }
        let name = search
            .split_once("MetricName=\"")
            .and_then(|(_, s)| s.split_once('"'))
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| panic!("SEARCH of our namespace without MetricName: {expression}"));
        let mut dimensions: Vec<(String, Option<String>)> =
            parts.map(|d| (d.to_string(), None)).collect();
        dimensions.sort();
        refs.push(MetricRef { name, dimensions });
    }
    refs
}

/// Every metric of the namespace the dashboard references (explicit metrics and SEARCH
/// expressions).
fn dashboard_refs(dashboard: &Value) -> BTreeSet<MetricRef> {
    let mut refs = BTreeSet::new();
    let widgets = dashboard["widgets"].as_array().expect("dashboard widgets");
    for widget in widgets {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let parts = metric.as_array().expect("a metric is an array");
            if let Some(expression) = parts.first().and_then(|p| p["expression"].as_str()) {
                refs.extend(search_refs(expression));
            } else if parts.first().and_then(Value::as_str) == Some(TEMPLATE_NAMESPACE) {
                let strings: Vec<&str> = parts.iter().map_while(Value::as_str).collect();
                let mut dimensions: Vec<(String, Option<String>)> = strings[2..]
                    .chunks(2)
                    .map(|pair| (pair[0].to_string(), pair.get(1).map(|v| v.to_string())))
                    .collect();
                dimensions.sort();
                refs.insert(MetricRef {
                    name: strings[1].to_string(),
                    dimensions,
                });
            }
        }
    }
    refs
}

/// Each (metric, its dimensions with their values) a log line's `_aws` block declares under
/// `namespace`, after checking the block is well-formed EMF: a timestamp, every declared metric
/// a number at the top level, every dimension a string there.
fn emitted(line: &Value, namespace: &str) -> Vec<(String, Vec<(String, String)>)> {
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].as_u64().is_some(), "no Timestamp: {line}");
    let mut out = Vec::new();
    for directive in aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics")
    {
        assert_eq!(directive["Namespace"], namespace, "{line}");
        let sets = directive["Dimensions"].as_array().expect("Dimensions");
        for metric in directive["Metrics"].as_array().expect("Metrics") {
            let name = metric["Name"].as_str().expect("metric Name");
            assert!(
                line[name].is_number(),
                "metric {name} is not a number: {line}"
            );
            assert!(metric["Unit"].is_string(), "{line}");
            for set in sets {
                let mut dimensions: Vec<(String, String)> = set
                    .as_array()
                    .expect("a dimension set")
                    .iter()
                    .map(|k| {
                        let k = k.as_str().expect("a dimension key");
                        let v = line[k].as_str();
                        assert!(v.is_some(), "dimension {k} is not a string: {line}");
                        (k.to_string(), v.unwrap_or_default().to_string())
                    })
                    .collect();
                dimensions.sort();
                out.push((name.to_string(), dimensions));
            }
        }
    }
    out
}

fn matches(reference: &MetricRef, (name, dimensions): &(String, Vec<(String, String)>)) -> bool {
    *name == reference.name
        && dimensions.len() == reference.dimensions.len()
        && dimensions
            .iter()
            .zip(&reference.dimensions)
            .all(|((k, v), (rk, rv))| k == rk && rv.as_ref().is_none_or(|rv| rv == v))
}

#[test]
fn every_metric_the_dashboard_and_alarms_use_is_emitted_with_its_dimensions() {
    let template = template();
    let dashboard = sub_json(&template, "DashboardBody: !Sub |");
    let refs = dashboard_refs(&dashboard);
    // The dashboard is the only place that reads our namespace (the alarms watch AWS metrics and
    // the Contributor Insights rule below): an alarm on it must be taught to this test.
    let (_, dashboard_lines) = sub_block(&template, "DashboardBody: !Sub |");
    let elsewhere: Vec<&str> = template
        .lines()
        .enumerate()
        .filter(|(i, l)| !dashboard_lines.contains(i) && l.contains("SCIM/${AWS::StackName}"))
        .map(|(_, l)| l.trim())
        .collect();
    assert_eq!(
        elsewhere,
        ["SCIM_METRICS_NAMESPACE: !Sub SCIM/${AWS::StackName}"],
        "template.yaml uses the metrics namespace outside the dashboard: teach this test to read it"
    );
    let functions: BTreeSet<&str> = refs
        .iter()
        .flat_map(|r| &r.dimensions)
        .filter(|(k, _)| k == "function")
        .filter_map(|(_, v)| v.as_deref())
        .collect();
    assert!(refs.len() >= 15, "too few references found: {refs:?}");
    assert!(
        ["audit", "events", "webhooks"]
            .iter()
            .all(|f| functions.contains(f)),
        "{refs:?}"
    );

    // Traffic for every function: users and groups (success, 404), discovery, a 401 for a
    // well-formed token nobody issued (its prefix is what the 401 alarm's rule counts), and a
    // membership change the audit function records on the user (and the events function publishes).
    let tenant = unique("metrics");
    let token = issue_token(&tenant);
    let prefix = token_prefix(&token).to_string();
    let tenant_id = tenant_id(&tenant);
    let c = Client::with_token(&tenant, &token);
    // A webhook endpoint, so the webhooks function delivers the tenant's events too.
    let _hook = Hook::for_tenant(&tenant, &[]);
    let user = c.create_user(&unique_login("metrics.example"));
    assert_eq!(user.status, 201, "{}", user.raw);
    let user_id = user.id();
    assert_eq!(c.get(&format!("/Users/{user_id}")).status, 200);
    c.get("/Users/not-an-id").assert_scim_error(404, None);
    let group = c.post(
        "/Groups",
        &json!({"displayName": unique("metrics"), "members": [{"value": user_id}]}),
    );
    assert_eq!(group.status, 201, "{}", group.raw);
    let group_id = group.id();
    assert_eq!(c.get("/ServiceProviderConfig").status, 200);
    let guid = random_guid();
    let stranger_prefix = format!("scim_{}", &guid[guid.len() - 8..]);
    let stranger = Client::with_token(&tenant, &format!("{stranger_prefix}_{}", "A".repeat(43)));
    stranger.once().get("/Users").assert_scim_error(401, None);

    let ours = wait_for_lines(5, 10, |l| {
        l["message"] == "request" && l["token_prefix"] == prefix.as_str()
    });
    let refused = wait_for_lines(1, 10, |l| {
        l["message"] == "request" && l["token_prefix"] == stranger_prefix.as_str()
    });
    let history = wait_for_lines(2, 60, |l| {
        l["message"] == "audit record" && l["resource_id"] == user_id.as_str()
    });
    let batches = wait_for_lines(1, 60, |l| l["message"] == "audit batch");
    let event_batches = wait_for_lines(1, 60, |l| {
        l["message"] == "events batch" && l["events_published"].as_u64() > Some(0)
    });
    // Behind the stream's backlog when the run is busy (tests/src/webhooks.rs CATCH_UP).
    let webhook_batches = wait_for_lines(1, 900, |l| {
        l["message"] == "webhooks batch" && l["deliveries_succeeded"].as_u64() > Some(0)
    });

    // What each line says, besides the metrics.
    let by_function = |f: &str| ours.iter().filter(|l| l["function"] == f).count();
    assert!(
        by_function("users") >= 3 && by_function("groups") >= 1,
        "{ours:?}"
    );
    assert_eq!(by_function("discovery"), 1, "{ours:?}");
    for line in &ours {
        assert_eq!(line["requests"], 1, "{line}");
        assert_eq!(line["status_5xx"], 0, "{line}");
        assert_eq!(line["tenant"], tenant_id.as_str(), "{line}");
        let verified =
            line["token_cache"].as_u64().unwrap_or(0) + line["token_table"].as_u64().unwrap_or(0);
        assert_eq!(
            verified, 1,
            "a verified token is from the cache or the table: {line}"
        );
    }
    let not_found = ours
        .iter()
        .find(|l| l["status"] == 404)
        .expect("the 404 line");
    assert_eq!(not_found["status_4xx"], 1);
    assert_eq!(not_found["status_2xx"], 0);
    let [refused] = refused.as_slice() else {
        panic!("one 401 line for {stranger_prefix}: {refused:?}")
    };
    assert_eq!(refused["status_401"], 1, "{refused}");
    assert_eq!(
        refused["token_table"], 1,
        "an unknown token is looked up: {refused}"
    );
    assert!(refused.get("tenant").is_none(), "{refused}");
    let joined = history
        .iter()
        .find(|l| l["action"] == "member.add")
        .unwrap_or_else(|| panic!("no member.add audit record for {user_id}: {history:?}"));
    assert_eq!(joined["groups_added"], group_id.as_str());
    assert_eq!(joined["actor"], prefix.as_str());
    assert_eq!(joined["tenant"], tenant_id.as_str());

    // The Contributor Insights rule behind the 401 alarm reads fields the 401 line has.
    let rule = sub_json(&template, "RuleBody: !Sub |");
    let contribution = &rule["Contribution"];
    for path in contribution["Keys"].as_array().into_iter().flatten().chain(
        contribution["Filters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| &f["Match"]),
    ) {
        let field = path
            .as_str()
            .and_then(|p| p.strip_prefix("$."))
            .expect("a $.field");
        assert!(
            refused.get(field).is_some(),
            "the rule reads `{field}`: {refused}"
        );
    }

    // The metrics: locally the namespace is the default `SCIM` (the template sets
    // `SCIM/<stack name>`, the same metrics under a per-stack name).
    let namespace = std::env::var("SCIM_METRICS_NAMESPACE").unwrap_or_else(|_| "SCIM".into());
    let mut all = Vec::new();
    for line in ours
        .iter()
        .chain([refused])
        .chain(&batches)
        .chain(&event_batches)
        .chain(&webhook_batches)
    {
        let found = emitted(line, &namespace);
        assert!(!found.is_empty(), "a line without metrics: {line}");
        for (_, dimensions) in &found {
            assert!(
                dimensions
                    .iter()
                    .all(|(k, _)| k == "function" || k == "operation"),
                "only bounded dimensions: {line}"
            );
        }
        all.extend(found);
    }
    let missing: Vec<&MetricRef> = refs
        .iter()
        .filter(|r| !all.iter().any(|e| matches(r, e)))
        .collect();
    assert!(
        missing.is_empty(),
        "referenced but never emitted: {missing:?}"
    );
}
