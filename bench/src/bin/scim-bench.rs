//! `scim-bench`: runs the provisioning workload against our functions (release binaries under
//! the bench's Lambda runtime API emulator, backed by the local DynamoDB) and against the peer
//! (python `scim2-server`), measures cold starts and binary sizes, writes the results JSON and
//! prints the tables. `make bench` drives it; see docs/PERFORMANCE.md.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, ValueEnum};
use serde_json::{json, Value};

use scim_bench::baseline;
use scim_bench::client::{Kind, Target};
use scim_bench::emulator::{Gateway, RuntimeApi};
use scim_bench::procfs::{self, Owned};
use scim_bench::report::Results;
use scim_bench::stats::{self, OpSummary};
use scim_bench::workload::{self, Meter, Phase};
use scim_bench::{coldstart, functions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Ours,
    Peer,
    Both,
}

#[derive(Debug, Parser)]
#[command(name = "scim-bench", about = "SCIM provisioning benchmark (issue #6)")]
struct Args {
    /// Users per flow (the Okta import and the Entra cycle each provision this many).
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Groups in the Entra cycle.
    #[arg(long, default_value_t = 20)]
    groups: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Members added per group in the Entra cycle.
    #[arg(long, default_value_t = 5)]
    members_per_group: usize,
    /// Sizes k of the one-request group PATCHes (comma separated; 0 or empty for none).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    big_groups: Vec<usize>,
    /// Tenant sizes at which an import pages through every user, `startIndex` 1, 101, 201, ...
    /// with `count=100` as Okta and Entra do (comma separated, ascending; 0 or empty for none).
    /// The bench tenant is filled up to each size first.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    paging_tenants: Vec<usize>,
    /// Which servers to drive.
    #[arg(long, value_enum, default_value_t = Which::Both)]
    target: Which,
    /// The committed run this one is compared with (skipped when the file is missing).
    #[arg(long, default_value = "bench/results/baseline.json")]
    baseline: PathBuf,
    /// Where to write the results JSON.
    #[arg(long, default_value = "bench/results/latest.json")]
    out: PathBuf,
    /// `cargo lambda build --release` output (x86_64): `<dir>/<function>/bootstrap`.
    #[arg(long)]
    lambda_dir: Option<PathBuf>,
    /// The same for `--arm64` (sizes only).
    #[arg(long)]
    lambda_dir_arm64: Option<PathBuf>,
    /// Why there are no arm64 binaries, when there are none.
    #[arg(long)]
    arm64_note: Option<String>,
    /// The stack's environment (`scripts/local.sh env` writes `.local/bench/env`).
    #[arg(long, default_value = ".local/bench/env")]
    env_file: PathBuf,
    /// A bearer token of the bench tenant on our stack.
    #[arg(long, env = "SCIM_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Address of our API Gateway stand-in.
    #[arg(long, default_value = "127.0.0.1:9500")]
    listen: SocketAddr,
    /// The peer's executable (`scim2-server` from PyPI).
    #[arg(long, default_value = ".tools/bench/bin/scim2-server")]
    peer_bin: PathBuf,
    /// The peer's port.
    #[arg(long, default_value_t = 9590)]
    peer_port: u16,
    /// Cold starts per function (0 skips them).
    #[arg(long, default_value_t = 5)]
    coldstart_repeat: usize,
    /// Logs of the processes the bench starts.
    #[arg(long, default_value = ".local/bench")]
    log_dir: PathBuf,
    /// Per-request timeout, seconds (a 1,000-member PATCH on the local DynamoDB takes a while).
    #[arg(long, default_value_t = 900)]
    timeout: u64,
}

fn say(line: &str) {
    eprintln!("[bench] {line}");
}

fn wait_ready(target: &Target, path: &str, what: &str, process: &mut Owned) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let s = target.send("GET", path, None, "application/scim+json", &[200]);
        if s.ok {
            return Ok(());
        }
        if let Some(status) = process.exited() {
            bail!("{what} exited ({status}) before answering; see its log");
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("{what} did not answer 200 within 60 s: {:?}", s.error);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn run_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("{secs:x}")
}

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
}

