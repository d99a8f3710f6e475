//! Filter budgets: hostile inputs are refused quickly with `invalidFilter`, without deep
//! recursion, and the limits are exactly where the constants say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use scim_core::filter::{Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS};
use scim_core::patch::PatchPath;

/// Parses `input` as a user filter, expecting `invalidFilter` within a generous time bound.
fn rejected_quickly(input: &str) -> String {
    let schemas = common::schemas();
    let started = Instant::now();
    let result = Filter::parse(input, &schemas.user);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
    let err = result.expect_err("hostile filter accepted");
    assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidFilter"));
    err.detail()
}

#[test]
fn hostile_filters_far_beyond_the_budgets_are_rejected_quickly() {
    let detail = rejected_quickly(&"(".repeat(100_000));
    assert!(detail.contains("limit"), "{detail}");
    rejected_quickly(&"not(".repeat(100_000));
    rejected_quickly(&vec!["title pr"; 10_000].join(" or "));
    rejected_quickly(&format!("userName eq \"{}\"", "x".repeat(1 << 20)));
    rejected_quickly(&"emails[".repeat(100_000));
}

#[test]
fn deep_nesting_within_the_length_limit_is_rejected_by_depth() {
    let parens = format!("{}title pr{}", "(".repeat(2000), ")".repeat(2000));
    assert!(parens.len() <= MAX_FILTER_LEN);
    assert!(rejected_quickly(&parens).contains("nested too deeply"));
    let nots = format!("{}title pr{}", "not(".repeat(800), ")".repeat(800));
    assert!(nots.len() <= MAX_FILTER_LEN);
    assert!(rejected_quickly(&nots).contains("nested too deeply"));
    // Unclosed nesting is refused at the depth limit too, before the missing ')' matters.
    assert!(rejected_quickly(&"(".repeat(4000)).contains("nested too deeply"));
}

#[test]
fn many_terms_within_the_length_limit_are_rejected_by_count() {
    let terms = vec!["title pr"; 300].join(" or ");
    assert!(terms.len() <= MAX_FILTER_LEN);
    assert!(rejected_quickly(&terms).contains("too many comparisons"));
}

#[test]
fn depth_limit_is_exact() {
    let schemas = common::schemas();
    let nest = |n: usize| format!("{}title pr{}", "(".repeat(n), ")".repeat(n));
    assert!(Filter::parse(&nest(MAX_FILTER_DEPTH), &schemas.user).is_ok());
    assert!(Filter::parse(&nest(MAX_FILTER_DEPTH + 1), &schemas.user).is_err());
    // A value path's brackets count as a level.
    let inner = format!(
        "{}emails[type pr]{}",
        "(".repeat(MAX_FILTER_DEPTH - 1),
        ")".repeat(MAX_FILTER_DEPTH - 1)
    );
    assert!(Filter::parse(&inner, &schemas.user).is_ok());
    let inner = format!(
        "{}emails[type pr]{}",
        "(".repeat(MAX_FILTER_DEPTH),
        ")".repeat(MAX_FILTER_DEPTH)
    );
    assert!(Filter::parse(&inner, &schemas.user).is_err());
}

#[test]
fn term_limit_is_exact() {
    let schemas = common::schemas();
    let terms = |n: usize| vec!["title pr"; n].join(" and ");
    let ok = Filter::parse(&terms(MAX_FILTER_TERMS), &schemas.user).unwrap();
    assert_eq!(ok.expr().term_count(), MAX_FILTER_TERMS);
    assert!(Filter::parse(&terms(MAX_FILTER_TERMS + 1), &schemas.user).is_err());
}

#[test]
fn length_limit_is_exact() {
    let schemas = common::schemas();
    let pad = |len: usize| {
        let head = "userName eq \"";
        format!("{head}{}\"", "x".repeat(len - head.len() - 1))
    };
    assert_eq!(pad(MAX_FILTER_LEN).len(), MAX_FILTER_LEN);
    assert!(Filter::parse(&pad(MAX_FILTER_LEN), &schemas.user).is_ok());
    assert!(Filter::parse(&pad(MAX_FILTER_LEN + 1), &schemas.user).is_err());
}

#[test]
fn hostile_patch_paths_are_rejected_quickly() {
    let schemas = common::schemas();
    for hostile in [
        format!(
            "emails[{}type pr{}]",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
        format!("emails[{}type pr{}]", "not(".repeat(800), ")".repeat(800)),
        format!("emails[{}]", vec!["type pr"; 300].join(" or ")),
        "x".repeat(1 << 20),
    ] {
        let started = Instant::now();
        let err = PatchPath::parse(&hostile, &schemas.user).expect_err("hostile path accepted");
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!(matches!(
            err.scim_type().map(|t| t.as_str()),
            Some("invalidPath" | "invalidFilter")
        ));
    }
}
