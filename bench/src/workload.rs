//! The provisioning workload: an Okta-style import and an Entra-style cycle, then group PATCHes
//! of k members. Each operation type runs as its own phase (all users' lookups, then all
//! creates, ...), so the CPU the server spends in a phase belongs to one operation type; every
//! user still sees its requests in the order the IdP sends them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use serde_json::{json, Value};

use crate::client::{Kind, Sample, Target};
use crate::event::percent_encode;
use crate::procfs;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SCIM_JSON: &str = "application/scim+json";
const JSON: &str = "application/json";

/// How much work, and how many requests in flight.
#[derive(Debug, Clone)]
pub struct Config {
    pub users: usize,
    pub groups: usize,
    pub concurrency: usize,
    pub members_per_group: usize,
    pub big_groups: Vec<usize>,
    /// Tenant sizes (ascending) at which an import pages through every user.
    pub paging_tenants: Vec<usize>,
    /// Makes names unique across runs against the same server.
    pub run_id: String,
}

/// Sums the CPU time of the server's processes.
pub struct Meter {
    pub pids: Vec<u32>,
    pub ticks: f64,
}

impl Meter {
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let mut total = 0.0;
        for pid in &self.pids {
            total += procfs::cpu_seconds(*pid, self.ticks)?;
        }
        Ok(total)
    }
}

/// Makes the runs against several targets take turns phase by phase (ours, then the peer, then
/// ours again...), so both servers run the same operation under the same background load.
pub struct Turns {
    players: usize,
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Turns {
    pub fn new(players: usize) -> Self {
        Self {
            players: players.max(1),
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
        }
    }

    fn wait_for(&self, turn: usize) -> anyhow::Result<()> {
        let mut state = self.state.lock().map_err(|_| anyhow!("turns poisoned"))?;
        while state.0 != turn && !state.1 {
            state = self
                .changed
                .wait(state)
                .map_err(|_| anyhow!("turns poisoned"))?;
        }
        if state.1 {
            bail!("the other run stopped");
        }
        Ok(())
    }

    fn done(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.0 += 1;
        }
        self.changed.notify_all();
    }

    /// Releases the other run when this one fails.
    pub fn abort(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
        }
        self.changed.notify_all();
    }
}

/// One operation type's samples, wall time and server CPU.
#[derive(Debug, Clone)]
pub struct Phase {
    pub op: String,
    pub what: String,
    pub samples: Vec<Sample>,
    pub wall: Duration,
    pub cpu_seconds: f64,
}

struct Runner<'a> {
    target: &'a Target,
    meter: &'a Meter,
    concurrency: usize,
    phases: Vec<Phase>,
    progress: &'a (dyn Fn(&str) + Sync),
    turns: &'a Turns,
    slot: usize,
}

impl Runner<'_> {
    /// Runs `n` requests built by `request(i)` with the configured concurrency; returns the
    /// samples in index order.
    fn phase<F>(
        &mut self,
        op: &str,
        what: &str,
        n: usize,
        request: F,
    ) -> anyhow::Result<Vec<Sample>>
    where
        F: Fn(usize) -> Sample + Sync,
    {
        let turn = self.phases.len() * self.turns.players + self.slot;
        self.turns.wait_for(turn)?;
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, Sample)>> = Mutex::new(Vec::with_capacity(n));
        let cpu_before = self.meter.cpu_seconds()?;
        let started = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..self.concurrency.max(1).min(n.max(1)) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let sample = request(i);
                    if let Ok(mut r) = results.lock() {
                        r.push((i, sample));
                    }
                });
            }
        });
        let wall = started.elapsed();
        let cpu_after = self.meter.cpu_seconds();
        self.turns.done();
        let cpu_seconds = cpu_after? - cpu_before;
        let mut results = results
            .into_inner()
            .map_err(|_| anyhow!("a worker thread panicked"))?;
        results.sort_by_key(|(i, _)| *i);
        let samples: Vec<Sample> = results.into_iter().map(|(_, s)| s).collect();
        let errors = samples.iter().filter(|s| !s.ok).count();
        (self.progress)(&format!(
            "{:>4} {:<28} {:>5} requests in {:>7.2} s, {} errors, server CPU {:.3} s",
            self.target.kind.as_str(),
            op,
            samples.len(),
            wall.as_secs_f64(),
            errors,
            cpu_seconds
        ));
        self.phases.push(Phase {
            op: op.to_string(),
            what: what.to_string(),
            samples: samples.clone(),
            wall,
            cpu_seconds,
        });
        Ok(samples)
    }
}

