//! `scim-admin`: the operator CLI. Every tenant, token and platform command is a
//! [`scim_admin::Command`] run by the same library as the admin Lambda; this file only maps
//! arguments to commands and prints results. `create-table`/`create-secret` set up the local
//! stack. Credentials come from the standard AWS chain.
//!
//! Output: JSON, except `token issue`/`token rotate`, which print the plaintext token alone on
//! the last line of stdout (it is shown once and never logged), and `tenant list`/`token list`,
//! which print tab-separated tables unless `--json` is given.

use clap::{Parser, Subcommand};
use scim_admin::{Admin, Command as AdminCommand, SnapshotKind, WebhookSetup};
use scim_bus::queue::SqsWebhookQueue;
use scim_ops::webhooks::UrlPolicy;
use scim_store::Store;
use serde_json::Value;

mod table;

#[derive(Parser)]
#[command(name = "scim-admin", about = "Administer SCIM tenants and tokens")]
struct Cli {
    /// DynamoDB table (env TABLE_NAME).
    #[arg(long, env = "TABLE_NAME")]
    table: String,
    /// Secrets Manager secret holding the token HMAC key (env TOKEN_KEY_SECRET_ID).
    #[arg(long, env = "TOKEN_KEY_SECRET_ID")]
    secret: String,
    /// The provisioning event bus `events replay` sends to (env EVENT_BUS_NAME).
    #[arg(long, env = "EVENT_BUS_NAME")]
    event_bus: Option<String>,
    /// Secrets Manager secret holding the webhook signing key (env WEBHOOK_KEY_SECRET_ID).
    #[arg(long, env = "WEBHOOK_KEY_SECRET_ID")]
    webhook_secret: Option<String>,
    /// The webhook FIFO queue `events replay --webhook` sends to (env WEBHOOK_QUEUE_URL).
    #[arg(long, env = "WEBHOOK_QUEUE_URL")]
    webhook_queue: Option<String>,
    /// Accept http and private addresses as webhook URLs (local stack only; env
    /// SCIM_WEBHOOK_ALLOW_PRIVATE=1).
    #[arg(long, env = "SCIM_WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    webhook_allow_private: bool,
    /// Print listings as JSON instead of tab-separated tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table as template.yaml defines it (local stack; idempotent).
    CreateTable,
    /// Create the token key secret, and the webhook key secret when --webhook-secret is given,
    /// with random keys (local stack; idempotent).
    CreateSecret,
    #[command(subcommand)]
    Tenant(TenantCommand),
    #[command(subcommand)]
    Token(TokenCommand),
    /// OAuth clients of the token endpoint (`POST /oauth2/token`).
    #[command(subcommand, name = "oauth-client")]
    OAuthClient(OAuthClientCommand),
    /// What the platform reads: projects, members with roles, a user's projects (JSON).
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// A tenant's provisioning events: the event log, and replays to the bus or a webhook.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Webhook endpoints: create (prints the signing secret), list, secret, rotate, delete,
    /// and their delivery log (JSON).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// A tenant's audit trail (JSON, oldest first): who changed which user or group, when.
    Audit {
        #[arg(long)]
        tenant: String,
        /// From this time (RFC 3339 or a prefix such as 2026-11-23), or after this record `sk`.
        #[arg(long)]
        since: Option<String>,
        /// At most this many records (default 100, at most 1000).
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// The tenant's logged events (JSON, oldest first), each with its `cursor`.
    List {
        #[arg(long)]
        tenant: String,
        /// After this time (RFC 3339 or a prefix such as 2026-12-05T08), or this event's cursor.
        #[arg(long)]
        after: Option<String>,
        /// Before this time (or cursor).
        #[arg(long)]
        before: Option<String>,
        /// At most this many events (default 100, at most 1000).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Send the tenant's logged events of a range to the bus again, with their original ids;
    /// prints how many, and `next` (the --after of the next call) when the range has more.
    Replay {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        after: Option<String>,
        #[arg(long)]
        before: Option<String>,
        /// At most this many events (default and at most 1000).
        #[arg(long)]
        limit: Option<usize>,
        /// Send to this webhook endpoint (id wh_...) instead of the bus.
        #[arg(long)]
        webhook: Option<String>,
    },
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Add an endpoint; prints it with its signing secret (whsec_...).
    Create {
        /// A public https URL.
        #[arg(long)]
        url: String,
        /// Only this tenant's events (default: every tenant's).
        #[arg(long)]
        tenant: Option<String>,
        /// Only these event types (repeat, or comma-separated; default: all).
        #[arg(long = "type", value_delimiter = ',')]
        types: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        /// `event` (the event as JSON, the default) or `set` (an RFC 9967 Security Event
        /// Token, application/secevent+jwt).
        #[arg(long)]
        format: Option<String>,
    },
    /// The endpoints (with --tenant, those receiving its events).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// An endpoint's signing secret (and the previous one during a rotation).
    Secret { endpoint: String },
    /// A new signing secret; the old one also signs for --overlap-hours (default 24).
    Rotate {
        endpoint: String,
        #[arg(long)]
        overlap_hours: Option<u64>,
    },
    /// Delete an endpoint; its queued deliveries are dropped.
    Delete { endpoint: String },
    /// The endpoint's delivery log: status, attempts, last HTTP status and error.
    Deliveries {
        endpoint: String,
        /// After this delivery's cursor.
        #[arg(long)]
        after: Option<String>,
        /// At most this many (default 100, at most 1000).
        #[arg(long)]
        limit: Option<usize>,
    },
}

impl WebhooksCommand {
    fn into_admin(self) -> AdminCommand {
        match self {
            Self::Create {
                url,
                tenant,
                types,
                description,
                format,
            } => AdminCommand::WebhooksCreate {
                url,
                tenant,
                types,
                description,
                format,
            },
            Self::List { tenant } => AdminCommand::WebhooksList { tenant },
            Self::Secret { endpoint } => AdminCommand::WebhooksSecret { endpoint },
            Self::Rotate {
                endpoint,
                overlap_hours,
            } => AdminCommand::WebhooksRotate {
                endpoint,
                overlap_hours,
            },
            Self::Delete { endpoint } => AdminCommand::WebhooksDelete { endpoint },
            Self::Deliveries {
                endpoint,
                after,
                limit,
            } => AdminCommand::WebhooksDeliveries {
                endpoint,
                after,
                limit,
            },
        }
    }
}

impl EventsCommand {
    fn into_admin(self) -> AdminCommand {
        match self {
            Self::List {
                tenant,
                after,
                before,
                limit,
            } => AdminCommand::EventsList {
                tenant,
                after,
                before,
                limit,
            },
            Self::Replay {
                tenant,
                after,
                before,
                limit,
                webhook,
            } => AdminCommand::EventsReplay {
                tenant,
                after,
                before,
                limit,
                webhook,
            },
        }
    }
}

#[derive(Subcommand)]
enum PlatformCommand {
    /// The tenant's projects.
    Projects {
        #[arg(long)]
        tenant: String,
    },
    /// A project's members with their project role and active state.
    Members {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        project: String,
    },
    /// A user as the platform sees it: active state and effective platform role.
    User {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
    },
    /// A user's projects with the role in each.
    UserProjects {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant (or show the existing one with that name).
    Create {
        name: String,
    },
    List,
    /// Show one tenant with its settings.
    Get {
        name: String,
    },
    /// Disable a tenant: its tokens are refused (within the verification cache time).
    Disable {
        name: String,
    },
    Enable {
        name: String,
    },
    /// A page of the tenant's users (with their projects) or projects, as the events describe
    /// them, each with its seq (JSON; `next` is the --after of the next page).
    Snapshot {
        name: String,
        /// `users` or `projects`.
        #[arg(long, default_value = "users")]
        kind: String,
        #[arg(long)]
        after: Option<String>,
        /// At most this many (default 100, at most 1000).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Change a tenant's settings (the ones not given keep their value).
    Settings {
        name: String,
        /// ADMIN, MEMBER or OPERATOR: the platform role of users sent without one.
        #[arg(long)]
        default_platform_role: Option<String>,
        /// ADMIN, EDITOR or VIEWER: the role of members of new projects.
        #[arg(long)]
        default_project_role: Option<String>,
        /// Requests per second per token (the deployment's default when never set).
        #[arg(long)]
        rate_limit_per_second: Option<u32>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token; the plaintext is printed once, alone on the last line.
    Issue {
        #[arg(long)]
        tenant: String,
        /// A label shown in listings, e.g. "Okta - Production".
        #[arg(long, default_value = "default")]
        name: String,
        /// Create the tenant when it does not exist.
        #[arg(long)]
        create_tenant: bool,
    },
    /// List a tenant's tokens (prefix, name, created, last used, revoked, rotated from).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke the token with this prefix (effective within the verification cache time).
    Revoke {
        #[arg(long)]
        tenant: String,
        prefix: String,
    },
    /// Issue a new token with the same name; the old one keeps working until revoked.
    Rotate {
        #[arg(long)]
        tenant: String,
        prefix: String,
    },
}

impl TenantCommand {
    fn into_admin(self) -> Result<AdminCommand, String> {
        Ok(match self {
            Self::Snapshot {
                name,
                kind,
                after,
                limit,
            } => AdminCommand::TenantSnapshot {
                tenant: name,
                kind: match kind.as_str() {
                    "users" => SnapshotKind::Users,
                    "projects" => SnapshotKind::Projects,
                    other => return Err(format!("--kind is users or projects, not {other:?}")),
                },
                after,
                limit,
            },
            Self::Create { name } => AdminCommand::TenantCreate { name },
            Self::List => AdminCommand::TenantList {},
            Self::Get { name } => AdminCommand::TenantGet { tenant: name },
            Self::Disable { name } => AdminCommand::TenantDisable { tenant: name },
            Self::Enable { name } => AdminCommand::TenantEnable { tenant: name },
            Self::Settings {
                name,
                default_platform_role,
                default_project_role,
                rate_limit_per_second,
            } => AdminCommand::TenantSettings {
                tenant: name,
                default_platform_role,
                default_project_role,
                rate_limit_per_second,
            },
        })
    }
}

#[derive(Subcommand)]
enum OAuthClientCommand {
    /// Create a client: with --issuer, --subject, --audience and --jwks-url it authenticates
    /// with JWT assertions (Entra's workload identity federation); without them, with a secret
    /// printed once.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        issuer: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        audience: Option<String>,
        #[arg(long)]
        jwks_url: Option<String>,
    },
    /// The tenant's clients (never a secret).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// A new secret for a secret client; the old one stops at once.
    Rotate {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
    },
    /// No new access tokens for the client (issued ones work until they expire).
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
    },
}

impl OAuthClientCommand {
    fn into_admin(self) -> AdminCommand {
        match self {
            Self::Create {
                tenant,
                name,
                issuer,
                subject,
                audience,
                jwks_url,
            } => AdminCommand::OAuthClientCreate {
                tenant,
                name,
                issuer,
                subject,
                audience,
                jwks_url,
            },
            Self::List { tenant } => AdminCommand::OAuthClientList { tenant },
            Self::Rotate { tenant, client_id } => {
                AdminCommand::OAuthClientRotate { tenant, client_id }
            }
            Self::Revoke { tenant, client_id } => {
                AdminCommand::OAuthClientRevoke { tenant, client_id }
            }
        }
    }
}

impl TokenCommand {
    fn into_admin(self) -> AdminCommand {
        match self {
            Self::Issue {
                tenant,
                name,
                create_tenant,
            } => AdminCommand::TokenIssue {
                tenant,
                name,
                create_tenant,
            },
            Self::List { tenant } => AdminCommand::TokenList { tenant },
            Self::Revoke { tenant, prefix } => AdminCommand::TokenRevoke { tenant, prefix },
            Self::Rotate { tenant, prefix } => AdminCommand::TokenRotate { tenant, prefix },
        }
    }
}

impl PlatformCommand {
    fn into_admin(self) -> AdminCommand {
        match self {
            Self::Projects { tenant } => AdminCommand::PlatformProjects { tenant },
            Self::Members { tenant, project } => AdminCommand::PlatformMembers { tenant, project },
            Self::User { tenant, user } => AdminCommand::PlatformUser { tenant, user },
            Self::UserProjects { tenant, user } => {
                AdminCommand::PlatformUserProjects { tenant, user }
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(message) = run(cli).await {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let store = Store::new(&aws_sdk_dynamodb::Config::from(&sdk), cli.table.clone());
    let command = match cli.command {
        Command::CreateTable => return table::create_table(store.client(), &cli.table).await,
        Command::CreateSecret => {
            table::create_secret(&sdk, &cli.secret).await?;
            if let Some(webhook_secret) = &cli.webhook_secret {
                table::create_secret(&sdk, webhook_secret).await?;
            }
            return Ok(());
        }
        Command::Tenant(cmd) => cmd.into_admin()?,
        Command::Token(cmd) => cmd.into_admin(),
        Command::OAuthClient(cmd) => cmd.into_admin(),
        Command::Platform(cmd) => cmd.into_admin(),
        Command::Events(cmd) => cmd.into_admin(),
        Command::Webhooks(cmd) => cmd.into_admin(),
        Command::Audit {
            tenant,
            since,
            limit,
        } => AdminCommand::AuditList {
            tenant,
            since,
            limit,
        },
    };
    let needs_key = matches!(
        command,
        AdminCommand::TokenIssue { .. }
            | AdminCommand::TokenRotate { .. }
            | AdminCommand::OAuthClientCreate { .. }
            | AdminCommand::OAuthClientRotate { .. }
    );
    let hasher = if needs_key {
        Some(
            scim_admin::read_token_key(&sdk, &cli.secret)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let mut admin = Admin::new(store, hasher).with_outbound_urls(UrlPolicy {
        allow_private: cli.webhook_allow_private,
    });
    let webhook_command = matches!(
        command,
        AdminCommand::WebhooksCreate { .. }
            | AdminCommand::WebhooksSecret { .. }
            | AdminCommand::WebhooksRotate { .. }
            | AdminCommand::EventsReplay {
                webhook: Some(_),
                ..
            }
    );
    if let (true, Some(secret)) = (webhook_command, &cli.webhook_secret) {
        admin = admin.with_webhooks(WebhookSetup {
            key: scim_admin::read_webhook_key(&sdk, secret)
                .await
                .map_err(|e| e.to_string())?,
            queue: cli
                .webhook_queue
                .map(|url| SqsWebhookQueue::new(&aws_sdk_sqs::Config::from(&sdk), url, None)),
            urls: UrlPolicy {
                allow_private: cli.webhook_allow_private,
            },
        });
    }
    if let Some(bus) = cli.event_bus {
        admin = admin.with_bus(scim_bus::EventBridgeBus::new(
            &aws_sdk_eventbridge::Config::from(&sdk),
            bus,
        ));
    }
    let name = command.name();
    let result = admin
        .execute(command, &scim_admin::now())
        .await
        .map_err(|e| e.to_string())?;
    print(name, &result, cli.json)
}

fn print(command: &str, result: &Value, json: bool) -> Result<(), String> {
    let field = |v: &Value, k: &str| v[k].as_str().unwrap_or("-").to_string();
    match command {
        "webhooks.create" | "webhooks.rotate" => {
            eprintln!(
                "Webhook {} signs with the secret below (give it to the receiver; \
                 `webhooks secret` shows it again):",
                field(&result["endpoint"], "id"),
            );
            println!(
                "{}",
                serde_json::to_string_pretty(result).map_err(|e| e.to_string())?
            );
        }
        "token.issue" | "token.rotate" => {
            eprintln!(
                "Issued token {} ({}) for tenant {}{}. It is shown once:",
                field(result, "prefix"),
                field(result, "name"),
                field(result, "tenant"),
                result["rotated_from"]
                    .as_str()
                    .map(|old| format!(
                        ", replacing {old} (revoke it once the IdP uses the new one)"
                    ))
                    .unwrap_or_default(),
            );
            println!("{}", field(result, "token"));
        }
        "tenant.list" if !json => {
            for t in result.as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\t{}\t{}",
                    field(t, "tenant_id"),
                    field(t, "name"),
                    field(t, "status"),
                    field(t, "created")
                );
            }
        }
        "token.list" if !json => {
            println!("prefix\tname\tcreated\tlast_used\trevoked\trotated_from");
            for k in result.as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    field(k, "prefix"),
                    field(k, "name"),
                    field(k, "created"),
                    field(k, "last_used"),
                    field(k, "revoked_at"),
                    field(k, "rotated_from"),
                );
            }
        }
        _ => println!(
            "{}",
            serde_json::to_string_pretty(result).map_err(|e| e.to_string())?
        ),
    }
    Ok(())
}
