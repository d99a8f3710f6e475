//! Property tests of the resource codec (`codec::normalize`): whatever a client sends, the codec
//! answers a canonical document or a SCIM 400, never panics; what it accepts is a fixed point
//! (normalising again, or after a trip through JSON text, changes nothing); attribute names in
//! any case come out in their canonical case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use proptest::sample::select;
use scim_core::codec::normalize;
use scim_core::json::parse_strict;
use scim_core::schema::{
    AttributeDef, AttributeType, Mutability, ResourceSchema, DEFAULT_PLATFORM_SCHEMA,
    ENTERPRISE_USER_SCHEMA, GROUP_ATTRIBUTES, USER_ATTRIBUTES, USER_SCHEMA,
};
use scim_core::{ScimError, ScimType};
use serde_json::{Map, Value};

/// Any JSON value, including floats, big integers, unicode keys and values, and nesting.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        select(vec![
            "", "True", "false", "ADMIN", "operator", "work", "x@y"
        ])
        .prop_map(Value::from),
    ];
    let key = prop_oneof![
        select(vec![
            "userName",
            "USERNAME",
            "name",
            "name.givenName",
            "emails",
            "active",
            "Active",
            "displayName",
            "members",
            "externalId",
            "id",
            "meta",
            "groups",
            "password",
            "schemas",
            "value",
            "primary",
            "type",
            ENTERPRISE_USER_SCHEMA,
            DEFAULT_PLATFORM_SCHEMA,
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `word` with each ASCII letter's case chosen at random.
fn recase(word: &str) -> impl Strategy<Value = String> {
    let word = word.to_owned();
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

/// A scalar a client might send for an attribute of type `def.ty`: mostly the right type, in
/// each of the spellings IdPs use, sometimes the wrong type.
fn scalar_for(def: &'static AttributeDef) -> BoxedStrategy<Value> {
    let wrong = prop_oneof![
        Just(Value::Array(vec![Value::from(1)])),
        Just(Value::Object(Map::new())),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::from("maybe")),
    ];
    let right: BoxedStrategy<Value> = match def.ty {
        AttributeType::Boolean => prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            select(vec!["True", "False", "true", "FALSE"]).prop_map(Value::from),
        ]
        .boxed(),
        AttributeType::String | AttributeType::Reference | AttributeType::Binary
            if !def.canonical_values.is_empty() =>
        {
            prop_oneof![
                3 => select(def.canonical_values).prop_flat_map(recase).prop_map(Value::from),
                1 => "[a-z]{0,6}".prop_map(Value::from),
            ]
            .boxed()
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => prop_oneof![
            4 => any::<String>().prop_map(Value::from),
            1 => any::<i32>().prop_map(Value::from),
            1 => Just(Value::from("")),
        ]
        .boxed(),
        AttributeType::Integer | AttributeType::Decimal => {
            any::<i32>().prop_map(Value::from).boxed()
        }
        AttributeType::DateTime => select(vec!["2011-05-13T04:42:34Z", "yesterday", ""])
            .prop_map(Value::from)
            .boxed(),
        AttributeType::Complex => Just(Value::Null).boxed(),
    };
    prop_oneof![12 => right, 1 => Just(Value::Null), 1 => wrong].boxed()
}

/// A value for `def`: for a complex attribute an object of some of its sub-attributes (names in
/// random case), for a multi-valued one a list (or, as IdPs do, a lone value).
fn value_for(def: &'static AttributeDef) -> BoxedStrategy<Value> {
    let one: BoxedStrategy<Value> = if def.ty == AttributeType::Complex {
        let subs: Vec<&'static AttributeDef> = def.sub_attributes.iter().collect();
        let object = prop::collection::vec(
            select(subs).prop_flat_map(|sub| (recase(sub.name), scalar_for(sub))),
            0..4,
        )
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect()));
        if def.sub_attribute("value").is_some() {
            prop_oneof![6 => object, 1 => "[a-z0-9-]{0,8}".prop_map(Value::from)].boxed()
        } else {
            object.boxed()
        }
    } else {
        scalar_for(def)
    };
    if def.multi_valued {
        prop_oneof![
            5 => prop::collection::vec(one.clone(), 0..4).prop_map(Value::Array),
            1 => one,
        ]
        .boxed()
    } else {
        one
    }
}

/// One `(key, value)` of a near-valid document: a schema attribute under its name in random case,
/// sometimes dotted (`name.givenName`) or URN-qualified, sometimes an unknown or read-only key.
fn entry(attrs: &'static [AttributeDef], urn: &'static str) -> BoxedStrategy<(String, Value)> {
    let defs: Vec<&'static AttributeDef> = attrs.iter().collect();
    let plain = select(defs.clone()).prop_flat_map(|def| (recase(def.name), value_for(def)));
    let qualified = select(defs.clone())
        .prop_flat_map(move |def| (Just(format!("{urn}:{}", def.name)), value_for(def)));
    let dotted_names: Vec<_> = defs
        .into_iter()
        .filter(|d| d.ty == AttributeType::Complex && !d.multi_valued)
        .flat_map(|d| d.sub_attributes.iter().map(move |s| (d, s)))
        .collect();
    // Groups have no single-valued complex attribute: use externalId's dotted nonsense instead.
    let dotted = if dotted_names.is_empty() {
        (
            Just("externalId.value".to_owned()),
            any::<String>().prop_map(Value::from),
        )
            .boxed()
    } else {
        select(dotted_names)
            .prop_flat_map(|(d, s)| (Just(format!("{}.{}", d.name, s.name)), scalar_for(s)))
            .boxed()
    };
    let noise = (
        select(vec![
            "id", "meta", "groups", "password", "shoeSize", "schemas",
        ]),
        arb_json(),
    )
        .prop_map(|(k, v)| (k.to_owned(), v));
    prop_oneof![8 => plain, 1 => qualified, 1 => dotted, 1 => noise].boxed()
}

fn extension_entry() -> impl Strategy<Value = (String, Value)> {
    let enterprise: Vec<&'static AttributeDef> = common::schemas()
        .user
        .extension(ENTERPRISE_USER_SCHEMA)
        .unwrap()
        .attributes
        .iter()
        .collect();
    let platform_role = prop_oneof![
        select(vec!["ADMIN", "MEMBER", "OPERATOR"])
            .prop_flat_map(recase)
            .prop_map(Value::from),
        Just(Value::from("ROOT")),
    ]
    .prop_map(|role| Value::Object(Map::from_iter([("platformRole".to_owned(), role)])));
    prop_oneof![
        (
            recase(ENTERPRISE_USER_SCHEMA),
            prop::collection::vec(
                select(enterprise).prop_flat_map(|def| (recase(def.name), value_for(def))),
                0..4
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ),
        (recase(DEFAULT_PLATFORM_SCHEMA), platform_role),
    ]
}

/// A User document as an IdP might send it: `userName` (mostly) present, then a mix of core
/// attributes, extensions and noise.
fn near_valid_user() -> impl Strategy<Value = Value> {
    let user_name = prop_oneof![
        8 => any::<String>().prop_filter("non-empty", |s| !s.is_empty()).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => Just(Value::from(5)),
    ];
    (
        recase("userName"),
        user_name,
        prop::collection::vec(entry(USER_ATTRIBUTES, USER_SCHEMA), 0..8),
        prop::collection::vec(extension_entry(), 0..2),
    )
        .prop_map(|(key, user_name, entries, extensions)| {
            let mut doc = Map::new();
            doc.insert(key, user_name);
            for (k, v) in entries.into_iter().chain(extensions) {
                doc.insert(k, v);
            }
            Value::Object(doc)
        })
}

fn near_valid_group() -> impl Strategy<Value = Value> {
    (
        recase("displayName"),
        any::<String>().prop_map(Value::from),
        prop::collection::vec(
            entry(
                GROUP_ATTRIBUTES,
                "urn:ietf:params:scim:schemas:core:2.0:Group",
            ),
            0..4,
        ),
    )
        .prop_map(|(key, name, entries)| {
            let mut doc = Map::new();
            doc.insert(key, name);
            doc.extend(entries);
            Value::Object(doc)
        })
}

/// A codec error is a 400 with the `scimType` the codec uses.
fn assert_scim_400(err: &ScimError) {
    assert_eq!(err.status(), 400, "{err:?}");
    assert!(
        matches!(
            err.scim_type(),
            Some(ScimType::InvalidValue | ScimType::InvalidSyntax)
        ),
        "{err:?}"
    );
}

/// Checks the canonical shape of an accepted document: canonical attribute names only (exactly as
/// the schema spells them), no nulls or empty values, no read-only or write-only attributes.
fn assert_canonical(doc: &Value, schema: &ResourceSchema) {
    let obj = doc.as_object().expect("an object");
    for (key, value) in obj {
        if let Some(ext) = schema.extension(key) {
            assert_eq!(key, &ext.id, "extension URN in canonical case");
            let attrs = value.as_object().expect("extension is an object");
            assert!(!attrs.is_empty(), "empty extension {key}");
            for (name, v) in attrs {
                let def = ext.attribute(name).expect("known extension attribute");
                assert_attribute(def, name, v);
            }
            continue;
        }
        let def = schema
            .core_attribute(key)
            .unwrap_or_else(|| panic!("unknown key {key}"));
        assert_attribute(def, key, value);
    }
}

fn assert_attribute(def: &AttributeDef, key: &str, value: &Value) {
    assert_eq!(key, def.name, "canonical case");
    assert!(
        !matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly),
        "{key} must not be stored"
    );
    let values: Vec<&Value> = match value {
        Value::Array(items) => {
            assert!(def.multi_valued, "{key} is single-valued");
            assert!(!items.is_empty(), "{key}: empty list stored");
            items.iter().collect()
        }
        other => {
            assert!(!def.multi_valued, "{key} is multi-valued: must be a list");
            vec![other]
        }
    };
    for v in values {
        match def.ty {
            AttributeType::Complex => {
                let subs = v.as_object().expect("complex value is an object");
                assert!(!subs.is_empty(), "{key}: empty object stored");
                for (name, sv) in subs {
                    let sub = def.sub_attribute(name).expect("known sub-attribute");
                    assert_attribute(sub, name, sv);
                }
            }
            AttributeType::Boolean => assert!(v.is_boolean(), "{key}: {v}"),
            AttributeType::Integer | AttributeType::Decimal => assert!(v.is_number()),
            _ => {
                let s = v
                    .as_str()
                    .unwrap_or_else(|| panic!("{key}: {v} is not a string"));
                assert!(!s.is_empty(), "{key}: empty string stored");
                if def.strict_canonical {
                    assert!(def.canonical_values.contains(&s), "{key}: {s}");
                }
            }
        }
    }
}

/// The fixed-point properties of an accepted document.
fn check_accepted(normalized: &Value, schema: &ResourceSchema) -> Result<(), TestCaseError> {
    assert_canonical(normalized, schema);
    // Idempotent: the canonical document normalises to itself.
    let again = normalize(normalized, schema).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(&again, normalized);
    // Round trip through the wire: serialise, read back strictly, normalise.
    let text = serde_json::to_string(normalized).unwrap();
    let reread =
        parse_strict(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let round = normalize(&reread, schema).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(&round, normalized);
    Ok(())
}

/// Every key of `doc`, at any depth inside attribute values (not inside string values),
/// re-cased at random by `upper` (cycled).
fn recase_keys(doc: &Value, upper: &[bool], i: &mut usize) -> Value {
    match doc {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| {
                    let key: String = k
                        .chars()
                        .map(|c| {
                            *i += 1;
                            if upper.get(*i % upper.len().max(1)).copied().unwrap_or(false) {
                                c.to_ascii_uppercase()
                            } else {
                                c.to_ascii_lowercase()
                            }
                        })
                        .collect();
                    (key, recase_keys(v, upper, i))
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| recase_keys(v, upper, i)).collect())
        }
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_is_either_accepted_canonically_or_a_scim_400(doc in arb_json()) {
        let schemas = common::schemas();
        for schema in [&schemas.user, &schemas.group] {
            match normalize(&doc, schema) {
                Ok(n) => check_accepted(&n, schema)?,
                Err(e) => assert_scim_400(&e),
            }
        }
    }

    #[test]
    fn near_valid_users_are_accepted_canonically_or_a_scim_400(doc in near_valid_user()) {
        let schema = common::schemas().user;
        match normalize(&doc, &schema) {
            Ok(n) => {
                check_accepted(&n, &schema)?;
                prop_assert!(n["userName"].is_string());
            }
            Err(e) => assert_scim_400(&e),
        }
    }

    #[test]
    fn near_valid_groups_are_accepted_canonically_or_a_scim_400(doc in near_valid_group()) {
        let schema = common::schemas().group;
        match normalize(&doc, &schema) {
            Ok(n) => check_accepted(&n, &schema)?,
            Err(e) => assert_scim_400(&e),
        }
    }

    #[test]
    fn attribute_names_in_any_case_normalise_to_the_canonical_document(
        doc in near_valid_user(),
        upper in prop::collection::vec(any::<bool>(), 1..64),
    ) {
        let schema = common::schemas().user;
        // Take an accepted document, whose keys are all attribute names or schema URNs, and
        // send it again with every key (top-level, sub-attribute, extension URN) re-cased.
        if let Ok(canonical) = normalize(&doc, &schema) {
            let shouted = recase_keys(&canonical, &upper, &mut 0);
            let renormalized = normalize(&shouted, &schema)
                .map_err(|e| TestCaseError::fail(format!("{shouted}: {e:?}")))?;
            prop_assert_eq!(renormalized, canonical);
        }
    }
}

#[test]
fn recase_keys_really_changes_the_case_of_keys() {
    // Guards the property above against a helper that silently does nothing.
    let doc = serde_json::json!({"userName": "a", "name": {"givenName": "b"}});
    let shouted = recase_keys(&doc, &[true], &mut 0);
    assert_eq!(
        shouted,
        serde_json::json!({"USERNAME": "a", "NAME": {"GIVENNAME": "b"}})
    );
}

#[test]
fn the_generators_produce_both_accepted_and_refused_documents() {
    // A property that only ever sees refusals (or only acceptances) checks little: sample the
    // near-valid generator and require both outcomes.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let schema = common::schemas().user;
    let mut runner = TestRunner::deterministic();
    let strategy = near_valid_user();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let doc = strategy.new_tree(&mut runner).unwrap().current();
        match normalize(&doc, &schema) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok >= 30 && err >= 30, "accepted {ok}, refused {err}");
}
