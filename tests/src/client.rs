//! An HTTP client holding one tenant's token, and the responses it reads.
//!
//! Like Okta and Entra, the client honours `429 Too Many Requests` and `503 Service Unavailable`
//! carrying `Retry-After`: it waits that many seconds and sends the request again, up to
//! [`MAX_RETRIES`] times. The endpoint limits each token to its tenant's rate (100 requests a
//! second by default), which a fast local stack can pass; a test then sees the answer an IdP
//! would end up with, not the throttle. Tests that assert the 429 or 503 itself (the rate limit,
//! the DynamoDB faults) use [`Client::once`], which sends every request exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::names::unique;
use crate::platform::issue_token;

pub const SCIM_JSON: &str = "application/scim+json";

/// How many times a request is sent again after a 429 or 503 with `Retry-After`.
pub const MAX_RETRIES: u32 = 10;

/// The longest `Retry-After` the client waits out; a longer one is answered to the test as is.
const MAX_RETRY_AFTER_SECS: u64 = 60;

/// The local stack's base URL, e.g. `http://127.0.0.1:9100/scim/v2`.
pub fn base_url() -> String {
    std::env::var("SCIM_BASE_URL").expect(
        "SCIM_BASE_URL is not set: run the integration tests with `make integration` or `make test`",
    )
}

/// Seconds a request may take (`SCIM_TEST_TIMEOUT_SECS`, default 120; the 50,000-member run on
/// moto needs more for reading the whole group).
fn request_timeout_secs() -> u64 {
    std::env::var("SCIM_TEST_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

/// A ureq agent that hands every status to the caller, with the tests' request timeout.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(request_timeout_secs())))
        .build()
        .into()
}

/// A response, with its body parsed (Null when empty).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub raw: String,
    /// How many 429s and 503s with `Retry-After` the client waited out before this answer.
    pub retries: u32,
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

    /// `Retry-After` in seconds, when the response carries one.
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse().ok())
    }

    /// Asserts a SCIM error with `status` (and `scimType` when given).
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "body: {}", self.raw);
        assert_eq!(self.header("content-type"), Some(SCIM_JSON), "{}", self.raw);
        assert_eq!(self.body["schemas"][0], crate::scim::ERROR, "{}", self.raw);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.raw);
        assert!(self.body["detail"].is_string(), "{}", self.raw);
        if let Some(t) = scim_type {
            assert_eq!(self.body["scimType"], t, "{}", self.raw);
        }
    }

    /// Asserts a 429 or 503 the client can act on: a SCIM error with `status` and a positive
    /// `Retry-After` in seconds.
    pub fn assert_retry_later(&self, status: u16) {
        self.assert_scim_error(status, None);
        let secs = self
            .retry_after()
            .unwrap_or_else(|| panic!("a Retry-After in seconds: {:?}", self.headers));
        assert!(secs >= 1, "{:?}", self.headers);
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

    /// Whether the client should wait `Retry-After` seconds and send the request again.
    fn wait_before_retry(&self) -> Option<Duration> {
        if !matches!(self.status, 429 | 503) {
            return None;
        }
        self.retry_after()
            .filter(|secs| *secs <= MAX_RETRY_AFTER_SECS)
            .map(Duration::from_secs)
    }
}

/// An HTTP client holding one tenant's token.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: String,
    pub tenant: String,
    agent: ureq::Agent,
    /// Retries after a 429 or 503 with `Retry-After` (0: every request is sent once).
    retries: u32,
}

impl Client {
    /// A client for a brand-new tenant.
    pub fn new_tenant(prefix: &str) -> Self {
        Self::for_tenant(&unique(prefix))
    }

    /// A client with a new token of `tenant` (created when it does not exist yet).
    pub fn for_tenant(tenant: &str) -> Self {
        Self::with_token(tenant, &issue_token(tenant))
    }

