//! Publishing provisioning events to the bus: order, the bus's limits, resends, and where
//! Lambda must retry from when some events cannot be published; and replays of the event log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::time::Duration;

use scim_core::ids::TenantId;
use scim_core::limits::{MAX_DOCUMENT_BYTES, MAX_EMAILS, MAX_NAME_CHARS};
use scim_core::PlatformRole;
use scim_ops::events::log::{replay, EventLog, LoggedEvent, Replay};
use scim_ops::events::publish::{
    publish, BusEntry, BusError, EntryOutcome, EventBus, RecordEvents, Retry, EVENT_SOURCE,
    MAX_ENTRIES_PER_PUT, MAX_PUT_BYTES,
};
use scim_ops::events::{
    EmailState, EventType, NameState, ProvisioningEvent, Subject, UserState, SCHEMA_VERSION,
};
use scim_ops::StoreError;

/// What the fake bus answers to the `put`-th put (from 0) for one entry.
type Answer = dyn Fn(usize, &BusEntry) -> Result<EntryOutcome, BusError> + Send + Sync;

/// A bus that records every put and answers as its script says.
struct FakeBus {
    puts: Mutex<Vec<Vec<BusEntry>>>,
    answer: Box<Answer>,
}

impl FakeBus {
    fn new(
        answer: impl Fn(usize, &BusEntry) -> Result<EntryOutcome, BusError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            puts: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        }
    }

    fn accepting() -> Self {
        Self::new(|_, _| Ok(EntryOutcome::Accepted))
    }

    fn puts(&self) -> Vec<Vec<BusEntry>> {
        self.puts.lock().unwrap().clone()
    }

    /// The event ids the bus accepted or was offered, put by put.
    fn offered_ids(&self) -> Vec<Vec<String>> {
        self.puts()
            .iter()
            .map(|put| put.iter().map(|e| e.event_id.clone()).collect())
            .collect()
    }
}

impl EventBus for FakeBus {
    async fn put(&self, entries: &[BusEntry]) -> Result<Vec<EntryOutcome>, BusError> {
        let index = {
            let mut puts = self.puts.lock().unwrap();
            puts.push(entries.to_vec());
            puts.len() - 1
        };
        entries.iter().map(|e| (self.answer)(index, e)).collect()
    }
}

const NO_PAUSE: Retry = Retry {
    attempts: 4,
    first_pause: Duration::ZERO,
};

fn user_state(id: &str) -> UserState {
    UserState {
        id: id.into(),
        user_name: format!("{id}@example.com"),
        emails: vec![EmailState {
            value: format!("{id}@example.com"),
            kind: Some("work".into()),
            primary: true,
        }],
        name: NameState::default(),
        active: true,
        platform_role: PlatformRole::Member,
    }
}

fn event(record: usize, n: usize, state: UserState) -> ProvisioningEvent {
    ProvisioningEvent {
        v: SCHEMA_VERSION,
        id: format!("rec{record}.{n}"),
        kind: EventType::UserUpdated,
        tenant: "acme".into(),
        time: "2026-12-05T08:00:00Z".into(),
        actor: "scim_9d9a5aed".into(),
        seq: 2,
        subject: Subject::User(state),
    }
}

/// `counts[i]` events for record i, with sequence numbers `seq<i>`.
fn records(counts: &[usize]) -> Vec<RecordEvents> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &count)| RecordEvents {
            sequence_number: format!("seq{i}"),
            events: (0..count)
                .map(|n| event(i, n, user_state(&format!("u{i}"))))
                .collect(),
        })
        .collect()
}

fn all_ids(records: &[RecordEvents]) -> Vec<String> {
    records
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.id.clone()))
        .collect()
}

