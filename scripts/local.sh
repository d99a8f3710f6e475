#!/usr/bin/env bash
# The local stack: moto (DynamoDB, Secrets Manager, EventBridge, SQS), the functions under
# `cargo lambda watch`, the stream pump that feeds the table's stream to the audit and events
# functions (stream_pump.py), the queue pump that feeds the webhook queue to the webhooks
# function (queue_pump.py), and a webhook receiver that verifies and keeps what it is sent
# (webhook_receiver.py; $SCIM_WEBHOOK_RECEIVER_URL/hooks/<name>, read at /_hooks/<name>).
#
#   scripts/local.sh up       start detached; returns once /scim/v2/ServiceProviderConfig answers
#   scripts/local.sh dev      start, print a demo token, run the functions in the foreground
#   scripts/local.sh down     stop everything `up` started
#   scripts/local.sh token T  create tenant T if needed, issue a token, print it as the last line
#   scripts/local.sh env      print the environment the stack's clients use
#   scripts/local.sh events   print the provisioning events the bus received since the last call
#   scripts/local.sh aws      start only the AWS stand-in and create the table and secret (the
#                             benchmark runs the release function binaries itself)
#
# STACK (default "dev") names the instance: each has its own ports and state folder, so
# `make test` (STACK=test) can run while `make dev` is up.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${STACK:-dev}"
STATE="$ROOT/.local/$STACK"
VENV="$ROOT/.tools/venv"
if [[ "$STACK" == "test" ]]; then
  DEFAULT_HTTP_PORT=9100; DEFAULT_AWS_PORT=5155; DEFAULT_RECEIVER_PORT=9102
elif [[ "$STACK" == "scale" ]]; then
  DEFAULT_HTTP_PORT=9400; DEFAULT_AWS_PORT=5455; DEFAULT_RECEIVER_PORT=9402
elif [[ "$STACK" == "bench" ]]; then
  DEFAULT_HTTP_PORT=9500; DEFAULT_AWS_PORT=5555; DEFAULT_RECEIVER_PORT=9502
else
  DEFAULT_HTTP_PORT=9000; DEFAULT_AWS_PORT=5055; DEFAULT_RECEIVER_PORT=9002
fi
HTTP_PORT="${SCIM_HTTP_PORT:-$DEFAULT_HTTP_PORT}"
AWS_PORT="${SCIM_AWS_PORT:-$DEFAULT_AWS_PORT}"
RECEIVER_PORT="${SCIM_WEBHOOK_RECEIVER_PORT:-$DEFAULT_RECEIVER_PORT}"
RECEIVER_URL="http://127.0.0.1:$RECEIVER_PORT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scim-serverless/target}"
ADMIN="$CARGO_TARGET_DIR/debug/scim-admin"
BASE_URL="http://127.0.0.1:$HTTP_PORT/scim/v2"

