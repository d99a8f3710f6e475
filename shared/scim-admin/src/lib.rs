//! Tenant and token administration, shared by the operator CLI (`scim-admin`) and the admin
//! Lambda (invoked directly with a JSON command, authorised by IAM; it has no public route).
//!
//! A command is JSON with a `command` field, for example
//! `{"command": "token.issue", "tenant": "acme", "name": "Okta - Production"}`; see
//! [`Command`] for the full list. [`Admin::execute`] returns the result as JSON, or an
//! [`AdminError`] with a stable machine-readable code.

mod command;
mod error;

pub use command::{Command, SnapshotKind};
pub use error::AdminError;

use scim_bus::queue::SqsWebhookQueue;
use scim_bus::EventBridgeBus;
use scim_core::ids::{ResourceId, TenantId};
use scim_core::{PlatformRole, ProjectRole};
use scim_ops::events::log::{replay, replay_to, EventLog, ReplayError};
use scim_ops::events::publish::Retry;
use scim_ops::events::EventType;
use scim_ops::oauth::AssertionTrust;
use scim_ops::webhooks::{
    new_endpoint_id, validate_url, DeliveryLog, EndpointDirectory, PayloadFormat, ToWebhook,
    UrlPolicy, WebhookEndpoint, WebhookKey,
};
use scim_store::oauth_clients::{ClientKind, OAuthClientItem};
use scim_store::tokens::TokenHasher;
use scim_store::{
    AuditTrail, ByPrefix, Store, StoreError, TenantItem, TokenItem, TENANT_ACTIVE, TENANT_DISABLED,
};
use serde::Serialize;
use serde_json::{json, Value};

/// Audit records returned by one `audit.list` when no limit is given, and at most.
const DEFAULT_AUDIT_PAGE: usize = 100;
const MAX_AUDIT_PAGE: usize = 1000;
/// Events returned by one `events.list` when no limit is given, and at most (also the most
/// one `events.replay` sends, and the page sizes of `tenant.snapshot`).
const DEFAULT_EVENTS_PAGE: usize = 100;
const MAX_EVENTS_PAGE: usize = 1000;

/// A tenant as administrators see it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantView {
    pub tenant_id: String,
    pub name: String,
    pub status: String,
    pub created: String,
    pub settings: scim_store::TenantSettings,
}

impl From<TenantItem> for TenantView {
    fn from(t: TenantItem) -> Self {
        Self {
            tenant_id: t.tenant_id,
            name: t.name,
            status: t.status,
            created: t.created,
            settings: t.settings,
        }
    }
}

/// A token as administrators see it: never its plaintext or hash.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenView {
    pub prefix: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked_at: Option<String>,
    pub rotated_from: Option<String>,
}

impl From<TokenItem> for TokenView {
    fn from(t: TokenItem) -> Self {
        Self {
            prefix: t.prefix,
            name: t.name,
            created: t.created,
            last_used: t.last_used,
            revoked_at: t.revoked_at,
            rotated_from: t.rotated_from,
        }
    }
}

/// A newly issued token: the plaintext appears here once and is stored nowhere.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IssuedToken {
    pub tenant: String,
    pub prefix: String,
    pub name: String,
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_from: Option<String>,
}

/// Most hours a rotated webhook secret keeps signing beside the new one.
const MAX_OVERLAP_HOURS: u64 = 168;
const DEFAULT_OVERLAP_HOURS: u64 = 24;