    pub fn with_token(tenant: &str, token: &str) -> Self {
        Self {
            base: base_url(),
            token: token.to_string(),
            tenant: tenant.to_string(),
            agent: agent(),
            retries: MAX_RETRIES,
        }
    }

    /// This client, sending every request exactly once: a 429 or 503 comes back to the test as
    /// it came, for the tests that assert it (and count what the server did to answer it).
    pub fn once(&self) -> Self {
        self.with_retries(0)
    }

    /// This client, honouring `Retry-After` (what [`Self::new_tenant`] gives), e.g. for the
    /// setup of a test whose own client is [`Self::once`].
    pub fn retrying(&self) -> Self {
        self.with_retries(MAX_RETRIES)
    }

    /// This client (same tenant and token) at the SCIM 1.1 door, `/scim/v1`.
    pub fn v1(&self) -> Self {
        let base = match self.base.strip_suffix("/v2") {
            Some(root) => format!("{root}/v1"),
            None => panic!("the base URL {} does not end in /v2", self.base),
        };
        Self {
            base,
            ..self.clone()
        }
    }

    fn with_retries(&self, retries: u32) -> Self {
        Self {
            retries,
            ..self.clone()
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
        let mut retries = 0;
        loop {
            let mut r = self.send_once(method, path, body, headers, auth);
            r.retries = retries;
            match r.wait_before_retry() {
                Some(wait) if retries < self.retries => {
                    retries += 1;
                    std::thread::sleep(wait);
                }
                _ => return r,
            }
        }
    }

    fn send_once(
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
            retries: 0,
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

    /// Creates a user with `userName` ([`crate::scim::user_body`]) and returns the 201 response.
    pub fn create_user(&self, user_name: &str) -> Resp {
        let r = self.post("/Users", &crate::scim::user_body(user_name));
        assert_eq!(r.status, 201, "create {user_name}: {}", r.raw);
        r
    }

    /// Creates a group and returns the 201 response.
    pub fn create_group(&self, display_name: &str) -> Resp {
        let r = self.post(
            "/Groups",
            &serde_json::json!({
                "schemas": [crate::scim::GROUP_SCHEMA],
                "displayName": display_name,
                "members": [],
            }),
        );
        assert_eq!(r.status, 201, "create group {display_name}: {}", r.raw);
        r
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// A local server answering its connections with `answers` in turn (one request each);
    /// returns a client of it and the count of requests served.
    fn serve(answers: Vec<&'static str>) -> (Client, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&served);
        std::thread::spawn(move || {
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                    line.clear();
                }
                count.fetch_add(1, Ordering::SeqCst);
                let response =
                    format!("{answer}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");
                stream.write_all(response.as_bytes()).unwrap();
            }
        });
        let client = Client {
            base,
            token: "scim_00000000_x".into(),
            tenant: "t".into(),
            agent: agent(),
            retries: MAX_RETRIES,
        };
        (client, served)
    }

    const THROTTLED: &str = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1";
    const UNAVAILABLE: &str = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1";
    const OK: &str = "HTTP/1.1 200 OK";

    #[test]
    fn a_429_or_503_with_retry_after_is_waited_out_and_sent_again() {
        let (c, served) = serve(vec![THROTTLED, UNAVAILABLE, OK]);
        let r = c.get("/Users");
        assert_eq!(r.status, 200);
        assert_eq!(r.retries, 2);
        assert_eq!(served.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_client_sending_once_sees_the_429() {
        let (c, served) = serve(vec![THROTTLED, OK]);
        let r = c.once().get("/Users");
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after(), Some(1));
        assert_eq!(r.retries, 0);
        assert_eq!(served.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_503_without_retry_after_is_answered_as_it_came() {
        let (c, served) = serve(vec!["HTTP/1.1 503 Service Unavailable", OK]);
        assert_eq!(c.get("/Users").status, 503);
        assert_eq!(served.load(Ordering::SeqCst), 1);
    }
}
