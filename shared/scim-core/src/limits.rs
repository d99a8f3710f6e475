//! How large a stored resource may grow (README "Limits"). The attribute table carries the
//! limits of each attribute ([`crate::schema::AttributeDef`]) and the codec enforces them on every
//! document it normalises ([`crate::codec::normalize`]), which every create, replace and PATCH
//! result goes through. Going over one is a 400 `invalidValue` before anything is written, never
//! a write that DynamoDB refuses with a 500.
//!
//! Why these numbers: a DynamoDB item holds at most 400 KB. A user's item holds its document,
//! its `userName` and `externalId` again, its folded email addresses (again at most the size of
//! the document) and the ids of its groups (about 40 bytes each). With documents of at most
//! 100 KB, over 4,000 group memberships still fit beside the largest user.

/// Longest `userName`, `displayName` (of users and of groups) and `externalId`, in characters
/// (Unicode scalar values).
pub const MAX_NAME_CHARS: usize = 1024;

/// Most values one multi-valued attribute may hold (`phoneNumbers`, `addresses`, `roles`, ...),
/// except `emails` ([`MAX_EMAILS`]) and a group's `members`, which are stored as items of their
/// own and bounded per request by the operations.
pub const MAX_VALUES: usize = 100;

/// Most email addresses of one user. Every one of them is indexed (one item each, written in the
/// same transaction as the user), so `emails eq` finds a user by any address it holds.
pub const MAX_EMAILS: usize = 20;

/// Largest stored document: the canonical JSON of the resource (without `id`, `meta` and a
/// group's `members`), in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 100 * 1024;
