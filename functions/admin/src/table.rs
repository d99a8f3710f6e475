//! Local-stack setup: the table exactly as template.yaml declares it, and the key secret.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

fn attr(name: &str) -> Result<AttributeDefinition, String> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| e.to_string())
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, String> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| e.to_string())
}

/// The stream the audit function reads (template.yaml: StreamSpecification).
fn stream() -> Result<StreamSpecification, String> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .map_err(|e| e.to_string())
}

/// `SCIM_LOCAL_AUDIT=0` leaves the local table without a stream (and scripts/local.sh without the
/// stream pump): the serialised local server then does no audit work, which the 50,000-member
/// scale run (`make test-scale`) does not need.
fn local_audit() -> bool {
    std::env::var("SCIM_LOCAL_AUDIT").map_or(true, |v| v != "0")
}

pub async fn create_table(client: &Client, table: &str) -> Result<(), String> {
    if let Ok(existing) = client.describe_table().table_name(table).send().await {
        let streams = existing
            .table()
            .and_then(|t| t.stream_specification())
            .is_some_and(|s| s.stream_enabled());
        if !streams && local_audit() {
            client
                .update_table()
                .table_name(table)
                .stream_specification(stream()?)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "enable stream: {}",
                        aws_sdk_dynamodb::error::DisplayErrorContext(e)
                    )
                })?;
            eprintln!("table {table} exists; stream enabled");
        } else {
            eprintln!("table {table} exists");
        }
        return Ok(());
    }
    let gsi1 = GlobalSecondaryIndex::builder()
        .index_name("gsi1")
        .key_schema(key("gsi1pk", KeyType::Hash)?)
        .key_schema(key("gsi1sk", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| e.to_string())?;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .attribute_definitions(attr("gsi1pk")?)
        .attribute_definitions(attr("gsi1sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(gsi1)
        .set_stream_specification(if local_audit() { Some(stream()?) } else { None })
        .send()
        .await
        .map_err(|e| {
            format!(
                "create table: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        })?;
    // Audit records expire through TTL on `expires_at` (epoch seconds), as in template.yaml.
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| {
            format!(
                "enable TTL: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        })?;
    eprintln!("created table {table}");
    Ok(())
}

pub async fn create_secret(sdk: &aws_config::SdkConfig, name: &str) -> Result<(), String> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    if client
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .is_ok()
    {
        eprintln!("secret {name} exists");
        return Ok(());
    }
    let key = client
        .get_random_password()
        .password_length(64)
        .exclude_punctuation(true)
        .send()
        .await
        .map_err(|e| {
            format!(
                "random key: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?
        .random_password
        .ok_or("no random key returned")?;
    client
        .create_secret()
        .name(name)
        .secret_string(key)
        .send()
        .await
        .map_err(|e| {
            format!(
                "create secret: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    eprintln!("created secret {name}");
    Ok(())
}