fn environment() -> Value {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
    });
    json!({
        "date_utc": command_output("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        "git_commit": command_output("git", &["rev-parse", "--short", "HEAD"]),
        "git_dirty": command_output("git", &["status", "--porcelain"]).map(|s| !s.is_empty()),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "cpu_model": cpu_model,
        "loadavg_at_start": std::fs::read_to_string("/proc/loadavg").ok().map(|s| s.trim().to_string()),
        "kernel": command_output("uname", &["-r"]),
    })
}

/// Our functions under the runtime API emulator, and the gateway in front of them.
struct OurStack {
    processes: Vec<Owned>,
}

async fn start_ours(args: &Args, stack_env: &[(String, String)]) -> anyhow::Result<OurStack> {
    let lambda_dir = args
        .lambda_dir
        .as_deref()
        .ok_or_else(|| anyhow!("--lambda-dir is required for the ours target"))?;
    let mut processes = Vec::new();
    let mut apis = Vec::new();
    for name in functions::FUNCTIONS {
        let binary = functions::bootstrap(lambda_dir, name)?;
        let api = RuntimeApi::start(name).await?;
        let log = args.log_dir.join(format!("function-{name}.log"));
        processes.push(functions::spawn(&binary, &api, stack_env, &log)?);
        apis.push(api);
    }
    let mut apis = apis.into_iter();
    let (Some(users), Some(groups), Some(discovery)) = (apis.next(), apis.next(), apis.next())
    else {
        bail!("three runtime APIs expected");
    };
    let gateway = Arc::new(Gateway {
        users,
        groups,
        discovery,
        timeout: Duration::from_secs(args.timeout),
    });
    let bound = gateway.serve(args.listen).await?;
    say(&format!("our functions answer at http://{bound}/scim/v2"));
    Ok(OurStack { processes })
}

fn summaries(phases: &[Phase]) -> Vec<OpSummary> {
    phases.iter().map(stats::summarize).collect()
}