#[tokio::test]
async fn every_event_goes_out_once_in_record_order_in_puts_of_at_most_ten() {
    let bus = FakeBus::accepting();
    let records = records(&[3, 0, 9, 1, 12]);
    let out = publish(&bus, &records, NO_PAUSE).await.unwrap();

    assert_eq!(out.published, 25);
    assert_eq!(out.failed_from, None);
    assert_eq!((out.failed, out.resent), (0, 0));
    let puts = bus.offered_ids();
    assert_eq!(
        puts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    assert_eq!(puts.concat(), all_ids(&records));
    assert!(puts.iter().all(|p| p.len() <= MAX_ENTRIES_PER_PUT));
}

#[tokio::test]
async fn each_entry_carries_its_type_time_and_the_whole_event() {
    let bus = FakeBus::accepting();
    let records = records(&[1]);
    publish(&bus, &records, NO_PAUSE).await.unwrap();

    let entry = &bus.puts()[0][0];
    assert_eq!(entry.detail_type, "user.updated");
    assert_eq!(entry.time, "2026-12-05T08:00:00Z");
    let detail: ProvisioningEvent = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail, records[0].events[0]);
    assert_eq!(
        entry.size(),
        14 + EVENT_SOURCE.len() + "user.updated".len() + entry.detail.len()
    );
}

#[tokio::test]
async fn a_batch_without_events_puts_nothing() {
    let bus = FakeBus::accepting();
    let out = publish(&bus, &records(&[0, 0, 0]), NO_PAUSE).await.unwrap();
    assert_eq!(out.published, 0);
    assert_eq!(out.failed_from, None);
    assert!(bus.puts().is_empty());
}

#[tokio::test]
async fn puts_stay_under_the_bus_byte_limit() {
    // Events of about 60 KB: four fit in one put, a fifth would pass 256 KB.
    let mut big = user_state("big");
    big.name.formatted = Some("x".repeat(60 * 1024));
    let records: Vec<RecordEvents> = (0..9)
        .map(|i| RecordEvents {
            sequence_number: format!("seq{i}"),
            events: vec![event(i, 0, big.clone())],
        })
        .collect();
    let bus = FakeBus::accepting();
    let out = publish(&bus, &records, NO_PAUSE).await.unwrap();

    assert_eq!(out.published, 9);
    let puts = bus.puts();
    assert_eq!(puts.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 1]);
    for put in &puts {
        assert!(put.iter().map(BusEntry::size).sum::<usize>() <= MAX_PUT_BYTES);
    }
}

#[tokio::test]
async fn the_largest_user_event_fits_in_one_put() {
    // The codec bounds a user: a document of at most 100 KB (emails and name included) and a
    // userName of at most 1,024 characters. Four-byte characters make the longest JSON.
    let long = |chars: usize| "\u{1F600}".repeat(chars);
    let per_email = MAX_DOCUMENT_BYTES / MAX_EMAILS / 4;
    let state = UserState {
        id: "a299ee0e-1a2f-47ae-bd05-39181ee6a2dc".into(),
        user_name: long(MAX_NAME_CHARS),
        emails: (0..MAX_EMAILS)
            .map(|_| EmailState {
                value: long(per_email),
                kind: Some("work".into()),
                primary: false,
            })
            .collect(),
        name: NameState::default(),
        active: true,
        platform_role: PlatformRole::Admin,
    };
    let entry = BusEntry::of(&event(0, 0, state)).unwrap();
    assert!(entry.size() > MAX_DOCUMENT_BYTES);
    assert!(
        entry.size() < MAX_PUT_BYTES,
        "{} bytes do not fit one put",
        entry.size()
    );
}

#[tokio::test]
async fn refused_entries_are_sent_again_until_the_bus_takes_them() {
    // The first put refuses its 2nd and 4th entries; the resend takes them.
    let bus = FakeBus::new(|put, entry| {
        Ok(
            if put == 0 && (entry.event_id == "rec0.1" || entry.event_id == "rec1.1") {
                EntryOutcome::Refused("ThrottlingException: slow down".into())
            } else {
                EntryOutcome::Accepted
            },
        )
    });
    let records = records(&[2, 3]);
    let out = publish(&bus, &records, NO_PAUSE).await.unwrap();

    assert_eq!(out.published, 5);
    assert_eq!(out.resent, 2);
    assert_eq!(out.failed_from, None);
    assert_eq!(
        bus.offered_ids(),
        vec![
            all_ids(&records),
            vec!["rec0.1".to_string(), "rec1.1".to_string()]
        ]
    );
}

