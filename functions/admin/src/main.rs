//! `scim-admin`: the operator CLI. Tenants and tokens for any deployment (it uses the standard
//! AWS credential chain), plus `create-table`/`create-secret` for the local stack.
//!
//! Tokens are printed once, on the last line of stdout, and never logged.

use clap::{Parser, Subcommand};
use scim_core::ids::TenantId;
use scim_store::tokens::TokenHasher;
use scim_store::{Store, TenantItem, TENANT_ACTIVE, TENANT_DISABLED};

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table as template.yaml defines it (local stack; idempotent).
    CreateTable,
    /// Create the token key secret with a random key (local stack; idempotent).
    CreateSecret,
    #[command(subcommand)]
    Tenant(TenantCommand),
    #[command(subcommand)]
    Token(TokenCommand),
    /// What the platform reads: projects, members with roles, a user's projects (JSON).
    #[command(subcommand)]
    Platform(PlatformCommand),
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
    /// Disable a tenant: its tokens are refused (within the verification cache time).
    Disable {
        name: String,
    },
    Enable {
        name: String,
    },
    /// Change a tenant's settings.
    Settings {
        name: String,
        /// ADMIN, MEMBER or OPERATOR: the platform role of users sent without one.
        #[arg(long)]
        default_platform_role: Option<String>,
        /// ADMIN, EDITOR or VIEWER: the role of members of new projects.
        #[arg(long)]
        default_project_role: Option<String>,
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
    /// List a tenant's tokens (prefix, name, created, last used, revoked).
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
}

fn now() -> String {
    scim_core::datetime::format(time::OffsetDateTime::now_utc())
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
    match cli.command {
        Command::CreateTable => table::create_table(store.client(), &cli.table).await,
        Command::CreateSecret => table::create_secret(&sdk, &cli.secret).await,
        Command::Tenant(cmd) => tenant(&store, cmd).await,
        Command::Platform(cmd) => platform(&store, cmd).await,
        Command::Token(cmd) => {
            let key = table::read_secret(&sdk, &cli.secret).await?;
            let hasher = TokenHasher::new(key.as_bytes()).map_err(|e| e.to_string())?;
            token(&store, &hasher, cmd).await
        }
    }
}

async fn find(store: &Store, name: &str) -> Result<TenantItem, String> {
    store
        .find_tenant(name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no tenant named {name:?}"))
}

fn tenant_id(t: &TenantItem) -> Result<TenantId, String> {
    TenantId::parse(&t.tenant_id).ok_or_else(|| "malformed tenant id".to_string())
}

async fn tenant(store: &Store, cmd: TenantCommand) -> Result<(), String> {
    match cmd {
        TenantCommand::Create { name } => {
            let t = store
                .ensure_tenant(&name, &now())
                .await
                .map_err(|e| e.to_string())?;
            println!("{}\t{}\t{}", t.tenant_id, t.name, t.status);
        }
        TenantCommand::List => {
            for t in store.list_tenants().await.map_err(|e| e.to_string())? {
                println!("{}\t{}\t{}\t{}", t.tenant_id, t.name, t.status, t.created);
            }
        }
        TenantCommand::Disable { name } => {
            let t = find(store, &name).await?;
            store
                .set_tenant_status(&tenant_id(&t)?, TENANT_DISABLED)
                .await
                .map_err(|e| e.to_string())?;
            println!("disabled {name}");
        }
        TenantCommand::Enable { name } => {
            let t = find(store, &name).await?;
            store
                .set_tenant_status(&tenant_id(&t)?, TENANT_ACTIVE)
                .await
                .map_err(|e| e.to_string())?;
            println!("enabled {name}");
        }
        TenantCommand::Settings {
            name,
            default_platform_role,
            default_project_role,
        } => {
            let t = find(store, &name).await?;
            let mut settings = t.settings.clone();
            if let Some(role) = default_platform_role {
                let role = role.to_ascii_uppercase();
                if !scim_core::schema::PLATFORM_ROLES.contains(&role.as_str()) {
                    return Err(format!("{role} is not ADMIN, MEMBER or OPERATOR"));
                }
                settings.default_platform_role = Some(role);
            }
            if let Some(role) = default_project_role {
                let role = role.to_ascii_uppercase();
                if !scim_edge::config::PROJECT_ROLES.contains(&role.as_str()) {
                    return Err(format!("{role} is not ADMIN, EDITOR or VIEWER"));
                }
                settings.default_project_role = Some(role);
            }
            store
                .set_tenant_settings(&tenant_id(&t)?, &settings)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string(&settings).map_err(|e| e.to_string())?
            );
        }
    }
    Ok(())
}

