//! The token function (`POST /oauth2/token`): wiring only; the door is `scim_edge::oauth`, the
//! rules `scim_ops::oauth`, issuers' keys are fetched by `scim_bus`'s HTTP client.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Only the local stack sets this (its test issuer serves its keys on 127.0.0.1).
    let allow_private = std::env::var("SCIM_WEBHOOK_ALLOW_PRIVATE").is_ok_and(|v| v == "1");
    let fetcher = scim_bus::sender::HttpSender::new(allow_private)
        .map_err(|e| lambda_http::Error::from(e.to_string()))?;
    scim_edge::lambda::run_token(fetcher).await
}
