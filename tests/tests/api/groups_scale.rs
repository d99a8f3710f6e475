//! A large group as Okta and Entra build it: thousands of members added by PATCHes of up to
//! 1,000, read back whole, a bulk removal, concurrent additions that must not lose members,
//! and a delete. Sizes come from the environment:
//!
//! - `SCIM_SCALE_MEMBERS` (default 5000): users created and added;
//! - `SCIM_SCALE_BATCH` (default 1000): members per PATCH;
//! - `SCIM_SCALE_THREADS` (default 8): parallel clients creating users.
//!
//! At full size on the local stack (moto behind `scripts/moto_server.py`, debug build, 2 CPUs)
//! the test takes about 3.7 minutes (5,000 creates ~73 s; each 1,000-member PATCH 12-20 s and
//! 32 DynamoDB calls; the 5,000-member GET ~9 s, 725 KB; the group DELETE ~24 s). `make test`
//! runs it at 5,000 members; `make test-scale` runs it at 50,000. Timings are printed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use integration_tests::{
    add_members_body, assert_list_response, list_filtered, parallel_map, patch_body, resource_ids,
    tenant_id, unique, user_groups, values_of, Client, EventTap, Resp,
};
use serde_json::json;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Creates a user; a transient 5xx from the local emulator is retried after checking whether
/// the first attempt landed (setup only: what this module tests comes after).
fn create_user_for_setup(c: &Client, name: &str, retries: &AtomicUsize) -> String {
    for _ in 0..5 {
        let r = c.post(
            "/Users",
            &json!({"userName": name, "emails": [{"value": name, "type": "work"}]}),
        );
        match r.status {
            201 => return r.id(),
            500..=599 => {
                retries.fetch_add(1, Ordering::Relaxed);
                let found = list_filtered(c, "/Users", &format!("userName eq \"{name}\""), "");
                if found.status == 200 && found.total() == 1 {
                    return resource_ids(&found).remove(0);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            _ => panic!("create {name}: {}", r.raw),
        }
    }
    panic!("create {name}: the stack kept failing");
}

fn create_users(c: &Client, n: usize, threads: usize) -> (Vec<String>, usize) {
    let names: Vec<String> = (0..n)
        .map(|i| format!("{}-{i:05}@scale.example", unique("member")))
        .collect();
    let retries = AtomicUsize::new(0);
    let ids = parallel_map(&names, threads, |name| {
        create_user_for_setup(c, name, &retries)
    });
    (ids, retries.into_inner())
}

fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    eprintln!("[groups_scale] {label}: {:?}", started.elapsed());
    out
}

fn members(r: &Resp) -> BTreeSet<String> {
    values_of(&r.body, "members")
}

fn add(c: &Client, gid: &str, ids: &[String]) -> Resp {
    c.patch(&format!("/Groups/{gid}"), &add_members_body(ids))
}

#[test]
fn a_group_of_thousands_survives_batched_adds_a_bulk_removal_concurrent_adds_and_delete() {
    let n = knob("SCIM_SCALE_MEMBERS", 5000);
    let batch = knob("SCIM_SCALE_BATCH", 1000).min(n).max(1);
    let threads = knob("SCIM_SCALE_THREADS", 8);
    eprintln!("[groups_scale] members={n} batch={batch} threads={threads}");
    let total = Instant::now();
    let c = Client::new_tenant("scale");
    // The platform's view: every member added, from the bus (not on the stack without a
    // stream, `make test-scale`).
    let events_on = std::env::var("SCIM_LOCAL_AUDIT").as_deref() != Ok("0");
    let mut added_events = events_on
        .then(|| EventTap::for_tenant_types(&tenant_id(&c.tenant), &["project.member_added"]));

    let (ids, retries) = timed(&format!("create {n} users"), || {
        create_users(&c, n, threads)
    });
    eprintln!("[groups_scale] transient 5xx retried during user setup: {retries}");
    let all: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(all.len(), n);

    // count above the maximum (1000) is reduced, not refused.
    let listed = c.get(&format!("/Users?count={}", n + 1));
    assert_list_response(&listed);
    assert_eq!(listed.total(), n as u64);
    assert_eq!(
        listed.body["itemsPerPage"],
        n.min(1000),
        "count is capped at 1000"
    );

    let gid = c.create_group(&unique("Everyone")).id();
    for (i, chunk) in ids.chunks(batch).enumerate() {
        let started = Instant::now();
        let r = add(&c, &gid, chunk);
        eprintln!(
            "[groups_scale] PATCH add #{i} ({} members): {} in {:?}, {} DynamoDB calls",
            chunk.len(),
            r.status,
            started.elapsed(),
            r.header("x-scim-dynamodb-calls").unwrap_or("?")
        );
        assert_eq!(r.status, 204, "batch {i}: {}", r.raw);
    }

    let full = timed("GET group with all members", || {
        c.get(&format!("/Groups/{gid}"))
    });
    assert_eq!(full.status, 200, "{}", full.raw);
    eprintln!(
        "[groups_scale] GET group: {} bytes, {} DynamoDB calls",
        full.raw.len(),
        full.calls()
    );
    assert_eq!(members(&full), all, "every member is listed once");
    assert_eq!(full.body["members"].as_array().unwrap().len(), n);

    // Entra removes a batch with one PATCH listing them; only those go.
    let (gone, kept) = ids.split_at(batch.min(n));
    let removal = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "Remove", "path": "members",
            "value": gone.iter().map(|id| json!({"$ref": null, "value": id})).collect::<Vec<_>>()}])),
    );
    eprintln!(
        "[groups_scale] PATCH remove {} members: {}, {} DynamoDB calls",
        gone.len(),
        removal.status,
        removal.header("x-scim-dynamodb-calls").unwrap_or("?")
    );
    assert_eq!(removal.status, 204, "{}", removal.raw);
    let after_removal = c.get(&format!("/Groups/{gid}"));
    assert_eq!(
        members(&after_removal),
        kept.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert!(user_groups(&c, &gone[0]).is_empty());

    // Two IdP workers add disjoint halves at the same time: no member may be lost.
    let (left, right) = gone.split_at(gone.len() / 2);
    let barrier = Barrier::new(2);
    let results: Vec<Resp> = timed("two concurrent PATCH adds", || {
        std::thread::scope(|s| {
            let handles: Vec<_> = [left, right]
                .into_iter()
                .map(|half| {
                    let (c, gid, barrier) = (&c, &gid, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        add(c, gid, half)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    });
    for r in &results {
        assert_eq!(r.status, 204, "{}", r.raw);
    }
    let rejoined = c.get(&format!("/Groups/{gid}"));
    assert_eq!(members(&rejoined), all, "concurrent adds lost members");
    if let (Some(l), Some(r)) = (left.first(), right.last()) {
        assert_eq!(user_groups(&c, l), BTreeSet::from([gid.clone()]));
        assert_eq!(user_groups(&c, r), BTreeSet::from([gid.clone()]));
    }

    let deleted = timed("DELETE group", || c.delete(&format!("/Groups/{gid}")));
    assert_eq!(deleted.status, 204, "{}", deleted.raw);
    c.get(&format!("/Groups/{gid}"))
        .assert_scim_error(404, None);
    assert!(user_groups(&c, &ids[0]).is_empty());
    assert!(user_groups(&c, &ids[n - 1]).is_empty());

    // Each PATCH of `batch` members announced each of them once; the removed half that came
    // back was announced again, with a later `seq`.
    match added_events.as_mut() {
        Some(tap) => {
            let expected = n + gone.len();
            let events = timed("the bus delivering every member_added", || {
                tap.wait_for_within(expected, Duration::from_secs(1800))
            });
            assert_eq!(events.len(), expected, "member_added events");
            let ids_seen: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
            assert_eq!(ids_seen.len(), expected, "an event id repeats");
            let mut per_user: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
            for e in &events {
                assert_eq!(e["membership"]["projectId"], gid.as_str());
                per_user
                    .entry(e["membership"]["userId"].as_str().unwrap_or("?"))
                    .or_default()
                    .push(e["seq"].as_u64().unwrap_or(0));
            }
            assert_eq!(per_user.len(), n, "every member announced");
            for id in kept {
                assert_eq!(per_user[id.as_str()].len(), 1, "{id} announced once");
            }
            for id in gone {
                let seqs = &per_user[id.as_str()];
                assert!(seqs.len() == 2 && seqs[0] != seqs[1], "{id}: {seqs:?}");
            }
        }
        None => {
            eprintln!("[groups_scale] no stream on this stack: member_added events not checked")
        }
    }
    eprintln!("[groups_scale] total: {:?}", total.elapsed());
}
