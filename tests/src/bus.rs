//! The provisioning events a platform receives from the local EventBridge bus (moto), the way a
//! platform subscribes in AWS: a rule on the bus, here matching one tenant's events, with an
//! SQS queue as its target. Each tap has its own rule and queue, so tests running in parallel
//! never read each other's events. Spoken through moto's JSON APIs, like any AWS client.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::names::unique;

/// How long the stream pump and the events function may take to deliver. Usually a second or
/// two; but the local server is serialised, so while another test writes thousands of members
/// the stream falls behind and drains afterwards (as for the audit trail).
pub const CATCH_UP: Duration = Duration::from_secs(180);

/// A tenant's events as they arrive on an SQS queue of its own.
pub struct EventTap {
    endpoint: String,
    agent: ureq::Agent,
    bus: String,
    name: String,
    queue_url: String,
    /// Every envelope received so far, in arrival order.
    received: Vec<Value>,
}

impl EventTap {
    /// A rule for the events of the tenant with id `tenant_id`, to a new queue.
    pub fn for_tenant(tenant_id: &str) -> Self {
        Self::for_tenant_types(tenant_id, &[])
    }

    /// A rule for the tenant's events of the given types only (all types when empty), as a
    /// platform subscribes to what it acts on.
    pub fn for_tenant_types(tenant_id: &str, types: &[&str]) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .expect("AWS_ENDPOINT_URL is not set: run the tests with scripts/integration.sh");
        let bus = std::env::var("EVENT_BUS_NAME")
            .expect("EVENT_BUS_NAME is not set: run the tests with scripts/integration.sh");
        let name = unique("tap");
        let mut tap = Self {
            endpoint,
            agent: crate::client::agent(),
            bus,
            name,
            queue_url: String::new(),
            received: Vec::new(),
        };
        let queue = tap.sqs("CreateQueue", &json!({"QueueName": tap.name}));
        tap.queue_url = queue["QueueUrl"].as_str().expect("a queue url").to_string();
        let attributes = tap.sqs(
            "GetQueueAttributes",
            &json!({"QueueUrl": tap.queue_url, "AttributeNames": ["QueueArn"]}),
        );
        let arn = attributes["Attributes"]["QueueArn"].clone();
        let mut pattern =
            json!({"source": ["scim.provisioning"], "detail": {"tenant": [tenant_id]}});
        if !types.is_empty() {
            pattern["detail-type"] = json!(types);
        }
        tap.events(
            "PutRule",
            &json!({"Name": tap.name, "EventBusName": tap.bus, "EventPattern": pattern.to_string()}),
        );
        tap.events(
            "PutTargets",
            &json!({"Rule": tap.name, "EventBusName": tap.bus, "Targets": [{"Id": "tap", "Arn": arn}]}),
        );
        tap
    }

    /// The events received once at least `expected` have arrived, or when [`CATCH_UP`] has
    /// passed (the caller's assertions then show what is missing): the envelopes' `detail`s.
    pub fn wait_for(&mut self, expected: usize) -> Vec<Value> {
        self.wait_for_within(expected, CATCH_UP)
    }

    /// [`Self::wait_for`] with a time limit of its own (a test that makes thousands of changes).
    pub fn wait_for_within(&mut self, expected: usize, limit: Duration) -> Vec<Value> {
        let started = Instant::now();
        while self.received.len() < expected && started.elapsed() < limit {
            if !self.receive() {
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        self.details()
    }

    /// Every event received after waiting `quiet` more, for asserting that nothing else came.
    pub fn settle(&mut self, quiet: Duration) -> Vec<Value> {
        let started = Instant::now();
        while started.elapsed() < quiet {
            if !self.receive() {
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        self.details()
    }

    /// The whole EventBridge envelopes received so far (`source`, `detail-type`, `detail`, ...).
    pub fn envelopes(&self) -> &[Value] {
        &self.received
    }

    fn details(&self) -> Vec<Value> {
        self.received.iter().map(|e| e["detail"].clone()).collect()
    }

    /// Takes what the queue holds now; whether there was anything.
    fn receive(&mut self) -> bool {
        let out = self.sqs(
            "ReceiveMessage",
            &json!({"QueueUrl": self.queue_url, "MaxNumberOfMessages": 10}),
        );
        let messages = out["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            return false;
        }
        let mut receipts = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let body = message["Body"].as_str().expect("a message body");
            self.received
                .push(serde_json::from_str(body).expect("an EventBridge envelope"));
            receipts.push(json!({"Id": i.to_string(), "ReceiptHandle": message["ReceiptHandle"]}));
        }
        self.sqs(
            "DeleteMessageBatch",
            &json!({"QueueUrl": self.queue_url, "Entries": receipts}),
        );
        true
    }

    fn sqs(&self, action: &str, body: &Value) -> Value {
        self.call(
            "sqs",
            &format!("AmazonSQS.{action}"),
            "application/x-amz-json-1.0",
            body,
        )
    }

    fn events(&self, action: &str, body: &Value) -> Value {
        self.call(
            "events",
            &format!("AWSEvents.{action}"),
            "application/x-amz-json-1.1",
            body,
        )
    }

    /// One AWS JSON call; moto routes it by the credential scope and does not check signatures.
    fn call(&self, service: &str, target: &str, content_type: &str, body: &Value) -> Value {
        self.try_call(service, target, content_type, body)
            .unwrap_or_else(|e| panic!("{target}: {e}"))
    }

    fn try_call(
        &self,
        service: &str,
        target: &str,
        content_type: &str,
        body: &Value,
    ) -> Result<Value, String> {
        let scope = format!(
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let mut response = self
            .agent
            .post(&format!("{}/", self.endpoint))
            .header("X-Amz-Target", target)
            .header("Content-Type", content_type)
            .header("Authorization", &scope)
            .send(body.to_string())
            .map_err(|e| e.to_string())?;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if response.status().as_u16() != 200 {
            return Err(format!("{}: {text}", response.status()));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

impl Drop for EventTap {
    /// Removes the rule and the queue; best effort, and never a panic (a test that failed is
    /// already unwinding).
    fn drop(&mut self) {
        let (name, bus) = (&self.name, &self.bus);
        let events = "application/x-amz-json-1.1";
        let _ = self.try_call(
            "events",
            "AWSEvents.RemoveTargets",
            events,
            &json!({"Rule": name, "EventBusName": bus, "Ids": ["tap"]}),
        );
        let _ = self.try_call(
            "events",
            "AWSEvents.DeleteRule",
            events,
            &json!({"Name": name, "EventBusName": bus}),
        );
        let _ = self.try_call(
            "sqs",
            "AmazonSQS.DeleteQueue",
            "application/x-amz-json-1.0",
            &json!({"QueueUrl": self.queue_url}),
        );
    }
}