fn resource_id(text: &str) -> Result<scim_core::ids::ResourceId, String> {
    scim_core::ids::ResourceId::parse(text).ok_or_else(|| format!("{text:?} is not a resource id"))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).map_err(|e| e.to_string())?
    );
    Ok(())
}

async fn platform(store: &Store, cmd: PlatformCommand) -> Result<(), String> {
    match cmd {
        PlatformCommand::Projects { tenant } => {
            let t = tenant_id(&find(store, &tenant).await?)?;
            print_json(&store.projects(&t).await.map_err(|e| e.to_string())?)
        }
        PlatformCommand::Members { tenant, project } => {
            let t = tenant_id(&find(store, &tenant).await?)?;
            let members = store
                .project_members(&t, &resource_id(&project)?)
                .await
                .map_err(|e| e.to_string())?;
            print_json(&members)
        }
        PlatformCommand::User { tenant, user } => {
            let t = tenant_id(&find(store, &tenant).await?)?;
            let item = store
                .get_user_record(&t, &resource_id(&user)?)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no user {user}"))?;
            print_json(&serde_json::json!({
                "id": item.id,
                "user_name": item.user_name,
                "active": item.active,
                "platform_role": item.platform_role,
                "deleted_at": item.deleted_at,
            }))
        }
        PlatformCommand::UserProjects { tenant, user } => {
            let t = tenant_id(&find(store, &tenant).await?)?;
            let projects = store
                .user_projects(&t, &resource_id(&user)?)
                .await
                .map_err(|e| e.to_string())?;
            print_json(&projects)
        }
    }
}

async fn token(store: &Store, hasher: &TokenHasher, cmd: TokenCommand) -> Result<(), String> {
    match cmd {
        TokenCommand::Issue {
            tenant,
            name,
            create_tenant,
        } => {
            let t = if create_tenant {
                store
                    .ensure_tenant(&tenant, &now())
                    .await
                    .map_err(|e| e.to_string())?
            } else {
                find(store, &tenant).await?
            };
            let issued = store
                .issue_token(&tenant_id(&t)?, &name, hasher, &now())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "Issued token {} ({name}) for tenant {tenant}. It is shown once:",
                issued.prefix
            );
            println!("{}", issued.plaintext);
        }
        TokenCommand::List { tenant } => {
            let t = find(store, &tenant).await?;
            println!("prefix\tname\tcreated\tlast_used\trevoked");
            for k in store
                .list_tokens(&tenant_id(&t)?)
                .await
                .map_err(|e| e.to_string())?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    k.prefix,
                    k.name,
                    k.created,
                    k.last_used.as_deref().unwrap_or("-"),
                    k.revoked_at.as_deref().unwrap_or("-")
                );
            }
        }
        TokenCommand::Revoke { tenant, prefix } => {
            let t = find(store, &tenant).await?;
            if store
                .revoke_token(&tenant_id(&t)?, &prefix, &now())
                .await
                .map_err(|e| e.to_string())?
            {
                println!("revoked {prefix}");
            } else {
                return Err(format!("tenant {tenant} has no token {prefix}"));
            }
        }
    }
    Ok(())
}
