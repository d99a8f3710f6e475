//! Metrics in CloudWatch Embedded Metric Format (EMF), carried by the log lines we already write.
//!
//! Every log line is one flat JSON object (`level`, `message` and the event's fields at the top
//! level). A line whose `message` names one of the [`METRIC_SETS`] (`request`, `audit batch`, `events batch`)
//! also carries the `_aws` block that tells CloudWatch Logs to turn some of its numeric fields
//! into metrics: no `PutMetricData` call, no second line, no agent. The other fields stay
//! properties that Logs Insights can search (docs/RUNBOOK.md, "Metrics").
//!
//! Why not a crate: `metrics_cloudwatch_embedded` and `metrique-writer-format-emf` both write
//! their own EMF document (a second line per request, or a flush per invocation) through their
//! own pipeline, and bring the `metrics` facade or metrique's writer stack with them. EMF is a
//! small documented JSON block; writing it into the line `tracing` already emits is less code
//! than adapting either.
//!
//! Dimensions are bounded by construction: the function (`users`, `groups`, `discovery`,
//! `audit`) and the operation (`user.create`, ... a fixed list in `routes.rs`). Tenant ids and
//! token prefixes are never dimensions: their number grows with the customer base, and each
//! distinct dimension value is a metric billed by the month.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The environment variable naming the metrics' namespace (the template sets
/// `SCIM/<stack name>`, so two stacks in one account keep their metrics apart).
pub const NAMESPACE_ENV: &str = "SCIM_METRICS_NAMESPACE";
/// The namespace when [`NAMESPACE_ENV`] is unset.
pub const DEFAULT_NAMESPACE: &str = "SCIM";

/// A CloudWatch unit (the subset we use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Seconds => "Seconds",
        }
    }
}

/// One EMF directive: these metrics, published under each of these dimension sets.
#[derive(Debug)]
pub struct Directive {
    pub dimensions: &'static [&'static [&'static str]],
    pub metrics: &'static [(&'static str, Unit)],
}

/// The metrics a log line with this `message` carries.
#[derive(Debug)]
pub struct MetricSet {
    pub message: &'static str,
    pub directives: &'static [Directive],
}

/// The SCIM functions' request line (`App::handle`): per function and operation, and per
/// function alone (the totals that alarms and the dashboard's overview use).
pub const REQUEST: MetricSet = MetricSet {
    message: "request",
    directives: &[
        Directive {
            dimensions: &[&["function", "operation"], &["function"]],
            metrics: &[
                ("requests", Unit::Count),
                ("duration_ms", Unit::Milliseconds),
                ("dynamodb_calls", Unit::Count),
                ("status_2xx", Unit::Count),
                ("status_4xx", Unit::Count),
                ("status_5xx", Unit::Count),
                ("status_401", Unit::Count),
                ("status_429", Unit::Count),
            ],
        },
        // Access control, per function only: it does not depend on the operation.
        Directive {
            dimensions: &[&["function"]],
            metrics: &[
                ("rate_limited", Unit::Count),
                ("token_cache", Unit::Count),
                ("token_table", Unit::Count),
            ],
        },
    ],
};

/// The audit function's line per stream batch.
pub const AUDIT_BATCH: MetricSet = MetricSet {
    message: "audit batch",
    directives: &[Directive {
        dimensions: &[&["function"]],
        metrics: &[
            ("records_received", Unit::Count),
            ("records_written", Unit::Count),
            ("records_failed", Unit::Count),
            ("records_retried", Unit::Count),
        ],
    }],
};

/// The events function's line per batch: records in, events published to the bus, events
/// still refused after the in-invocation retries, entries sent again, and whether the batch
/// reported a record for Lambda to retry from.
pub const EVENTS_BATCH: MetricSet = MetricSet {
    message: "events batch",
    directives: &[Directive {
        dimensions: &[&["function"]],
        metrics: &[
            ("records_received", Unit::Count),
            ("events_published", Unit::Count),
            ("events_failed", Unit::Count),
            ("events_resent", Unit::Count),
            ("batch_item_failures", Unit::Count),
            ("webhooks_queued", Unit::Count),
        ],
    }],
};

/// The webhooks function's line per batch: deliveries made, retried (hidden for their
/// backoff), moved to the dead-letter queue past the retry window, dropped (endpoint deleted),
/// held behind a failed one of their group, and the longest time a delivery waited in the queue.
pub const WEBHOOKS_BATCH: MetricSet = MetricSet {
    message: "webhooks batch",
    directives: &[Directive {
        dimensions: &[&["function"]],
        metrics: &[
            ("deliveries_succeeded", Unit::Count),
            ("deliveries_retried", Unit::Count),
            ("deliveries_dead_lettered", Unit::Count),
            ("deliveries_dropped", Unit::Count),
            ("deliveries_held", Unit::Count),
            ("delivery_age_max_seconds", Unit::Seconds),
        ],
    }],
};

pub const METRIC_SETS: &[MetricSet] = &[REQUEST, AUDIT_BATCH, EVENTS_BATCH, WEBHOOKS_BATCH];

