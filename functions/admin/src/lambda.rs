//! The admin function: tenant and token administration for the platform's backend. It has no
//! HTTP route; callers invoke it directly (`lambda:InvokeFunction`, authorised by IAM) with a
//! JSON command such as `{"command": "token.issue", "tenant": "acme", "name": "Okta - Production"}`
//! and get `{"ok": true, "result": ...}` or `{"ok": false, "error": {"code": ..., "message": ...}}`.
//! The commands are the CLI's (see `scim_admin::Command`).

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use scim_admin::{Admin, Command};
use scim_store::Store;
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    scim_edge::lambda::init_tracing();
    let admin = Arc::new(build().await.map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        lambda_runtime::Error::from(e)
    })?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let admin = Arc::clone(&admin);
        async move { Ok::<Value, lambda_runtime::Error>(handle(&admin, event).await) }
    }))
    .await
}

async fn build() -> Result<Admin, String> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is required")?;
    let secret =
        std::env::var("TOKEN_KEY_SECRET_ID").map_err(|_| "TOKEN_KEY_SECRET_ID is required")?;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let hasher = scim_admin::read_token_key(&sdk, &secret)
        .await
        .map_err(|e| e.to_string())?;
    let store = Store::new(&aws_sdk_dynamodb::Config::from(&sdk), table);
    // Only the local stack sets this (its webhook receiver and test JWKS are on 127.0.0.1).
    let allow_private = std::env::var("SCIM_WEBHOOK_ALLOW_PRIVATE").is_ok_and(|v| v == "1");
    let mut admin = Admin::new(store, Some(hasher))
        .with_outbound_urls(scim_ops::webhooks::UrlPolicy { allow_private });
    // Webhook secrets are derived from the webhook key; replays to a webhook go to its queue.
    if let Ok(secret) = std::env::var("WEBHOOK_KEY_SECRET_ID") {
        let key = scim_admin::read_webhook_key(&sdk, &secret)
            .await
            .map_err(|e| e.to_string())?;
        let queue = std::env::var("WEBHOOK_QUEUE_URL").ok().map(|url| {
            scim_bus::queue::SqsWebhookQueue::new(&aws_sdk_sqs::Config::from(&sdk), url, None)
        });
        admin = admin.with_webhooks(scim_admin::WebhookSetup {
            key,
            queue,
            // Only the local stack sets this (its receiver is on 127.0.0.1).
            urls: scim_ops::webhooks::UrlPolicy {
                allow_private: std::env::var("SCIM_WEBHOOK_ALLOW_PRIVATE").is_ok_and(|v| v == "1"),
            },
        });
    }
    // Replays go to the stack's provisioning event bus.
    Ok(match std::env::var("EVENT_BUS_NAME") {
        Ok(bus) => admin.with_bus(scim_bus::EventBridgeBus::new(
            &aws_sdk_eventbridge::Config::from(&sdk),
            bus,
        )),
        Err(_) => admin,
    })
}

async fn handle(admin: &Admin, event: LambdaEvent<Value>) -> Value {
    let request_id = event.context.request_id.clone();
    let outcome = match Command::from_json(event.payload) {
        Ok(command) => {
            let name = command.name();
            let change = command.is_change();
            let result = admin.execute(command, &scim_admin::now()).await;
            // Never log the result: it may hold a new token's plaintext.
            tracing::info!(
                request_id,
                command = name,
                change,
                ok = result.is_ok(),
                error = result.as_ref().err().map(|e| e.code()),
                "admin command"
            );
            result
        }
        Err(err) => {
            tracing::info!(request_id, error = err.code(), "admin command refused");
            Err(err)
        }
    };
    match outcome {
        Ok(result) => json!({"ok": true, "result": result}),
        Err(err) => json!({"ok": false, "error": {"code": err.code(), "message": err.to_string()}}),
    }
}
