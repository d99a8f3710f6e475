//! The OAuth 2.0 door (`POST /oauth2/token`, RFC 6749 section 4.4 with RFC 7523 client
//! assertions): the form request in, [`scim_ops::oauth::TokenService`] decides, the token
//! response or an RFC 6749 section 5.2 error out, as `application/json` with `Cache-Control:
//! no-store`. The log line names the client and the refusal's reason, never a secret or an
//! assertion.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scim_ops::oauth::{JwksFetcher, OAuthError, TokenRequest, TokenService};
use scim_store::Store;
use serde_json::json;

use crate::app::StartupError;
use crate::config::Config;
use crate::http::{Method, Request, Response};
use crate::routes::{Route, Target};

/// The token endpoint: built once per cold start.
#[derive(Debug)]
pub struct TokenEndpoint<F> {
    store: Store,
    service: TokenService<F>,
}

impl<F: JwksFetcher> TokenEndpoint<F> {
    /// From the environment: one SDK config, one secret read (the token key, from which access
    /// tokens' signing key is derived), one store.
    pub async fn from_env(fetcher: F) -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let (store, hasher) = crate::app::load_store_and_key(&config).await?;
        let lifetime = Duration::from_secs(config.access_token_hours * 3600);
        Ok(Self {
            store,
            service: TokenService::new(hasher, fetcher, lifetime),
        })
    }

    /// Answers one request. Never fails: every refusal is an OAuth error response.
    pub async fn handle(&self, request: Request, request_id: &str) -> Response {
        let started = Instant::now();
        let mut named = None;
        let result = self.grant(&request, &mut named).await;
        let (response, client_id, tenant, refusal) = match result {
            Ok(issued) => (
                Response::json(
                    200,
                    json!({
                        "access_token": issued.access_token,
                        "token_type": "Bearer",
                        "expires_in": issued.expires_in,
                        "scope": issued.scope,
                    }),
                ),
                Some(issued.client_id),
                Some(issued.tenant),
                None,
            ),
            // The client id the request named (not a secret), so refusals can be traced.
            Err(err) => (error_response(&err, &request), named, None, Some(err)),
        };
        let status = response.status;
        tracing::info!(
            request_id,
            function = "token",
            route = "oauth2/token",
            operation = "token",
            client_id = client_id.as_deref(),
            tenant = tenant.as_deref(),
            status,
            error = refusal.as_ref().map(|e| e.code.as_str()),
            reason = refusal.as_ref().map(|e| e.reason.as_str()),
            duration_ms = started.elapsed().as_millis() as u64,
            requests = 1u64,
            status_2xx = u64::from((200..300).contains(&status)),
            status_4xx = u64::from((400..500).contains(&status)),
            status_5xx = u64::from(status >= 500),
            status_401 = u64::from(status == 401),
            "token request"
        );
        response
            .with_header("content-type", crate::scim1::JSON)
            .with_header("cache-control", "no-store")
            .with_header("pragma", "no-cache")
    }

    async fn grant(
        &self,
        request: &Request,
        named: &mut Option<String>,
    ) -> Result<scim_ops::oauth::IssuedToken, OAuthError> {
        match Target::parse(&request.path) {
            Ok(Target {
                route: Route::Token,
                ..
            }) => {}
            _ => return Err(OAuthError::invalid_request("No such endpoint.")),
        }
        if request.method != Method::Post {
            return Err(OAuthError::invalid_request(
                "The token endpoint takes POST only.",
            ));
        }
        let token_request = TokenRequest::parse(
            request.header("content-type"),
            request.header("authorization"),
            &request.body,
        )?;
        *named = Some(
            token_request
                .auth
                .client_id()
                .chars()
                .take(64)
                .filter(|c| !c.is_control())
                .collect(),
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.service.grant(&self.store, &token_request, now).await
    }
}

/// RFC 6749 section 5.2's error body; a 401 names the Basic scheme when the client used it.
fn error_response(err: &OAuthError, request: &Request) -> Response {
    let mut response = Response::json(
        err.status(),
        json!({"error": err.code.as_str(), "error_description": err.description}),
    );
    let used_basic = request
        .header("authorization")
        .is_some_and(|h| h.trim_start().to_ascii_lowercase().starts_with("basic"));
    if err.status() == 401 && used_basic {
        response = response.with_header("www-authenticate", "Basic realm=\"oauth2\"");
    }
    // A method other than POST: the error says so, and `Allow` names the one method.
    if request.method != Method::Post {
        response = response.with_header("allow", "POST");
    }
    if err.status() == 503 {
        response = response.with_header("retry-after", scim_ops::RETRY_AFTER_SECS.to_string());
    }
    response
}
