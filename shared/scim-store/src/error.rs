//! Store failures are the operations core's ([`StoreError`]); this adapter only classifies what
//! DynamoDB and the SDK answer into them, so a failed condition is not throttling, and neither
//! is a bug.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

pub use scim_ops::{StoreError, UniqueAttribute};

/// Classifies an SDK error by its service error code (`.map_err(from_sdk)`).
pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> StoreError
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
                    StoreError::Unavailable(detail)
                } else {
                    StoreError::Internal(detail)
                }
            })
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!("{err}"))
        }
        _ => StoreError::Internal(format!("{err}")),
    }
}

/// The store error a DynamoDB error code stands for, when it is one we recognise.
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

/// A stored item that does not have the shape this adapter writes.
pub(crate) fn corrupt(err: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("malformed item: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kept_apart() {
        assert_eq!(
            classify_code("ConditionalCheckFailedException"),
            Some(StoreError::VersionConflict)
        );
        assert_eq!(
            classify_code("TransactionConflictException"),
            Some(StoreError::TransactionConflict)
        );
        assert_eq!(
            classify_code("ThrottlingException"),
            Some(StoreError::Throttled)
        );
        assert!(matches!(
            classify_code("InternalServerError"),
            Some(StoreError::Unavailable(_))
        ));
        assert_eq!(classify_code("ValidationException"), None);
    }
}
