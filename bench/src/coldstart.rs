//! Cold start: a fresh function process under a fresh runtime API, the first request queued
//! before it starts, as in a Lambda cold start. Measured: time from spawn to the first
//! `/invocation/next` (init: config, SDK clients, the token-key secret), time from spawn to the
//! first answer, the first invocation's handler time, a second (warm) invocation, peak RSS and
//! the process's CPU time.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::emulator::{Outcome, RuntimeApi};
use crate::event::{self, percent_encode};
use crate::functions;
use crate::procfs;
use crate::stats::round;

/// The request each function answers first: authenticated, so the token check is included.
pub fn first_request(function: &str) -> String {
    match function {
        "users" => format!(
            "/scim/v2/Users?filter={}",
            percent_encode("userName eq \"coldstart@example.com\"")
        ),
        "groups" => format!(
            "/scim/v2/Groups?filter={}&excludedAttributes=members",
            percent_encode("displayName eq \"coldstart\"")
        ),
        _ => "/scim/v2/ServiceProviderConfig".to_string(),
    }
}

fn build_event(path: &str, token: &str) -> anyhow::Result<Bytes> {
    let req = hyper::Request::builder()
        .method("GET")
        .uri(path)
        .header("host", "127.0.0.1:9500")
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "application/scim+json")
        .header("user-agent", "scim-bench-coldstart")
        .body(())?;
    let (parts, ()) = req.into_parts();
    let local = std::net::SocketAddr::from(([127, 0, 0, 1], 9500));
    Ok(event::http_api_v2(&parts, &[], local, local))
}

struct Answer {
    status: u16,
    calls: u64,
    auth_calls: u64,
    handler: Duration,
}

async fn answer(outcome: Outcome) -> anyhow::Result<Answer> {
    match outcome {
        Outcome::Response { body, handler } => {
            let resp = event::decode_response(&body)?;
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            let (calls, auth_calls) = (
                header("x-scim-dynamodb-calls"),
                header("x-scim-auth-dynamodb-calls"),
            );
            let status = resp.status().as_u16();
            if status != 200 {
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                return Err(anyhow!(
                    "status {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok(Answer {
                status,
                calls,
                auth_calls,
                handler,
            })
        }
        Outcome::Error { body, .. } => Err(anyhow!(
            "function error: {}",
            String::from_utf8_lossy(&body)
        )),
    }
}

/// Round trip (ms) of one request to the local AWS stand-in, signed as the SDK would be (moto
/// reads only the credential scope), or `None` when it fails.
fn probe(
    endpoint: &str,
    service: &str,
    target: &str,
    content_type: &str,
    body: &str,
) -> Option<f64> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=00"
    );
    let started = Instant::now();
    let mut resp = agent
        .post(endpoint)
        .header("X-Amz-Target", target)
        .header("Content-Type", content_type)
        .header("Authorization", &auth)
        .send(body)
        .ok()?;
    let _ = resp.body_mut().read_to_string();
    resp.status()
        .is_success()
        .then(|| started.elapsed().as_secs_f64() * 1000.0)
}

