//! Signed webhooks: the fan-out of events to endpoints' queued deliveries, and the delivery of
//! a batch: signatures, backoff, order per resource, dead-lettering, the delivery log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use proptest::prelude::*;
use scim_core::{PlatformRole, ProjectRole};
use scim_ops::events::publish::{BusError, EntryOutcome, RecordEvents, Retry};
use scim_ops::events::{
    EventType, MembershipState, NameState, ProjectState, ProvisioningEvent, Subject, UserState,
    SCHEMA_VERSION,
};
use scim_ops::webhooks::fanout::{dedup_id, message_group, MAX_MESSAGES_PER_SEND};
use scim_ops::webhooks::{
    enqueue, is_public_address, validate_url, CachedEndpoints, Deliverer, DeliveryAttempt,
    DeliveryLog, DeliveryQueue, DeliveryRecord, DeliveryStatus, EndpointDirectory, EventRef, Now,
    PayloadFormat, QueuedDelivery, QueuedMessage, RetryPolicy, SetIssuer, UrlPolicy,
    WebhookEndpoint, WebhookKey, WebhookQueue, WebhookSender, SET_CONTENT_TYPE,
};
use scim_ops::StoreError;

const NO_PAUSE: Retry = Retry {
    attempts: 3,
    first_pause: Duration::ZERO,
};

fn endpoint(n: u8, tenant: Option<&str>, types: &[EventType]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: format!("wh_{}", format!("{n:x}").repeat(32).get(..32).unwrap()),
        tenant: tenant.map(str::to_string),
        url: format!("https://hooks{n}.example.com/in"),
        types: types.to_vec(),
        description: String::new(),
        secret_generation: 1,
        previous_secret_until: None,
        format: PayloadFormat::Event,
        created: "2026-12-05T08:00:00Z".into(),
    }
}

fn user(id: &str) -> Subject {
    Subject::User(UserState {
        id: id.into(),
        user_name: format!("{id}@example.com"),
        emails: vec![],
        name: NameState::default(),
        active: true,
        platform_role: PlatformRole::Member,
    })
}

fn event(id: &str, tenant: &str, kind: EventType, subject: Subject) -> ProvisioningEvent {
    ProvisioningEvent {
        v: SCHEMA_VERSION,
        id: id.into(),
        kind,
        tenant: tenant.into(),
        time: "2026-12-05T08:00:00Z".into(),
        actor: "scim_9d9a5aed".into(),
        seq: 1,
        subject,
    }
}

// ---------------------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------------------

/// A queue that records every send and refuses the messages its script names.
#[derive(Default)]
struct FakeQueue {
    sends: Mutex<Vec<Vec<QueuedDelivery>>>,
    refuse: Option<String>,
}

impl WebhookQueue for FakeQueue {
    async fn send(&self, messages: &[QueuedDelivery]) -> Result<Vec<EntryOutcome>, BusError> {
        self.sends.lock().unwrap().push(messages.to_vec());
        Ok(messages
            .iter()
            .map(|m| match &self.refuse {
                Some(id) if *id == m.event.id => EntryOutcome::Refused("throttled".into()),
                _ => EntryOutcome::Accepted,
            })
            .collect())
    }
}

impl FakeQueue {
    fn sent(&self) -> Vec<QueuedDelivery> {
        self.sends
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .cloned()
            .collect()
    }
}

fn record(seq: &str, events: Vec<ProvisioningEvent>) -> RecordEvents {
    RecordEvents {
        sequence_number: seq.into(),
        events,
    }
}

#[tokio::test]
async fn each_event_is_queued_once_per_endpoint_that_wants_it() {
    let everything = endpoint(1, None, &[]);
    let acme_only = endpoint(2, Some("acme"), &[]);
    let deactivations = endpoint(3, None, &[EventType::UserDeactivated]);
    let records = vec![
        record(
            "s1",
            vec![event("e1.0", "acme", EventType::UserCreated, user("u1"))],
        ),
        record(
            "s2",
            vec![event(
                "e2.0",
                "globex",
                EventType::UserDeactivated,
                user("u2"),
            )],
        ),
    ];
    let queue = FakeQueue::default();
    let endpoints = [everything.clone(), acme_only.clone(), deactivations.clone()];
    let out = enqueue(&queue, &endpoints, &records, None, NO_PAUSE)
        .await
        .unwrap();

    let sent: Vec<(String, String)> = queue
        .sent()
        .iter()
        .map(|m| (m.endpoint_id.clone(), m.event.id.clone()))
        .collect();
    assert_eq!(
        sent,
        vec![
            (everything.id.clone(), "e1.0".into()),
            (acme_only.id.clone(), "e1.0".into()),
            (everything.id.clone(), "e2.0".into()),
            (deactivations.id.clone(), "e2.0".into()),
        ]
    );
    assert_eq!(out.published, 4);
    assert_eq!(out.failed_from, None);
    // The body is the event itself, exactly what the bus carries.
    let body: ProvisioningEvent = serde_json::from_str(&queue.sent()[0].body).unwrap();
    assert_eq!(body, records[0].events[0]);
}

