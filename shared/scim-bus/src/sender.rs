//! The webhook HTTP sender ([`scim_ops::webhooks::WebhookSender`]), on reqwest with rustls.
//!
//! What it refuses to do, against server-side request forgery: resolve a host name to an
//! address that is not public ([`is_public_address`]; checked on the addresses it connects to,
//! so a name that changes its answer after the URL was checked is caught), follow a redirect,
//! or use a proxy from the environment. A delivery takes at most [`TIMEOUT`]; the answer's body
//! is never read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use scim_ops::webhooks::{is_public_address, WebhookSender};

/// The longest a delivery may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// POSTs webhook deliveries, and GETs issuers' JWKS for the token endpoint (the same rules
/// against request forgery: public addresses only, no redirects, no proxy).
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
}

/// Resolves with the system resolver and keeps only public addresses (unless the deployment
/// allows private ones: the local stack).
#[derive(Debug)]
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || is_public_address(a.ip()))
                .collect();
            if allowed.is_empty() {
                let error = format!("{host} resolves to no public address");
                return Err(error.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Why the sender could not be built.
#[derive(Debug)]
pub struct SenderError(pub String);

impl std::fmt::Display for SenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "webhook HTTP client: {}", self.0)
    }
}

impl std::error::Error for SenderError {}

impl HttpSender {
    /// `allow_private`: also deliver to private and loopback addresses (local stack only).
    pub fn new(allow_private: bool) -> Result<Self, SenderError> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("scim-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SenderError(e.to_string()))?;
        Ok(Self {
            client,
            allow_private,
        })
    }
}

/// An error's text with its causes ("error sending request: ... : connection refused"),
/// without the URL (it may carry a token of the receiver's; the text reaches the logs, the
/// delivery log and the dead-letter queue).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl scim_ops::oauth::JwksFetcher for HttpSender {
    /// `GET url`: the URL is checked again (public `https`, a literal address judged), the body
    /// read up to [`scim_ops::oauth::jwks::MAX_JWKS_BYTES`].
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let policy = scim_ops::webhooks::UrlPolicy {
            allow_private: self.allow_private,
        };
        scim_ops::webhooks::validate_url(url, policy).map_err(|e| e.to_string())?;
        let mut response = self
            .client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(describe)?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let limit = scim_ops::oauth::jwks::MAX_JWKS_BYTES;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                return Err("the JWKS is too large".into());
            }
        }
        Ok(body)
    }
}

impl WebhookSender for HttpSender {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<u16, String> {
        let mut request = self.client.post(url).body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => Err(describe(e)),
        }
    }
}
