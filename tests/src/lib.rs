//! Shared helpers for the HTTP integration tests: a client per tenant, tokens issued through the
//! real admin CLI, and fixtures as Okta and Entra send them.
//!
//! The stack is started by `scripts/integration.sh` (`make integration`), which exports
//! `SCIM_BASE_URL`, `SCIM_ADMIN_BIN` and the local AWS settings. Without them every test fails:
//! nothing here skips silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub const SCIM_JSON: &str = "application/scim+json";

/// The local stack's base URL, e.g. `http://127.0.0.1:9100/scim/v2`.
pub fn base_url() -> String {
    std::env::var("SCIM_BASE_URL").expect(
        "SCIM_BASE_URL is not set: run the integration tests with `make integration` or `make test`",
    )
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique to this run and call, for tenants, users and groups.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs the real admin CLI against the local stack and returns its stdout.
pub fn admin(args: &[&str]) -> String {
    let bin = std::env::var("SCIM_ADMIN_BIN").expect("SCIM_ADMIN_BIN is not set");
    let out = Command::new(bin)
        .args(args)
        .output()
        .expect("run scim-admin");
    assert!(
        out.status.success(),
        "scim-admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Invokes the admin Lambda with a JSON command the way the platform's backend does (the Lambda
/// Invoke API; under `cargo lambda watch` it is served on the stack's port without IAM).
/// Returns the function's JSON answer (`{"ok": ..., "result" | "error": ...}`).
pub fn admin_lambda(command: &Value) -> Value {
    let base = base_url();
    let root = base.trim_end_matches("/scim/v2");
    let url = format!("{root}/2015-03-31/functions/admin/invocations");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(request_timeout_secs())))
        .build()
        .into();
    let mut response = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .send(command.to_string())
        .unwrap_or_else(|e| panic!("invoke admin: {e}"));
    let raw = response.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(response.status().as_u16(), 200, "invoke admin: {raw}");
    serde_json::from_str(&raw).unwrap_or_else(|e| panic!("admin answered {raw:?}: {e}"))
}

/// Issues a token for `tenant` (creating it), as `make token` does.
pub fn issue_token(tenant: &str) -> String {
    let out = admin(&[
        "token",
        "issue",
        "--tenant",
        tenant,
        "--name",
        "tests",
        "--create-tenant",
    ]);
    out.lines().last().unwrap_or_default().trim().to_string()
}

/// Seconds a request may take (`SCIM_TEST_TIMEOUT_SECS`, default 120; the 50,000-member run on
/// moto needs more for reading the whole group).
fn request_timeout_secs() -> u64 {
    std::env::var("SCIM_TEST_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

/// A response, with its body parsed (Null when empty).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub raw: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// DynamoDB calls the operation made (excluding token verification).
    pub fn calls(&self) -> u64 {
        self.header("x-scim-dynamodb-calls")
            .and_then(|v| v.parse().ok())
            .expect("the local stack exposes x-scim-dynamodb-calls")
    }

    /// Asserts a SCIM error with `status` (and `scimType` when given).
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "body: {}", self.raw);
        assert_eq!(self.header("content-type"), Some(SCIM_JSON), "{}", self.raw);
        assert_eq!(
            self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{}",
            self.raw
        );
        assert_eq!(self.body["status"], status.to_string(), "{}", self.raw);
        assert!(self.body["detail"].is_string(), "{}", self.raw);
        if let Some(t) = scim_type {
            assert_eq!(self.body["scimType"], t, "{}", self.raw);
        }
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.raw))
            .to_string()
    }

    pub fn total(&self) -> u64 {
        self.body["totalResults"]
            .as_u64()
            .unwrap_or_else(|| panic!("no totalResults in {}", self.raw))
    }
}

