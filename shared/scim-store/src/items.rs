//! Item shapes of the single table (see [`crate::keys`] for their keys). These structs are the
//! only place that decides attribute names; `serde_dynamo` maps them to `AttributeValue`s.
//! They are this adapter's concern: the operations core sees the records of `scim_ops::model`
//! (see [`crate::records`] for the conversions). They are public for the readers that work on
//! items directly: administration, the platform's reads and the audit trail.

use scim_core::{PlatformRole, ProjectRole};
use scim_ops::TenantSettings;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Entity type names stored in each item's `type` attribute, for the platform's readers.
pub const USER: &str = "User";
pub const GROUP: &str = "Group";
pub const MEMBERSHIP: &str = "Membership";
pub const UNIQUE: &str = "Unique";
pub const EMAIL: &str = "EmailIndex";
pub const TENANT: &str = "Tenant";
pub const TENANT_NAME: &str = "TenantName";
pub const TOKEN: &str = "Token";
pub const AUDIT: &str = "Audit";
pub const EVENT_LOG: &str = "EventLog";
pub const COUNT: &str = "Count";
pub const PAGE_POSITION: &str = "PagePosition";

/// A platform user: the SCIM User resource plus what the platform reads without parsing it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserItem {
    pub pk: String,
    pub sk: String,
    /// Absent on deleted markers, so they leave listings and userName lookups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    pub id: String,
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The platform's view of `active`: false means deactivated (never deleted).
    pub active: bool,
    /// ADMIN, MEMBER or OPERATOR (stored as that string).
    pub platform_role: PlatformRole,
    /// Lowercased email values, indexed by email items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// The groups (projects) the user belongs to, maintained with each membership change.
    #[serde(
        default,
        with = "serde_dynamo::string_set",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub group_ids: Vec<String>,
    /// The canonical SCIM document (without id, meta, schemas, groups).
    pub doc: Value,
    pub version: u64,
    pub created: String,
    pub last_modified: String,
    /// Who made the last change (a token prefix, see `scim_ops::Change`); absent on items
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_by: Option<String>,
    /// Set when the user was deleted through SCIM; the item stays as the platform's marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

/// A project: the SCIM Group resource. Members are separate [`MembershipItem`]s.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupItem {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The role members of this project get: ADMIN, EDITOR or VIEWER (stored as that string).
    pub project_role: ProjectRole,
    pub doc: Value,
    pub version: u64,
    pub created: String,
    pub last_modified: String,
    /// Who made the last change (a token prefix, see `scim_ops::Change`); absent on items
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

/// One project member.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MembershipItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    pub group_id: String,
    pub user_id: String,
    pub project_role: ProjectRole,
    pub added_at: String,
}

/// Guards one unique value (userName, externalId, displayName) within a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UniqueItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub owner_id: String,
}

/// Indexes one email address of one user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmailItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TenantItem {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    pub name: String,
    /// `active` or `disabled`.
    pub status: String,
    #[serde(default)]
    pub settings: TenantSettings,
    pub created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TenantNameItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
}

/// A bearer token, keyed by the HMAC of its plaintext. The plaintext is never stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    /// The visible prefix (`scim_xxxxxxxx`), shown in listings and used to revoke.
    pub prefix: String,
    pub name: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The prefix of the token this one replaced (`token rotate`); the old one stays valid
    /// until it is revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_from: Option<String>,
}

/// One audited change of a user or group, derived from the table's stream (see [`crate::audit`]).
/// It names attributes, never their values: no PII and no secrets are copied into the trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditItem {
    pub pk: String,
    /// `<at>#<stream event id>`: time-ordered, and a redelivered stream record overwrites its own
    /// audit item.
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    /// When the change was made (the request's timestamp, as in `meta.lastModified`).
    pub at: String,
    /// The token prefix of the caller, or `unknown` for items written without one.
    pub actor: String,
    /// `user.create`, `user.update`, `user.deactivate`, `user.reactivate`, `user.delete`,
    /// `member.add`, `member.remove`, `group.create`, `group.update`, `group.delete` (and
    /// `user.purge` / `group.purge` should an item ever be removed outright).
    pub action: String,
    /// `User` or `Group`.
    pub resource_type: String,
    pub resource_id: String,
    /// The resource's `meta.version` after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Names of the SCIM attributes whose values changed (extension attributes as
    /// `<schema URN>:<attribute>`), never the values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Groups the user joined (`member.add`), or left (`member.remove`, `user.delete`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups_added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups_removed: Vec<String>,
    /// The stream record this item was derived from.
    pub event_id: String,
    /// Epoch seconds after which DynamoDB's TTL removes the item.
    pub expires_at: u64,
}

/// One provisioning event in its tenant's event log (see [`crate::event_log`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventLogItem {
    pub pk: String,
    /// `<time>#<event id>`.
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    /// The event as published (its JSON), so a replay sends exactly what was sent.
    pub event: String,
    /// Epoch seconds after which DynamoDB's TTL removes the item.
    pub expires_at: u64,
}

/// Where an offset page of a tenant's users or groups ended (see `Store::page_gsi1`); removed by
/// TTL a few minutes after it was written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PagePositionItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    /// `<id of the page's last item> <its gsi1sk>`.
    pub position: String,
    /// Epoch seconds (TTL).
    pub expires_at: i64,
}
