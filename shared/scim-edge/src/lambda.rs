//! The Lambda glue: converting API Gateway events to [`Request`] and [`Response`] back, JSON
//! logs, and the runtime loop. Each function's `main` is one call to [`run`].

use std::collections::BTreeMap;
use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{service_fn, Body, Error, RequestExt};

use crate::app::App;
use crate::http::{Method, Request, Response, SCIM_JSON};
use crate::routes::Family;

/// The token function: builds the token endpoint once (with `fetcher` for issuers' keys) and
/// serves `POST /oauth2/token` forever.
pub async fn run_token<F>(fetcher: F) -> Result<(), Error>
where
    F: scim_ops::oauth::JwksFetcher + 'static,
{
    init_tracing();
    let endpoint = Arc::new(
        crate::oauth::TokenEndpoint::from_env(fetcher)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cold start failed");
                Error::from(e.to_string())
            })?,
    );
    serve(move |request, request_id| {
        let endpoint = Arc::clone(&endpoint);
        async move { endpoint.handle(request, &request_id).await }
    })
    .await
}

/// The runtime loop: each event becomes a [`Request`], `handle` answers it with the
/// invocation's request id, and the [`Response`] goes back to API Gateway.
async fn serve<H, Fut>(handle: H) -> Result<(), Error>
where
    H: Fn(Request, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send,
{
    let handle = Arc::new(handle);
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let handle = Arc::clone(&handle);
        async move {
            let request_id = event
                .lambda_context_ref()
                .map(|c| c.request_id.clone())
                .unwrap_or_default();
            convert_response(handle(convert_request(event), request_id).await)
        }
    }))
    .await
}

/// Starts JSON logging, builds the app once, and serves requests for `family` forever.
pub async fn run(family: Family) -> Result<(), Error> {
    init_tracing();
    let app = Arc::new(App::from_env().await.map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        Error::from(e.to_string())
    })?);
    serve(move |request, request_id| {
        let app = Arc::clone(&app);
        async move { app.handle(family, request, &request_id).await }
    })
    .await
}

/// JSON logs to stdout (CloudWatch), one flat object per line, level from `RUST_LOG` (default
/// info); the request and audit lines carry their metrics in EMF ([`crate::emf`]).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .event_format(crate::emf::JsonLines::from_env())
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .with_env_filter(filter)
        .try_init();
}

fn convert_request(event: lambda_http::Request) -> Request {
    let method = match *event.method() {
        lambda_http::http::Method::GET => Method::Get,
        lambda_http::http::Method::POST => Method::Post,
        lambda_http::http::Method::PUT => Method::Put,
        lambda_http::http::Method::PATCH => Method::Patch,
        lambda_http::http::Method::DELETE => Method::Delete,
        _ => Method::Other,
    };
    let path = event.raw_http_path().to_string();
    let endpoint = match event.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            api_endpoint(context.domain_name.as_deref(), context.stage.as_deref())
        }
        _ => None,
    };
    let query = event
        .query_string_parameters_ref()
        .map(|q| {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let headers: BTreeMap<String, String> = event
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let body = match event.into_body() {
        Body::Empty => Vec::new(),
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    Request {
        method,
        path,
        query,
        headers,
        body,
        endpoint,
    }
}

/// The API's own URL from API Gateway's request context: `https://<domainName>`, plus
/// `/<stage>` for a named stage (the template deploys `$default`, which has no path). API Gateway
/// sets both: a request reaches the function only through one of the API's own domain names,
/// whatever `Host` it sent. A domain that is not a plain host name gives `None`.
fn api_endpoint(domain: Option<&str>, stage: Option<&str>) -> Option<String> {
    let host_like = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
    };
    let domain = domain.filter(|d| host_like(d))?;
    match stage {
        None | Some("$default") | Some("") => Some(format!("https://{domain}")),
        Some(stage) if host_like(stage) => Some(format!("https://{domain}/{stage}")),
        Some(_) => None,
    }
}

fn convert_response(response: Response) -> Result<lambda_http::Response<Body>, Error> {
    let mut builder = lambda_http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match &response.body {
        Some(json) => {
            // SCIM 2.0's media type unless the door chose another (SCIM 1.1 answers JSON).
            if !response.headers.iter().any(|(n, _)| n == "content-type") {
                builder = builder.header("content-type", SCIM_JSON);
            }
            Body::Text(json.to_string())
        }
        None => Body::Empty,
    };
    Ok(builder.body(body)?)
}

#[cfg(test)]
mod tests {
    use super::api_endpoint;

    #[test]
    fn the_api_url_comes_from_the_request_context_domain_and_stage() {
        let domain = Some("abc123.execute-api.eu-west-1.amazonaws.com");
        assert_eq!(
            api_endpoint(domain, Some("$default")).as_deref(),
            Some("https://abc123.execute-api.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            api_endpoint(domain, Some("prod")).as_deref(),
            Some("https://abc123.execute-api.eu-west-1.amazonaws.com/prod")
        );
    }

    #[test]
    fn a_domain_that_is_not_a_host_name_gives_no_url() {
        for domain in ["", "evil.example/x", "a b", "x@y", "javascript:alert(1)//"] {
            assert_eq!(api_endpoint(Some(domain), None), None, "{domain}");
        }
        assert_eq!(api_endpoint(None, None), None);
    }
}