/// An HTTP client holding one tenant's token.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: String,
    pub tenant: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for a brand-new tenant.
    pub fn new_tenant(prefix: &str) -> Self {
        let tenant = unique(prefix);
        let token = issue_token(&tenant);
        Self::with_token(&tenant, &token)
    }

    pub fn with_token(tenant: &str, token: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(request_timeout_secs())))
            .build()
            .into();
        Self {
            base: base_url(),
            token: token.to_string(),
            tenant: tenant.to_string(),
            agent,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request with this client's token and any extra headers.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let body_text = body.map(Value::to_string);
        self.send_raw(method, path, body_text.as_deref(), headers, true)
    }

    /// Like [`Self::send`] but with a raw body, optionally without the Authorization header.
    pub fn send_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
        auth: bool,
    ) -> Resp {
        let url = self.url(path);
        let auth_value = format!("Bearer {}", self.token);
        let has_ct = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        macro_rules! with_headers {
            ($req:expr) => {{
                let mut req = $req;
                if auth {
                    req = req.header("Authorization", &auth_value);
                }
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req
            }};
        }
        let result = match (method, body) {
            ("GET", _) => with_headers!(self.agent.get(&url)).call(),
            ("DELETE", _) => with_headers!(self.agent.delete(&url)).call(),
            (m, Some(b)) => {
                let mut req = match m {
                    "POST" => with_headers!(self.agent.post(&url)),
                    "PUT" => with_headers!(self.agent.put(&url)),
                    "PATCH" => with_headers!(self.agent.patch(&url)),
                    other => panic!("unsupported method {other}"),
                };
                if !has_ct {
                    req = req.header("Content-Type", SCIM_JSON);
                }
                req.send(b)
            }
            (m, None) => match m {
                "POST" => with_headers!(self.agent.post(&url)).send_empty(),
                "PUT" => with_headers!(self.agent.put(&url)).send_empty(),
                "PATCH" => with_headers!(self.agent.patch(&url)).send_empty(),
                other => panic!("unsupported method {other}"),
            },
        };
        let mut response = result
            .unwrap_or_else(|e| panic!("{method} {url}: the local stack did not answer: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let raw = response.body_mut().read_to_string().unwrap_or_default();
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&raw).unwrap_or(Value::Null)
        };
        Resp {
            status,
            headers,
            body,
            raw,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None, &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, Some(body), &[])
    }

    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.send("PUT", path, Some(body), &[])
    }

    pub fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send("PATCH", path, Some(body), &[])
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, None, &[])
    }

    /// Creates a user with `userName` and returns the 201 response.
    pub fn create_user(&self, user_name: &str) -> Resp {
        let r = self.post(
            "/Users",
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"value": user_name, "type": "work", "primary": true}],
                "active": true,
            }),
        );
        assert_eq!(r.status, 201, "create {user_name}: {}", r.raw);
        r
    }

    /// Creates a group and returns the 201 response.
    pub fn create_group(&self, display_name: &str) -> Resp {
        let r = self.post(
            "/Groups",
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": display_name,
                "members": [],
            }),
        );
        assert_eq!(r.status, 201, "create group {display_name}: {}", r.raw);
        r
    }
}

/// URL-encodes a query parameter value.
pub fn enc(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fixture file under `tests/fixtures/`, with `{{NAME}}` placeholders replaced.
pub fn fixture(path: &str, vars: &[(&str, &str)]) -> Value {
    let full = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// How DynamoDB fails, as the local stand-in can make it fail (`scripts/moto_server.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 400 `ThrottlingException`; nothing is written.
    Throttle,
    /// 400 `ProvisionedThroughputExceededException`; nothing is written.
    ProvisionedThroughput,
    /// 500 `InternalServerError`; nothing is written.
    InternalError,
    /// The request is applied, then answered 500 `InternalServerError`: a lost response.
    LostResponse,
    /// 400 `TransactionCanceledException`, every reason `TransactionConflict`.
    TransactionConflict,
    /// BatchGetItem only: 200 with no items and every key in `UnprocessedKeys`.
    Unprocessed,
}

impl FaultKind {
    fn wire_name(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::ProvisionedThroughput => "provisioned",
            Self::InternalError => "internal",
            Self::LostResponse => "lost_response",
            Self::TransactionConflict => "transaction_conflict",
            Self::Unprocessed => "unprocessed",
        }
    }
}

/// Tries the SDK makes per DynamoDB call before giving up: standard retry mode, 3 attempts
/// (pinned in `scim_edge::App::from_env`).
pub const SDK_ATTEMPTS: u64 = 3;

/// A fault rule in the local DynamoDB stand-in: the next `times` requests of one DynamoDB
/// operation whose body contains `matching` (after `skip` of them went through) fail as
/// DynamoDB fails. Match on a tenant key (`TENANT#<tenant>#`) or a resource id, so tests running
/// in parallel never meet each other's faults. The rule is removed when dropped.
pub struct Fault {
    url: String,
    agent: ureq::Agent,
}

impl Fault {
    /// A rule failing the next `times` matching requests.
    pub fn inject(operation: &str, matching: &str, kind: FaultKind, times: u64) -> Self {
        Self::inject_after(operation, matching, kind, times, 0)
    }

    /// A rule failing every matching request until it is dropped.
    pub fn always(operation: &str, matching: &str, kind: FaultKind) -> Self {
        Self::inject(operation, matching, kind, 1_000_000)
    }

    /// A rule letting `skip` matching requests through, then failing the next `times`.
    pub fn inject_after(
        operation: &str,
        matching: &str,
        kind: FaultKind,
        times: u64,
        skip: u64,
    ) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .expect("AWS_ENDPOINT_URL is not set: run the tests with scripts/integration.sh");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let rule = serde_json::json!({
            "operation": operation,
            "match": matching,
            "fault": kind.wire_name(),
            "times": times,
            "skip": skip,
        });
        let mut response = agent
            .post(&format!("{endpoint}/_faults"))
            .header("Content-Type", "application/json")
            .send(rule.to_string())
            .expect("the local DynamoDB stand-in answers /_faults");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(response.status().as_u16(), 201, "add fault rule: {text}");
        let created: Value = serde_json::from_str(&text).expect("a fault rule");
        Self {
            url: format!("{endpoint}/_faults/{}", created["id"]),
            agent,
        }
    }

    /// How many requests this rule has failed so far.
    pub fn hits(&self) -> u64 {
        let mut response = self.agent.get(&self.url).call().expect("read fault rule");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let rule: Value = serde_json::from_str(&text).expect("a fault rule");
        rule["hits"].as_u64().expect("hits")
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.url).call();
    }
}
