//! Names unique to a run, sets of ids, query encoding and parallel setup.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// A name unique to this run and call, for tenants, users and groups.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        nanos() % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A unique login (an email address, as Okta and Entra send userName) at `domain`.
pub fn unique_login(domain: &str) -> String {
    format!("{}@{domain}", unique("user"))
}

/// A random-looking GUID, as Entra's Test Connection sends.
pub fn random_guid() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = nanos() ^ (u128::from(std::process::id()) << 64) ^ (u128::from(n) << 96);
    let hex = format!("{mixed:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The ids (or names) as a set: `set(&ids)`, `set(&ids[1..])`, `set([&a, &b])`.
pub fn set<I>(items: I) -> BTreeSet<String>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    items.into_iter().map(|s| s.as_ref().to_string()).collect()
}

/// URL-encodes a query parameter value.
pub fn enc(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `f` applied to every item on `threads` threads (at least one); the results in item order.
pub fn parallel_map<T, R>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item was done"))
        .collect()
}
