#!/usr/bin/env bash
# `make bench` (issue #6): builds the release function binaries (x86_64, and arm64 for sizes),
# starts the local AWS stand-in on its own stack (STACK=bench: moto on 5555, functions on 9500),
# runs the provisioning workload against our functions and against the peer (python
# scim2-server), measures cold starts and binary sizes, writes bench/results/latest.json and
# prints the tables. Always stops what it started. Arguments go to scim-bench (see
# `scim-bench --help`), e.g. `scripts/bench.sh --users 1000 --concurrency 8`.
#
# BENCH_ARM64=0 skips the arm64 build (a second cold release build of the AWS SDK).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export STACK=bench
export SCIM_HTTP_PORT="${SCIM_HTTP_PORT:-9500}"
export SCIM_AWS_PORT="${SCIM_AWS_PORT:-5555}"
# The production default (the local stacks use 2 s so revocation tests run fast).
export SCIM_TOKEN_CACHE_SECONDS="${SCIM_TOKEN_CACHE_SECONDS:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scim-serverless/target}"
VENV="$ROOT/.tools/venv"
STATE="$ROOT/.local/$STACK"
LAMBDA_X86="$CARGO_TARGET_DIR/lambda"
LAMBDA_ARM="$CARGO_TARGET_DIR/lambda-arm64"
# The bench crate is excluded so that its own dependencies' features (hyper's server, for the
# runtime API emulator) are not unified into the function binaries being measured.
FUNCTION_BINS=(--workspace --exclude scim-bench --bin users --bin groups --bin discovery)
mkdir -p "$STATE"

cleanup() {
  scripts/local.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "[bench] release build, x86_64 (cargo lambda build --release)" >&2
PATH="$VENV/bin:$PATH" cargo-lambda lambda build --release "${FUNCTION_BINS[@]}"

ARM64_NOTE=""
if [[ "${BENCH_ARM64:-1}" == "1" ]]; then
  echo "[bench] release build, arm64 (cargo lambda build --release --arm64), log in $STATE/build-arm64.log" >&2
  if ! PATH="$VENV/bin:$PATH" cargo-lambda lambda build --release --arm64 \
      --lambda-dir "$LAMBDA_ARM" "${FUNCTION_BINS[@]}" > "$STATE/build-arm64.log" 2>&1; then
    ARM64_NOTE="cargo lambda build --release --arm64 failed: $(grep -m 3 -E '^error' "$STATE/build-arm64.log" | tr '\n' ' ')"
    echo "[bench] $ARM64_NOTE" >&2
  fi
else
  ARM64_NOTE="not built (BENCH_ARM64=0)"
fi

echo "[bench] building the load generator" >&2
cargo build --quiet -p scim-bench --bins

echo "[bench] starting the local AWS stand-in (STACK=bench)" >&2
scripts/local.sh down >/dev/null 2>&1 || true
scripts/local.sh aws
TOKEN=$(scripts/local.sh token bench | tail -n 1)
# The bench measures what each operation costs, not the rate limit (tests/tests/api/rate_limit.rs
# does): the bench tenant's limit is set far above the load generator's rate. The functions still
# claim their per-second leases, so the limiter's own calls are part of what is measured.
(
  set -a
  # shellcheck disable=SC1090
  source <(scripts/local.sh env)
  set +a
  "$SCIM_ADMIN_BIN" tenant settings bench --rate-limit-per-second 1000000 >/dev/null
)

ARGS=(--lambda-dir "$LAMBDA_X86" --env-file "$STATE/env" --log-dir "$STATE"
      --listen "127.0.0.1:$SCIM_HTTP_PORT" --peer-bin "$ROOT/.tools/bench/bin/scim2-server")
if [[ -z "$ARM64_NOTE" ]]; then
  ARGS+=(--lambda-dir-arm64 "$LAMBDA_ARM")
else
  ARGS+=(--arm64-note "$ARM64_NOTE")
fi
SCIM_BENCH_TOKEN="$TOKEN" "$CARGO_TARGET_DIR/debug/scim-bench" "${ARGS[@]}" "$@"
