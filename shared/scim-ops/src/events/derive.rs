//! The rules that turn one committed item change into provisioning events (see the rules in
//! [`crate::events`]). Pure: the store adapter decodes stream records into [`CommittedChange`]s.

use std::collections::BTreeSet;

use scim_core::ids::TenantId;

use super::model::{
    EventType, MembershipState, ProjectState, ProvisioningEvent, Subject, UserState, SCHEMA_VERSION,
};

/// One committed change of one user or project item, with who made it and when.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedChange {
    /// The stream record's id; the change's events are `<source_id>.0`, `<source_id>.1`, ...
    pub source_id: String,
    pub tenant: TenantId,
    /// The change's `last_modified` stamp (for an item removed outright, the stream's time).
    pub time: String,
    /// The caller's token prefix, or [`super::UNKNOWN_ACTOR`].
    pub actor: String,
    pub item: ItemChange,
}

/// The item before and after the change; either is absent for an insert or a removal.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one short-lived value per stream record; boxing would only add allocations"
)]
pub enum ItemChange {
    User {
        before: Option<UserImage>,
        after: Option<UserImage>,
    },
    Project {
        before: Option<ProjectImage>,
        after: Option<ProjectImage>,
    },
}

/// A user item as the events see it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserImage {
    pub state: UserState,
    pub version: u64,
    /// The projects the user belongs to (the item's `group_ids`).
    pub project_ids: BTreeSet<String>,
    /// A deleted marker (`deleted_at` set).
    pub deleted: bool,
}

/// A project (group) item as the events see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectImage {
    pub state: ProjectState,
    pub version: u64,
    pub deleted: bool,
}

/// The events one committed change means, in the order a consumer should apply them.
pub fn events_of(change: &CommittedChange) -> Vec<ProvisioningEvent> {
    let mut out = Events {
        change,
        events: Vec::new(),
    };
    match &change.item {
        ItemChange::User { before, after } => {
            user_events(before.as_ref(), after.as_ref(), &mut out)
        }
        ItemChange::Project { before, after } => {
            project_events(before.as_ref(), after.as_ref(), &mut out)
        }
    }
    out.events
}

/// Collects one change's events, numbering their ids.
struct Events<'a> {
    change: &'a CommittedChange,
    events: Vec<ProvisioningEvent>,
}

impl Events<'_> {
    fn push(&mut self, kind: EventType, seq: u64, subject: Subject) {
        let index = self.events.len();
        self.events.push(ProvisioningEvent {
            v: SCHEMA_VERSION,
            id: format!("{}.{index}", self.change.source_id),
            kind,
            tenant: self.change.tenant.to_string(),
            time: self.change.time.clone(),
            actor: self.change.actor.clone(),
            seq,
            subject,
        });
    }

    fn user(&mut self, kind: EventType, image: &UserImage, seq: u64) {
        self.push(kind, seq, Subject::User(image.state.clone()));
    }

    fn memberships<'p>(
        &mut self,
        kind: EventType,
        user: &UserImage,
        projects: impl IntoIterator<Item = &'p String>,
        seq: u64,
    ) {
        for project in projects {
            let membership = MembershipState {
                user_id: user.state.id.clone(),
                project_id: project.clone(),
                project_role: None,
            };
            self.push(kind, seq, Subject::Membership(membership));
        }
    }
}

fn user_events(before: Option<&UserImage>, after: Option<&UserImage>, out: &mut Events<'_>) {
    match (before, after) {
        (None, Some(new)) if !new.deleted => {
            out.user(EventType::UserCreated, new, new.version);
            out.memberships(
                EventType::ProjectMemberAdded,
                new,
                &new.project_ids,
                new.version,
            );
        }
        // Removed outright (no SCIM path does this): it has no version of its own, so it takes
        // the one after the last, and is never dropped as stale.
        (Some(old), None) if !old.deleted => {
            let seq = old.version.saturating_add(1);
            out.memberships(EventType::ProjectMemberRemoved, old, &old.project_ids, seq);
            out.user(EventType::UserDeleted, old, seq);
        }
        (Some(old), Some(new)) if !old.deleted && new.deleted => {
            let left = old.project_ids.difference(&new.project_ids);
            out.memberships(EventType::ProjectMemberRemoved, old, left, new.version);
            out.user(EventType::UserDeleted, new, new.version);
        }
        (Some(old), Some(new)) if !old.deleted => {
            let seq = new.version;
            if new.state.profile_differs(&old.state) {
                out.user(EventType::UserUpdated, new, seq);
            }
            if new.state.platform_role != old.state.platform_role {
                out.user(EventType::UserPlatformRoleChanged, new, seq);
            }
            match (old.state.active, new.state.active) {
                (true, false) => out.user(EventType::UserDeactivated, new, seq),
                (false, true) => out.user(EventType::UserReactivated, new, seq),
                _ => {}
            }
            let joined = new.project_ids.difference(&old.project_ids);
            out.memberships(EventType::ProjectMemberAdded, new, joined, seq);
            let left = old.project_ids.difference(&new.project_ids);
            out.memberships(EventType::ProjectMemberRemoved, new, left, seq);
        }
        // Nothing, a marker inserted, removed or touched again: the deletion was announced.
        _ => {}
    }
}

fn project_events(
    before: Option<&ProjectImage>,
    after: Option<&ProjectImage>,
    out: &mut Events<'_>,
) {
    let project = |image: &ProjectImage| Subject::Project(image.state.clone());
    match (before, after) {
        (None, Some(new)) if !new.deleted => {
            out.push(EventType::ProjectCreated, new.version, project(new));
        }
        (Some(old), None) if !old.deleted => {
            let seq = old.version.saturating_add(1);
            out.push(EventType::ProjectDeleted, seq, project(old));
        }
        (Some(old), Some(new)) if !old.deleted && new.deleted => {
            out.push(EventType::ProjectDeleted, new.version, project(new));
        }
        (Some(old), Some(new)) if !old.deleted && new.state.name != old.state.name => {
            out.push(EventType::ProjectRenamed, new.version, project(new));
        }
        // A version bump for a membership change (its events come from the users), an
        // attribute the platform does not see, or a marker: nothing.
        _ => {}
    }
}
