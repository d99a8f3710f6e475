//! The one write path's shared parts: `If-Match` preconditions, the optimistic-concurrency
//! retry policy, and recognising this request's own write after a lost response.

use std::time::Duration;

use scim_core::ScimError;

use crate::error::StoreError;
use crate::render::etag;

/// Attempts of a write before giving up: a version conflict re-reads and retries (unless
/// `If-Match` pinned the version), a transaction conflict backs off briefly and retries.
pub const WRITE_ATTEMPTS: usize = 4;

/// One entity tag of an `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tag {
    /// `*`: any existing version.
    Any,
    Version(u64),
    /// A tag that names no version of ours: matches nothing.
    Foreign,
}

/// The client's `If-Match` (RFC 7644 section 3.14, RFC 9110 section 13.1.1): absent, or the
/// versions it accepts. Weak and strong tags compare by version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition(Option<Vec<Tag>>);

impl Precondition {
    /// No `If-Match`: any version will do, and concurrent changes are retried over.
    pub fn none() -> Self {
        Self(None)
    }

    /// Parses an `If-Match` header value.
    pub fn if_match(header: &str) -> Self {
        let tags = header
            .split(',')
            .map(str::trim)
            .map(|tag| {
                if tag == "*" {
                    return Tag::Any;
                }
                tag.trim_start_matches("W/")
                    .trim_matches('"')
                    .parse()
                    .map_or(Tag::Foreign, Tag::Version)
            })
            .collect();
        Self(Some(tags))
    }

    /// Whether the client pinned a version (then a concurrent change is answered 412, not
    /// retried over).
    pub fn is_pinned(&self) -> bool {
        self.0.is_some()
    }

    pub fn allows(&self, version: u64) -> bool {
        match &self.0 {
            None => true,
            Some(tags) => tags
                .iter()
                .any(|t| *t == Tag::Any || *t == Tag::Version(version)),
        }
    }

    /// 412 unless the precondition allows `version` of the `what` (`user`, `group`).
    pub fn check(&self, version: u64, what: &str) -> Result<(), ScimError> {
        if self.allows(version) {
            Ok(())
        } else {
            Err(ScimError::PreconditionFailed(format!(
                "The {what} is at version {}, not the one in If-Match.",
                etag(version)
            )))
        }
    }
}

/// Counts a write's attempts and decides whether a failure is worth another.
#[derive(Debug)]
pub(crate) struct Attempts {
    made: usize,
    pinned: bool,
}

impl Attempts {
    pub(crate) fn new(precondition: &Precondition) -> Self {
        Self {
            made: 0,
            pinned: precondition.is_pinned(),
        }
    }

    /// After a failed write: whether to read again and retry (after a short pause for a
    /// transaction conflict, so the competing transaction can finish).
    pub(crate) async fn retry(&mut self, err: &StoreError) -> bool {
        self.made += 1;
        if self.made >= WRITE_ATTEMPTS {
            return false;
        }
        match err {
            StoreError::VersionConflict => !self.pinned,
            StoreError::TransactionConflict => {
                tokio::time::sleep(Duration::from_millis(20 * self.made as u64)).await;
                true
            }
            _ => false,
        }
    }
}

/// The 412 for a write whose pinned version moved.
pub(crate) fn stale(what: &str) -> ScimError {
    ScimError::PreconditionFailed(format!("The {what} changed since the version in If-Match."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_weak_and_strong_tags_and_star() {
        assert!(Precondition::none().allows(3));
        assert!(Precondition::if_match("W/\"3\"").allows(3));
        assert!(Precondition::if_match("\"3\"").allows(3));
        assert!(Precondition::if_match("*").allows(3));
        assert!(Precondition::if_match("W/\"2\", W/\"3\"").allows(3));
        assert!(!Precondition::if_match("W/\"2\"").allows(3));
        assert!(!Precondition::if_match("W/\"abc\"").allows(3));
        assert!(Precondition::if_match("*").is_pinned());
    }

    #[tokio::test]
    async fn version_conflicts_are_retried_only_without_if_match() {
        let mut free = Attempts::new(&Precondition::none());
        let mut pinned = Attempts::new(&Precondition::if_match("W/\"1\""));
        assert!(free.retry(&StoreError::VersionConflict).await);
        assert!(!pinned.retry(&StoreError::VersionConflict).await);
        assert!(!free.retry(&StoreError::Throttled).await);
    }

    #[tokio::test]
    async fn a_write_is_attempted_at_most_write_attempts_times() {
        let mut attempts = Attempts::new(&Precondition::none());
        let mut tries = 1;
        while attempts.retry(&StoreError::VersionConflict).await {
            tries += 1;
        }
        assert_eq!(tries, WRITE_ATTEMPTS);
    }
}