#[tokio::test]
async fn a_resource_keeps_one_message_group_per_endpoint_and_memberships_follow_the_user() {
    let hook = endpoint(1, None, &[]);
    let membership = Subject::Membership(MembershipState {
        user_id: "u1".into(),
        project_id: "p1".into(),
        project_role: None,
    });
    let project = Subject::Project(ProjectState {
        id: "p1".into(),
        name: "Apollo".into(),
        member_role: ProjectRole::Editor,
    });
    let created = event("a.0", "acme", EventType::UserCreated, user("u1"));
    let added = event("b.0", "acme", EventType::ProjectMemberAdded, membership);
    let renamed = event("c.0", "acme", EventType::ProjectRenamed, project);
    assert_eq!(
        message_group(&hook.id, &created),
        format!("{}:u:u1", hook.id)
    );
    assert_eq!(message_group(&hook.id, &added), format!("{}:u:u1", hook.id));
    assert_eq!(
        message_group(&hook.id, &renamed),
        format!("{}:p:p1", hook.id)
    );
    // Another endpoint's deliveries of the same resource do not wait on these.
    assert_ne!(
        message_group(&endpoint(2, None, &[]).id, &created),
        message_group(&hook.id, &created)
    );
    // An id of any other shape is hashed into a group id SQS accepts.
    let odd = event(
        "d.0",
        "acme",
        EventType::UserCreated,
        user(&"é x".repeat(100)),
    );
    let group = message_group(&hook.id, &odd);
    assert!(
        group.len() <= 128 && group.is_ascii() && !group.contains(' '),
        "{group}"
    );
}

#[test]
fn noncharacters_sqs_refuses_are_queued_as_json_escapes_of_the_same_text() {
    let mut renamed = event("e.0", "acme", EventType::UserUpdated, user("u1"));
    if let Subject::User(u) = &mut renamed.subject {
        u.user_name = "ann\u{ffff}\u{fffe}@example.com".into();
    }
    let queued = QueuedDelivery::new(&endpoint(1, None, &[]), &renamed, None).unwrap();
    assert!(
        !queued.body.contains(['\u{fffe}', '\u{ffff}']),
        "{}",
        queued.body
    );
    let back: ProvisioningEvent = serde_json::from_str(&queued.body).unwrap();
    assert_eq!(back, renamed);
}

#[test]
fn a_redelivered_record_dedups_and_a_replay_does_not() {
    let original = dedup_id("wh_1", "e1.0", None);
    assert_eq!(original, dedup_id("wh_1", "e1.0", None));
    assert_ne!(original, dedup_id("wh_2", "e1.0", None));
    assert_ne!(original, dedup_id("wh_1", "e1.1", None));
    assert_ne!(
        original,
        dedup_id("wh_1", "e1.0", Some("replay 2026-12-05"))
    );
    assert_eq!(original.len(), 64);
}

#[tokio::test]
async fn sends_hold_at_most_ten_messages_and_a_refusal_names_its_record() {
    let hook = endpoint(1, None, &[]);
    // 25 users, one event each: 10, 10, then the send with e17 refused.
    let records: Vec<RecordEvents> = (0..25)
        .map(|i| {
            record(
                &format!("s{i}"),
                vec![event(
                    &format!("e{i}.0"),
                    "acme",
                    EventType::UserCreated,
                    user(&format!("u{i}")),
                )],
            )
        })
        .collect();
    let queue = FakeQueue {
        refuse: Some("e17.0".into()),
        ..FakeQueue::default()
    };
    let out = enqueue(&queue, &[hook], &records, None, NO_PAUSE)
        .await
        .unwrap();
    let sends = queue.sends.lock().unwrap().clone();
    assert!(sends.iter().all(|s| s.len() <= MAX_MESSAGES_PER_SEND));
    // The second send's e17 is refused three times; its other nine went out; the third send
    // never happens, and Lambda retries from s17.
    assert_eq!(out.failed_from.as_deref(), Some("s17"));
    assert_eq!(out.published, 19);
    assert_eq!(sends.len(), 4);
    assert!(!queue.sent().iter().any(|m| m.event.id == "e20.0"));
}

