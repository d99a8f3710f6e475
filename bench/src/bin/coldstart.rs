//! `coldstart`: cold starts of each function binary under the bench's Lambda runtime API
//! emulator (spawn to first `/next`, spawn to first answer, peak RSS). `scim-bench` runs the
//! same measurement as part of `make bench`; this binary runs it alone.

use std::path::PathBuf;

use clap::Parser;
use scim_bench::{coldstart, functions};

#[derive(Debug, Parser)]
#[command(
    name = "coldstart",
    about = "Cold start of each function under a local Lambda runtime API"
)]
struct Args {
    /// `cargo lambda build --release` output: `<dir>/<function>/bootstrap`.
    #[arg(long)]
    lambda_dir: PathBuf,
    /// The stack's environment (`scripts/local.sh env` writes `.local/bench/env`).
    #[arg(long, default_value = ".local/bench/env")]
    env_file: PathBuf,
    /// A bearer token of a tenant on that stack.
    #[arg(long, env = "SCIM_BENCH_TOKEN", hide_env_values = true)]
    token: String,
    /// Cold starts per function.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Where the functions' logs go.
    #[arg(long, default_value = ".local/bench")]
    log_dir: PathBuf,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.log_dir)?;
    let env = functions::read_env_file(&args.env_file)?;
    let mut result = coldstart::measure(
        &args.lambda_dir,
        &env,
        &args.token,
        args.repeat,
        &args.log_dir,
    )
    .await?;
    if let serde_json::Value::Object(map) = &mut result {
        map.insert("sizes".into(), coldstart::sizes(&args.lambda_dir));
    }
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
