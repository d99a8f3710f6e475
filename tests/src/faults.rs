//! DynamoDB and EventBridge faults, as the local stand-in can make them fail (`scripts/moto_server.py`,
//! `/_faults`).

use serde_json::Value;

/// How DynamoDB fails, as the local stand-in can make it fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 400 `ThrottlingException`; nothing is written.
    Throttle,
    /// 400 `ProvisionedThroughputExceededException`; nothing is written.
    ProvisionedThroughput,
    /// 500 `InternalServerError`; nothing is written.
    InternalError,
    /// The request is applied, then answered 500 `InternalServerError`: a lost response.
    LostResponse,
    /// 400 `TransactionCanceledException`, every reason `TransactionConflict`.
    TransactionConflict,
    /// BatchGetItem only: 200 with no items and every key in `UnprocessedKeys`.
    Unprocessed,
    /// EventBridge PutEvents only: 200 with every entry failed (`FailedEntryCount`).
    EntriesFailed,
}

impl FaultKind {
    fn wire_name(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::ProvisionedThroughput => "provisioned",
            Self::InternalError => "internal",
            Self::LostResponse => "lost_response",
            Self::TransactionConflict => "transaction_conflict",
            Self::Unprocessed => "unprocessed",
            Self::EntriesFailed => "entries_failed",
        }
    }
}

/// Tries the SDK makes per DynamoDB call before giving up: standard retry mode, 3 attempts
/// (pinned where the functions build their DynamoDB client).
pub const SDK_ATTEMPTS: u64 = 3;

/// A fault rule in the local DynamoDB stand-in: the next `times` requests of one DynamoDB
/// operation whose body contains `matching` (after `skip` of them went through) fail as
/// DynamoDB fails. Match on a tenant key (`TENANT#<tenant>#`) or a resource id, so tests running
/// in parallel never meet each other's faults. The rule is removed when dropped.
pub struct Fault {
    url: String,
    agent: ureq::Agent,
}

impl Fault {
    /// A rule failing the next `times` matching requests.
    pub fn inject(operation: &str, matching: &str, kind: FaultKind, times: u64) -> Self {
        Self::inject_after(operation, matching, kind, times, 0)
    }

    /// A rule failing every matching request until it is dropped.
    pub fn always(operation: &str, matching: &str, kind: FaultKind) -> Self {
        Self::inject(operation, matching, kind, 1_000_000)
    }

    /// A rule letting `skip` matching requests through, then failing the next `times`.
    pub fn inject_after(
        operation: &str,
        matching: &str,
        kind: FaultKind,
        times: u64,
        skip: u64,
    ) -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .expect("AWS_ENDPOINT_URL is not set: run the tests with scripts/integration.sh");
        let agent = crate::client::agent();
        let rule = serde_json::json!({
            "operation": operation,
            "match": matching,
            "fault": kind.wire_name(),
            "times": times,
            "skip": skip,
        });
        let mut response = agent
            .post(&format!("{endpoint}/_faults"))
            .header("Content-Type", "application/json")
            .send(rule.to_string())
            .expect("the local DynamoDB stand-in answers /_faults");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(response.status().as_u16(), 201, "add fault rule: {text}");
        let created: Value = serde_json::from_str(&text).expect("a fault rule");
        Self {
            url: format!("{endpoint}/_faults/{}", created["id"]),
            agent,
        }
    }

    /// How many requests this rule has failed so far.
    pub fn hits(&self) -> u64 {
        let mut response = self.agent.get(&self.url).call().expect("read fault rule");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let rule: Value = serde_json::from_str(&text).expect("a fault rule");
        rule["hits"].as_u64().expect("hits")
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.url).call();
    }
}
