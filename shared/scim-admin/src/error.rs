//! Administration failures, each with a stable code for the platform's backend.

use scim_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the command is not valid: {0}")]
    BadCommand(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("no tenant named {0:?}")]
    TenantNotFound(String),
    #[error("no unrevoked token with prefix {0:?} in this tenant")]
    TokenNotFound(String),
    /// More than one live token shares the prefix (32 random bits): the command would have to
    /// guess, so it does nothing. Revoke through the tenant's other tokens or disable the tenant.
    #[error(
        "{live} unrevoked tokens of this tenant share the prefix {prefix:?}; nothing was done"
    )]
    AmbiguousPrefix { prefix: String, live: usize },
    #[error("no user {0}")]
    UserNotFound(String),
    #[error("no webhook endpoint {0}")]
    WebhookNotFound(String),
    #[error("no OAuth client {0:?} in this tenant (or it is revoked, or has no secret)")]
    ClientNotFound(String),
    #[error("the table is unavailable; retry: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AdminError {
    /// The machine-readable code returned by the admin Lambda.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadCommand(_) => "bad_command",
            Self::InvalidArgument(_) => "invalid_argument",
            Self::TenantNotFound(_) => "tenant_not_found",
            Self::TokenNotFound(_) => "token_not_found",
            Self::AmbiguousPrefix { .. } => "ambiguous_prefix",
            Self::UserNotFound(_) => "user_not_found",
            Self::WebhookNotFound(_) => "webhook_not_found",
            Self::ClientNotFound(_) => "client_not_found",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::InvalidArgument("not found".into()),
            StoreError::Throttled
            | StoreError::Unavailable(_)
            | StoreError::TransactionConflict
            | StoreError::VersionConflict => Self::Unavailable(err.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}
