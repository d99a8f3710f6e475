//! Transport-neutral request and response types. The Lambda glue converts to and from these;
//! everything behind them is testable without lambda_http.

use std::collections::BTreeMap;

use scim_core::ScimError;
use serde_json::Value;

use crate::routes::{Version, BASE_PATH};

/// `application/scim+json`, the media type of every SCIM body (RFC 7644 section 3.1).
pub const SCIM_JSON: &str = "application/scim+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Other,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Other => "This method",
        }
    }
}

/// What the SCIM handlers need from an HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// The raw path, e.g. `/scim/v2/Users/123`.
    pub path: String,
    /// Query parameters, names as sent.
    pub query: Vec<(String, String)>,
    /// Lowercased header names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// The API's own URL (`https://<domain>[/<stage>]`) as API Gateway names it in the request
    /// context, never from a header; `None` outside API Gateway.
    pub endpoint: Option<String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// A query parameter, matched case-insensitively (clients send `startindex`, `Count`).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750).
    pub fn bearer_token(&self) -> Result<&str, ScimError> {
        let header = self.header("authorization").ok_or_else(|| {
            ScimError::Unauthorized("The request has no Authorization header.".into())
        })?;
        let (scheme, token) = header.trim().split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ScimError::Unauthorized(
                "The Authorization header must be `Bearer <token>`.".into(),
            ));
        }
        Ok(token.trim())
    }

    /// The absolute base URL of the SCIM API (`https://host/scim/v2`) that `meta.location`,
    /// `Location` and `$ref` use: the configured public URL (`SCIM_PUBLIC_BASE_URL`), else the
    /// API's own URL from API Gateway's request context. Never a request header: `Host` and
    /// `X-Forwarded-*` are the client's to choose, and a URL built from them would point IdPs
    /// (and anything that follows `Location`) wherever the sender likes. `None` when neither
    /// is known.
    ///
    /// SCIM 1.1's base is the same with `/scim/v1` for the final `/scim/v2`
    /// (`https://host/scim/v1`); a configured URL not ending in `/scim/v2` gets `/scim/v1`
    /// appended (as the template's `ScimBaseUrlV1` output does).
    pub fn base_url(&self, configured: Option<&str>, version: Version) -> Option<String> {
        let v2 = match configured {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => format!("{}{}", self.endpoint.as_ref()?, Version::V2.base_path()),
        };
        Some(match version {
            Version::V2 => v2,
            Version::V1 => format!(
                "{}{}",
                v2.strip_suffix(BASE_PATH).unwrap_or(&v2),
                Version::V1.base_path()
            ),
        })
    }

    /// Parses the body as JSON. Both `application/scim+json` and `application/json` are
    /// accepted (Okta's own test sends the latter).
    pub fn json_body(&self) -> Result<Value, ScimError> {
        if let Some(ct) = self.header("content-type") {
            let media = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !media.is_empty() && media != SCIM_JSON && media != "application/json" {
                return Err(ScimError::UnsupportedMediaType(format!(
                    "Content-Type `{media}` is not supported; send application/scim+json."
                )));
            }
        }
        if self.body.is_empty() {
            return Err(ScimError::invalid_syntax("The request body is empty."));
        }
        crate::json::parse_strict(&self.body)
    }
}

/// What a SCIM handler answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Response {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The SCIM Error response for `err` (RFC 7644 section 3.12).
    pub fn error(err: &ScimError) -> Self {
        let mut response = Self::json(err.status(), err.to_json());
        if err.status() == 401 {
            response = response.with_header("www-authenticate", "Bearer realm=\"scim\"");
        }
        if let Some(secs) = err.retry_after() {
            response = response.with_header("retry-after", secs.to_string());
        }
        response
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request(endpoint: Option<&str>) -> Request {
        Request {
            method: Method::Get,
            path: String::new(),
            query: Vec::new(),
            headers: BTreeMap::new(),
            body: Vec::new(),
            endpoint: endpoint.map(str::to_string),
        }
    }

    #[test]
    fn the_scim_1_1_base_is_the_2_0_base_with_v1() {
        let api = request(Some("https://abc.execute-api.eu-west-1.amazonaws.com/prod"));
        assert_eq!(
            api.base_url(None, Version::V1).as_deref(),
            Some("https://abc.execute-api.eu-west-1.amazonaws.com/prod/scim/v1")
        );
        let configured = request(None);
        for (base, v1) in [
            (
                "https://scim.example.com/scim/v2",
                "https://scim.example.com/scim/v1",
            ),
            (
                "https://scim.example.com/api",
                "https://scim.example.com/api/scim/v1",
            ),
        ] {
            assert_eq!(
                configured.base_url(Some(base), Version::V1).as_deref(),
                Some(v1)
            );
            assert_eq!(
                configured.base_url(Some(base), Version::V2).as_deref(),
                Some(base)
            );
        }
        assert_eq!(configured.base_url(None, Version::V1), None);
    }
}