#[tokio::test]
async fn a_groups_messages_reach_the_queue_in_order_even_when_one_is_refused() {
    let hook = endpoint(1, None, &[]);
    // One user's three changes and another user's one, in that order.
    let records = vec![
        record(
            "s1",
            vec![event("a.0", "acme", EventType::UserCreated, user("u1"))],
        ),
        record(
            "s2",
            vec![event("b.0", "acme", EventType::UserUpdated, user("u1"))],
        ),
        record(
            "s3",
            vec![event("c.0", "acme", EventType::UserCreated, user("u2"))],
        ),
        record(
            "s4",
            vec![event("d.0", "acme", EventType::UserDeactivated, user("u1"))],
        ),
    ];
    let queue = FakeQueue {
        refuse: Some("b.0".into()),
        ..FakeQueue::default()
    };
    let out = enqueue(&queue, &[hook], &records, None, NO_PAUSE)
        .await
        .unwrap();
    let sends: Vec<Vec<String>> = queue
        .sends
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.iter().map(|m| m.event.id.clone()).collect())
        .collect();
    // One message of u1 per send; b.0 refused three times; d.0 (u1, after b) never sent.
    assert_eq!(
        sends,
        vec![
            vec!["a.0".to_string(), "c.0".to_string()],
            vec!["b.0".to_string()],
            vec!["b.0".to_string()],
            vec!["b.0".to_string()],
        ]
    );
    assert_eq!(out.failed_from.as_deref(), Some("s2"));
    // Accepted later, the order holds: a, then b, then d.
    let queue = FakeQueue::default();
    enqueue(&queue, &[endpoint(1, None, &[])], &records, None, NO_PAUSE)
        .await
        .unwrap();
    let u1: Vec<String> = queue
        .sent()
        .iter()
        .filter(|m| m.group_id.ends_with(":u1"))
        .map(|m| m.event.id.clone())
        .collect();
    assert_eq!(u1, ["a.0", "b.0", "d.0"]);
    assert_eq!(queue.sends.lock().unwrap().len(), 3);
}

// ---------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Directory {
    endpoints: Vec<WebhookEndpoint>,
    reads: AtomicUsize,
}

impl EndpointDirectory for &Directory {
    async fn endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(self.endpoints.clone())
    }
}

/// A POST: the URL, the headers, the body.
type Post = (String, Vec<(&'static str, String)>, String);
type Answer = dyn Fn(&str, usize) -> Result<u16, String> + Send + Sync;

/// Records every POST; answers the status its script gives the URL's n-th POST (from 0).
struct Sender {
    posts: Mutex<Vec<Post>>,
    answer: Box<Answer>,
}

impl Sender {
    fn new(answer: impl Fn(&str, usize) -> Result<u16, String> + Send + Sync + 'static) -> Self {
        Self {
            posts: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        }
    }

    fn bodies(&self) -> Vec<String> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.2.clone())
            .collect()
    }
}

impl WebhookSender for Sender {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<u16, String> {
        let n = {
            let mut posts = self.posts.lock().unwrap();
            let n = posts.iter().filter(|p| p.0 == url).count();
            posts.push((url.to_string(), headers.to_vec(), body.to_string()));
            n
        };
        (self.answer)(url, n)
    }
}

/// Per endpoint and event: attempts, the last status and error.
type Logged = (u32, DeliveryStatus, Option<String>);

#[derive(Default)]
struct Log {
    attempts: Mutex<HashMap<(String, String), Logged>>,
}

impl DeliveryLog for Log {
    async fn record_attempt(&self, a: &DeliveryAttempt<'_>) -> Result<u32, StoreError> {
        let mut map = self.attempts.lock().unwrap();
        let entry = map
            .entry((a.endpoint_id.to_string(), a.event.id.clone()))
            .or_insert((0, a.status, None));
        entry.0 += 1;
        entry.1 = a.status;
        entry.2 = a.error.clone();
        Ok(entry.0)
    }

    async fn deliveries(
        &self,
        _: &str,
        _: Option<&str>,
        _: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        Ok(vec![])
    }
}

impl Log {
    fn of(&self, endpoint: &str, event: &str) -> Option<Logged> {
        self.attempts
            .lock()
            .unwrap()
            .get(&(endpoint.to_string(), event.to_string()))
            .cloned()
    }
}

