//! Store failures, kept distinguishable: a failed condition is not throttling, and neither is a
//! bug. The edge maps each to one SCIM status in one place.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item does not exist (or is a deleted marker).
    #[error("not found")]
    NotFound,
    /// A conditional write failed: the item changed since it was read (optimistic concurrency).
    #[error("the item changed concurrently")]
    VersionConflict,
    /// A uniqueness item already exists for another resource.
    #[error("{} is already taken", .0.scim_name())]
    Taken(UniqueAttribute),
    /// A referenced item (a member user) does not exist in this tenant.
    #[error("referenced resource {0} does not exist")]
    MissingReference(String),
    /// Another transaction touched the same items; retrying is safe.
    #[error("transaction conflict")]
    TransactionConflict,
    /// DynamoDB throttled us after the SDK's own retries.
    #[error("throttled")]
    Throttled,
    /// DynamoDB could not be reached or failed transiently after the SDK's own retries.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a malformed stored item. Logged, answered 500.
    #[error("internal: {0}")]
    Internal(String),
}

impl StoreError {
    /// Classifies an SDK error by its service error code.
    pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or_default();
                let status = service.raw().status().as_u16();
                classify_code(code).unwrap_or_else(|| {
                    let detail = format!(
                        "{status} {code}: {}",
                        service.err().message().unwrap_or_default()
                    );
                    if status >= 500 {
                        // A server-side failure that outlived the SDK's retries: transient.
                        Self::Unavailable(detail)
                    } else {
                        Self::Internal(detail)
                    }
                })
            }
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => Self::Unavailable(format!("{err}")),
            _ => Self::Internal(format!("{err}")),
        }
    }

    /// Whether retrying the whole operation may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::TransactionConflict | Self::VersionConflict | Self::Throttled
        )
    }
}

pub(crate) fn classify_code(code: &str) -> Option<StoreError> {
    match code {
        "ConditionalCheckFailedException" => Some(StoreError::VersionConflict),
        "TransactionConflictException" => Some(StoreError::TransactionConflict),
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "LimitExceededException" => Some(StoreError::Throttled),
        "InternalServerError" | "ServiceUnavailable" | "TransactionInProgressException" => {
            Some(StoreError::Unavailable(code.to_string()))
        }
        _ => None,
    }
}

pub(crate) fn corrupt(err: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("malformed item: {err}"))
}
