//! Store failures, kept distinguishable (a failed condition is not throttling, and neither is a
//! bug), and the one place where they become SCIM errors.

use scim_core::schema::ResourceKind;
use scim_core::ScimError;

/// The 404 for a resource that does not exist, or that an id cannot name (`User not found.`).
pub fn not_found(kind: ResourceKind) -> ScimError {
    ScimError::NotFound(format!("{} not found.", kind.name()))
}

/// Seconds a client should wait after throttling, a transient failure or a rate-limit refusal.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Which uniqueness rule a write would have broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueAttribute {
    UserName,
    ExternalId,
    DisplayName,
}

impl UniqueAttribute {
    pub fn scim_name(self) -> &'static str {
        match self {
            Self::UserName => "userName",
            Self::ExternalId => "externalId",
            Self::DisplayName => "displayName",
        }
    }
}

/// What a store port may answer instead of a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or is a deleted marker).
    #[error("not found")]
    NotFound,
    /// A conditional write failed: the record changed since it was read.
    #[error("the item changed concurrently")]
    VersionConflict,
    /// A uniqueness guard already exists for another resource.
    #[error("{} is already taken", .0.scim_name())]
    Taken(UniqueAttribute),
    /// A referenced record (a member user) does not exist in this tenant.
    #[error("referenced resource {0} does not exist")]
    MissingReference(String),
    /// Another transaction touched the same records; retrying is safe.
    #[error("transaction conflict")]
    TransactionConflict,
    /// The store throttled us after its own retries.
    #[error("throttled")]
    Throttled,
    /// The store could not be reached or failed transiently after its own retries.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A page position (from a client's cursor) that this store did not issue.
    #[error("invalid page position")]
    InvalidPosition,
    /// Anything else: a bug or a malformed stored record. Logged, answered 500.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ScimError {
    /// The one mapping from store failures to SCIM errors (RFC 7644 section 3.12).
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ScimError::NotFound("Resource not found.".into()),
            StoreError::VersionConflict => ScimError::PreconditionFailed(
                "The resource was modified concurrently; read it again and retry.".into(),
            ),
            StoreError::Taken(attr) => ScimError::Uniqueness(format!(
                "A resource with this {} already exists.",
                attr.scim_name()
            )),
            StoreError::MissingReference(id) => {
                ScimError::invalid_value(format!("`{id}` is not a user of this tenant."))
            }
            StoreError::InvalidPosition => {
                ScimError::invalid_cursor("The cursor is not one this service issued.")
            }
            StoreError::Throttled => ScimError::TooManyRequests {
                retry_after_secs: RETRY_AFTER_SECS,
            },
            StoreError::TransactionConflict | StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "store unavailable");
                ScimError::Unavailable {
                    retry_after_secs: RETRY_AFTER_SECS,
                }
            }
            StoreError::Internal(detail) => {
                tracing::error!(error = %detail, "store failure");
                ScimError::Internal
            }
        }
    }
}