#[tokio::test]
async fn an_event_the_bus_keeps_refusing_makes_lambda_retry_from_its_record() {
    // rec2.0 is refused on every attempt; records 0, 1 and 3 went out in the first put, and the put after
    // it is never sent: the batch reports record 2, so Lambda resumes there.
    let bus = FakeBus::new(|_, entry| {
        Ok(if entry.event_id == "rec2.0" {
            EntryOutcome::Refused("InternalFailure: try again".into())
        } else {
            EntryOutcome::Accepted
        })
    });
    let records = records(&[4, 4, 1, 2, 10]);
    let out = publish(&bus, &records, NO_PAUSE).await.unwrap();

    assert_eq!(out.failed_from.as_deref(), Some("seq2"));
    assert_eq!(out.failed, 1);
    assert_eq!(out.published, 9);
    assert_eq!(out.resent, 3);
    assert_eq!(
        out.last_error.as_deref(),
        Some("event rec2.0: InternalFailure: try again")
    );
    // The first put (records 0-2 and rec3.0) and three resends of rec2.0; nothing after.
    let puts = bus.offered_ids();
    assert_eq!(puts.len(), 4);
    assert!(puts[1..].iter().all(|p| p == &vec!["rec2.0".to_string()]));
}

#[tokio::test]
async fn the_earliest_unpublished_record_is_reported_when_several_fail() {
    let bus = FakeBus::new(|_, entry| {
        Ok(
            if entry.event_id == "rec3.0" || entry.event_id == "rec1.0" {
                EntryOutcome::Refused("InternalFailure".into())
            } else {
                EntryOutcome::Accepted
            },
        )
    });
    let out = publish(&bus, &records(&[1, 1, 1, 1]), NO_PAUSE)
        .await
        .unwrap();
    assert_eq!(out.failed_from.as_deref(), Some("seq1"));
    assert_eq!((out.published, out.failed), (2, 2));
}

#[tokio::test]
async fn a_put_that_fails_whole_is_retried_and_then_reported_from_its_first_record() {
    // Puts: [rec0.*, rec1.*] accepted (10 entries), then every put fails.
    let bus = FakeBus::new(|put, _| {
        if put == 0 {
            Ok(EntryOutcome::Accepted)
        } else {
            Err(BusError("dispatch failure: connection reset".into()))
        }
    });
    let records = records(&[5, 5, 3]);
    let out = publish(&bus, &records, NO_PAUSE).await.unwrap();

    assert_eq!(out.published, 10);
    assert_eq!(out.failed_from.as_deref(), Some("seq2"));
    assert_eq!(out.failed, 3);
    assert_eq!(bus.puts().len(), 1 + NO_PAUSE.attempts as usize);
    assert_eq!(
        out.last_error.as_deref(),
        Some("event bus: dispatch failure: connection reset")
    );
}

#[tokio::test]
async fn a_bus_answering_the_wrong_number_of_outcomes_publishes_nothing_of_that_put() {
    struct Short;
    impl EventBus for Short {
        async fn put(&self, _: &[BusEntry]) -> Result<Vec<EntryOutcome>, BusError> {
            Ok(vec![EntryOutcome::Accepted])
        }
    }
    let out = publish(&Short, &records(&[3]), NO_PAUSE).await.unwrap();
    assert_eq!(out.published, 0);
    assert_eq!(out.failed_from.as_deref(), Some("seq0"));
}

#[tokio::test]
async fn resends_pause_longer_each_time() {
    let bus = FakeBus::new(|_, _| Ok(EntryOutcome::Refused("ThrottlingException".into())));
    let retry = Retry {
        attempts: 3,
        first_pause: Duration::from_millis(20),
    };
    let started = std::time::Instant::now();
    let out = publish(&bus, &records(&[1]), retry).await.unwrap();
    // 20 ms, then 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(bus.puts().len(), 3);
    assert_eq!(out.failed_from.as_deref(), Some("seq0"));
}

/// An event log holding `events` in order, with cursors `c00`, `c01`, ...
struct FakeLog(Vec<LoggedEvent>);

impl FakeLog {
    fn of(n: usize) -> Self {
        Self(
            (0..n)
                .map(|i| LoggedEvent {
                    cursor: format!("c{i:02}"),
                    event: event(i, 0, user_state(&format!("u{i}"))),
                })
                .collect(),
        )
    }
}

impl EventLog for FakeLog {
    async fn append_events(&self, _: &[ProvisioningEvent], _: u64) -> Result<(), StoreError> {
        Ok(())
    }

