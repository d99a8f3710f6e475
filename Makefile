# The two commands that matter: `make dev` runs the service locally, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(HOME)/.cache/scim-serverless/target
export SAM_CLI_TELEMETRY := 0
VENV := .tools/venv
SAM_VENV := .tools/sam
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
ST_VENV := .tools/schemathesis
ST_STAMP := $(ST_VENV)/.installed

.PHONY: help tools build dev local-up local-down token test test-scale lint unit sam-validate integration fmt fuzz fuzz-check stand-in-check bench bench-baseline

help:
	@echo "make dev         run the service locally (moto + cargo lambda watch), print a demo token"
	@echo "make test        fmt, clippy, unit tests, sam validate, integration tests on a local stack"
	@echo "make local-up    start the local stack detached; make local-down stops it"
	@echo "make token TENANT=acme   issue a token (creating the tenant), printed as the last line"
	@echo "make fuzz        run each cargo-fuzz target FUZZ_SECONDS (default 60) on nightly"
	@echo "make bench       benchmarks vs python scim2-server and the committed baseline; results in bench/results/latest.json"
	@echo "make bench-baseline  makes the latest bench run the baseline (commit bench/results/baseline.json)"

# Python tools go into git-ignored venvs: moto, cargo-lambda (with zig) and the SCIM conformance
# tester in one; aws-sam-cli and schemathesis, which pin their own dependencies, in their own.
tools: $(STAMP) $(SAM_STAMP) $(ST_STAMP)
$(STAMP): tools/requirements-local.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r tools/requirements-local.txt
	touch $@
$(SAM_STAMP): tools/requirements-sam.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r tools/requirements-sam.txt
	touch $@
$(ST_STAMP): tools/requirements-schemathesis.txt
	python3 -m venv $(ST_VENV)
	$(ST_VENV)/bin/pip install --quiet --upgrade pip
	$(ST_VENV)/bin/pip install --quiet -r tools/requirements-schemathesis.txt
	touch $@

build:
	cargo build --workspace --bins

dev: tools
	STACK=dev scripts/local.sh dev

local-up: tools
	STACK=dev scripts/local.sh up

local-down:
	STACK=dev scripts/local.sh down

token:
	@STACK=dev scripts/local.sh token "$(TENANT)"

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace --exclude integration-tests

sam-validate: tools
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

# Starts its own stack (STACK=test, other ports than `make dev`), runs the HTTP tests, stops it.
integration: tools
	scripts/integration.sh

# The SQS stand-in refuses what SQS refuses and keeps FIFO order as SQS does (its own moto).
stand-in-check: tools
	$(VENV)/bin/python scripts/check_sqs_stand_in.py

test: tools lint unit fuzz-check sam-validate stand-in-check integration

# The 50,000-member group on its own stack (STACK=scale, ports 9400/5455), so it can run beside
# `make test`; `make test` runs the same test at 5,000 members. About two hours on moto (README).
test-scale: tools
	STACK=scale SCIM_LOCAL_AUDIT=0 SCIM_SCALE_MEMBERS=50000 SCIM_SCALE_BATCH=1000 SCIM_TEST_TIMEOUT_SECS=1800 \
	  scripts/integration.sh groups_scale:: --nocapture

# cargo-fuzz, one target per parser (fuzz/, its own workspace). Needs the nightly toolchain;
# cargo-fuzz is installed from crates.io into CARGO_FUZZ_ROOT. The crates forbid unsafe code, so
# no sanitizer: panics, failed assertions, stack overflows and timeouts are what is looked for,
# and the speed buys coverage. Crashes land in fuzz/artifacts/<target>/; the growing corpus in
# fuzz/corpus/<target>/ (both git-ignored); fuzz/seeds/ holds the committed seeds.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= filter_parse patch_path patch_request codec_normalize json_strict cursor_decode webhook_url bulk_request scim11_body token_request
CARGO_FUZZ_ROOT ?= $(CURDIR)/.tools/cargo
CARGO_FUZZ := $(CARGO_FUZZ_ROOT)/bin/cargo-fuzz
$(CARGO_FUZZ):
	cargo install --locked --root $(CARGO_FUZZ_ROOT) cargo-fuzz

fuzz: $(CARGO_FUZZ)
	@set -e; for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target; \
	  echo "== fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  PATH="$(CARGO_FUZZ_ROOT)/bin:$$PATH" CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)/fuzz" \
	    cargo +nightly fuzz run --sanitizer none $$target \
	    "$(CURDIR)/fuzz/corpus/$$target" "$(CURDIR)/fuzz/seeds/$$target" -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -dict="$(CURDIR)/fuzz/dict/scim.dict" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1; \
	done

# On stable, without nightly or libFuzzer: the fuzz targets still compile, are formatted and
# pass clippy (part of `make test`).
fuzz-check:
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)/fuzz" cargo clippy --manifest-path fuzz/Cargo.toml \
	  --no-default-features --bins -- -D warnings

# Benchmarks (issue #6, docs/PERFORMANCE.md): release builds, STACK=bench (ports 9500/5555), the
# workload against our functions and python's scim2-server (installed into .tools/bench), cold
# starts, sizes; prints the tables. BENCH_ARGS passes flags, e.g. BENCH_ARGS="--users 1000".
BENCH_VENV := .tools/bench
BENCH_STAMP := $(BENCH_VENV)/.installed
$(BENCH_STAMP): tools/requirements-bench.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -r tools/requirements-bench.txt
	touch $@

bench: $(STAMP) $(BENCH_STAMP)
	scripts/bench.sh $(BENCH_ARGS)

# Makes the latest `make bench` run the baseline later runs are compared with (commit it).
bench-baseline:
	cp bench/results/latest.json bench/results/baseline.json
