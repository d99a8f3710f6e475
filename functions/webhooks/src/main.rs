//! The webhooks function: receives batches of the webhook FIFO queue (SQS event source mapping,
//! `ReportBatchItemFailures`), POSTs each delivery to its endpoint, signed, and reports the ones
//! to try again (`scim_ops::webhooks::deliver`: backoff, order per resource, dead-lettering past
//! the retry window; adapters in `scim_bus` and `scim_store`). Wiring only.
//!
//! Configuration: `TABLE_NAME`, `WEBHOOK_QUEUE_URL`, `WEBHOOK_DLQ_URL`, `WEBHOOK_KEY_SECRET_ID`,
//! `SCIM_SET_ISSUER` (the `iss` of Security Event Tokens) (required); `SCIM_PLATFORM_SCHEMA_URN`; `SCIM_WEBHOOK_RETRY_FIRST_SECONDS` (30), `SCIM_WEBHOOK_RETRY_MAX_SECONDS`
//! (3600), `SCIM_WEBHOOK_RETRY_HOURS` (24), `SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS` (30),
//! `SCIM_EVENT_RETENTION_DAYS` (30: how long the delivery log keeps a delivery) and
//! `SCIM_WEBHOOK_ALLOW_PRIVATE` (`1` only on the local stack: http and private addresses).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::lambda_runtime::{self, service_fn, Error, LambdaEvent};
use scim_bus::queue::{messages_of, SqsWebhookQueue};
use scim_bus::sender::HttpSender;
use scim_ops::webhooks::{CachedEndpoints, Deliverer, Now, RetryPolicy, SetIssuer, UrlPolicy};
use scim_store::Store;
use serde_json::{json, Value};

type Webhooks = Deliverer<Store, HttpSender, Store, SqsWebhookQueue>;

fn required(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::from(format!("{name} is not set")))
}

/// A whole number from the environment, or `default` when unset.
fn number(name: &str, default: u64) -> Result<u64, Error> {
    match std::env::var(name) {
        Ok(v) => v
            .parse::<u64>()
            .map_err(|_| Error::from(format!("{name} must be a whole number"))),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    scim_edge::lambda::init_tracing();
    let table = required("TABLE_NAME")?;
    let queue_url = required("WEBHOOK_QUEUE_URL")?;
    let dead_letter_url = required("WEBHOOK_DLQ_URL")?;
    let key_secret = required("WEBHOOK_KEY_SECRET_ID")?;
    let defaults = RetryPolicy::default();
    let seconds = |name, default: Duration| -> Result<Duration, Error> {
        Ok(Duration::from_secs(number(name, default.as_secs())?.max(1)))
    };
    let retry = RetryPolicy {
        first: seconds("SCIM_WEBHOOK_RETRY_FIRST_SECONDS", defaults.first)?,
        max: seconds("SCIM_WEBHOOK_RETRY_MAX_SECONDS", defaults.max)?,
        window: Duration::from_secs(
            number("SCIM_WEBHOOK_RETRY_HOURS", defaults.window.as_secs() / 3600)? * 3600,
        ),
    };
    let cache = Duration::from_secs(number("SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS", 30)?);
    let retention_days = number("SCIM_EVENT_RETENTION_DAYS", 30)?.max(1);
    let allow_private = std::env::var("SCIM_WEBHOOK_ALLOW_PRIVATE").is_ok_and(|v| v == "1");

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let key = scim_store::tokens::load_webhook_key(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        &key_secret,
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        Error::from(e.to_string())
    })?;
    let store = Store::new(&aws_sdk_dynamodb::Config::from(&sdk), table);
    let deliverer: &Webhooks = &Deliverer {
        endpoints: CachedEndpoints::new(store.clone(), cache),
        key,
        sender: HttpSender::new(allow_private)?,
        log: store,
        queue: SqsWebhookQueue::new(
            &aws_sdk_sqs::Config::from(&sdk),
            queue_url,
            Some(dead_letter_url),
        ),
        retry,
        urls: UrlPolicy { allow_private },
        log_retention: retention_days * 86_400,
        set_issuer: SetIssuer {
            issuer: required("SCIM_SET_ISSUER")?,
            platform_schema_urn: std::env::var("SCIM_PLATFORM_SCHEMA_URN").unwrap_or_else(|_| {
                "urn:ietf:params:scim:schemas:extension:platform:2.0:User".into()
            }),
        },
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The invocation's time left, less a delivery's longest and a margin.
        let left = Duration::from_millis(event.context.deadline).saturating_sub(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        );
        let budget = left.saturating_sub(scim_bus::sender::TIMEOUT + Duration::from_secs(2));
        handle(deliverer, &event.payload, budget).await
    }))
    .await
}

fn now() -> Now {
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Now {
        epoch,
        rfc3339: scim_core::datetime::format(time::OffsetDateTime::now_utc()),
    }
}

/// Logs one `webhooks batch` line per invocation (`scim_edge::emf::WEBHOOKS_BATCH`); bodies,
/// secrets and signatures never reach the log.
async fn handle(deliverer: &Webhooks, event: &Value, budget: Duration) -> Result<Value, Error> {
    let (messages, unreadable) = messages_of(event);
    let now = now();
    let oldest = messages.iter().map(|m| m.sent_at).min();
    let report = deliverer.deliver(messages, &now, budget).await;
    let age = oldest.map_or(0, |sent| now.epoch.saturating_sub(sent));
    let failures: Vec<Value> = report
        .failed
        .iter()
        .chain(&unreadable)
        .map(|id| json!({"itemIdentifier": id}))
        .collect();
    let error = report.last_error.as_deref().or_else(|| {
        (!unreadable.is_empty()).then_some("a message without the endpoint or event attributes")
    });
    macro_rules! batch_line {
        ($level:ident) => {
            tracing::$level!(
                function = "webhooks",
                deliveries_succeeded = report.delivered as u64,
                deliveries_retried = report.retried as u64,
                deliveries_dead_lettered = report.dead_lettered as u64,
                deliveries_dropped = report.dropped as u64,
                deliveries_held = report.held as u64,
                delivery_age_max_seconds = age,
                error,
                "webhooks batch"
            )
        };
    }
    if failures.is_empty() && report.dead_lettered == 0 {
        batch_line!(info);
    } else {
        batch_line!(warn);
    }
    Ok(json!({"batchItemFailures": failures}))
}
