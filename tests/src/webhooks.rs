//! Webhook endpoints the way a platform outside AWS receives events: an endpoint registered with
//! the admin CLI on the local receiver (scripts/webhook_receiver.py), which verifies each
//! delivery's Standard Webhooks signature with the `standardwebhooks` reference library, can be
//! told to fail, and keeps what it accepted. Each hook has its own path, so tests running in
//! parallel never read each other's deliveries.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::names::unique;
use crate::platform::admin_json;

/// How long a hook waits for its deliveries. Usually seconds; but deliveries come from the
/// events function, which reads the table's stream behind every other test's writes (the
/// 6,000-member scale test's among them: it waits up to 30 minutes for its own events), so a
/// hook that starts late in the run waits for that backlog first.
pub const CATCH_UP: Duration = Duration::from_secs(1800);

/// One endpoint on the local receiver.
pub struct Hook {
    /// The endpoint's id (`wh_...`).
    pub id: String,
    /// Its signing secret (`whsec_...`), as `webhooks create` printed it.
    pub secret: String,
    receiver: String,
    name: String,
    agent: ureq::Agent,
}

fn receiver_url() -> String {
    std::env::var("SCIM_WEBHOOK_RECEIVER_URL")
        .expect("SCIM_WEBHOOK_RECEIVER_URL is not set: run the tests with scripts/integration.sh")
}

impl Hook {
    /// An endpoint for the tenant named `tenant`, of the given event types (all when empty),
    /// registered with the receiver under its secret; returns once the events function can
    /// have seen it (its endpoint cache is 1 s locally).
    pub fn for_tenant(tenant: &str, types: &[&str]) -> Self {
        Self::create(tenant, types, "event")
    }

    /// [`Self::for_tenant`] in the standard shape: RFC 9967 Security Event Tokens.
    pub fn for_tenant_as_sets(tenant: &str) -> Self {
        Self::create(tenant, &[], "set")
    }

    fn create(tenant: &str, types: &[&str], format: &str) -> Self {
        let name = unique("hook");
        let url = format!("{}/hooks/{name}", receiver_url());
        let mut args = vec![
            "webhooks", "create", "--url", &url, "--tenant", tenant, "--format", format,
        ];
        for kind in types {
            args.extend(["--type", kind]);
        }
        let created = admin_json(&args);
        let hook = Self {
            id: created["endpoint"]["id"]
                .as_str()
                .expect("an id")
                .to_string(),
            secret: created["secret"].as_str().expect("a secret").to_string(),
            receiver: receiver_url(),
            name,
            agent: crate::client::agent(),
        };
        hook.configure(&json!({"secret": hook.secret}));
        std::thread::sleep(Duration::from_millis(1500));
        hook
    }

    /// Changes what the receiver does for this hook (`secret`, `fail_next`, `fail_status`).
    pub fn configure(&self, config: &Value) {
        let url = format!("{}/_hooks/{}", self.receiver, self.name);
        let response = self
            .agent
            .put(&url)
            .header("Content-Type", "application/json")
            .send(config.to_string())
            .unwrap_or_else(|e| panic!("configure {url}: {e}"));
        assert_eq!(response.status().as_u16(), 200, "configure {url}");
    }

    /// The receiver answers the next `n` deliveries with `status` (and counts them as failed).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.configure(&json!({"secret": self.secret, "fail_next": n, "fail_status": status}));
    }

    /// What the receiver holds: `deliveries` (each verified: `id`, `timestamp`, `signature`,
    /// `body`, `duplicate`), `failed` and `rejected` (a bad signature) counts.
    pub fn state(&self) -> Value {
        let url = format!("{}/_hooks/{}", self.receiver, self.name);
        let mut response = self
            .agent
            .get(&url)
            .call()
            .unwrap_or_else(|e| panic!("read {url}: {e}"));
        let text = response.body_mut().read_to_string().unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} answered {text:?}: {e}"))
    }

    /// The accepted deliveries once at least `expected` have arrived, or after [`CATCH_UP`].
    pub fn wait_for(&self, expected: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let deliveries = self.deliveries();
            if deliveries.len() >= expected || started.elapsed() >= CATCH_UP {
                return deliveries;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Every accepted delivery after `quiet` more, for asserting that nothing else came.
    pub fn settle(&self, quiet: Duration) -> Vec<Value> {
        std::thread::sleep(quiet);
        self.deliveries()
    }

    /// The accepted deliveries so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Value> {
        self.state()["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Hook {
    /// Deletes the endpoint; best effort, and never a panic.
    fn drop(&mut self) {
        if let Ok(bin) = std::env::var("SCIM_ADMIN_BIN") {
            let _ = std::process::Command::new(bin)
                .args(["webhooks", "delete", &self.id])
                .output();
        }
    }
}
