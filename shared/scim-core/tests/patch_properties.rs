//! Property tests of the PATCH engine: path parsing and applying never panic, whatever the
//! operations and whatever the stored document looks like.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use proptest::sample::select;
use scim_core::patch::{PatchPath, PatchRequest};
use serde_json::{json, Map, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        select(vec![
            "value",
            "type",
            "primary",
            "display",
            "$ref",
            "givenName",
            "emails",
            "Active",
            "members",
            "Members",
            "userName",
            "name",
            "name.givenName",
            ENTERPRISE,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "manager",
            "department",
            "id",
            "meta",
            "schemas",
            "addresses",
            "streetAddress",
            "displayName",
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Group:members",
        ])
        .prop_map(str::to_owned),
        ".{0,6}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        select(vec![
            "", "work", "home", "x@y.com", "True", "False", "00u1", "ADMIN"
        ])
        .prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    let key = key();
    leaf.prop_recursive(3, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(vec![
            "emails", "emails.value", "emails[type eq \"work\"]", "emails[type eq \"work\"].value", "emails[value co \"x\"].display",
            "emails[type eq \"work\" and primary eq true].primary", "name", "name.givenName", "active", "userName", "title",
            "addresses[type eq \"work\"].locality", "addresses", "members", "members[value eq \"00u1\"]",
            "members[value eq \"a\" or value eq \"b\"]", "displayName", "externalId",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", ENTERPRISE,
            "urn:ietf:params:scim:schemas:extension:platform:2.0:User:platformRole",
        ])
        .prop_map(str::to_owned),
        1 => select(vec!["id", "meta.created", "", "emails[", "x", "emails[type eq work]"]).prop_map(str::to_owned),
        1 => ".{0,24}",
    ]
}

fn op_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        9 => select(vec!["add", "replace", "remove", "Add", "REPLACE", "Remove"]),
        1 => select(vec!["move", "", "copy"]),
    ]
}

/// An operation as a client might send it: mostly well-formed, sometimes not.
fn operation() -> impl Strategy<Value = Value> {
    let with_path = (
        op_name(),
        path(),
        proptest::option::weighted(0.8, arb_json()),
    )
        .prop_map(|(op, path, value)| {
            let mut object = Map::new();
            object.insert("op".into(), json!(op));
            object.insert("path".into(), json!(path));
            if let Some(value) = value {
                object.insert("value".into(), value);
            }
            Value::Object(object)
        });
    let path_less =
        (op_name(), arb_object()).prop_map(|(op, value)| json!({"op": op, "value": value}));
    prop_oneof![3 => with_path, 2 => path_less, 1 => arb_json()]
}

fn arb_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), arb_json(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn patch_body() -> impl Strategy<Value = Value> {
    prop::collection::vec(operation(), 1..4).prop_map(|ops| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn patch_path_parser_never_panics(input in prop_oneof![any::<String>(), path(), "[a-z.\\[\\]\" ():]{0,40}"]) {
        let schemas = common::schemas();
        if let Ok(parsed) = PatchPath::parse(&input, &schemas.user) {
            // What parses prints as a path that parses back to the same thing.
            prop_assert_eq!(PatchPath::parse(&parsed.to_string(), &schemas.user).ok(), Some(parsed));
        }
        let _ = PatchPath::parse(&input, &schemas.group);
    }

    #[test]
    fn patch_apply_never_panics_on_a_real_user(body in patch_body()) {
        let schemas = common::schemas();
        if let Ok(req) = PatchRequest::parse(&body, &schemas.user) {
            let mut doc = common::bjensen();
            if req.apply(&mut doc, &schemas.user).is_ok() {
                prop_assert!(doc.is_object());
            }
        }
    }

    #[test]
    fn patch_apply_never_panics_on_arbitrary_documents(body in patch_body(), doc in arb_json()) {
        let schemas = common::schemas();
        let mut doc = match doc {
            Value::Object(_) => doc,
            other => json!({"emails": other.clone(), "name": other.clone(), ENTERPRISE: other}),
        };
        if let Ok(req) = PatchRequest::parse(&body, &schemas.user) {
            let _ = req.apply(&mut doc, &schemas.user);
        }
    }

    #[test]
    fn member_split_and_group_apply_never_panic(body in patch_body()) {
        let schemas = common::schemas();
        if let Ok(req) = PatchRequest::parse(&body, &schemas.group) {
            if let Ok((rest, _changes)) = req.split_members() {
                let mut group = json!({"id": "g", "displayName": "G"});
                let _ = rest.apply(&mut group, &schemas.group);
            }
        }
    }
}

/// `word` with each ASCII letter's case chosen at random.
fn recased(word: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, up)| {
                if up {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

/// A comparison inside `emails[...]` or `addresses[...]`, built from the sub-attributes both have.
fn bracket_term() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            recased("type"),
            select(vec!["eq", "ne", "co", "sw", "EW", "gt"]),
            "[a-z\"\\\\ ]{0,6}"
        )
            .prop_map(|(a, o, v)| format!("{a} {o} {}", serde_json::to_string(&v).unwrap())),
        (recased("primary"), select(vec!["true", "false"]))
            .prop_map(|(a, v)| format!("{a} eq {v}")),
        recased("type").prop_map(|a| format!("{a} pr")),
    ]
}

fn bracket_filter() -> impl Strategy<Value = String> {
    bracket_term().prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                select(vec!["and", "or", "AND"]),
                inner.clone()
            )
                .prop_map(|(a, k, b)| format!("{a} {k} {b}")),
            inner.clone().prop_map(|f| format!("({f})")),
            inner.prop_map(|f| format!("not ({f})")),
        ]
    })
}