#[derive(Default)]
struct Queue {
    postponed: Mutex<Vec<(String, u32)>>,
    dead: Mutex<Vec<(String, String)>>,
}

impl DeliveryQueue for Queue {
    async fn postpone(&self, changes: &[(String, u32)]) -> Result<(), BusError> {
        self.postponed.lock().unwrap().extend_from_slice(changes);
        Ok(())
    }

    async fn dead_letter(&self, message: &QueuedMessage, reason: &str) -> Result<(), BusError> {
        self.dead
            .lock()
            .unwrap()
            .push((message.message_id.clone(), reason.to_string()));
        Ok(())
    }
}

fn key() -> WebhookKey {
    WebhookKey::new(&[42u8; 32]).unwrap()
}

const NOW: u64 = 1_780_000_000;
const MINUTE: Duration = Duration::from_secs(60);

fn now() -> Now {
    Now {
        epoch: NOW,
        rfc3339: "2026-05-28T20:26:40Z".into(),
    }
}

fn message(n: usize, hook: &WebhookEndpoint, group: &str, sent_at: u64) -> QueuedMessage {
    QueuedMessage {
        message_id: format!("m{n}"),
        receipt_handle: format!("r{n}"),
        group_id: format!("{}:u:{group}", hook.id),
        sent_at,
        endpoint_id: hook.id.clone(),
        event: EventRef {
            id: format!("e{n}.0"),
            kind: "user.updated".into(),
            tenant: "acme".into(),
            time: "2026-05-28T20:26:00Z".into(),
        },
        body: format!("{{\"id\":\"e{n}.0\"}}"),
    }
}

type TestDeliverer<'a> = Deliverer<&'a Directory, Sender, Log, Queue>;

fn deliverer(directory: &Directory, sender: Sender) -> TestDeliverer<'_> {
    Deliverer {
        endpoints: CachedEndpoints::new(directory, Duration::from_secs(3600)),
        key: key(),
        sender,
        log: Log::default(),
        queue: Queue::default(),
        retry: RetryPolicy::default(),
        urls: UrlPolicy::default(),
        log_retention: 86_400,
        set_issuer: SetIssuer {
            issuer: "https://scim.example.com/scim/v2".into(),
            platform_schema_urn: "urn:ietf:params:scim:schemas:extension:platform:2.0:User".into(),
        },
    }
}

