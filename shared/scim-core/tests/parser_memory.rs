//! Bounded parser memory: the filter parser, the PATCH path parser and the strict JSON reader
//! refuse inputs far beyond their budgets (1 MiB of `(`, 100,000 `or` terms, ...) after a fixed
//! amount of heap, whatever the input size, and without deep recursion.
//!
//! A counting global allocator (`stats_alloc`, so no `unsafe` here) measures every byte
//! allocated while one input is parsed. The total allocated is an upper bound of the peak.
//! One `#[test]` runs every case in turn, so no other test thread allocates meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::alloc::System;

use scim_core::filter::{Filter, MAX_FILTER_LEN};
use scim_core::json::parse_strict;
use scim_core::patch::PatchPath;
use scim_core::ScimError;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap a refused input may cost, whatever its size: error details, and the AST nodes built
/// before a budget is hit. Inputs over `MAX_FILTER_LEN` are refused before lexing (about 60
/// bytes, the error detail); the costliest case is a filter within the length limit whose 51st
/// comparison breaks the term budget (10-13 KiB: the 50 terms parsed before it). The cap
/// leaves room for library changes while staying far below the 1 MiB inputs.
const CAP_BYTES: usize = 32 * 1024;

/// Stack the parsing thread gets: a parser that recursed once per `(` would overflow it (and
/// abort the test binary) long before 1 MiB of input.
const SMALL_STACK: usize = 256 * 1024;

/// Bytes allocated (plus net growth by reallocation) while `parse` runs on `input`.
fn heap_cost<T>(input: &str, parse: impl Fn(&str) -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let result = parse(input);
    let stats = region.change();
    let grown = usize::try_from(stats.bytes_reallocated.max(0)).unwrap();
    (result, stats.bytes_allocated + grown)
}

fn hostile_filters() -> Vec<(&'static str, String)> {
    let mib = 1 << 20;
    vec![
        ("1 MiB of '('", "(".repeat(mib)),
        ("1 MiB of 'not('", "not(".repeat(mib / 4)),
        ("1 MiB of 'emails['", "emails[".repeat(mib / 7)),
        ("100,000 'or' terms", vec!["title pr"; 100_000].join(" or ")),
        (
            "100,000 'and' terms",
            vec!["userName eq \"x\""; 100_000].join(" and "),
        ),
        (
            "a 1 MiB string literal",
            format!("userName eq \"{}\"", "x".repeat(mib)),
        ),
        ("a 1 MiB attribute name", "a".repeat(mib)),
        ("1 MiB of '\"'", "\"".repeat(mib)),
        // Within the length limit, so the depth and term budgets do the refusing.
        ("4096 bytes of '('", "(".repeat(MAX_FILTER_LEN)),
        (
            "1000 'not(' levels",
            format!("{}title pr{}", "not(".repeat(800), ")".repeat(800)),
        ),
        ("300 'or' terms", vec!["title pr"; 300].join(" or ")),
        (
            "80 value paths of 2 terms each",
            vec!["emails[type eq \"work\" and value co \"x\"]"; 80].join(" or "),
        ),
    ]
}

fn hostile_paths() -> Vec<(&'static str, String)> {
    let mib = 1 << 20;
    vec![
        ("1 MiB path", "x".repeat(mib)),
        (
            "1 MiB of '(' in brackets",
            format!("emails[{}]", "(".repeat(mib)),
        ),
        (
            "100,000 'or' terms in brackets",
            format!("emails[{}]", vec!["type pr"; 100_000].join(" or ")),
        ),
        (
            "4096 bytes of '(' in brackets",
            format!("emails[{}]", "(".repeat(MAX_FILTER_LEN - 8)),
        ),
        (
            "300 terms in brackets",
            format!("emails[{}]", vec!["type pr"; 300].join(" or ")),
        ),
        ("1 MiB of '.'", ".".repeat(mib)),
    ]
}

fn hostile_json() -> Vec<(&'static str, String)> {
    let mib = 1 << 20;
    vec![
        ("1 MiB of '['", "[".repeat(mib)),
        ("1 MiB of '{\"a\":'", "{\"a\":".repeat(mib / 5)),
        (
            "1 MiB of nested arrays, closed",
            format!("{}{}", "[".repeat(mib / 2), "]".repeat(mib / 2)),
        ),
    ]
}

/// Runs every hostile case on a thread with a small stack and returns `(name, bytes)` per case.
fn measure_all() -> Vec<(String, usize)> {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(|| {
            let schemas = common::schemas();
            let mut costs = Vec::new();
            for (name, input) in hostile_filters() {
                let (result, bytes) = heap_cost(&input, |i| Filter::parse(i, &schemas.user));
                let err: ScimError = result.expect_err(name);
                assert_eq!(
                    err.scim_type().map(|t| t.as_str()),
                    Some("invalidFilter"),
                    "{name}"
                );
                costs.push((format!("filter: {name}"), bytes));
            }
            for (name, input) in hostile_paths() {
                let (result, bytes) = heap_cost(&input, |i| PatchPath::parse(i, &schemas.user));
                let err = result.expect_err(name);
                assert!(
                    matches!(
                        err.scim_type().map(|t| t.as_str()),
                        Some("invalidPath" | "invalidFilter")
                    ),
                    "{name}: {err:?}"
                );
                costs.push((format!("PATCH path: {name}"), bytes));
            }
            for (name, input) in hostile_json() {
                let (result, bytes) = heap_cost(&input, |i| parse_strict(i.as_bytes()));
                let err = result.expect_err(name);
                assert_eq!(
                    err.scim_type().map(|t| t.as_str()),
                    Some("invalidSyntax"),
                    "{name}"
                );
                costs.push((format!("JSON: {name}"), bytes));
            }
            costs
        })
        .unwrap()
        .join()
        .expect("a parser overflowed the small stack or panicked")
}

#[test]
fn parsers_refuse_hostile_inputs_within_a_fixed_heap_budget_and_a_small_stack() {
    // The counter works: a 1 MiB allocation is seen (so the bound below can fail).
    let (_, seen) = heap_cost("", |_| vec![0u8; 1 << 20]);
    assert!(seen >= 1 << 20, "the counting allocator saw {seen} bytes");
    // So does a filter that parses: it builds a tree.
    let schemas = common::schemas();
    let (ok, parsed_cost) = heap_cost("title pr and userName eq \"x\"", |i| {
        Filter::parse(i, &schemas.user)
    });
    assert!(ok.is_ok() && parsed_cost > 0);

    let costs = measure_all();
    for (name, bytes) in &costs {
        println!("{bytes:>8} bytes  {name}");
    }
    let over: Vec<_> = costs.iter().filter(|(_, b)| *b > CAP_BYTES).collect();
    assert!(over.is_empty(), "over the {CAP_BYTES}-byte cap: {over:?}");
}
