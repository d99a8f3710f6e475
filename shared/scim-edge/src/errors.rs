//! The one place where store failures become SCIM errors.

use scim_core::ScimError;
use scim_store::StoreError;

/// Seconds a client should wait after throttling or a transient failure.
const RETRY_AFTER_SECS: u64 = 1;

pub fn from_store(err: StoreError) -> ScimError {
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