fn header(headers: &[(&'static str, String)], name: &str) -> String {
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_delivery_is_posted_with_a_signature_the_endpoint_secret_verifies() {
    let hook = endpoint(1, Some("acme"), &[]);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Ok(204)));
    let report = d
        .deliver(vec![message(1, &hook, "u1", NOW)], &now(), MINUTE)
        .await;

    assert_eq!((report.delivered, report.failed.len()), (1, 0));
    let posts = d.sender.posts.lock().unwrap().clone();
    let (url, headers, body) = &posts[0];
    assert_eq!(url, &hook.url);
    assert_eq!(body, "{\"id\":\"e1.0\"}");
    assert_eq!(header(headers, "webhook-id"), "e1.0");
    assert_eq!(header(headers, "webhook-timestamp"), NOW.to_string());
    assert_eq!(header(headers, "content-type"), "application/json");
    let expected = key().endpoint_secret(&hook.id, 1).sign("e1.0", NOW, body);
    assert_eq!(header(headers, "webhook-signature"), expected);
    assert_eq!(
        d.log.of(&hook.id, "e1.0"),
        Some((1, DeliveryStatus::Delivered, None))
    );
    assert!(d.queue.postponed.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_delivery_is_hidden_for_a_doubling_backoff_and_reported_failed() {
    let hook = endpoint(1, None, &[]);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Ok(500)));
    for (attempt, seconds) in [(1, 30), (2, 60), (3, 120)] {
        let report = d
            .deliver(vec![message(1, &hook, "u1", NOW)], &now(), MINUTE)
            .await;
        assert_eq!(report.failed, vec!["m1".to_string()], "attempt {attempt}");
        assert_eq!(report.retried, 1);
        assert_eq!(report.last_error.as_deref(), Some("HTTP 500"));
        assert_eq!(
            d.queue.postponed.lock().unwrap().last().cloned(),
            Some(("r1".to_string(), seconds))
        );
    }
    assert_eq!(
        d.log.of(&hook.id, "e1.0"),
        Some((3, DeliveryStatus::Retrying, Some("HTTP 500".into())))
    );
}

#[tokio::test]
async fn after_a_failure_the_rest_of_its_group_waits_and_other_groups_go_on() {
    let hook = endpoint(1, None, &[]);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    // The endpoint fails its first POST only.
    let d = deliverer(
        &directory,
        Sender::new(|_, n| Ok(if n == 0 { 503 } else { 200 })),
    );
    let batch = vec![
        message(1, &hook, "u1", NOW),
        message(2, &hook, "u1", NOW),
        message(3, &hook, "u2", NOW),
        message(4, &hook, "u1", NOW),
    ];
    let report = d.deliver(batch, &now(), MINUTE).await;

    // m1 failed; m2 and m4 (same user) were not tried; m3 (another user) went out.
    assert_eq!(report.failed, vec!["m1", "m2", "m4"]);
    assert_eq!((report.retried, report.held, report.delivered), (1, 2, 1));
    assert_eq!(
        d.sender.bodies(),
        vec!["{\"id\":\"e1.0\"}", "{\"id\":\"e3.0\"}"]
    );
    let postponed = d.queue.postponed.lock().unwrap().clone();
    assert!(postponed.contains(&("r1".into(), 30)));
    // Handed back at once: the queue gives them out only after m1, which keeps the order.
    assert!(postponed.contains(&("r2".into(), 0)));
    assert!(postponed.contains(&("r4".into(), 0)));
}

#[tokio::test]
async fn a_batch_past_its_time_budget_hands_the_rest_back_untried() {
    let hook = endpoint(1, None, &[]);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Ok(200)));
    let batch = vec![
        message(1, &hook, "u1", NOW),
        message(2, &hook, "u1", NOW),
        message(3, &hook, "u2", NOW),
    ];
    let report = d.deliver(batch, &now(), Duration::ZERO).await;
    // Each group still makes progress: its first delivery goes out.
    assert_eq!((report.delivered, report.held), (2, 1));
    assert_eq!(report.failed, vec!["m2"]);
    assert!(d
        .queue
        .postponed
        .lock()
        .unwrap()
        .contains(&("r2".into(), 0)));
}

#[tokio::test]
async fn a_delivery_failing_past_the_retry_window_goes_to_the_dead_letter_queue() {
    let hook = endpoint(1, None, &[]);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Err("timed out".into())));
    let queued_a_day_ago = NOW - 24 * 3600;
    let report = d
        .deliver(
            vec![
                message(1, &hook, "u1", queued_a_day_ago),
                message(2, &hook, "u1", queued_a_day_ago),
            ],
            &now(),
            MINUTE,
        )
        .await;

    // Both tried once and dead-lettered, in order; the group is not blocked.
    assert_eq!(report.dead_lettered, 2);
    assert!(report.failed.is_empty());
    let dead = d.queue.dead.lock().unwrap().clone();
    assert_eq!(
        dead,
        vec![
            ("m1".to_string(), "timed out".to_string()),
            ("m2".to_string(), "timed out".to_string())
        ]
    );
    assert_eq!(
        d.log.of(&hook.id, "e1.0"),
        Some((1, DeliveryStatus::Failed, Some("timed out".into())))
    );
}

#[tokio::test]
async fn a_deleted_endpoint_s_deliveries_are_dropped_without_a_request() {
    let hook = endpoint(1, None, &[]);
    let directory = Directory::default();
    let d = deliverer(&directory, Sender::new(|_, _| Ok(200)));
    let report = d
        .deliver(vec![message(1, &hook, "u1", NOW)], &now(), MINUTE)
        .await;
    assert_eq!((report.dropped, report.failed.len()), (1, 0));
    assert!(d.sender.bodies().is_empty());
}

#[tokio::test]
async fn during_a_rotation_deliveries_carry_both_signatures() {
    let mut hook = endpoint(1, None, &[]);
    hook.secret_generation = 2;
    hook.previous_secret_until = Some(NOW + 60);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Ok(200)));
    d.deliver(vec![message(1, &hook, "u1", NOW)], &now(), MINUTE)
        .await;
    let posts = d.sender.posts.lock().unwrap().clone();
    let signatures = header(&posts[0].1, "webhook-signature");
    let body = &posts[0].2;
    let new = key().endpoint_secret(&hook.id, 2).sign("e1.0", NOW, body);
    let old = key().endpoint_secret(&hook.id, 1).sign("e1.0", NOW, body);
    assert_eq!(signatures, format!("{new} {old}"));
}

