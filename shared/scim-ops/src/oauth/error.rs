//! The token endpoint's errors (RFC 6749 section 5.2): a code, a description for the client,
//! and the HTTP status the door answers with.

/// RFC 6749 section 5.2's error codes, plus the two a server may answer when it cannot decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// The table could not be read (throttled, unavailable): try again.
    TemporarilyUnavailable,
    ServerError,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }
}

/// A refused token request. `description` goes to the client and never names which check of
/// client authentication failed (that goes to the log as `reason`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// Why, for the log only (never secrets).
    pub reason: String,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        let description = description.into();
        Self {
            code,
            reason: description.clone(),
            description,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    /// Client authentication failed: one description whatever the cause, the cause logged.
    pub fn invalid_client(reason: impl Into<String>) -> Self {
        Self {
            code: OAuthErrorCode::InvalidClient,
            description: "Client authentication failed.".into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status (RFC 6749 section 5.2: 400, or 401 for `invalid_client`).
    pub fn status(&self) -> u16 {
        match self.code {
            OAuthErrorCode::InvalidClient => 401,
            OAuthErrorCode::TemporarilyUnavailable => 503,
            OAuthErrorCode::ServerError => 500,
            _ => 400,
        }
    }
}

impl From<crate::error::StoreError> for OAuthError {
    fn from(err: crate::error::StoreError) -> Self {
        use crate::error::StoreError;
        match err {
            StoreError::Throttled
            | StoreError::Unavailable(_)
            | StoreError::TransactionConflict => Self::new(
                OAuthErrorCode::TemporarilyUnavailable,
                "The service is busy; retry shortly.",
            ),
            other => {
                tracing::error!(error = %other, "token endpoint store error");
                Self::new(OAuthErrorCode::ServerError, "Internal error.")
            }
        }
    }
}