/// How long the local stand-in takes for the calls a cold start makes: GetSecretValue, and a
/// GetItem (a stand-in for each DynamoDB call).
pub fn probe_stand_in(stack_env: &[(String, String)]) -> (Option<f64>, Option<f64>) {
    let get = |k: &str| {
        stack_env
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let endpoint = format!("{}/", get("AWS_ENDPOINT_URL").trim_end_matches('/'));
    let secret = probe(
        &endpoint,
        "secretsmanager",
        "secretsmanager.GetSecretValue",
        "application/x-amz-json-1.1",
        &json!({"SecretId": get("TOKEN_KEY_SECRET_ID")}).to_string(),
    );
    let item = probe(
        &endpoint,
        "dynamodb",
        "DynamoDB_20120810.GetItem",
        "application/x-amz-json-1.0",
        &json!({"TableName": get("TABLE_NAME"), "Key": {"pk": {"S": "BENCH#PROBE"}, "sk": {"S": "PROBE"}}, "ConsistentRead": true}).to_string(),
    );
    (secret, item)
}

/// One cold start of `function`.
pub async fn measure_once(
    function: &str,
    binary: &Path,
    stack_env: &[(String, String)],
    token: &str,
    log: &Path,
) -> anyhow::Result<Value> {
    let env = stack_env.to_vec();
    let (secret_ms, getitem_ms) = tokio::task::spawn_blocking(move || probe_stand_in(&env)).await?;
    let api = RuntimeApi::start(function).await?;
    let event = build_event(&first_request(function), token)?;
    let queued = {
        let api = std::sync::Arc::clone(&api);
        let event = event.clone();
        tokio::spawn(async move { api.invoke(event, Duration::from_secs(60)).await })
    };
    let spawned = Instant::now();
    let mut process = functions::spawn(binary, &api, stack_env, log)?;
    let first = queued.await.context("the invocation task failed")?;
    let first_answer_at = spawned.elapsed();
    let first = match first {
        Ok(outcome) => answer(outcome).await?,
        Err(e) => {
            let why = api.init_error().unwrap_or_default();
            let exited = process.exited();
            return Err(anyhow!(
                "{function}: {e} (init error: {why}; exited: {exited:?})"
            ));
        }
    };
    let init = api
        .first_next()
        .map(|t| t.duration_since(spawned))
        .ok_or_else(|| anyhow!("{function} never asked for an invocation"))?;
    let warm = answer(api.invoke(event, Duration::from_secs(60)).await?).await?;
    let pid = process.pid();
    let peak_rss_kib = procfs::peak_rss_kib(pid)?;
    let cpu_ms_total = procfs::thread_cpu_ns(pid).map(|ns| ns as f64 / 1e6);
    let (cpu_next, cpu_answer) = api.cold_cpu_ns();
    process.kill();
    let init_ms = init.as_secs_f64() * 1000.0;
    let first_ms = first_answer_at.as_secs_f64() * 1000.0;
    // The function's own share: minus the stand-in's time for the secret and each DynamoDB call
    // of the first request (estimated by the probes just before).
    let own = |total: f64, calls: u64| match (secret_ms, getitem_ms) {
        (Some(s), Some(g)) => Some(round((total - s - calls as f64 * g).max(0.0), 2)),
        _ => None,
    };
    Ok(json!({
        "function": function,
        "request": first_request(function),
        "status": first.status,
        "init_ms": round(init_ms, 2),
        "first_answer_ms": round(first_ms, 2),
        "first_handler_ms": round(first.handler.as_secs_f64() * 1000.0, 2),
        "first_dynamodb_calls": first.calls,
        "first_token_check_calls": first.auth_calls,
        "warm_handler_ms": round(warm.handler.as_secs_f64() * 1000.0, 2),
        "warm_dynamodb_calls": warm.calls,
        "warm_token_check_calls": warm.auth_calls,
        "peak_rss_kib": peak_rss_kib,
        "init_cpu_ms": cpu_next.map(|ns| round(ns as f64 / 1e6, 2)),
        "first_answer_cpu_ms": cpu_answer.map(|ns| round(ns as f64 / 1e6, 2)),
        "cpu_ms_after_two_requests": cpu_ms_total.map(|ms| round(ms, 2)),
        "stand_in_secret_ms": secret_ms.map(|v| round(v, 2)),
        "stand_in_getitem_ms": getitem_ms.map(|v| round(v, 2)),
        "init_minus_stand_in_ms": own(init_ms, 0),
        "first_answer_minus_stand_in_ms": own(first_ms, first.calls + first.auth_calls),
    }))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `repeat` cold starts of each function; medians and every run.
pub async fn measure(
    lambda_dir: &Path,
    stack_env: &[(String, String)],
    token: &str,
    repeat: usize,
    log_dir: &Path,
) -> anyhow::Result<Value> {
    let mut per_function = serde_json::Map::new();
    for function in functions::FUNCTIONS {
        let binary = functions::bootstrap(lambda_dir, function)?;
        let log = log_dir.join(format!("coldstart-{function}.log"));
        let mut runs = Vec::new();
        for _ in 0..repeat.max(1) {
            runs.push(measure_once(function, &binary, stack_env, token, &log).await?);
        }
        let med = |key: &str| {
            round(
                median(
                    runs.iter()
                        .filter_map(|r| r.get(key).and_then(Value::as_f64))
                        .collect(),
                ),
                2,
            )
        };
        let summary = json!({
            "binary": binary.display().to_string(),
            "request": first_request(function),
            "median": {
                "init_ms": med("init_ms"),
                "first_answer_ms": med("first_answer_ms"),
                "first_handler_ms": med("first_handler_ms"),
                "warm_handler_ms": med("warm_handler_ms"),
                "peak_rss_kib": med("peak_rss_kib"),
                "cpu_ms_after_two_requests": med("cpu_ms_after_two_requests"),
                "init_cpu_ms": med("init_cpu_ms"),
                "first_answer_cpu_ms": med("first_answer_cpu_ms"),
                "stand_in_secret_ms": med("stand_in_secret_ms"),
                "stand_in_getitem_ms": med("stand_in_getitem_ms"),
                "init_minus_stand_in_ms": med("init_minus_stand_in_ms"),
                "first_answer_minus_stand_in_ms": med("first_answer_minus_stand_in_ms"),
            },
            "runs": runs,
        });
        per_function.insert(function.to_string(), summary);
    }
    Ok(Value::Object(per_function))
}

/// Sizes of the `bootstrap` binaries under a `cargo lambda build` output directory.
pub fn sizes(lambda_dir: &Path) -> Value {
    let mut out = serde_json::Map::new();
    for function in functions::FUNCTIONS {
        let path = lambda_dir.join(function).join("bootstrap");
        let size = std::fs::metadata(&path).map(|m| m.len()).ok();
        out.insert(function.to_string(), json!(size));
    }
    Value::Object(out)
}
