//! A DynamoDB stand-in for unit tests: a [`Store`] whose SDK client talks to a function instead
//! of the network. Every call is recorded (operation and request body), so tests can assert
//! exactly which DynamoDB calls an operation makes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::store::{to_item, Item, Store};

/// The table name the fake store uses.
pub(crate) const TABLE: &str = "t";

/// Answers one call: (operation, request body) to (HTTP status, response body).
type Answer = dyn Fn(&str, &Value) -> (u16, Value) + Send + Sync;

/// One recorded call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// `Query`, `GetItem`, `TransactWriteItems`, ...
    pub(crate) op: String,
    pub(crate) body: Value,
}

#[derive(Clone)]
pub(crate) struct Fake {
    calls: Arc<Mutex<Vec<Call>>>,
    answer: Arc<Answer>,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fake")
    }
}

impl HttpClient for Fake {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for Fake {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let op = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .trim_start_matches("DynamoDB_20120810.")
            .to_string();
        let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or_default())
            .unwrap_or(Value::Null);
        let (status, answer) = (self.answer)(&op, &body);
        self.calls.lock().unwrap().push(Call { op, body });
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(answer.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl Fake {
    /// A store answered by `answer`, and the fake that records its calls.
    pub(crate) fn store(
        answer: impl Fn(&str, &Value) -> (u16, Value) + Send + Sync + 'static,
    ) -> (Store, Fake) {
        let fake = Fake {
            calls: Arc::default(),
            answer: Arc::new(answer),
        };
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "fake"))
            .retry_config(RetryConfig::disabled())
            .http_client(fake.clone())
            .build();
        (Store::new(&config, TABLE), fake)
    }

    /// Every call so far.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The operations called so far, in order.
    pub(crate) fn ops(&self) -> Vec<String> {
        self.calls().into_iter().map(|c| c.op).collect()
    }
}

/// A successful answer.
pub(crate) fn ok(body: Value) -> (u16, Value) {
    (200, body)
}

/// A transaction cancelled with these per-item codes (`None` for the items that were fine).
pub(crate) fn cancelled(codes: &[&str]) -> (u16, Value) {
    let reasons: Vec<Value> = codes.iter().map(|c| json!({"Code": c})).collect();
    (
        400,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled",
            "CancellationReasons": reasons,
        }),
    )
}

/// A failed condition of a single-item write.
pub(crate) fn condition_failed() -> (u16, Value) {
    (
        400,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
        }),
    )
}

/// An item in DynamoDB's JSON wire format.
pub(crate) fn wire<T: Serialize>(value: &T) -> Value {
    wire_item(&to_item(value).unwrap())
}

pub(crate) fn wire_item(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), wire_value(v)))
            .collect::<Map<_, _>>(),
    )
}

fn wire_value(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Ss(ss) => json!({ "SS": ss }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(wire_value).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": wire_item(m) }),
        _ => json!({ "NULL": true }),
    }
}

/// A key in the wire format (for `LastEvaluatedKey`).
pub(crate) fn wire_key(pk: &str, sk: &str) -> Value {
    wire_item(&HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("sk".to_string(), AttributeValue::S(sk.into())),
    ]))
}

/// The `TransactItems` of a recorded TransactWriteItems call.
pub(crate) fn transact_items(call: &Call) -> Vec<Value> {
    call.body["TransactItems"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