/// The `id` of a created resource, or an error naming the operation.
fn ids(samples: &[Sample], op: &str) -> anyhow::Result<Vec<String>> {
    samples
        .iter()
        .map(|s| {
            s.body
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    anyhow!(
                        "{op}: no id in the answer ({})",
                        s.error.clone().unwrap_or_else(|| s.status.to_string())
                    )
                })
        })
        .collect()
}

fn filter_path(resource: &str, filter: &str, extra: &str) -> String {
    format!("/{resource}?filter={}{extra}", percent_encode(filter))
}

fn okta_user(user_name: &str, i: usize, given: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": given, "familyName": format!("Okta{i}")},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": format!("{given} Okta{i}"),
        "locale": "en-US",
        "groups": [],
        "password": "Bench-Passw0rd!",
        "active": true
    })
}

fn entra_user(user_name: &str, external_id: &str, i: usize) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": format!("Entra User {i}"),
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "name": {"formatted": format!("Entra User {i}"), "familyName": format!("User{i}"), "givenName": "Entra"},
        "title": "Engineer",
        ENTERPRISE: {"department": "Research", "employeeNumber": format!("{i}")}
    })
}

fn members(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
}

/// Runs the whole workload against `target`, taking turn `slot` of `turns` for each phase;
/// `progress` gets one line per phase.
pub fn run(
    target: &Target,
    meter: &Meter,
    cfg: &Config,
    progress: &(dyn Fn(&str) + Sync),
    turns: &Turns,
    slot: usize,
) -> anyhow::Result<Vec<Phase>> {
    let mut r = Runner {
        target,
        meter,
        concurrency: cfg.concurrency,
        phases: Vec::new(),
        progress,
        turns,
        slot,
    };
    let n = cfg.users;
    let run = &cfg.run_id;
    let t = target;

    // Discovery: no DynamoDB call, so this is the fixed cost of one request in each server.
    r.phase(
        "discovery.get",
        "GET /ServiceProviderConfig (no DynamoDB call)",
        n,
        |_| t.send("GET", "/ServiceProviderConfig", None, SCIM_JSON, &[200]),
    )?;

    // Okta import: lookup by userName, create, read, PUT update, PATCH deactivate.
    let okta_name = |i: usize| format!("okta-{run}-{i}@example.com");
    r.phase(
        "okta.lookup_userName",
        "GET /Users?filter=userName eq \"x\"&startIndex=1&count=100 (no match)",
        n,
        |i| {
            let path = filter_path(
                "Users",
                &format!("userName eq \"{}\"", okta_name(i)),
                "&startIndex=1&count=100",
            );
            t.send("GET", &path, None, JSON, &[200])
        },
    )?;
    let created = r.phase(
        "okta.create",
        "POST /Users (Okta body, application/json)",
        n,
        |i| {
            t.send(
                "POST",
                "/Users",
                Some(&okta_user(&okta_name(i), i, "Ada")),
                JSON,
                &[201],
            )
        },
    )?;
    let okta_ids = ids(&created, "okta.create")?;
    r.phase("user.get", "GET /Users/{id}", n, |i| {
        t.send(
            "GET",
            &format!("/Users/{}", okta_ids[i]),
            None,
            JSON,
            &[200],
        )
    })?;
    r.phase(
        "okta.put",
        "PUT /Users/{id} (whole user, new name)",
        n,
        |i| {
            let mut body = okta_user(&okta_name(i), i, "Grace");
            if let Value::Object(map) = &mut body {
                map.insert("id".into(), json!(okta_ids[i]));
            }
            t.send(
                "PUT",
                &format!("/Users/{}", okta_ids[i]),
                Some(&body),
                JSON,
                &[200],
            )
        },
    )?;
    r.phase(
        "okta.deactivate",
        "PATCH /Users/{id} {op: replace, value: {active: false}}",
        n,
        |i| {
            let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
            t.send("PATCH", &format!("/Users/{}", okta_ids[i]), Some(&body), SCIM_JSON, &[200, 204])
        },
    )?;

    // Entra cycle: lookup by externalId and userName, create, PATCH with several ops.
    let entra_name = |i: usize| format!("entra-{run}-{i}@example.com");
    let entra_ext = |i: usize| format!("{run}-0000-4000-8000-{i:012}");
    r.phase(
        "entra.lookup_externalId",
        "GET /Users?filter=externalId eq \"guid\" (no match)",
        n,
        |i| {
            let path = filter_path("Users", &format!("externalId eq \"{}\"", entra_ext(i)), "");
            t.send("GET", &path, None, SCIM_JSON, &[200])
        },
    )?;
    r.phase(
        "entra.lookup_userName",
        "GET /Users?filter=userName eq \"x\" (no match)",
        n,
        |i| {
            let path = filter_path("Users", &format!("userName eq \"{}\"", entra_name(i)), "");
            t.send("GET", &path, None, SCIM_JSON, &[200])
        },
    )?;
    let created = r.phase(
        "entra.create",
        "POST /Users (Entra body, enterprise extension)",
        n,
        |i| {
            t.send(
                "POST",
                "/Users",
                Some(&entra_user(&entra_name(i), &entra_ext(i), i)),
                SCIM_JSON,
                &[201],
            )
        },
    )?;
    let entra_ids = ids(&created, "entra.create")?;
    r.phase(
        "entra.patch",
        "PATCH Replace displayName, Add emails[type eq \"work\"].value, Replace active \"False\"",
        n,
        |i| {
            let body = json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "displayName", "value": format!("Entra Renamed {i}")},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": format!("moved-{run}-{i}@example.com")},
                {"op": "Replace", "path": "active", "value": "False"}
            ]});
            t.send("PATCH", &format!("/Users/{}", entra_ids[i]), Some(&body), SCIM_JSON, &[200, 204])
        },
    )?;

    // Entra groups: lookup, create, add members, remove one.
    let g = cfg.groups;
    let group_name = |j: usize| format!("entra-group-{run}-{j}");
    r.phase(
        "entra.group_lookup",
        "GET /Groups?filter=displayName eq \"x\"&excludedAttributes=members (no match)",
        g,
        |j| {
            let path = filter_path(
                "Groups",
                &format!("displayName eq \"{}\"", group_name(j)),
                "&excludedAttributes=members",
            );
            t.send("GET", &path, None, SCIM_JSON, &[200])
        },
    )?;
    let created = r.phase("entra.group_create", "POST /Groups (no members)", g, |j| {
        let body = json!({"schemas": [GROUP], "externalId": format!("{run}-group-{j}"), "displayName": group_name(j)});
        t.send("POST", "/Groups", Some(&body), SCIM_JSON, &[201])
    })?;
    let group_ids = ids(&created, "entra.group_create")?;
    let m = cfg.members_per_group.max(1);
    let pool: Vec<String> = okta_ids.iter().chain(entra_ids.iter()).cloned().collect();
    let member_slice = |j: usize| -> Vec<String> {
        (0..m)
            .map(|x| pool[(j * m + x) % pool.len()].clone())
            .collect()
    };
    r.phase(
        "entra.members_add",
        &format!("PATCH /Groups/{{id}} Add members [{m} values]"),
        g,
        |j| {
            let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": members(&member_slice(j))}]});
            t.send("PATCH", &format!("/Groups/{}", group_ids[j]), Some(&body), SCIM_JSON, &[200, 204])
        },
    )?;
    let remove_what = match t.kind {
        Kind::Ours => "PATCH /Groups/{id} Remove members [1 value] (Entra)",
        Kind::Peer => "PATCH /Groups/{id} remove members[value eq \"id\"] (the peer refuses Entra's value list)",
    };
    r.phase("entra.members_remove", remove_what, g, |j| {
        let victim = member_slice(j)[0].clone();
        let op = match t.kind {
            Kind::Ours => json!({"op": "Remove", "path": "members", "value": [{"value": victim}]}),
            Kind::Peer => {
                json!({"op": "remove", "path": format!("members[value eq \"{victim}\"]")})
            }
        };
        let body = json!({"schemas": [PATCH_OP], "Operations": [op]});
        t.send(
            "PATCH",
            &format!("/Groups/{}", group_ids[j]),
            Some(&body),
            SCIM_JSON,
            &[200, 204],
        )
    })?;

    // Group PATCH of k members in one request.
    let biggest = cfg.big_groups.iter().copied().max().unwrap_or(0);
    let mut pool = pool;
    if biggest > pool.len() {
        let extra = biggest - pool.len();
        let bulk_name = |i: usize| format!("bulk-{run}-{i}@example.com");
        let created = r.phase(
            "bulk.create",
            "POST /Users (extra users for the k-member PATCHes)",
            extra,
            |i| {
                t.send(
                    "POST",
                    "/Users",
                    Some(&okta_user(&bulk_name(i), i, "Bulk")),
                    JSON,
                    &[201],
                )
            },
        )?;
        pool.extend(ids(&created, "bulk.create")?);
    }
    for &k in &cfg.big_groups {
        let body = json!({"schemas": [GROUP], "displayName": format!("big-{run}-{k}")});
        let group = t.send("POST", "/Groups", Some(&body), SCIM_JSON, &[201]);
        let gid = ids(std::slice::from_ref(&group), "big group create")?.remove(0);
        let value = members(&pool[..k]);
        r.phase(
            &format!("group.add_members_k{k}"),
            &format!("PATCH /Groups/{{id}} Add members [{k} values] (one request)"),
            1,
            |_| {
                let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": value}]});
                t.send("PATCH", &format!("/Groups/{gid}"), Some(&body), SCIM_JSON, &[200, 204])
            },
        )?;
    }

    // Document size (issue #16): what a membership change writes should not depend on how large
    // the members' documents are. The same PATCH adding DOC_MEMBERS members, once with users of
    // about 2 KB and once with users of about 50 KB.
    for (label, pad) in [("2kb", 0usize), ("50kb", 48_000)] {
        let doc_name = |i: usize| format!("doc{label}-{run}-{i}@example.com");
        let created = r.phase(
            &format!("docsize_{label}.create"),
            &format!("POST /Users (a document of about {label})"),
            DOC_MEMBERS,
            |i| {
                let mut body = okta_user(&doc_name(i), i, "Doc");
                if pad > 0 {
                    body["title"] = json!("t".repeat(pad));
                }
                t.send("POST", "/Users", Some(&body), JSON, &[201])
            },
        )?;
        let doc_ids = ids(&created, "docsize create")?;
        let body = json!({"schemas": [GROUP], "displayName": format!("doc{label}-{run}")});
        let group = t.send("POST", "/Groups", Some(&body), SCIM_JSON, &[201]);
        let gid = ids(std::slice::from_ref(&group), "docsize group create")?.remove(0);
        let value = members(&doc_ids);
        r.phase(
            &format!("docsize_{label}.members_add"),
            &format!("PATCH /Groups/{{id}} Add members [{DOC_MEMBERS} users of about {label}]"),
            1,
            |_| {
                let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": value}]});
                t.send("PATCH", &format!("/Groups/{gid}"), Some(&body), SCIM_JSON, &[200, 204])
            },
        )?;
    }

    // Import paging (issue #12): the tenant is filled up to each size, then paged through the
    // way Okta and Entra import, `startIndex` 1, 101, 201, ... with `count=100`, one page after
    // the other. What a page costs must not grow with the tenant or the offset.
    for &size in &cfg.paging_tenants {
        let total = list_total(t)?;
        if size > total {
            let fill_name = |i: usize| format!("page-{run}-{size}-{i}@example.com");
            r.phase(
                &format!("paging.fill_{size}"),
                &format!("POST /Users (fills the tenant up to {size} users)"),
                size - total,
                |i| {
                    t.send(
                        "POST",
                        "/Users",
                        Some(&okta_user(&fill_name(i), i, "Page")),
                        JSON,
                        &[201],
                    )
                },
            )?;
        }
        let total = list_total(t)?;
        let pages = total.div_ceil(PAGE);
        let concurrency = std::mem::replace(&mut r.concurrency, 1);
        let paged = r.phase(
            &format!("paging.import_{size}"),
            &format!(
                "GET /Users?startIndex=1+100i&count=100, every page of {total} users in order"
            ),
            pages,
            |i| {
                let path = format!("/Users?startIndex={}&count={PAGE}", 1 + i * PAGE);
                t.send("GET", &path, None, JSON, &[200])
            },
        );
        r.concurrency = concurrency;
        let seen: usize = paged?
            .iter()
            .map(|s| s.body["Resources"].as_array().map_or(0, Vec::len))
            .sum();
        // The peer's paging is its own business; ours must hand over every user exactly once.
        if seen != total && matches!(t.kind, Kind::Ours) {
            bail!("paging.import_{size}: the pages held {seen} users of {total}");
        }
    }
    Ok(r.phases)
}

/// Members of the document-size PATCHes (one transaction's worth or less).
pub const DOC_MEMBERS: usize = 20;

/// Users per page of an import, as Okta and Entra ask.
pub const PAGE: usize = 100;

/// The tenant's `totalResults` for users.
fn list_total(t: &Target) -> anyhow::Result<usize> {
    let sample = t.send("GET", "/Users?count=0", None, JSON, &[200]);
    sample.body["totalResults"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| anyhow!("GET /Users?count=0: no totalResults ({:?})", sample.error))
}