#[tokio::test]
async fn a_set_endpoint_receives_a_security_event_token_signed_both_ways() {
    let mut hook = endpoint(1, None, &[]);
    hook.format = PayloadFormat::Set;
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Ok(202)));
    let queued = QueuedDelivery::new(
        &hook,
        &event("e9.0", "acme", EventType::UserDeactivated, user("u1")),
        None,
    )
    .unwrap();
    let mut m = message(9, &hook, "u1", NOW);
    m.body = queued.body;
    let report = d.deliver(vec![m], &now(), MINUTE).await;
    assert_eq!(report.delivered, 1, "202 is a success: {report:?}");

    let posts = d.sender.posts.lock().unwrap().clone();
    let (_, headers, token) = &posts[0];
    assert_eq!(header(headers, "content-type"), SET_CONTENT_TYPE);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact serialisation: {token}");
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["jti"], "e9.0");
    assert_eq!(claims["aud"], hook.url.as_str());
    assert_eq!(claims["iss"], "https://scim.example.com/scim/v2");
    assert_eq!(claims["sub_id"]["uri"], "/Users/u1");
    assert!(claims["events"]
        .get("urn:ietf:params:scim:event:prov:deactivate")
        .is_some());
    // The Standard Webhooks signature covers the token as sent.
    let expected = key().endpoint_secret(&hook.id, 1).sign("e9.0", NOW, token);
    assert_eq!(header(headers, "webhook-signature"), expected);
}

#[tokio::test]
async fn an_endpoint_url_the_policy_refuses_is_never_requested() {
    let mut hook = endpoint(1, None, &[]);
    hook.url = "https://169.254.169.254/latest/meta-data/".into();
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let d = deliverer(&directory, Sender::new(|_, _| Ok(200)));
    let report = d
        .deliver(vec![message(1, &hook, "u1", NOW)], &now(), MINUTE)
        .await;
    assert!(d.sender.bodies().is_empty());
    assert_eq!(report.failed, vec!["m1"]);
    assert!(report.last_error.unwrap().contains("endpoint URL refused"));
}

#[tokio::test]
async fn endpoints_are_read_once_per_cache_period() {
    let hook = endpoint(1, None, &[]);
    let directory = Directory {
        endpoints: vec![hook.clone()],
        ..Directory::default()
    };
    let cache = CachedEndpoints::new(&directory, Duration::from_secs(3600));
    for _ in 0..5 {
        assert_eq!(cache.all().await.unwrap().len(), 1);
        assert!(cache.get(&hook.id).await.unwrap().is_some());
    }
    assert_eq!(directory.reads.load(Ordering::Relaxed), 1);
}

#[test]
fn the_backoff_doubles_from_thirty_seconds_to_an_hour() {
    let policy = RetryPolicy::default();
    let delays: Vec<u64> = (1..=9).map(|n| policy.delay(n).as_secs()).collect();
    assert_eq!(delays, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(policy.delay(u32::MAX).as_secs(), 3600);
    let long = RetryPolicy {
        max: Duration::from_secs(100 * 3600),
        ..policy
    };
    assert_eq!(
        long.delay(40).as_secs(),
        12 * 3600,
        "SQS's visibility limit"
    );
}

proptest! {
    /// Whatever an administrator types, validation answers (never panics), and what it accepts
    /// under the deployment's policy is https to a host that is not a private address.
    #[test]
    fn accepted_urls_are_https_and_never_private(raw in "\\PC{0,80}", host in "[0-9a-f:.]{1,20}") {
        for candidate in [raw.clone(), format!("https://{host}/"), format!("https://[{host}]/")] {
            if let Ok(url) = validate_url(&candidate, UrlPolicy::default()) {
                prop_assert_eq!(url.scheme(), "https");
                match url.host() {
                    Some(url::Host::Ipv4(ip)) => prop_assert!(is_public_address(ip.into())),
                    Some(url::Host::Ipv6(ip)) => prop_assert!(is_public_address(ip.into())),
                    Some(url::Host::Domain(_)) => {}
                    None => prop_assert!(false, "accepted without a host"),
                }
            }
        }
    }

    /// An IPv4 address and its IPv4-mapped IPv6 form are judged alike.
    #[test]
    fn mapped_addresses_are_judged_as_their_ipv4(bits in any::<u32>()) {
        let v4 = std::net::Ipv4Addr::from(bits);
        prop_assert_eq!(
            is_public_address(v4.into()),
            is_public_address(v4.to_ipv6_mapped().into())
        );
    }
}