    async fn logged_events(
        &self,
        _: &TenantId,
        after: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|l| after.is_none_or(|a| l.cursor.as_str() > a))
            .filter(|l| before.is_none_or(|b| l.cursor.as_str() < b))
            .take(limit)
            .cloned()
            .collect())
    }
}

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

#[tokio::test]
async fn a_replay_sends_the_range_again_with_the_original_ids_page_by_page() {
    let log = FakeLog::of(25);
    let bus = FakeBus::accepting();
    let first = replay(&log, &bus, &acme(), Some("c02"), Some("c20"), 10, NO_PAUSE)
        .await
        .unwrap();
    assert_eq!(first.replayed, 10);
    assert_eq!(first.next.as_deref(), Some("c12"));
    let second = replay(
        &log,
        &bus,
        &acme(),
        first.next.as_deref(),
        Some("c20"),
        10,
        NO_PAUSE,
    )
    .await
    .unwrap();
    assert_eq!(second.replayed, 7);
    assert_eq!(second.next, None, "the range is done");
    let sent: Vec<String> = bus.offered_ids().concat();
    let expected: Vec<String> = (3..20).map(|i| format!("rec{i}.0")).collect();
    assert_eq!(sent, expected);
    for (entry, logged) in bus.puts().concat().iter().zip(&log.0[3..20]) {
        let detail: ProvisioningEvent = serde_json::from_str(&entry.detail).unwrap();
        assert_eq!(detail, logged.event, "the event as logged");
    }
}

#[tokio::test]
async fn a_replay_the_bus_refuses_stops_before_the_refused_event_and_says_where_to_resume() {
    let log = FakeLog::of(6);
    let bus = FakeBus::new(|_, entry| {
        Ok(if entry.event_id == "rec3.0" {
            EntryOutcome::Refused("ThrottlingException".into())
        } else {
            EntryOutcome::Accepted
        })
    });
    let out = replay(&log, &bus, &acme(), None, None, 100, NO_PAUSE)
        .await
        .unwrap();
    assert_eq!(out.replayed, 3);
    assert_eq!(
        out.next.as_deref(),
        Some("c02"),
        "resume after the last one sent"
    );
    assert_eq!(
        out.error.as_deref(),
        Some("event rec3.0: ThrottlingException")
    );

    // Refused at the very first event: resume where this call started.
    let bus = FakeBus::new(|_, _| Ok(EntryOutcome::Refused("AccessDenied".into())));
    let out = replay(&log, &bus, &acme(), Some("c01"), None, 100, NO_PAUSE)
        .await
        .unwrap();
    assert_eq!((out.replayed, out.next.as_deref()), (0, Some("c01")));
}

#[tokio::test]
async fn an_empty_range_replays_nothing() {
    let bus = FakeBus::accepting();
    let out = replay(
        &FakeLog::of(3),
        &bus,
        &acme(),
        Some("c05"),
        None,
        10,
        NO_PAUSE,
    )
    .await
    .unwrap();
    assert_eq!(out, Replay::default());
    assert!(bus.puts().is_empty());
}

#[test]
fn retries_start_from_the_first_record_either_consumer_failed_on() {
    use scim_ops::events::publish::{first_failed, sent_prefix, Publication};
    let records = records(&[1, 1, 1, 1]);
    let ok = Publication::default();
    let bus = Publication {
        failed_from: Some("seq2".into()),
        ..Publication::default()
    };
    let queue = Publication {
        failed_from: Some("seq1".into()),
        ..Publication::default()
    };
    assert_eq!(sent_prefix(&records, &ok), 4);
    assert_eq!(sent_prefix(&records, &bus), 2);
    assert_eq!(first_failed(&records, &[&ok, &ok]), None);
    assert_eq!(first_failed(&records, &[&bus, &ok]), Some("seq2"));
    assert_eq!(first_failed(&records, &[&bus, &queue]), Some("seq1"));
    // A failure naming no record of the batch retries it from its first record.
    let unknown = Publication {
        failed_from: Some("elsewhere".into()),
        ..Publication::default()
    };
    assert_eq!(first_failed(&records, &[&unknown]), Some("seq0"));
}
