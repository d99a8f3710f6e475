//! The load generator's HTTP side: one target (our stack or the peer), one request, one sample.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emulator::HANDLER_HEADER;

/// Which server a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ours,
    Peer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Peer => "peer",
        }
    }
}

/// A SCIM base URL with its bearer token.
#[derive(Clone)]
pub struct Target {
    pub kind: Kind,
    pub base: String,
    token: String,
    agent: ureq::Agent,
}

/// One request's outcome as the load generator saw it.
#[derive(Debug, Clone)]
pub struct Sample {
    pub latency: Duration,
    pub status: u16,
    /// The status was one the operation expects.
    pub ok: bool,
    /// `x-scim-dynamodb-calls` (ours only).
    pub calls: Option<u64>,
    /// `x-scim-auth-dynamodb-calls` (ours only).
    pub auth_calls: Option<u64>,
    /// `x-scim-dynamodb-capacity` (ours only; the whole request, token check included).
    pub capacity: Option<f64>,
    /// Time the function spent on the invocation (ours only, from the runtime API emulator).
    pub handler: Option<Duration>,
    pub body: Value,
    /// What went wrong, for the error report.
    pub error: Option<String>,
}

impl Target {
    pub fn new(kind: Kind, base: &str, token: &str, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Self {
            kind,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            agent,
        }
    }

    /// Sends one request; `expect` lists the statuses that count as success.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        content_type: &str,
        expect: &[u16],
    ) -> Sample {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let started = Instant::now();
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            (m, body) => {
                let text = body.map(Value::to_string).unwrap_or_default();
                let req = match m {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.patch(&url),
                };
                req.header("Authorization", &auth)
                    .header("Content-Type", content_type)
                    .send(text.as_str())
            }
        };
        let mut response = match result {
            Ok(r) => r,
            Err(e) => {
                return Sample {
                    latency: started.elapsed(),
                    status: 0,
                    ok: false,
                    calls: None,
                    auth_calls: None,
                    capacity: None,
                    handler: None,
                    body: Value::Null,
                    error: Some(format!("{method} {path}: {e}")),
                }
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let calls = header("x-scim-dynamodb-calls").and_then(|v| v.parse().ok());
        let auth_calls = header("x-scim-auth-dynamodb-calls").and_then(|v| v.parse().ok());
        let capacity = header("x-scim-dynamodb-capacity").and_then(|v| v.parse().ok());
        let handler = header(HANDLER_HEADER)
            .and_then(|v| v.parse().ok())
            .map(Duration::from_micros);
        let raw = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let latency = started.elapsed();
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&raw).unwrap_or(Value::Null)
        };
        let ok = expect.contains(&status);
        let error = (!ok).then(|| {
            let mut snippet = raw.clone();
            snippet.truncate(300);
            format!("{method} {path}: {status} {snippet}")
        });
        Sample {
            latency,
            status,
            ok,
            calls,
            auth_calls,
            capacity,
            handler,
            body,
            error,
        }
    }
}
