#!/usr/bin/env bash
# Runs the HTTP integration tests, the third-party conformance checker (scim2-tester) and
# schemathesis (property-based requests generated from openapi.yaml) against
# a local stack this script starts and always stops. A test that cannot reach the stack fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export STACK="${STACK:-test}"
trap 'scripts/local.sh down >/dev/null 2>&1 || true' EXIT
scripts/local.sh down >/dev/null 2>&1 || true
rm -rf ".local/$STACK"
scripts/local.sh up
set -a
# shellcheck disable=SC1090
source <(scripts/local.sh env)
set +a
cargo test -p integration-tests -- --test-threads "${SCIM_TEST_THREADS:-4}" "$@"
# A filtered run (arguments given, as `make test-scale` does) is about those tests only.
if (($# > 0)); then exit 0; fi
token=$(scripts/local.sh token "conformance" 2>/dev/null | tail -n 1)
.tools/venv/bin/python scripts/conformance.py "$SCIM_BASE_URL" "$token"
st_token=$(scripts/local.sh token "schemathesis" 2>/dev/null | tail -n 1)
scripts/schemathesis.sh "$SCIM_BASE_URL" "$st_token"
