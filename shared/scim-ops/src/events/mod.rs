//! Provisioning events: what the platform is told about each committed change of a tenant's
//! users, projects and memberships. Events are derived from committed item changes (the
//! table's stream, decoded by `scim_store::events`), never from the request path, so a refused
//! or cancelled request produces none and a SCIM request pays nothing for them.
//!
//! ## The rules ([`events_of`])
//!
//! Users (the user item):
//! - inserted: `user.created` (and `project.member_added` for any project it already holds);
//! - `deleted_at` set, or the item removed outright: `project.member_removed` for each project
//!   it left, then `user.deleted` (removals first, so a consumer never sees a membership of a
//!   user it has deleted);
//! - otherwise, in this order, each at most once: `user.updated` when `userName`, `emails` or
//!   `name` changed; `user.platform_role_changed` when the platform role changed;
//!   `user.deactivated` / `user.reactivated` when `active` went true -> false / false -> true;
//!   then `project.member_added` / `project.member_removed` per project gained / lost in
//!   `group_ids`. So a deactivation alone is exactly one `user.deactivated`, and a deactivation
//!   that also renames is `user.updated` then `user.deactivated`;
//! - a change of anything else (other SCIM attributes, `externalId`, a version bump) and any
//!   change to a deleted marker: nothing.
//!
//! Projects (the group item): inserted: `project.created`; `deleted_at` set or removed outright:
//! `project.deleted`; `displayName` changed: `project.renamed`; anything else (the version bump
//! every membership change makes, other attributes): nothing.
//!
//! Memberships come from the user item only, like the audit trail's `member.add`: every
//! membership change writes the membership item and the user's `group_ids` in one transaction,
//! and only the user item carries the caller, the time and a version. Membership items, and
//! every other item (guards, email index, counters, page positions, rate counters, tokens,
//! tenants, audit), yield nothing, so no membership is announced twice. A group delete removes
//! each member through its user item first (one `project.member_removed` each), then writes
//! the marker (`project.deleted`).
//!
//! ## Publishing ([`publish`])
//!
//! The stream consumer (`functions/events`) puts each record's events on the event bus in
//! record order, and reports the first record it could not publish so that Lambda retries from
//! there: at least once, in order per shard, with stable ids.
//!
//! ## Ids and order
//!
//! An event's id is `<stream record id>.<n>`, n counting the change's events from 0, so a
//! redelivered record yields the same ids. `seq` is the version the resource reached with the
//! change: the user's for `user.*` and membership events, the project's for the other
//! `project.*` events ([`EventType::ordered_by`]); events of one change share it and are
//! listed in the order to apply them. An item removed outright has no version of its own: its
//! events take the last version plus one.

mod derive;
pub mod log;
mod model;
pub mod publish;

pub use derive::{events_of, CommittedChange, ItemChange, ProjectImage, UserImage};
pub use model::{
    EmailState, EventType, MembershipState, NameState, ProjectState, ProvisioningEvent, SequenceOf,
    Subject, UserState, SCHEMA_VERSION, UNKNOWN_ACTOR,
};
