//! The administration commands, as JSON the admin Lambda receives and the CLI builds.

use serde::Deserialize;

use crate::AdminError;

/// One administration command. Tenants are named by their (case-insensitive) name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum Command {
    /// Creates a tenant, or returns the existing one with that name.
    #[serde(rename = "tenant.create")]
    TenantCreate { name: String },
    #[serde(rename = "tenant.list")]
    TenantList {},
    #[serde(rename = "tenant.get")]
    TenantGet { tenant: String },
    /// A disabled tenant's tokens are refused (within the verification cache time).
    #[serde(rename = "tenant.disable")]
    TenantDisable { tenant: String },
    #[serde(rename = "tenant.enable")]
    TenantEnable { tenant: String },
    /// Changes the given settings; the others keep their value.
    #[serde(rename = "tenant.settings")]
    TenantSettings {
        tenant: String,
        #[serde(default)]
        default_platform_role: Option<String>,
        #[serde(default)]
        default_project_role: Option<String>,
        #[serde(default)]
        rate_limit_per_second: Option<u32>,
    },
    /// Issues a token; the result holds the plaintext, once.
    #[serde(rename = "token.issue")]
    TokenIssue {
        tenant: String,
        name: String,
        #[serde(default)]
        create_tenant: bool,
    },
    /// Prefix, name, created, last used, revoked, rotated from: never the token itself.
    #[serde(rename = "token.list")]
    TokenList { tenant: String },
    #[serde(rename = "token.revoke")]
    TokenRevoke { tenant: String, prefix: String },
    /// Issues a new token with the old one's name; the old one works until revoked.
    #[serde(rename = "token.rotate")]
    TokenRotate { tenant: String, prefix: String },
    /// Creates an OAuth client of the tenant for the token endpoint. With `issuer`, `subject`,
    /// `audience` and `jwks_url` (all four, as copied from Entra's workload identity federation)
    /// it authenticates with JWT assertions; without any, with a secret the result holds once.
    #[serde(rename = "oauth.clients.create")]
    OAuthClientCreate {
        tenant: String,
        name: String,
        #[serde(default)]
        issuer: Option<String>,
        #[serde(default)]
        subject: Option<String>,
        #[serde(default)]
        audience: Option<String>,
        #[serde(default)]
        jwks_url: Option<String>,
    },
    /// The tenant's clients: id, name, how they authenticate, created, revoked (never a secret).
    #[serde(rename = "oauth.clients.list")]
    OAuthClientList { tenant: String },
    /// A new secret for a secret client; the old one stops at once.
    #[serde(rename = "oauth.clients.rotate")]
    OAuthClientRotate { tenant: String, client_id: String },
    /// No new access token for the client; those issued work until they expire.
    #[serde(rename = "oauth.clients.revoke")]
    OAuthClientRevoke { tenant: String, client_id: String },
    /// The tenant's audit trail, oldest first: from `since` (a timestamp or timestamp prefix,
    /// or the `sk` of the last record of the previous page), at most `limit` (default 100,
    /// at most 1000) records.
    #[serde(rename = "audit.list")]
    AuditList {
        tenant: String,
        #[serde(default)]
        since: Option<String>,
        #[serde(default)]
        limit: Option<usize>,
    },
    /// The tenant's provisioning events, oldest first (the event log, kept
    /// `EventRetentionDays`): after `after` (a time or its prefix, or the `cursor` of the last
    /// event of the previous page), before `before`, at most `limit` (default 100, at most 1000).
    #[serde(rename = "events.list")]
    EventsList {
        tenant: String,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        before: Option<String>,
        #[serde(default)]
        limit: Option<usize>,
    },
    /// Sends the tenant's logged events of a range to the event bus again (or, with
    /// `webhook`, to that endpoint only), in order, with their original ids; at most `limit`
    /// (default and most 1000) per call: the result's `next` is the `after` of the next call,
    /// absent when the range is done.
    #[serde(rename = "events.replay")]
    EventsReplay {
        tenant: String,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        before: Option<String>,
        #[serde(default)]
        limit: Option<usize>,
        #[serde(default)]
        webhook: Option<String>,
    },
    /// Adds a webhook endpoint: a public `https` URL that receives the events of `tenant` (or,
    /// without it, of every tenant), of every type or of those in `types`, as events (`format`
    /// `event`, the default) or as RFC 9967 Security Event Tokens (`set`). The result holds the
    /// endpoint's signing secret (`whsec_...`).
    #[serde(rename = "webhooks.create")]
    WebhooksCreate {
        url: String,
        #[serde(default)]
        tenant: Option<String>,
        #[serde(default)]
        types: Vec<String>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        format: Option<String>,
    },
    /// The endpoints: all, or with `tenant` those that receive its events.
    #[serde(rename = "webhooks.list")]
    WebhooksList {
        #[serde(default)]
        tenant: Option<String>,
    },
    /// The endpoint's current signing secret (and the previous one during a rotation). Logged
    /// as a change: it discloses a secret.
    #[serde(rename = "webhooks.secret")]
    WebhooksSecret { endpoint: String },
    /// A new signing secret; deliveries carry a signature with the previous one too for
    /// `overlap_hours` (default 24, at most 168), so the receiver can switch without a gap.
    #[serde(rename = "webhooks.rotate")]
    WebhooksRotate {
        endpoint: String,
        #[serde(default)]
        overlap_hours: Option<u64>,
    },
    /// Deletes an endpoint; its queued deliveries are dropped.
    #[serde(rename = "webhooks.delete")]
    WebhooksDelete { endpoint: String },
    /// The endpoint's delivery log in event time order: status, attempts, last HTTP status and
    /// error; `after` is the `cursor` of the last delivery of the previous page.
    #[serde(rename = "webhooks.deliveries")]
    WebhooksDeliveries {
        endpoint: String,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        limit: Option<usize>,
    },
    /// A page of the tenant's users (`kind` `users`, each with its projects) or projects
    /// (`projects`) as the events describe them, each with its `seq`, re-read consistently:
    /// for a platform that rebuilds its state. `after` is the previous page's `next`; `limit`
    /// defaults to 100, at most 1000.
    #[serde(rename = "tenant.snapshot")]
    TenantSnapshot {
        tenant: String,
        kind: SnapshotKind,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        limit: Option<usize>,
    },
    #[serde(rename = "platform.projects")]
    PlatformProjects { tenant: String },
    #[serde(rename = "platform.members")]
    PlatformMembers { tenant: String, project: String },
    #[serde(rename = "platform.user")]
    PlatformUser { tenant: String, user: String },
    #[serde(rename = "platform.user-projects")]
    PlatformUserProjects { tenant: String, user: String },
}

