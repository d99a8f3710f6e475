//! Starting a function binary the way the Lambda service starts a `provided.al2023` runtime:
//! a clean environment with the `AWS_LAMBDA_*` variables, the function's own configuration, and
//! `AWS_LAMBDA_RUNTIME_API` pointing at the runtime API.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context};

use crate::emulator::RuntimeApi;
use crate::procfs::Owned;

/// The three functions of the service.
pub const FUNCTIONS: [&str; 3] = ["users", "groups", "discovery"];

/// Memory size the functions are deployed with (template.yaml) and billed at in the cost model.
pub const MEMORY_MB: u32 = 128;

/// `KEY=VALUE` lines (blank lines and `#` comments skipped), e.g. `.local/bench/env`.
pub fn read_env_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// `<lambda_dir>/<name>/bootstrap`, as `cargo lambda build` lays them out.
pub fn bootstrap(lambda_dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let path = lambda_dir.join(name).join("bootstrap");
    if path.is_file() {
        Ok(path)
    } else {
        Err(anyhow!(
            "{} is missing: run `cargo lambda build --release` first",
            path.display()
        ))
    }
}

/// Starts one function process against `api`.
pub fn spawn(
    binary: &Path,
    api: &RuntimeApi,
    stack_env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<Owned> {
    let name = api.name.as_str();
    let mut cmd = Command::new(binary);
    cmd.env_clear();
    for (k, v) in stack_env {
        cmd.env(k, v);
    }
    cmd.env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("2026/01/01/[$LATEST]{:032x}", std::process::id()),
        )
        .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
        .env(
            "LAMBDA_TASK_ROOT",
            binary.parent().unwrap_or(Path::new(".")),
        )
        .env("_HANDLER", "bootstrap")
        .env("TZ", ":UTC");
    let process = Owned::spawn(name, cmd, log)?;
    api.set_pid(process.pid());
    Ok(process)
}
