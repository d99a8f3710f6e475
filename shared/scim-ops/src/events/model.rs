//! The provisioning event schema (version [`SCHEMA_VERSION`]): what a platform consumer
//! receives for each committed change. Field names follow SCIM's own spelling (`userName`,
//! `givenName`) inside the resource states; `docs/EVENTS.md` shows every type as JSON.

use scim_core::{PlatformRole, ProjectRole};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of this schema, carried by every event as `v`. A consumer that sees a higher
/// version than it knows should not guess: fields may have changed meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Actor of a change whose item names no caller (items written before `modified_by` existed,
/// or an item removed outright, whose stream record has no new image).
pub const UNKNOWN_ACTOR: &str = "unknown";

/// One provisioning event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningEvent {
    /// Schema version ([`SCHEMA_VERSION`]).
    pub v: u32,
    /// `<stream event id>.<n>`: the n-th event (from 0) of one committed item change. A
    /// redelivered stream record yields the same ids, so consumers deduplicate on it.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub tenant: String,
    /// When the change was made: the item's `last_modified` (the client's `meta.lastModified`),
    /// RFC 3339 in UTC.
    pub time: String,
    /// The token prefix of the caller that made the change, or [`UNKNOWN_ACTOR`].
    pub actor: String,
    /// Orders the events of one resource (see [`EventType::ordered_by`]): the version that
    /// resource reached with this change. Events of one change share it.
    pub seq: u64,
    /// The platform-facing state after the change (for a deletion, the last state).
    #[serde(flatten)]
    pub subject: Subject,
}

/// The resource an event is about, serialised as one key beside the envelope's fields
/// (`"user": {...}`, `"project": {...}` or `"membership": {...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    User(UserState),
    Project(ProjectState),
    Membership(MembershipState),
}

/// What the platform sees of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserState {
    pub id: String,
    pub user_name: String,
    #[serde(default)]
    pub emails: Vec<EmailState>,
    #[serde(default)]
    pub name: NameState,
    pub active: bool,
    pub platform_role: PlatformRole,
}

/// One of a user's emails, as the IdP sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailState {
    pub value: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

/// A user's name; each part is absent when the IdP sent none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
}

/// What the platform sees of a project (a SCIM Group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectState {
    pub id: String,
    pub name: String,
    /// The role the project's members get, fixed when the project is created.
    pub member_role: ProjectRole,
}

/// One user's membership of one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipState {
    pub user_id: String,
    pub project_id: String,
    /// The member's role, when the change that produced the event records it. Membership
    /// events are derived from the user item (see [`crate::events`]), which does not hold it;
    /// the role is the project's `memberRole` (no write path gives a member another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_role: Option<ProjectRole>,
}

/// The event types, serialised as `user.created` and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deactivated")]
    UserDeactivated,
    #[serde(rename = "user.reactivated")]
    UserReactivated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "user.platform_role_changed")]
    UserPlatformRoleChanged,
    #[serde(rename = "project.created")]
    ProjectCreated,
    #[serde(rename = "project.renamed")]
    ProjectRenamed,
    #[serde(rename = "project.deleted")]
    ProjectDeleted,
    #[serde(rename = "project.member_added")]
    ProjectMemberAdded,
    #[serde(rename = "project.member_removed")]
    ProjectMemberRemoved,
    /// Reserved: no write path changes a member's role yet, so nothing derives it.
    #[serde(rename = "project.member_role_changed")]
    ProjectMemberRoleChanged,
}

/// Which resource's version an event's `seq` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceOf {
    User,
    Project,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::UserCreated,
        EventType::UserUpdated,
        EventType::UserDeactivated,
        EventType::UserReactivated,
        EventType::UserDeleted,
        EventType::UserPlatformRoleChanged,
        EventType::ProjectCreated,
        EventType::ProjectRenamed,
        EventType::ProjectDeleted,
        EventType::ProjectMemberAdded,
        EventType::ProjectMemberRemoved,
        EventType::ProjectMemberRoleChanged,
    ];

    /// The wire name (`user.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::UserUpdated => "user.updated",
            EventType::UserDeactivated => "user.deactivated",
            EventType::UserReactivated => "user.reactivated",
            EventType::UserDeleted => "user.deleted",
            EventType::UserPlatformRoleChanged => "user.platform_role_changed",
            EventType::ProjectCreated => "project.created",
            EventType::ProjectRenamed => "project.renamed",
            EventType::ProjectDeleted => "project.deleted",
            EventType::ProjectMemberAdded => "project.member_added",
            EventType::ProjectMemberRemoved => "project.member_removed",
            EventType::ProjectMemberRoleChanged => "project.member_role_changed",
        }
    }

    /// Whose version `seq` is: the user's for `user.*` and membership events (every membership
    /// change writes the user item), the project's for the other `project.*` events.
    pub fn ordered_by(self) -> SequenceOf {
        match self {
            EventType::ProjectCreated | EventType::ProjectRenamed | EventType::ProjectDeleted => {
                SequenceOf::Project
            }
            _ => SequenceOf::User,
        }
    }
}

impl UserState {
    /// The platform-facing state of a user from its stored fields and canonical SCIM document
    /// (`emails` and `name` are read from the document; other attributes are not platform-facing).
    pub fn from_document(
        id: &str,
        user_name: &str,
        active: bool,
        platform_role: PlatformRole,
        doc: &Value,
    ) -> Self {
        let emails = doc
            .get("emails")
            .and_then(Value::as_array)
            .map(|emails| emails.iter().filter_map(EmailState::from_value).collect())
            .unwrap_or_default();
        let name = doc
            .get("name")
            .map(NameState::from_value)
            .unwrap_or_default();
        Self {
            id: id.to_string(),
            user_name: user_name.to_string(),
            emails,
            name,
            active,
            platform_role,
        }
    }

    /// Whether the attributes only `user.updated` reports (userName, emails, name) differ.
    pub(crate) fn profile_differs(&self, other: &UserState) -> bool {
        self.user_name != other.user_name || self.emails != other.emails || self.name != other.name
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

impl EmailState {
    fn from_value(value: &Value) -> Option<Self> {
        Some(Self {
            value: text(value, "value")?,
            kind: text(value, "type"),
            primary: value
                .get("primary")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

impl NameState {
    fn from_value(value: &Value) -> Self {
        Self {
            given_name: text(value, "givenName"),
            family_name: text(value, "familyName"),
            formatted: text(value, "formatted"),
        }
    }
}
