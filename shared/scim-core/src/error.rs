//! The SCIM error vocabulary (RFC 7644 section 3.12), independent of any transport.

use serde_json::{json, Value};

/// The `scimType` values of RFC 7644 section 3.12, table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
    /// RFC 9865: a `cursor` the service provider did not issue, or for another query.
    InvalidCursor,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
            Self::InvalidCursor => "invalidCursor",
        }
    }
}

/// Every way a SCIM request can fail, as the client sees it. Internal causes are logged where
/// they happen; `detail` never carries them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 with a `scimType`.
    #[error("{scim_type:?}: {detail}")]
    BadRequest { scim_type: ScimType, detail: String },
    /// 400 without a `scimType` (the RFC defines none for the case).
    #[error("bad request: {0}")]
    Invalid(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// 409 `uniqueness`.
    #[error("conflict: {0}")]
    Uniqueness(String),
    /// 409 without a `scimType`: a Bulk operation whose `bulkId` reference cannot be resolved
    /// (RFC 7644 section 3.7.1).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: `If-Match` named a version that is no longer current.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503 with `Retry-After`: a dependency is throttling or failing; retrying later is safe.
    #[error("service unavailable")]
    Unavailable { retry_after_secs: u64 },
    /// 500; the cause is logged, never sent.
    #[error("internal error")]
    Internal,
    /// 501.
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

impl ScimError {
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    pub fn invalid_cursor(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidCursor, detail)
    }

    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::TooMany, detail)
    }

    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            scim_type,
            detail: detail.into(),
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } | Self::Invalid(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Uniqueness(_) | Self::Conflict(_) => 409,
            Self::PreconditionFailed(_) => 412,
            Self::PayloadTooLarge(_) => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::TooManyRequests { .. } => 429,
            Self::Internal => 500,
            Self::NotImplemented(_) => 501,
            Self::Unavailable { .. } => 503,
        }
    }

    /// The RFC 7644 `scimType`, where the RFC defines one for this error.
    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            Self::BadRequest { scim_type, .. } => Some(*scim_type),
            Self::Uniqueness(_) => Some(ScimType::Uniqueness),
            _ => None,
        }
    }

    /// Seconds a client should wait before retrying, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs } | Self::Unavailable { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// The human-readable `detail`.
    pub fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. } => detail.clone(),
            Self::Invalid(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::MethodNotAllowed(d)
            | Self::Uniqueness(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::NotImplemented(d) => d.clone(),
            Self::TooManyRequests { .. } => {
                "Too many requests; retry after the given delay.".into()
            }
            Self::Unavailable { .. } => {
                "The service is temporarily unavailable; retry after the given delay.".into()
            }
            Self::Internal => "Internal error.".into(),
        }
    }

    /// The SCIM Error body (RFC 7644 section 3.12): `status` is a string.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status().to_string(),
            "detail": self.detail(),
        });
        if let (Some(scim_type), Some(obj)) = (self.scim_type(), body.as_object_mut()) {
            obj.insert("scimType".into(), Value::String(scim_type.as_str().into()));
        }
        body
    }
}

/// `urn:ietf:params:scim:api:messages:2.0:Error`.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_string_status_and_scim_type() {
        let body = ScimError::Uniqueness("userName taken".into()).to_json();
        assert_eq!(body["status"], "409");
        assert_eq!(body["scimType"], "uniqueness");
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
    }

    #[test]
    fn not_found_has_no_scim_type() {
        let body = ScimError::NotFound("no such user".into()).to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
    }
}