/// A well-formed PATCH path (RFC 7644 figure 7) in the spellings clients use: any letter case,
/// optionally URN-qualified, `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`.
fn structured_path() -> impl Strategy<Value = String> {
    let core = prop_oneof![
        Just(String::new()),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:".to_owned())
    ];
    prop_oneof![
        (
            core.clone(),
            select(vec![
                "userName",
                "title",
                "active",
                "emails",
                "name",
                "addresses",
                "externalId"
            ])
        )
            .prop_flat_map(|(urn, a)| recased(a).prop_map(move |a| format!("{urn}{a}"))),
        (
            core.clone(),
            recased("name"),
            select(vec!["givenName", "familyName", "formatted"])
        )
            .prop_flat_map(|(urn, a, s)| recased(s).prop_map(move |s| format!("{urn}{a}.{s}"))),
        (
            core,
            select(vec!["emails", "addresses"]),
            bracket_filter(),
            proptest::option::of(select(vec!["type", "primary", "display", "value"]))
        )
            .prop_map(|(urn, a, f, sub)| match sub {
                // addresses has no value/display sub-attribute: those paths must be refused.
                Some(s) => format!("{urn}{a}[{f}].{s}"),
                None => format!("{urn}{a}[{f}]"),
            }),
        (
            recased(ENTERPRISE),
            select(vec!["department", "manager", "manager.value"])
        )
            .prop_map(|(urn, a)| format!("{urn}:{a}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn structured_patch_paths_parse_to_canonical_names_and_round_trip(input in structured_path()) {
        let schemas = common::schemas();
        match PatchPath::parse(&input, &schemas.user) {
            Ok(parsed) => {
                let text = parsed.to_string();
                let reparsed = PatchPath::parse(&text, &schemas.user)
                    .map_err(|e| TestCaseError::fail(format!("{input} -> {text}: {e:?}")))?;
                prop_assert_eq!(&reparsed, &parsed);
                // Display is canonical: printing again gives the same text.
                prop_assert_eq!(reparsed.to_string(), text.clone());
                // Names come out in the schema's spelling whatever case was sent.
                prop_assert_eq!(parsed.attr.attr, parsed.attr.def.name);
                if let (Some(sub), Some(def)) = (parsed.attr.sub_attr, parsed.attr.sub_def) {
                    prop_assert_eq!(sub, def.name);
                }
                let lower = input.to_ascii_lowercase();
                prop_assert!(lower.contains(&parsed.attr.attr.to_ascii_lowercase()));
            }
            Err(err) => {
                // The only well-formed paths refused are sub-attributes addresses lacks.
                prop_assert!(
                    input.starts_with("addresses[") || input.starts_with("urn:ietf:params:scim:schemas:core:2.0:User:addresses["),
                    "{} refused: {:?}", input, err
                );
                prop_assert!(input.ends_with(".value") || input.ends_with(".display"), "{} refused: {:?}", input, err);
                prop_assert_eq!(err.scim_type().map(|t| t.as_str()), Some("invalidPath"));
            }
        }
    }

    #[test]
    fn broken_patch_paths_are_invalid_path_or_invalid_filter(
        input in structured_path(),
        cut in any::<prop::sample::Index>(),
        junk in select(vec!["[", "]", "(", ")", "\"", " ", "..", "#", "\u{0}", "\u{202e}", "é", ":"]),
    ) {
        // Damage a good path by inserting a stray character somewhere.
        let chars: Vec<char> = input.chars().collect();
        let at = cut.index(chars.len() + 1);
        let damaged: String = chars[..at].iter().copied().chain(junk.chars()).chain(chars[at..].iter().copied()).collect();
        let schemas = common::schemas();
        if let Err(err) = PatchPath::parse(&damaged, &schemas.user) {
            prop_assert_eq!(err.status(), 400);
            prop_assert!(
                matches!(err.scim_type().map(|t| t.as_str()), Some("invalidPath" | "invalidFilter")),
                "{}: {:?}", damaged, err
            );
        }
    }
}