/// The `_aws` block for a log line, or `None` when its message has no metric set. Only the
/// metrics the line holds as numbers are declared, and only the dimension sets whose values it
/// holds as strings (EMF rejects a declared metric or dimension that is missing).
pub fn metadata(namespace: &str, line: &Map<String, Value>, timestamp_ms: u64) -> Option<Value> {
    let message = line.get("message").and_then(Value::as_str)?;
    let set = METRIC_SETS.iter().find(|s| s.message == message)?;
    let directives: Vec<Value> = set
        .directives
        .iter()
        .filter_map(|directive| {
            let dimensions: Vec<&[&str]> = directive
                .dimensions
                .iter()
                .copied()
                .filter(|keys| {
                    keys.iter()
                        .all(|k| line.get(*k).is_some_and(Value::is_string))
                })
                .collect();
            let metrics: Vec<Value> = directive
                .metrics
                .iter()
                .filter(|(name, _)| line.get(*name).is_some_and(Value::is_number))
                .map(|(name, unit)| json!({"Name": name, "Unit": unit.as_str()}))
                .collect();
            (!dimensions.is_empty() && !metrics.is_empty()).then(
                || json!({"Namespace": namespace, "Dimensions": dimensions, "Metrics": metrics}),
            )
        })
        .collect();
    (!directives.is_empty())
        .then(|| json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}))
}

/// The `tracing` formatter of every function: one flat JSON object per line, with the `_aws`
/// block on the lines that carry metrics. The fields of the spans around the event join the
/// line (lambda_runtime's invocation span: `requestId`, and `xrayTraceId` when X-Ray traces the
/// invocation) when the span fields are recorded as JSON (`JsonFields`, as `init_tracing` does).
#[derive(Debug, Clone)]
pub struct JsonLines {
    namespace: String,
}

impl JsonLines {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
        }
    }

    /// The namespace from [`NAMESPACE_ENV`], else [`DEFAULT_NAMESPACE`].
    pub fn from_env() -> Self {
        Self::new(
            std::env::var(NAMESPACE_ENV)
                .ok()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
        )
    }

    /// The JSON object of one event (without a line break).
    pub fn line(&self, event: &Event<'_>, timestamp_ms: u64) -> Map<String, Value> {
        let mut line = Map::new();
        line.insert(
            "level".into(),
            Value::from(event.metadata().level().as_str()),
        );
        event.record(&mut Fields(&mut line));
        if let Some(aws) = metadata(&self.namespace, &line, timestamp_ms) {
            line.insert("_aws".into(), aws);
        }
        line
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut line = self.line(event, now);
        for span in ctx.event_scope().into_iter().flat_map(|s| s.from_root()) {
            let extensions = span.extensions();
            let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                continue;
            };
            if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&fields.fields) {
                for (name, value) in fields {
                    line.entry(name).or_insert(value);
                }
            }
        }
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Records an event's fields as JSON values (numbers and booleans stay typed).
struct Fields<'a>(&'a mut Map<String, Value>);

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_string(), value);
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Captures what the formatter writes.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn lines(emit: impl FnOnce()) -> Vec<Value> {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines::new("SCIM/test"))
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = capture.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect()
    }

    #[test]
    fn a_request_line_is_one_flat_json_object_with_its_metrics_declared() {
        let out = lines(|| {
            tracing::info!(
                function = "users",
                operation = "user.get",
                tenant = "acme",
                status = 200u16,
                requests = 1u64,
                duration_ms = 12u64,
                dynamodb_calls = 1u64,
                status_5xx = 0u64,
                token_cache = 1u64,
                "request"
            );
        });
        assert_eq!(out.len(), 1, "{out:?}");
        let line = &out[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "request");
        assert_eq!(line["tenant"], "acme");
        assert_eq!(line["duration_ms"], 12);
        let aws = &line["_aws"];
        assert!(aws["Timestamp"].as_u64().is_some_and(|t| t > 0));
        let directives = aws["CloudWatchMetrics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(directives.len(), 2);
        assert_eq!(directives[0]["Namespace"], "SCIM/test");
        assert_eq!(
            directives[0]["Dimensions"],
            json!([["function", "operation"], ["function"]])
        );
        assert_eq!(
            directives[0]["Metrics"],
            json!([
                {"Name": "requests", "Unit": "Count"},
                {"Name": "duration_ms", "Unit": "Milliseconds"},
                {"Name": "dynamodb_calls", "Unit": "Count"},
                {"Name": "status_5xx", "Unit": "Count"},
            ])
        );
        assert_eq!(directives[1]["Dimensions"], json!([["function"]]));
        assert_eq!(
            directives[1]["Metrics"],
            json!([{"Name": "token_cache", "Unit": "Count"}])
        );
        // The tenant is a property, never a dimension.
        assert!(!aws.to_string().contains("tenant"));
    }

    #[test]
    fn the_invocation_span_fields_join_the_line_without_overriding_the_event() {
        let out = lines(|| {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "r-1", status = 7);
            let _entered = span.enter();
            tracing::info!(status = 200u16, "request");
        });
        assert_eq!(out[0]["requestId"], "r-1", "{out:?}");
        assert_eq!(out[0]["status"], 200);
    }

    #[test]
    fn other_lines_carry_no_metrics_and_keep_their_types() {
        let out = lines(|| {
            tracing::warn!(
                limit = 5u64,
                ok = false,
                error = "boom",
                "rate limit reached"
            );
        });
        assert_eq!(out[0]["level"], "WARN");
        assert_eq!(out[0]["limit"], 5);
        assert_eq!(out[0]["ok"], false);
        assert!(out[0].get("_aws").is_none());
    }

    #[test]
    fn a_dimension_set_whose_value_is_missing_is_not_declared() {
        let mut line = Map::new();
        line.insert("message".into(), json!("request"));
        line.insert("function".into(), json!("discovery"));
        line.insert("requests".into(), json!(1));
        let aws = metadata("SCIM", &line, 1).unwrap_or_default();
        assert_eq!(
            aws["CloudWatchMetrics"][0]["Dimensions"],
            json!([["function"]])
        );
        line.remove("function");
        assert!(metadata("SCIM", &line, 1).is_none());
    }
}
