//! The records the operations core reads and writes through the store ports. They carry what
//! the platform and SCIM need and nothing of how the table stores them: no keys, no index
//! attributes (the DynamoDB adapter derives those).

use scim_core::ids::{ResourceId, TenantId};
use scim_core::{PlatformRole, ProjectRole};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A platform user: the SCIM User document plus what the platform reads without parsing it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: ResourceId,
    /// The canonical SCIM document (without `id`, `meta`, `schemas`, `groups`). It always holds
    /// `active` as a boolean equal to [`User::active`].
    pub doc: Value,
    /// The platform's view of `active`: false means deactivated (never deleted).
    pub active: bool,
    /// The effective platform role.
    pub platform_role: PlatformRole,
    /// The groups (projects) the user belongs to.
    pub group_ids: Vec<ResourceId>,
    pub version: u64,
    pub created: String,
    pub last_modified: String,
    /// Who made the last change (a token prefix); absent on records written before it existed.
    pub modified_by: Option<String>,
}

/// A project: the SCIM Group document. Members are separate records ([`Member`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: ResourceId,
    /// The canonical SCIM document without `members`, `id`, `meta`, `schemas`.
    pub doc: Value,
    /// The role members of this project get.
    pub project_role: ProjectRole,
    pub version: u64,
    pub created: String,
    pub last_modified: String,
    pub modified_by: Option<String>,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: ResourceId,
    pub project_role: ProjectRole,
}

/// Who made a change and when: every write to a user or group stamps both, so the table's
/// stream, and the audit trail derived from it, can tell who changed what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change<'a> {
    /// The request's timestamp (RFC 3339).
    pub at: &'a str,
    /// The caller: the visible prefix of its token (`scim_1a2b3c4d`), never the token.
    pub by: &'a str,
}

/// Tenant-level settings an administrator may change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TenantSettings {
    /// Platform role for users the IdP sends without one (MEMBER when unset).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "known_role_or_none"
    )]
    pub default_platform_role: Option<PlatformRole>,
    /// Project role for members of new projects (the deployment default when unset).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "known_role_or_none"
    )]
    pub default_project_role: Option<ProjectRole>,
    /// Requests per second per token (the deployment default when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_second: Option<u32>,
}

/// A stored role setting, read leniently: administration only writes known roles, but a value
/// edited by hand must not lock the tenant out (every token check reads the settings), so an
/// unknown one reads as unset, with a warning.
fn known_role_or_none<'de, D, R>(deserializer: D) -> Result<Option<R>, D::Error>
where
    D: serde::Deserializer<'de>,
    R: std::str::FromStr,
{
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.and_then(|t| match t.parse() {
        Ok(role) => Some(role),
        Err(_) => {
            tracing::warn!(setting = %t.chars().take(64).collect::<String>(), "unknown role in tenant settings ignored");
            None
        }
    }))
}

/// What a verified token grants: the tenant, and what to log about the caller.
///
/// The tenant comes only from the token: no door reads a tenant from a path, a header or a
/// body, so no request can name another tenant's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant: TenantId,
    pub token_prefix: String,
    /// The HMAC of the token (hex): keys its rate counter; never the token itself.
    pub token_hash: String,
    pub settings: TenantSettings,
}

/// Why a token was refused (all answered 401; the distinction is for logs only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    UnknownOrRevoked,
    TenantDisabled,
    /// An OAuth access token past its `exp`.
    Expired,
}

/// One audited change of a user or group, as the audit trail keeps it. It names attributes,
/// never their values: no PII and no secrets are copied into the trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The record's place in its tenant's trail, `<at>#<change id>`: time-ordered, and a
    /// redelivered change maps to the same place (written once). Pass the last one as `since`
    /// to read the next page.
    pub cursor: String,
    pub tenant_id: String,
    /// When the change was made (the request's timestamp, as in `meta.lastModified`).
    pub at: String,
    /// The token prefix of the caller, or `unknown` for records written without one.
    pub actor: String,
    /// `user.create`, `user.update`, `user.deactivate`, `user.reactivate`, `user.delete`,
    /// `member.add`, `member.remove`, `group.create`, `group.update`, `group.delete` (and
    /// `user.purge` / `group.purge` should a record ever be removed outright).
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
    /// The change (stream record) this record was derived from.
    pub event_id: String,
    /// Epoch seconds after which the store may forget the record.
    pub expires_at: u64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tenant_settings_read_known_roles_and_ignore_unknown_ones() {
        let settings: TenantSettings = serde_json::from_value(serde_json::json!({
            "default_platform_role": "operator",
            "default_project_role": "OWNER",
            "rate_limit_per_second": 7
        }))
        .unwrap();
        assert_eq!(settings.default_platform_role, Some(PlatformRole::Operator));
        assert_eq!(settings.default_project_role, None);
        assert_eq!(settings.rate_limit_per_second, Some(7));
        let written = serde_json::to_value(&settings).unwrap();
        assert_eq!(written["default_platform_role"], "OPERATOR");
        assert!(written.get("default_project_role").is_none());
    }
}

/// Where a page of a tenant's users or groups, in name order, starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// After skipping this many (`startIndex - 1`).
    Offset(usize),
    /// After the position a previous page ended at ([`Page::next`]), as the store wrote it.
    After(String),
}

/// A page of records in name order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts, when more may follow: an opaque position of the store (it
    /// checks a position it is given back, so a client's cursor cannot reach outside its
    /// tenant).
    pub next: Option<String>,
}