/// What `tenant.snapshot` pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotKind {
    Users,
    Projects,
}

impl Command {
    /// Parses a JSON command (the admin Lambda's event).
    pub fn from_json(value: serde_json::Value) -> Result<Self, AdminError> {
        serde_json::from_value(value).map_err(|e| AdminError::BadCommand(e.to_string()))
    }

    /// Whether the command writes (logged at a higher level by the Lambda).
    pub fn is_change(&self) -> bool {
        !matches!(
            self,
            Self::TenantList {}
                | Self::TenantGet { .. }
                | Self::TokenList { .. }
                | Self::OAuthClientList { .. }
                | Self::AuditList { .. }
                | Self::EventsList { .. }
                | Self::TenantSnapshot { .. }
                | Self::PlatformProjects { .. }
                | Self::PlatformMembers { .. }
                | Self::PlatformUser { .. }
                | Self::PlatformUserProjects { .. }
                | Self::WebhooksList { .. }
                | Self::WebhooksDeliveries { .. }
        )
    }

    /// A name for logs (never includes a token).
    pub fn name(&self) -> &'static str {
        match self {
            Self::TenantCreate { .. } => "tenant.create",
            Self::TenantList {} => "tenant.list",
            Self::TenantGet { .. } => "tenant.get",
            Self::TenantDisable { .. } => "tenant.disable",
            Self::TenantEnable { .. } => "tenant.enable",
            Self::TenantSettings { .. } => "tenant.settings",
            Self::TokenIssue { .. } => "token.issue",
            Self::TokenList { .. } => "token.list",
            Self::TokenRevoke { .. } => "token.revoke",
            Self::TokenRotate { .. } => "token.rotate",
            Self::OAuthClientCreate { .. } => "oauth.clients.create",
            Self::OAuthClientList { .. } => "oauth.clients.list",
            Self::OAuthClientRotate { .. } => "oauth.clients.rotate",
            Self::OAuthClientRevoke { .. } => "oauth.clients.revoke",
            Self::AuditList { .. } => "audit.list",
            Self::EventsList { .. } => "events.list",
            Self::EventsReplay { .. } => "events.replay",
            Self::TenantSnapshot { .. } => "tenant.snapshot",
            Self::WebhooksCreate { .. } => "webhooks.create",
            Self::WebhooksList { .. } => "webhooks.list",
            Self::WebhooksSecret { .. } => "webhooks.secret",
            Self::WebhooksRotate { .. } => "webhooks.rotate",
            Self::WebhooksDelete { .. } => "webhooks.delete",
            Self::WebhooksDeliveries { .. } => "webhooks.deliveries",
            Self::PlatformProjects { .. } => "platform.projects",
            Self::PlatformMembers { .. } => "platform.members",
            Self::PlatformUser { .. } => "platform.user",
            Self::PlatformUserProjects { .. } => "platform.user-projects",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_json_command_names_its_operation_and_arguments() {
        let cmd = Command::from_json(json!({
            "command": "token.issue", "tenant": "acme", "name": "Okta - Production"
        }))
        .unwrap();
        assert_eq!(
            cmd,
            Command::TokenIssue {
                tenant: "acme".into(),
                name: "Okta - Production".into(),
                create_tenant: false
            }
        );
        assert!(cmd.is_change());
    }

    #[test]
    fn unknown_commands_and_fields_are_refused_with_bad_command() {
        for bad in [
            json!({"command": "tenant.drop", "tenant": "acme"}),
            json!({"command": "token.revoke", "tenant": "acme"}),
            json!({"command": "tenant.list", "extra": 1}),
            json!({"tenant": "acme"}),
            json!("tenant.list"),
        ] {
            let err = Command::from_json(bad.clone()).unwrap_err();
            assert_eq!(err.code(), "bad_command", "{bad}");
        }
    }

    #[test]
    fn a_snapshot_names_users_or_projects_and_nothing_else() {
        let cmd = Command::from_json(json!({
            "command": "tenant.snapshot", "tenant": "acme", "kind": "projects", "limit": 5
        }))
        .unwrap();
        assert_eq!(
            cmd,
            Command::TenantSnapshot {
                tenant: "acme".into(),
                kind: SnapshotKind::Projects,
                after: None,
                limit: Some(5)
            }
        );
        assert!(!cmd.is_change());
        for bad in [
            json!({"command": "tenant.snapshot", "tenant": "acme", "kind": "memberships"}),
            json!({"command": "tenant.snapshot", "tenant": "acme"}),
            json!({"command": "events.replay"}),
        ] {
            let err = Command::from_json(bad.clone()).unwrap_err();
            assert_eq!(err.code(), "bad_command", "{bad}");
        }
        let replay = Command::from_json(json!({"command": "events.replay", "tenant": "acme"}));
        assert!(
            replay.unwrap().is_change(),
            "a replay is logged as a change"
        );
    }

    #[test]
    fn settings_may_change_one_value_alone() {
        let cmd = Command::from_json(json!({
            "command": "tenant.settings", "tenant": "acme", "rate_limit_per_second": 250
        }))
        .unwrap();
        assert_eq!(
            cmd,
            Command::TenantSettings {
                tenant: "acme".into(),
                default_platform_role: None,
                default_project_role: None,
                rate_limit_per_second: Some(250)
            }
        );
    }
}