/// A webhook endpoint with its signing secret (`webhooks.create`, `webhooks.rotate`,
/// `webhooks.secret`).
#[derive(Clone, Serialize, PartialEq)]
pub struct EndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_...`: give it to the receiver's Standard Webhooks library.
    pub secret: String,
    /// During a rotation's overlap, the secret deliveries are also signed with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
}

impl std::fmt::Debug for EndpointWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointWithSecret")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// What the webhook commands need: the key secrets are derived from, the queue replays go
/// to, and which URLs the deployment accepts.
#[derive(Debug, Clone)]
pub struct WebhookSetup {
    pub key: WebhookKey,
    pub queue: Option<SqsWebhookQueue>,
    pub urls: UrlPolicy,
}

/// Runs administration commands against one table.
#[derive(Debug, Clone)]
pub struct Admin {
    store: Store,
    hasher: Option<TokenHasher>,
    bus: Option<EventBridgeBus>,
    webhooks: Option<WebhookSetup>,
    /// Which JWKS URLs OAuth clients may name (public `https` unless the local stack).
    outbound_urls: UrlPolicy,
}

impl Admin {
    /// `hasher` is needed only to issue or rotate tokens (the CLI reads the key lazily).
    pub fn new(store: Store, hasher: Option<TokenHasher>) -> Self {
        Self {
            store,
            hasher,
            bus: None,
            webhooks: None,
            outbound_urls: UrlPolicy::default(),
        }
    }

    /// Accept private and `http` JWKS URLs (the local stack's test issuer only).
    pub fn with_outbound_urls(mut self, urls: UrlPolicy) -> Self {
        self.outbound_urls = urls;
        self
    }

    /// What the webhook commands need.
    pub fn with_webhooks(mut self, setup: WebhookSetup) -> Self {
        self.webhooks = Some(setup);
        self
    }

    /// The event bus `events.replay` sends to.
    pub fn with_bus(mut self, bus: EventBridgeBus) -> Self {
        self.bus = Some(bus);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs one command; `now` is the RFC 3339 time recorded on what it writes.
    pub async fn execute(&self, command: Command, now: &str) -> Result<Value, AdminError> {
        match command {
            Command::TenantCreate { name } => {
                non_empty("name", &name)?;
                to_json(TenantView::from(
                    self.store.ensure_tenant(&name, now).await?,
                ))
            }
            Command::TenantList {} => to_json(
                self.store
                    .list_tenants()
                    .await?
                    .into_iter()
                    .map(TenantView::from)
                    .collect::<Vec<_>>(),
            ),
            Command::TenantGet { tenant } => to_json(TenantView::from(self.find(&tenant).await?)),
            Command::TenantDisable { tenant } => self.set_status(&tenant, TENANT_DISABLED).await,
            Command::TenantEnable { tenant } => self.set_status(&tenant, TENANT_ACTIVE).await,
            Command::TenantSettings {
                tenant,
                default_platform_role,
                default_project_role,
                rate_limit_per_second,
            } => {
                let t = self.find(&tenant).await?;
                let mut settings = t.settings.clone();
                if let Some(role) = default_platform_role {
                    settings.default_platform_role = Some(role_in(
                        PlatformRole::parse(&role),
                        &role,
                        PlatformRole::NAMES,
                    )?);
                }
                if let Some(role) = default_project_role {
                    settings.default_project_role = Some(role_in(
                        ProjectRole::parse(&role),
                        &role,
                        ProjectRole::NAMES,
                    )?);
                }
                if let Some(limit) = rate_limit_per_second {
                    if limit == 0 {
                        return Err(AdminError::InvalidArgument(
                            "rate_limit_per_second must be at least 1".into(),
                        ));
                    }
                    settings.rate_limit_per_second = Some(limit);
                }
                self.store
                    .set_tenant_settings(&tenant_id(&t)?, &settings)
                    .await?;
                to_json(settings)
            }
            Command::TokenIssue {
                tenant,
                name,
                create_tenant,
            } => {
                non_empty("name", &name)?;
                let t = if create_tenant {
                    self.store.ensure_tenant(&tenant, now).await?
                } else {
                    self.find(&tenant).await?
                };
                let issued = self
                    .store
                    .issue_token(&tenant_id(&t)?, &name, self.hasher()?, now)
                    .await?;
                to_json(IssuedToken {
                    tenant: t.name,
                    prefix: issued.prefix,
                    name,
                    token: issued.plaintext,
                    rotated_from: None,
                })
            }
            Command::TokenList { tenant } => {
                let t = self.find(&tenant).await?;
                let tokens = self.store.list_tokens(&tenant_id(&t)?).await?;
                to_json(tokens.into_iter().map(TokenView::from).collect::<Vec<_>>())
            }
            Command::TokenRevoke { tenant, prefix } => {
                let t = self.find(&tenant).await?;
                let revoked = self
                    .store
                    .revoke_token(&tenant_id(&t)?, &prefix, now)
                    .await?;
                by_prefix(revoked, prefix.clone())?;
                Ok(json!({"revoked": prefix}))
            }
            Command::TokenRotate { tenant, prefix } => {
                let t = self.find(&tenant).await?;
                let rotated = self
                    .store
                    .rotate_token(&tenant_id(&t)?, &prefix, self.hasher()?, now)
                    .await?;
                let (issued, name) = by_prefix(rotated, prefix.clone())?;
                to_json(IssuedToken {
                    tenant: t.name,
                    prefix: issued.prefix,
                    name,
                    token: issued.plaintext,
                    rotated_from: Some(prefix),
                })
            }
            Command::OAuthClientCreate {
                tenant,
                name,
                issuer,
                subject,
                audience,
                jwks_url,
            } => {
                non_empty("name", &name)?;
                let t = self.find(&tenant).await?;
                let (kind, secret) = match (issuer, subject, audience, jwks_url) {
                    (None, None, None, None) => {
                        let secret = scim_ops::oauth::client::new_client_secret()
                            .map_err(|e| AdminError::Internal(e.to_string()))?;
                        (
                            ClientKind::Secret(self.hasher()?.hash(&secret)),
                            Some(secret),
                        )
                    }
                    (Some(issuer), Some(subject), Some(audience), Some(jwks_url)) => {
                        let trust = AssertionTrust {
                            issuer,
                            subject,
                            audience,
                            jwks_url,
                        };
                        trust
                            .validate(self.outbound_urls)
                            .map_err(|e| AdminError::InvalidArgument(e.to_string()))?;
                        (ClientKind::Assertion(trust), None)
                    }
                    _ => {
                        return Err(AdminError::InvalidArgument(
                            "issuer, subject, audience, jwks_url: give all four (a federated \
                             client) or none (a secret client)"
                                .into(),
                        ))
                    }
                };
                let item = self
                    .store
                    .create_oauth_client(&tenant_id(&t)?, &name, kind, now)
                    .await?;
                let mut view = to_json(ClientView::from(item))?;
                if let (Some(secret), Some(obj)) = (secret, view.as_object_mut()) {
                    obj.insert("client_secret".into(), Value::String(secret));
                }
                Ok(view)
            }
            Command::OAuthClientList { tenant } => {
                let t = self.find(&tenant).await?;
                let clients = self.store.list_oauth_clients(&tenant_id(&t)?).await?;
                to_json(
                    clients
                        .into_iter()
                        .map(ClientView::from)
                        .collect::<Vec<_>>(),
                )
            }
            Command::OAuthClientRotate { tenant, client_id } => {
                let t = self.find(&tenant).await?;
                let secret = scim_ops::oauth::client::new_client_secret()
                    .map_err(|e| AdminError::Internal(e.to_string()))?;
                self.store
                    .rotate_oauth_client_secret(
                        &tenant_id(&t)?,
                        &client_id,
                        &self.hasher()?.hash(&secret),
                        now,
                    )
                    .await
                    .map_err(|e| client_not_found(e, &client_id))?;
                Ok(json!({"client_id": client_id, "client_secret": secret}))
            }
            Command::OAuthClientRevoke { tenant, client_id } => {
                let t = self.find(&tenant).await?;
                self.store
                    .revoke_oauth_client(&tenant_id(&t)?, &client_id, now)
                    .await
                    .map_err(|e| client_not_found(e, &client_id))?;
                Ok(json!({"revoked": client_id}))
            }
            Command::AuditList {
                tenant,
                since,
                limit,
            } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                let limit = limit.unwrap_or(DEFAULT_AUDIT_PAGE).clamp(1, MAX_AUDIT_PAGE);
                let records = self.store.records(&t, since.as_deref(), limit).await?;
                to_json(records)
            }
            Command::EventsList {
                tenant,
                after,
                before,
                limit,
            } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                let limit = limit
                    .unwrap_or(DEFAULT_EVENTS_PAGE)
                    .clamp(1, MAX_EVENTS_PAGE);
                let events = self
                    .store
                    .logged_events(&t, after.as_deref(), before.as_deref(), limit)
                    .await?;
                to_json(events)
            }
            Command::EventsReplay {
                tenant,
                after,
                before,
                limit,
                webhook,
            } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                let limit = limit.unwrap_or(MAX_EVENTS_PAGE).clamp(1, MAX_EVENTS_PAGE);
                let (after, before) = (after.as_deref(), before.as_deref());
                let replayed = match webhook {
                    None => {
                        let bus = self.bus.as_ref().ok_or_else(|| {
                            AdminError::InvalidArgument(
                                "no event bus configured (EVENT_BUS_NAME)".into(),
                            )
                        })?;
                        let retry = Retry::default();
                        replay(&self.store, bus, &t, after, before, limit, retry).await
                    }
                    Some(id) => {
                        let queue = self.webhooks()?.queue.as_ref().ok_or_else(|| {
                            AdminError::InvalidArgument(
                                "no webhook queue configured (WEBHOOK_QUEUE_URL)".into(),
                            )
                        })?;
                        let endpoint = self.endpoint(&id).await?;
                        if endpoint.tenant.as_ref().is_some_and(|e| e != t.as_str()) {
                            return Err(AdminError::InvalidArgument(format!(
                                "webhook {id} does not receive tenant {tenant}'s events"
                            )));
                        }
                        let sink = ToWebhook {
                            queue,
                            endpoint: &endpoint,
                            nonce: format!("replay {now}"),
                            retry: Retry::default(),
                        };
                        replay_to(&self.store, &sink, &t, after, before, limit).await
                    }
                }
                .map_err(|e| match e {
                    ReplayError::Log(store) => AdminError::from(store),
                    ReplayError::Publish(publish) => AdminError::Internal(publish.to_string()),
                })?;
                to_json(replayed)
            }
            Command::WebhooksCreate {
                url,
                tenant,
                types,
                description,
                format,
            } => {
                let setup = self.webhooks()?;
                validate_url(&url, setup.urls)
                    .map_err(|e| AdminError::InvalidArgument(format!("url: {e}")))?;
                let format = match format.as_deref() {
                    None => PayloadFormat::Event,
                    Some(text) => PayloadFormat::parse(text).ok_or_else(|| {
                        AdminError::InvalidArgument(format!("format: {text:?} is not event or set"))
                    })?,
                };
                let tenant = match tenant {
                    Some(name) => Some(tenant_id(&self.find(&name).await?)?.to_string()),
                    None => None,
                };
                let endpoint = WebhookEndpoint {
                    id: new_endpoint_id(),
                    tenant,
                    url,
                    types: event_types(&types)?,
                    description: description.unwrap_or_default(),
                    secret_generation: 1,
                    previous_secret_until: None,
                    format,
                    created: now.to_string(),
                };
                self.store.put_webhook(&endpoint).await?;
                to_json(with_secret(setup, endpoint, 0))
            }
            Command::WebhooksList { tenant } => {
                let mut endpoints = self.store.endpoints().await?;
                if let Some(name) = tenant {
                    let t = tenant_id(&self.find(&name).await?)?.to_string();
                    endpoints.retain(|e| e.tenant.as_ref().is_none_or(|e| *e == t));
                }
                to_json(endpoints)
            }
            Command::WebhooksSecret { endpoint } => {
                let endpoint = self.endpoint(&endpoint).await?;
                let epoch = epoch_of(now)?;
                to_json(with_secret(self.webhooks()?, endpoint, epoch))
            }
            Command::WebhooksRotate {
                endpoint,
                overlap_hours,
            } => {
                let setup = self.webhooks()?;
                let mut endpoint = self.endpoint(&endpoint).await?;
                let hours = overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
                if hours > MAX_OVERLAP_HOURS {
                    return Err(AdminError::InvalidArgument(format!(
                        "overlap_hours must be at most {MAX_OVERLAP_HOURS}"
                    )));
                }
                let epoch = epoch_of(now)?;
                // Rotating again during an overlap would drop the secret before last at once:
                // only on purpose, with no overlap (a leaked secret).
                if let Some(until) = endpoint.previous_secret_until.filter(|t| epoch < *t) {
                    if hours > 0 {
                        return Err(AdminError::InvalidArgument(format!(
                            "the previous rotation's overlap lasts until epoch {until}; rotate \
                             after it, or with overlap_hours 0 to replace both secrets now"
                        )));
                    }
                }
                endpoint.secret_generation += 1;
                endpoint.previous_secret_until = (hours > 0).then_some(epoch + hours * 3600);
                self.store
                    .replace_webhook(&endpoint)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => AdminError::WebhookNotFound(endpoint.id.clone()),
                        other => other.into(),
                    })?;
                to_json(with_secret(setup, endpoint, epoch))
            }
            Command::WebhooksDelete { endpoint } => {
                if !scim_ops::webhooks::is_endpoint_id(&endpoint) {
                    return Err(AdminError::WebhookNotFound(endpoint));
                }
                self.store
                    .delete_webhook(&endpoint)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => AdminError::WebhookNotFound(endpoint.clone()),
                        other => other.into(),
                    })?;
                Ok(json!({"deleted": endpoint}))
            }
            Command::WebhooksDeliveries {
                endpoint,
                after,
                limit,
            } => {
                let endpoint = self.endpoint(&endpoint).await?;
                let limit = limit
                    .unwrap_or(DEFAULT_EVENTS_PAGE)
                    .clamp(1, MAX_EVENTS_PAGE);
                to_json(
                    self.store
                        .deliveries(&endpoint.id, after.as_deref(), limit)
                        .await?,
                )
            }
            Command::TenantSnapshot {
                tenant,
                kind,
                after,
                limit,
            } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                let limit = limit
                    .unwrap_or(DEFAULT_EVENTS_PAGE)
                    .clamp(1, MAX_EVENTS_PAGE);
                let after = after.as_deref();
                match kind {
                    SnapshotKind::Users => {
                        to_json(self.store.snapshot_users(&t, after, limit).await?)
                    }
                    SnapshotKind::Projects => {
                        to_json(self.store.snapshot_projects(&t, after, limit).await?)
                    }
                }
            }
            Command::PlatformProjects { tenant } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                to_json(self.store.projects(&t).await?)
            }
            Command::PlatformMembers { tenant, project } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                to_json(
                    self.store
                        .project_members(&t, &resource_id(&project)?)
                        .await?,
                )
            }
            Command::PlatformUser { tenant, user } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                let item = self
                    .store
                    .get_user_record(&t, &resource_id(&user)?)
                    .await?
                    .ok_or(AdminError::UserNotFound(user))?;
                Ok(json!({
                    "id": item.id,
                    "user_name": item.user_name,
                    "active": item.active,
                    "platform_role": item.platform_role,
                    "deleted_at": item.deleted_at,
                }))
            }
            Command::PlatformUserProjects { tenant, user } => {
                let t = tenant_id(&self.find(&tenant).await?)?;
                to_json(self.store.user_projects(&t, &resource_id(&user)?).await?)
            }
        }
    }

    fn webhooks(&self) -> Result<&WebhookSetup, AdminError> {
        self.webhooks.as_ref().ok_or_else(|| {
            AdminError::InvalidArgument(
                "the webhook key is not configured (WEBHOOK_KEY_SECRET_ID)".into(),
            )
        })
    }

    async fn endpoint(&self, id: &str) -> Result<WebhookEndpoint, AdminError> {
        if !scim_ops::webhooks::is_endpoint_id(id) {
            return Err(AdminError::WebhookNotFound(id.to_string()));
        }
        self.store
            .webhook(id)
            .await?
            .ok_or_else(|| AdminError::WebhookNotFound(id.to_string()))
    }

    fn hasher(&self) -> Result<&TokenHasher, AdminError> {
        self.hasher
            .as_ref()
            .ok_or_else(|| AdminError::Internal("the token key was not loaded".into()))
    }

    async fn find(&self, name: &str) -> Result<TenantItem, AdminError> {
        self.store
            .find_tenant(name)
            .await?
            .ok_or_else(|| AdminError::TenantNotFound(name.to_string()))
    }

    async fn set_status(&self, name: &str, status: &str) -> Result<Value, AdminError> {
        let t = self.find(name).await?;
        self.store
            .set_tenant_status(&tenant_id(&t)?, status)
            .await?;
        Ok(json!({"tenant": t.name, "status": status}))
    }
}

/// An OAuth client as administrators see it (never its secret or the secret's hash).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    /// `client_secret` or `private_key_jwt`.
    pub authentication: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion: Option<AssertionTrust>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_rotated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl From<OAuthClientItem> for ClientView {
    fn from(c: OAuthClientItem) -> Self {
        Self {
            client_id: c.client_id,
            name: c.name,
            authentication: if c.assertion.is_some() {
                "private_key_jwt"
            } else {
                "client_secret"
            },
            assertion: c.assertion,
            created: c.created,
            secret_rotated_at: c.secret_rotated_at,
            revoked_at: c.revoked_at,
        }
    }
}

fn client_not_found(err: StoreError, client_id: &str) -> AdminError {
    match err {
        StoreError::NotFound => AdminError::ClientNotFound(client_id.to_string()),
        other => other.into(),
    }
}

/// Reads the token HMAC key from Secrets Manager (once per process).
pub async fn read_token_key(
    sdk: &aws_config::SdkConfig,
    secret_id: &str,
) -> Result<TokenHasher, AdminError> {
    scim_store::tokens::load_hasher(&aws_sdk_secretsmanager::Client::new(sdk), secret_id)
        .await
        .map_err(|e| AdminError::Internal(e.to_string()))
}

/// Reads the webhook signing key from Secrets Manager (once per process).
pub async fn read_webhook_key(
    sdk: &aws_config::SdkConfig,
    secret_id: &str,
) -> Result<WebhookKey, AdminError> {
    scim_store::tokens::load_webhook_key(&aws_sdk_secretsmanager::Client::new(sdk), secret_id)
        .await
        .map_err(|e| AdminError::Internal(e.to_string()))
}

/// The endpoint with the secrets deliveries at `epoch` are signed with.
fn with_secret(setup: &WebhookSetup, endpoint: WebhookEndpoint, epoch: u64) -> EndpointWithSecret {
    let secret = |generation| {
        setup
            .key
            .endpoint_secret(&endpoint.id, generation)
            .to_whsec()
    };
    let generations = endpoint.signing_generations(epoch);
    EndpointWithSecret {
        secret: secret(endpoint.secret_generation),
        previous_secret: generations.get(1).map(|g| secret(*g)),
        endpoint,
    }
}

/// The event types named (`user.deactivated`, ...); none: all.
fn event_types(names: &[String]) -> Result<Vec<EventType>, AdminError> {
    names
        .iter()
        .map(|name| {
            EventType::ALL
                .into_iter()
                .find(|t| t.as_str() == name)
                .ok_or_else(|| {
                    AdminError::InvalidArgument(format!(
                        "types: {name:?} is not an event type ({})",
                        EventType::ALL.map(EventType::as_str).join(", ")
                    ))
                })
        })
        .collect()
}

fn epoch_of(now: &str) -> Result<u64, AdminError> {
    scim_core::datetime::parse(now)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
        .ok_or_else(|| AdminError::Internal(format!("not a time: {now}")))
}

/// The current time as the store records it.
pub fn now() -> String {
    scim_core::datetime::format(time::OffsetDateTime::now_utc())
}

fn to_json(value: impl Serialize) -> Result<Value, AdminError> {
    serde_json::to_value(value).map_err(|e| AdminError::Internal(e.to_string()))
}

/// What a token command did through a prefix, or why it did nothing.
fn by_prefix<T>(outcome: ByPrefix<T>, prefix: String) -> Result<T, AdminError> {
    match outcome {
        ByPrefix::Found(done) => Ok(done),
        ByPrefix::Unknown => Err(AdminError::TokenNotFound(prefix)),
        ByPrefix::Ambiguous(live) => Err(AdminError::AmbiguousPrefix { prefix, live }),
    }
}

fn non_empty(field: &str, value: &str) -> Result<(), AdminError> {
    if value.trim().is_empty() {
        return Err(AdminError::InvalidArgument(format!(
            "{field} must not be empty"
        )));
    }
    Ok(())
}

/// A role parsed from `text` (any letter case), or why `text` is none of `names`.
fn role_in<R>(parsed: Option<R>, text: &str, names: &[&str]) -> Result<R, AdminError> {
    parsed.ok_or_else(|| {
        AdminError::InvalidArgument(format!(
            "{} is not one of {}",
            text.to_ascii_uppercase(),
            names.join(", ")
        ))
    })
}

fn tenant_id(t: &TenantItem) -> Result<TenantId, AdminError> {
    TenantId::parse(&t.tenant_id).ok_or_else(|| AdminError::Internal("malformed tenant id".into()))
}

fn resource_id(text: &str) -> Result<ResourceId, AdminError> {
    ResourceId::parse(text)
        .ok_or_else(|| AdminError::InvalidArgument(format!("{text:?} is not a resource id")))
}