/// A user item's size in whole KB: the stored SCIM document plus ~400 bytes of keys and
/// indexed attributes, from the Entra users the run created.
fn user_item_kb(phases: &[Phase]) -> f64 {
    let sizes: Vec<usize> = phases
        .iter()
        .filter(|p| p.op == "entra.create")
        .flat_map(|p| p.samples.iter())
        .filter(|s| s.ok)
        .map(|s| s.body.to_string().len())
        .collect();
    if sizes.is_empty() {
        return 1.0;
    }
    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    ((mean + 400.0) / 1024.0).ceil()
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.users == 0 || args.groups == 0 || args.concurrency == 0 {
        bail!("--users, --groups and --concurrency must be at least 1");
    }
    std::fs::create_dir_all(&args.log_dir)?;
    let ticks = procfs::clock_ticks();
    let big_groups: Vec<usize> = args.big_groups.iter().copied().filter(|k| *k > 0).collect();
    let cfg = workload::Config {
        users: args.users,
        groups: args.groups,
        concurrency: args.concurrency,
        members_per_group: args.members_per_group.min(args.users * 2),
        big_groups: big_groups.clone(),
        paging_tenants: {
            let mut sizes: Vec<usize> = args
                .paging_tenants
                .iter()
                .copied()
                .filter(|n| *n > 0)
                .collect();
            sizes.sort_unstable();
            sizes
        },
        run_id: run_id(),
    };
    let timeout = Duration::from_secs(args.timeout);
    let environment = environment();
    let want_ours = matches!(args.target, Which::Ours | Which::Both);
    let want_peer = matches!(args.target, Which::Peer | Which::Both);
    let stack_env = if want_ours || args.coldstart_repeat > 0 {
        functions::read_env_file(&args.env_file)?
    } else {
        Vec::new()
    };
    let token = args.token.clone().unwrap_or_default();
    if (want_ours || args.coldstart_repeat > 0) && token.is_empty() {
        bail!("--token (or SCIM_BENCH_TOKEN) is required for our stack");
    }

    // Cold starts before the workload: moto's queries slow down as its table grows (DynamoDB's
    // do not).
    let coldstart = if args.coldstart_repeat > 0 {
        let lambda_dir = args
            .lambda_dir
            .as_deref()
            .ok_or_else(|| anyhow!("--lambda-dir is required for cold starts"))?;
        say(&format!(
            "cold starts: {} per function",
            args.coldstart_repeat
        ));
        Some(
            coldstart::measure(
                lambda_dir,
                &stack_env,
                &token,
                args.coldstart_repeat,
                &args.log_dir,
            )
            .await?,
        )
    } else {
        None
    };
    // Both runs go at once and take turns phase by phase (ours, then the peer, for each
    // operation), so both meet the same background load.
    let players = usize::from(want_ours) + usize::from(want_peer);
    let turns = Arc::new(workload::Turns::new(players));
    let mut ours_run = None;
    if want_ours {
        let mut stack = start_ours(&args, &stack_env).await?;
        let base = format!("http://{}/scim/v2", args.listen);
        let target = Target::new(Kind::Ours, &base, &token, timeout);
        let pids: Vec<u32> = stack.processes.iter().map(Owned::pid).collect();
        let cfg = cfg.clone();
        let turns = Arc::clone(&turns);
        ours_run = Some(tokio::task::spawn_blocking(
            move || -> anyhow::Result<Vec<Phase>> {
                let run = || -> anyhow::Result<Vec<Phase>> {
                    // Warm each function (cold start, token cache, connection pool) first.
                    for (path, process) in [
                        ("/ServiceProviderConfig", 2usize),
                        ("/Users?count=1", 0),
                        ("/Groups?count=1&excludedAttributes=members", 1),
                    ] {
                        wait_ready(
                            &target,
                            path,
                            functions::FUNCTIONS[process],
                            &mut stack.processes[process],
                        )?;
                    }
                    let meter = Meter { pids, ticks };
                    workload::run(&target, &meter, &cfg, &say, &turns, 0)
                };
                let phases = run();
                if phases.is_err() {
                    turns.abort();
                }
                for p in &mut stack.processes {
                    if let Some(status) = p.exited() {
                        say(&format!("{} exited during the run: {status}", p.name));
                    }
                }
                drop(stack);
                phases
            },
        ));
    }

    let mut peer_run = None;
    if want_peer {
        let peer_token = format!("peer-{}", cfg.run_id);
        let mut cmd = Command::new(&args.peer_bin);
        cmd.args([
            "--hostname",
            "127.0.0.1",
            "--port",
            &args.peer_port.to_string(),
            "--bearer-token",
            &peer_token,
        ]);
        let mut peer = Owned::spawn("scim2-server", cmd, &args.log_dir.join("peer.log"))
            .context("starting the peer (make bench installs it into .tools/bench)")?;
        let base = format!("http://127.0.0.1:{}/v2", args.peer_port);
        let target = Target::new(Kind::Peer, &base, &peer_token, timeout);
        let cfg = cfg.clone();
        let turns = Arc::clone(&turns);
        let slot = usize::from(want_ours);
        peer_run = Some(tokio::task::spawn_blocking(
            move || -> anyhow::Result<Vec<Phase>> {
                let mut run = || -> anyhow::Result<Vec<Phase>> {
                    wait_ready(&target, "/ServiceProviderConfig", "scim2-server", &mut peer)?;
                    let meter = Meter {
                        pids: vec![peer.pid()],
                        ticks,
                    };
                    workload::run(&target, &meter, &cfg, &say, &turns, slot)
                };
                let phases = run();
                if phases.is_err() {
                    turns.abort();
                }
                drop(peer);
                phases
            },
        ));
    }
    // Both are awaited before either error is returned, so each run has stopped its processes.
    let ours_result = match ours_run {
        Some(handle) => handle.await.map_err(anyhow::Error::from).and_then(|r| r),
        None => Ok(Vec::new()),
    };
    let peer_result = match peer_run {
        Some(handle) => handle.await.map_err(anyhow::Error::from).and_then(|r| r),
        None => Ok(Vec::new()),
    };
    let ours_phases = ours_result.context("the run against our functions")?;
    let peer_phases = peer_result.context("the run against the peer")?;
    let sizes_x86_64 = args
        .lambda_dir
        .as_deref()
        .map(coldstart::sizes)
        .unwrap_or(Value::Null);
    let sizes_arm64 = args
        .lambda_dir_arm64
        .as_deref()
        .map(coldstart::sizes)
        .unwrap_or(Value::Null);

    let mut notes = vec![
        "Our functions: the `cargo lambda build --release` binaries, one process per function under the bench's Lambda runtime API emulator (one invocation at a time, like one Lambda instance), behind an API Gateway HTTP API (payload 2.0) stand-in; DynamoDB and Secrets Manager are moto (slow Python, serialised), so our latency and throughput are moto's; CPU is the function processes' own (utime+stime from /proc).".to_string(),
        "Peer: python scim2-server (PyPI) with in-memory storage, one process (threaded WSGI server, HTTP/1.0, a connection per request); its CPU includes no database work at all, ours includes the SDK's HTTP, signing and JSON work for every DynamoDB call.".to_string(),
        "The peer refuses Entra's `Remove members` with a value list (400 invalidValue); it gets the equivalent `remove members[value eq \"id\"]` instead.".to_string(),
        "DynamoDB capacity in the cost model is modelled from the data model and the measured document size; moto reports placeholder capacity (0.5/1 per call, none for transactions), kept in the JSON as local_reported_capacity_mean.".to_string(),
    ];
    if cfg.big_groups.iter().any(|k| *k > 2 * cfg.users) {
        notes.push(
            "Extra users for the k-member PATCHes are created in the bulk.create phase.".into(),
        );
    }
    let results = Results {
        ours: summaries(&ours_phases),
        peer: summaries(&peer_phases),
        coldstart,
        sizes_x86_64,
        sizes_arm64,
        arm64_note: args.arm64_note.clone(),
        config: json!({
            "users": cfg.users,
            "groups": cfg.groups,
            "concurrency": cfg.concurrency,
            "members_per_group": cfg.members_per_group,
            "big_groups": cfg.big_groups,
            "paging_tenants": cfg.paging_tenants,
            "target": format!("{:?}", args.target).to_lowercase(),
            "coldstart_repeat": args.coldstart_repeat,
            "token_cache_seconds": stack_env.iter().find(|(k, _)| k == "SCIM_TOKEN_CACHE_SECONDS").map(|(_, v)| v.clone()),
        }),
        environment,
        user_item_kb: user_item_kb(&ours_phases),
        members_per_group: cfg.members_per_group,
        notes,
    };
    let mut json = results.to_json();
    let comparison = match std::fs::read_to_string(&args.baseline) {
        Ok(text) => Some(baseline::compare(&json, &serde_json::from_str(&text)?)),
        Err(_) => {
            say(&format!(
                "no baseline at {}: nothing to compare with",
                args.baseline.display()
            ));
            None
        }
    };
    if let Some(comparison) = &comparison {
        json["baseline"] = comparison.clone();
    }
    write_json(&args.out, &json)?;
    println!("{}", results.table());
    if let Some(comparison) = &comparison {
        println!("{}", baseline::table(comparison));
    }
    say(&format!("results written to {}", args.out.display()));
    let errors = results.errors();
    if errors > 0 {
        for s in results.ours.iter().chain(results.peer.iter()) {
            for e in &s.first_errors {
                say(&format!("error in {}: {e}", s.op));
            }
        }
        bail!("{errors} requests failed; a benchmark run must have none");
    }
    Ok(())
}