# Everything the functions and the admin CLI need to reach the local stand-ins.
write_env() {
  mkdir -p "$STATE"
  cat > "$STATE/env" <<ENV
AWS_ENDPOINT_URL=http://127.0.0.1:$AWS_PORT
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
TABLE_NAME=scim-$STACK
TOKEN_KEY_SECRET_ID=scim-$STACK-token-key
SCIM_TOKEN_CACHE_SECONDS=${SCIM_TOKEN_CACHE_SECONDS:-2}
SCIM_EXPOSE_CALL_COUNTS=1
SCIM_PUBLIC_BASE_URL=$BASE_URL
SCIM_DEFAULT_PROJECT_ROLE=${SCIM_DEFAULT_PROJECT_ROLE:-EDITOR}
SCIM_RATE_LIMIT_PER_SECOND=${SCIM_RATE_LIMIT_PER_SECOND:-100}
SCIM_AUDIT_RETENTION_DAYS=${SCIM_AUDIT_RETENTION_DAYS:-90}
SCIM_AUDIT_INVOKE_URL=http://127.0.0.1:$HTTP_PORT/2015-03-31/functions/audit/invocations
SCIM_EVENTS_INVOKE_URL=http://127.0.0.1:$HTTP_PORT/2015-03-31/functions/events/invocations
EVENT_BUS_NAME=scim-$STACK-events
WEBHOOK_QUEUE_URL=http://127.0.0.1:$AWS_PORT/123456789012/scim-$STACK-webhooks.fifo
WEBHOOK_DLQ_URL=http://127.0.0.1:$AWS_PORT/123456789012/scim-$STACK-webhooks-dlq.fifo
WEBHOOK_KEY_SECRET_ID=scim-$STACK-webhook-key
SCIM_WEBHOOKS_INVOKE_URL=http://127.0.0.1:$HTTP_PORT/2015-03-31/functions/webhooks/invocations
SCIM_WEBHOOK_ALLOW_PRIVATE=1
SCIM_WEBHOOK_RETRY_FIRST_SECONDS=${SCIM_WEBHOOK_RETRY_FIRST_SECONDS:-1}
SCIM_WEBHOOK_RETRY_MAX_SECONDS=${SCIM_WEBHOOK_RETRY_MAX_SECONDS:-4}
SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS=${SCIM_WEBHOOK_ENDPOINT_CACHE_SECONDS:-1}
SCIM_WEBHOOK_RECEIVER_URL=$RECEIVER_URL
SCIM_SET_ISSUER=$BASE_URL
RUST_LOG=${RUST_LOG:-info}
ENV
}

load_env() {
  write_env
  set -a
  # shellcheck disable=SC1091
  source "$STATE/env"
  set +a
}

