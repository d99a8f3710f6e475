//! Deployment configuration, read once per cold start from the environment.

use scim_core::schema::DEFAULT_PLATFORM_SCHEMA;
use scim_core::ProjectRole;

#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`.
    pub table: String,
    /// `TOKEN_KEY_SECRET_ID`: the Secrets Manager secret holding the token HMAC key.
    pub token_key_secret_id: String,
    /// `SCIM_PUBLIC_BASE_URL`: the base URL of `meta.location`, `Location` and `$ref`
    /// (`https://scim.example.com/scim/v2`); otherwise the API's own URL from API Gateway's
    /// request context. Never taken from request headers.
    pub public_base_url: Option<String>,
    /// `SCIM_PLATFORM_SCHEMA_URN`: the custom extension's URN.
    pub platform_schema_urn: String,
    /// `SCIM_DEFAULT_PROJECT_ROLE`: ADMIN, EDITOR (default) or VIEWER.
    pub default_project_role: ProjectRole,
    /// `SCIM_TOKEN_CACHE_SECONDS`: how long a verified token is trusted without a table read.
    pub token_cache_seconds: u64,
    /// `SCIM_MAX_PAYLOAD_BYTES`: largest request body accepted (advertised as maxPayloadSize).
    pub max_payload_bytes: usize,
    /// `SCIM_RATE_LIMIT_PER_SECOND`: requests per second per token unless the tenant's setting
    /// says otherwise (default 100).
    pub rate_limit_per_second: u32,
    /// `SCIM_EXPOSE_CALL_COUNTS`: add `x-scim-dynamodb-calls` to responses (local and test runs).
    pub expose_call_counts: bool,
    /// `SCIM_BULK_MAX_OPERATIONS`: operations one Bulk request may hold (default 50, at most
    /// 1000), advertised as `bulk.maxOperations`.
    pub bulk_max_operations: usize,
    /// `SCIM_ACCESS_TOKEN_HOURS`: how long access tokens from `/oauth2/token` live (default 1,
    /// 1 to 6).
    pub access_token_hours: u64,
    /// `SCIM_WEBHOOK_ALLOW_PRIVATE=1`: outbound URLs (webhooks, issuers' JWKS) may be `http` and
    /// private addresses. The local stack only.
    pub allow_private_urls: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0} is invalid: {1}")]
    Invalid(&'static str, String),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let default_project_role = match get("SCIM_DEFAULT_PROJECT_ROLE").filter(|v| !v.is_empty())
        {
            None => ProjectRole::default(),
            Some(text) => ProjectRole::parse(&text).ok_or_else(|| {
                ConfigError::Invalid(
                    "SCIM_DEFAULT_PROJECT_ROLE",
                    format!("{text} is not one of {}", ProjectRole::NAMES.join(", ")),
                )
            })?,
        };
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| ConfigError::Invalid(name, format!("{v} is not a number"))),
            }
        };
        Ok(Self {
            table: required("TABLE_NAME")?,
            token_key_secret_id: required("TOKEN_KEY_SECRET_ID")?,
            public_base_url: match get("SCIM_PUBLIC_BASE_URL").filter(|v| !v.is_empty()) {
                None => None,
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                    Some(url.trim_end_matches('/').to_string())
                }
                Some(url) => {
                    return Err(ConfigError::Invalid(
                        "SCIM_PUBLIC_BASE_URL",
                        format!("{url} is not an http(s) URL"),
                    ))
                }
            },
            platform_schema_urn: get("SCIM_PLATFORM_SCHEMA_URN")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_PLATFORM_SCHEMA.into()),
            default_project_role,
            token_cache_seconds: number("SCIM_TOKEN_CACHE_SECONDS", 60)?,
            max_payload_bytes: usize::try_from(number("SCIM_MAX_PAYLOAD_BYTES", 1_048_576)?)
                .unwrap_or(1_048_576),
            rate_limit_per_second: match u32::try_from(number("SCIM_RATE_LIMIT_PER_SECOND", 100)?) {
                Ok(limit) if limit > 0 => limit,
                _ => {
                    return Err(ConfigError::Invalid(
                        "SCIM_RATE_LIMIT_PER_SECOND",
                        "must be between 1 and 4294967295".into(),
                    ))
                }
            },
            expose_call_counts: get("SCIM_EXPOSE_CALL_COUNTS")
                .is_some_and(|v| v == "1" || v == "true"),
            access_token_hours: match number("SCIM_ACCESS_TOKEN_HOURS", 1)? {
                hours @ 1..=scim_ops::oauth::access_token::MAX_HOURS => hours,
                _ => {
                    return Err(ConfigError::Invalid(
                        "SCIM_ACCESS_TOKEN_HOURS",
                        "must be between 1 and 6".into(),
                    ))
                }
            },
            allow_private_urls: get("SCIM_WEBHOOK_ALLOW_PRIVATE").is_some_and(|v| v == "1"),
            bulk_max_operations: match number("SCIM_BULK_MAX_OPERATIONS", 50)? {
                n @ 1..=1000 => usize::try_from(n).unwrap_or(50),
                _ => {
                    return Err(ConfigError::Invalid(
                        "SCIM_BULK_MAX_OPERATIONS",
                        "must be between 1 and 1000".into(),
                    ))
                }
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_apply_when_optional_settings_are_absent() {
        let c =
            Config::from_lookup(env(&[("TABLE_NAME", "t"), ("TOKEN_KEY_SECRET_ID", "s")])).unwrap();
        assert_eq!(c.default_project_role, ProjectRole::Editor);
        assert_eq!(c.token_cache_seconds, 60);
        assert_eq!(c.rate_limit_per_second, 100);
        assert_eq!(c.platform_schema_urn, DEFAULT_PLATFORM_SCHEMA);
    }

    #[test]
    fn an_unknown_project_role_is_a_configuration_error() {
        let err = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("TOKEN_KEY_SECRET_ID", "s"),
            ("SCIM_DEFAULT_PROJECT_ROLE", "OWNER"),
        ]));
        assert!(err.is_err());
    }

    #[test]
    fn a_zero_rate_limit_is_a_configuration_error() {
        let err = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("TOKEN_KEY_SECRET_ID", "s"),
            ("SCIM_RATE_LIMIT_PER_SECOND", "0"),
        ]));
        assert!(err.is_err());
    }

    #[test]
    fn the_public_base_url_must_be_an_http_url() {
        let with = |url: &str| {
            Config::from_lookup(env(&[
                ("TABLE_NAME", "t"),
                ("TOKEN_KEY_SECRET_ID", "s"),
                ("SCIM_PUBLIC_BASE_URL", url),
            ]))
        };
        assert_eq!(
            with("https://scim.example.com/scim/v2/")
                .unwrap()
                .public_base_url
                .as_deref(),
            Some("https://scim.example.com/scim/v2")
        );
        assert!(with("javascript://x/scim/v2").is_err());
        assert!(with("scim.example.com/scim/v2").is_err());
    }

    #[test]
    fn the_table_name_is_required() {
        assert!(Config::from_lookup(env(&[("TOKEN_KEY_SECRET_ID", "s")])).is_err());
    }
}
