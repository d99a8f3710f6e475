//! Property tests of the filter engine: never panics, stays within budgets, and `Display`
//! round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use proptest::sample::select;
use scim_core::filter::{Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS};
use serde_json::Value;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A keyword in random letter case.
fn keyword(word: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A JSON string literal of arbitrary text (quotes, backslashes, control characters, emoji).
fn string_literal() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9@._ '\"\\\\-]{0,12}"]
        .prop_map(|s| serde_json::to_string(&s).unwrap())
}

fn date_literal() -> impl Strategy<Value = String> {
    (
        1970u32..2100,
        1u32..13,
        1u32..29,
        0u32..24,
        0u32..60,
        prop_oneof![Just("Z"), Just("+02:00"), Just(".123Z")],
    )
        .prop_map(|(y, mo, d, h, mi, zone)| {
            format!("\"{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00{zone}\"")
        })
}

fn string_attribute() -> impl Strategy<Value = String> {
    select(vec![
        "userName".to_owned(),
        "USERNAME".to_owned(),
        "name.familyName".to_owned(),
        "title".to_owned(),
        "emails".to_owned(),
        "emails.value".to_owned(),
        "emails.type".to_owned(),
        "externalId".to_owned(),
        "id".to_owned(),
        "schemas".to_owned(),
        "ims.value".to_owned(),
        "addresses.locality".to_owned(),
        "urn:ietf:params:scim:schemas:core:2.0:User:userName".to_owned(),
        format!("{ENTERPRISE}:department"),
        format!("{ENTERPRISE}:manager.value"),
        "urn:ietf:params:scim:schemas:extension:platform:2.0:User:platformRole".to_owned(),
    ])
}

fn any_attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        string_attribute(),
        select(vec![
            "name".to_owned(),
            "addresses".to_owned(),
            "active".to_owned(),
            "meta.created".to_owned(),
            format!("{ENTERPRISE}:manager")
        ]),
    ]
}

const STRING_OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
const ORDER_OPS: &[&str] = &["eq", "ne", "gt", "ge", "lt", "le"];

/// A comparison on a sub-attribute of `emails`, as written inside brackets.
fn email_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            select(vec!["type", "value", "display", "VALUE"]),
            select(STRING_OPS),
            string_literal()
        )
            .prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        (
            select(vec!["eq", "ne"]),
            select(vec!["true", "false", "\"True\""])
        )
            .prop_map(|(o, v)| format!("primary {o} {v}")),
        select(vec!["type", "value", "primary"]).prop_map(|a| format!("{a} pr")),
    ]
}

fn value_filter() -> impl Strategy<Value = String> {
    prop_oneof![
        email_condition(),
        (email_condition(), keyword("and"), email_condition())
            .prop_map(|(a, k, b)| format!("{a} {k} {b}")),
        (email_condition(), keyword("or"), email_condition())
            .prop_map(|(a, k, b)| format!("{a} {k} {b}")),
        email_condition().prop_map(|a| format!("not ({a})")),
    ]
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (string_attribute(), select(STRING_OPS), string_literal())
            .prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        (
            select(vec!["active", "emails.primary", "ADDRESSES.PRIMARY"]),
            select(vec!["eq", "ne", "EQ"]),
            select(vec!["true", "FALSE", "\"True\""])
        )
            .prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        (
            select(vec!["meta.created", "meta.lastModified"]),
            select(ORDER_OPS),
            date_literal()
        )
            .prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        (any_attribute(), keyword("pr")).prop_map(|(a, k)| format!("{a} {k}")),
        (
            string_attribute(),
            select(vec!["eq", "ne"]),
            keyword("null")
        )
            .prop_map(|(a, o, n)| format!("{a} {o} {n}")),
        value_filter().prop_map(|f| format!("emails[{f}]")),
        (value_filter(), select(vec!["eq", "co"]), string_literal())
            .prop_map(|(f, o, v)| format!("emails[{f}].value {o} {v}")),
    ]
}

fn filter_text() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), keyword("and"), inner.clone())
                .prop_map(|(a, k, b)| format!("{a} {k} {b}")),
            (inner.clone(), keyword("or"), inner.clone())
                .prop_map(|(a, k, b)| format!("{a} {k} {b}")),
            inner.clone().prop_map(|f| format!("({f})")),
            (keyword("not"), inner).prop_map(|(k, f)| format!("{k} ({f})")),
        ]
    })
}

/// Strings made of filter tokens, more likely than random text to reach deep parser states.
fn token_soup() -> impl Strategy<Value = String> {
    let tokens = select(vec![
        "(",
        ")",
        "[",
        "]",
        "not",
        "and",
        "or",
        "userName",
        "emails",
        ".value",
        "name.givenName",
        "eq",
        "pr",
        "gt",
        "co",
        "\"x\"",
        "\"",
        "\\",
        "true",
        "null",
        "1",
        "-",
        "1e999",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        ".",
        ":",
        "ém",
        "\u{0}",
    ]);
    prop::collection::vec((tokens, any::<bool>()), 0..200).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(t, space)| if space { format!("{t} ") } else { t.to_owned() })
            .collect()
    })
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        select(vec![
            "",
            "work",
            "x@example.com",
            "True",
            "2011-05-13T04:42:34Z",
            "bjensen"
        ])
        .prop_map(Value::from),
        ".{0,6}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        select(vec![
            "userName",
            "emails",
            "value",
            "type",
            "primary",
            "name",
            "familyName",
            "meta",
            "lastModified",
            "active",
            "schemas",
            ENTERPRISE,
            "manager",
            "department",
            "title",
            "ims"
        ])
        .prop_map(str::to_owned),
        ".{0,4}",
    ];
    leaf.prop_recursive(3, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn assert_within_budgets(input: &str, filter: &Filter) {
    assert!(input.len() <= MAX_FILTER_LEN);
    assert!(filter.expr().term_count() <= MAX_FILTER_TERMS);
    assert!(filter.expr().nesting_depth() <= MAX_FILTER_DEPTH);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_filters_parse_and_round_trip_through_display(input in filter_text()) {
        let schemas = common::schemas();
        let parsed = Filter::parse(&input, &schemas.user).map_err(|e| TestCaseError::fail(format!("{input}: {e:?}")))?;
        let text = parsed.to_string();
        let reparsed = Filter::parse(&text, &schemas.user).map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
        prop_assert_eq!(&reparsed, &parsed, "{} -> {}", input, text);
        prop_assert_eq!(reparsed.to_string(), text);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(input in any::<String>()) {
        let schemas = common::schemas();
        if let Ok(filter) = Filter::parse(&input, &schemas.user) {
            assert_within_budgets(&input, &filter);
        }
        let _ = Filter::parse(&input, &schemas.group);
    }

    #[test]
    fn parser_never_panics_on_token_soup(input in token_soup()) {
        let schemas = common::schemas();
        if let Ok(filter) = Filter::parse(&input, &schemas.user) {
            assert_within_budgets(&input, &filter);
            // Whatever parses also round-trips.
            prop_assert_eq!(Filter::parse(&filter.to_string(), &schemas.user).ok(), Some(filter));
        }
    }

    #[test]
    fn evaluation_never_panics_on_arbitrary_documents(input in filter_text(), doc in arb_json()) {
        let schemas = common::schemas();
        let filter = Filter::parse(&input, &schemas.user).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let _ = filter.matches(&doc);
        let _ = filter.matches(&common::bjensen());
        let _ = filter.index_key();
    }
}