wait_for() { # url, seconds, what
  local url="$1" limit="$2" what="$3" i code
  for ((i = 0; i < limit * 4; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
    if [[ "$code" != "000" && "$code" != "502" && "$code" != "503" ]]; then
      return 0
    fi
    sleep 0.25
  done
  echo "timed out waiting for $what at $url (last status $code)" >&2
  return 1
}

is_running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# spawn NAME CMD...: runs CMD detached in its own session (so `down` can stop its whole process
# group), logging to $STATE/NAME.log, with its pid in $STATE/NAME.pid.
spawn() {
  local name="$1"; shift
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$STATE/$name.pid" "$@" \
    > "$STATE/$name.log" 2>&1 < /dev/null &
  for _ in $(seq 1 40); do [[ -s "$STATE/$name.pid" ]] && return 0; sleep 0.05; done
}

start_aws() {
  if is_running "$STATE/moto.pid"; then return 0; fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "missing $VENV: run 'make tools'" >&2
    return 1
  fi
  spawn moto "$VENV/bin/python" "$ROOT/scripts/moto_server.py" 127.0.0.1 "$AWS_PORT"
  wait_for "http://127.0.0.1:$AWS_PORT/moto-api/" 60 "the local AWS server"
}

provision() {
  cargo build --quiet --workspace --bins
  "$ADMIN" create-table
  "$ADMIN" create-secret
  if [[ "$STACK" == "dev" ]]; then
    "$VENV/bin/python" "$ROOT/scripts/local_bus.py" create --tap
  else
    "$VENV/bin/python" "$ROOT/scripts/local_bus.py" create
  fi
}

watch_cmd() {
  echo "$VENV/bin/cargo-lambda" lambda watch --quiet --ignore-changes \
    -A 127.0.0.1 -P "$HTTP_PORT" --env-file "$STATE/env"
}

# The event source mappings' stand-ins: table stream -> audit and events functions (log:
# $STATE/pump.log), webhook queue -> webhooks function (log: $STATE/queue-pump.log).
# SCIM_LOCAL_AUDIT=0: no stream on the table and no pumps (no audit trail, no events, no
# webhooks; make test-scale).
start_pumps() {
  if [[ "${SCIM_LOCAL_AUDIT:-1}" == "0" ]]; then return 0; fi
  is_running "$STATE/pump.pid" || spawn pump "$VENV/bin/python" "$ROOT/scripts/stream_pump.py" "$STATE"
  is_running "$STATE/queue-pump.pid" || spawn queue-pump "$VENV/bin/python" "$ROOT/scripts/queue_pump.py"
}

# Where webhooks are delivered locally (log: $STATE/receiver.log).
start_receiver() {
  if ! is_running "$STATE/receiver.pid"; then
    spawn receiver "$VENV/bin/python" "$ROOT/scripts/webhook_receiver.py" "$RECEIVER_PORT"
  fi
  wait_for "$RECEIVER_URL/_health" 30 "the webhook receiver"
}

up() {
  load_env
  start_aws
  start_receiver
  provision
  if ! is_running "$STATE/watch.pid"; then
    # shellcheck disable=SC2046
    (cd "$ROOT" && PATH="$VENV/bin:$PATH" spawn watch $(watch_cmd))
  fi
  if ! wait_for "$BASE_URL/ServiceProviderConfig" 600 "the functions"; then
    tail -n 50 "$STATE/watch.log" >&2 || true
    return 1
  fi
  start_pumps
  echo "SCIM base URL: $BASE_URL"
}

descendants() { # pid: every process below it
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

stop_group() { # pidfile: stops the process group it names and every descendant (cargo-lambda
  # starts each function in a process group of its own)
  local pidfile="$1" pid children
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  children=$(descendants "$pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  for child in $children; do
    kill -KILL "$child" 2>/dev/null || true
  done
  rm -f "$pidfile"
}

down() {
  stop_group "$STATE/pump.pid"
  stop_group "$STATE/queue-pump.pid"
  stop_group "$STATE/receiver.pid"
  stop_group "$STATE/watch.pid"
  stop_group "$STATE/moto.pid"
  echo "local stack '$STACK' stopped"
}

token() {
  local tenant="${1:-}"
  if [[ -z "$tenant" ]]; then echo "usage: $0 token TENANT" >&2; return 2; fi
  load_env
  [[ -x "$ADMIN" ]] || cargo build --quiet --bin scim-admin
  "$ADMIN" token issue --tenant "$tenant" --name "local" --create-tenant
}

dev() {
  load_env
  start_aws
  trap 'for p in pump queue-pump receiver moto; do stop_group "$STATE/$p.pid"; done' EXIT INT TERM
  start_receiver
  provision
  start_pumps
  local demo
  demo=$("$ADMIN" token issue --tenant demo --name "make dev" --create-tenant 2>/dev/null | tail -n 1)
  cat <<MSG

  SCIM base URL : $BASE_URL
  SCIM 1.1      : ${BASE_URL%/v2}/v1   (Okta's "SCIM 1.1 Header Auth" template)
  Demo tenant   : demo
  Bearer token  : $demo

  Try: curl -H "Authorization: Bearer $demo" $BASE_URL/ServiceProviderConfig
  Events:        scripts/local.sh events   (what the event bus received since the last call)
  Webhooks:      register an endpoint for the demo tenant on the local receiver (prints a secret):
                   (set -a; . $STATE/env; $ADMIN webhooks create --url $RECEIVER_URL/hooks/demo --tenant demo)
                 give the receiver that secret:
                   curl -X PUT $RECEIVER_URL/_hooks/demo -d '{"secret": "whsec_..."}'
                 deliveries: curl $RECEIVER_URL/_hooks/demo   (queue pump: $STATE/queue-pump.log)
  More tokens:   make token TENANT=<name>      Stop: Ctrl-C

MSG
  cd "$ROOT"
  PATH="$VENV/bin:$PATH" $(watch_cmd)
}

case "${1:-}" in
  up) up ;;
  aws) load_env; start_aws; provision ;;
  down) down ;;
  dev) dev ;;
  token) shift; token "$@" ;;
  events) load_env; "$VENV/bin/python" "$ROOT/scripts/local_bus.py" tail ;;
  env) load_env; cat "$STATE/env"; echo "SCIM_BASE_URL=$BASE_URL"; echo "SCIM_ADMIN_BIN=$ADMIN"; echo "SCIM_FUNCTION_LOG=$STATE/watch.log" ;;
  *) echo "usage: $0 up|down|dev|token TENANT|env|events|aws" >&2; exit 2 ;;
esac
