//! The store ports: one small trait per capability (users, groups and memberships, tokens,
//! rate counters, the audit trail). The operations core depends on these only;
//! the DynamoDB adapter (`scim-store`) and the in-memory adapter ([`crate::memory`], for unit
//! tests) implement them with the same conditional semantics:
//!
//! - creates fail with [`StoreError::Taken`] when a unique value (userName and displayName
//!   compared case-insensitively, externalId exactly) belongs to another resource;
//! - a replace is conditional on `before.version` ([`StoreError::VersionConflict`] otherwise)
//!   and writes `after` whole;
//! - a membership change writes the membership and the user's group list together, and every
//!   added user must exist ([`StoreError::MissingReference`]); re-adding a member or removing a
//!   non-member writes nothing;
//! - deleted users and groups read as absent.
//!
//! Every method returns a `Send` future, so the Lambda runtime can drive them.

use std::future::Future;

use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_core::patch::MemberDelta;

use crate::error::StoreError;
use crate::model::{AuditRecord, Change, Group, Member, Page, PageStart, Principal, Refusal, User};

/// Users.
pub trait UserStore: Send + Sync {
    /// Creates a user with its uniqueness guards; `Taken` when one is held by another user.
    fn create_user(
        &self,
        tenant: &TenantId,
        user: &User,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A user by id (strongly consistent); deleted users read as `None`.
    fn get_user(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Many users by id; missing and deleted ones are left out.
    fn get_users(
        &self,
        tenant: &TenantId,
        ids: &[ResourceId],
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// The users an index answers for `key` (`id`, `userName`, `externalId`, `emails`); empty
    /// for a key users are not indexed by.
    fn find_users(
        &self,
        tenant: &TenantId,
        key: &IndexKey,
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// Writes `after` if the stored user is still at `before.version`, moving uniqueness guards
    /// and indexes with it.
    fn replace_user(
        &self,
        tenant: &TenantId,
        before: &User,
        after: &User,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets `active` (document and platform flag) without a read, bumping the version; with
    /// `expected_version`, only from that version (`VersionConflict` otherwise). `NotFound` when
    /// there is no such user. Returns the user as written.
    fn set_user_active(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        active: bool,
        change: Change<'_>,
        expected_version: Option<u64>,
    ) -> impl Future<Output = Result<User, StoreError>> + Send;

    /// Deletes a user at `user.version`: memberships and guards go, a deleted marker stays.
    fn delete_user(
        &self,
        tenant: &TenantId,
        user: &User,
        change: Change<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many users the tenant has, without reading them (the store keeps the count).
    fn count_users(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Up to `take` users from `start`, in userName order (case-insensitive). Costs the page,
    /// not the offset, when the offset is where an earlier page ended (sequential paging).
    /// `InvalidPosition` for a position this store did not issue.
    fn page_users(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> impl Future<Output = Result<Page<User>, StoreError>> + Send;

    /// Every user of the tenant, or `None` when there are more than `max`.
    fn all_users(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> impl Future<Output = Result<Option<Vec<User>>, StoreError>> + Send;
}

/// Groups and their memberships.
pub trait GroupStore: Send + Sync {
    /// Creates a group with its guards and initial members (all of which must exist; checked
    /// before anything is written). Returns the group as stored: the store may have needed
    /// more than one write for many members, each bumping the version.
    fn create_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        members: &[ResourceId],
        change: Change<'_>,
    ) -> impl Future<Output = Result<Group, StoreError>> + Send;

    /// A group without its members.
    fn get_group(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Group>, StoreError>> + Send;

    /// A group with all its members, read together (consistently).
    fn get_group_with_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<(Group, Vec<Member>)>, StoreError>> + Send;

    /// The members of a group.
    fn group_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Vec<Member>, StoreError>> + Send;

    /// Which of `users` are members of the group (reads, never writes; at most one read per
    /// 100 users).
    fn members_among(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        users: &[ResourceId],
    ) -> impl Future<Output = Result<Vec<ResourceId>, StoreError>> + Send;

    /// The groups an index answers for `key` (`id`, `displayName`, `externalId`, and a member's
    /// id from the user's own group list).
    fn find_groups(
        &self,
        tenant: &TenantId,
        key: &IndexKey,
    ) -> impl Future<Output = Result<Vec<Group>, StoreError>> + Send;

    /// Applies a document change (`after`, conditional on `before.version`) and a member delta.
    /// Without `after` the version is bumped unconditionally: membership changes commute.
    fn update_group(
        &self,
        tenant: &TenantId,
        before: &Group,
        after: Option<&Group>,
        delta: &MemberDelta,
        change: Change<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a group: every member leaves, a deleted marker stays. `VersionConflict` when it
    /// is already gone.
    fn delete_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        change: Change<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many groups the tenant has, without reading them.
    fn count_groups(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Up to `take` groups from `start`, in displayName order (case-insensitive); as
    /// [`UserStore::page_users`].
    fn page_groups(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> impl Future<Output = Result<Page<Group>, StoreError>> + Send;

    fn all_groups(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> impl Future<Output = Result<Option<Vec<Group>>, StoreError>> + Send;
}

/// Tenants and tokens, as authentication needs them.
pub trait TokenStore: Send + Sync {
    /// Verifies a presented token whose keyed hash is `token_hash`: known, not revoked, of an
    /// enabled tenant. Records its last use.
    fn verify_token(
        &self,
        token_hash: &str,
        now: &str,
    ) -> impl Future<Output = Result<Result<Principal, Refusal>, StoreError>> + Send;
}

/// OAuth clients, as the token endpoint needs them.
pub trait ClientStore: Send + Sync {
    /// The client `client_id` (revoked ones included), and its tenant's settings when the
    /// tenant is enabled (`None`: disabled or gone). A strongly consistent read, so a revoked
    /// client gets no new token.
    fn oauth_client(
        &self,
        client_id: &str,
    ) -> impl Future<
        Output = Result<
            Option<(crate::oauth::OAuthClient, Option<crate::TenantSettings>)>,
            StoreError,
        >,
    > + Send;
}

/// Per-token request counters shared by every instance.
pub trait RateCounter: Send + Sync {
    /// Claims up to `want` requests (at least 1) of the `limit` allowed to one shard of the
    /// token's counter in the window `second`: `want` when they fit, else 1 when one still
    /// fits, else 0. Shards are independent counters; the caller splits the limit among them.
    fn claim_rate(
        &self,
        token_hash: &str,
        shard: u32,
        second: u64,
        want: u32,
        limit: u32,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

/// The audit trail: written by the change consumer (from committed changes), read by
/// administration.
pub trait AuditTrail: Send + Sync {
    /// Appends records; a record whose cursor is already in its tenant's trail replaces it (a
    /// redelivered change is written once).
    fn append(
        &self,
        records: &[AuditRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A tenant's records, oldest first, after `since` (a cursor, or a timestamp or its prefix
    /// such as `2026-11-23`), at most `limit`.
    fn records(
        &self,
        tenant: &TenantId,
        since: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, StoreError>> + Send;
}
