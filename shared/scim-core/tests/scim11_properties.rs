//! Properties of the SCIM 1.1 translation on generated bodies: it never panics and refuses only
//! with a SCIM 400; a 1.1 membership PATCH changes exactly the members it names (those marked
//! `"operation": "delete"` leave, the others join, everyone else stays); a 1.1 PATCH is a 2.0
//! PatchOp the 2.0 parser accepts; and a 2.0 resource read through 1.1 and written back is the
//! same resource.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use scim_core::patch::PatchRequest;
use scim_core::schema::{
    ResourceKind, Schemas, DEFAULT_PLATFORM_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_SCHEMA,
};
use scim_core::scim11::{self, CORE_SCHEMA_V1, ENTERPRISE_SCHEMA_V1, OKTA_GROUP_SCHEMA_V1};
use serde_json::{json, Map, Value};

/// Any JSON, with the keys 1.1 bodies use showing up often.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        Just(json!("delete")),
        Just(json!(CORE_SCHEMA_V1)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("schemas".to_string()),
                    Just("members".to_string()),
                    Just("emails".to_string()),
                    Just("operation".to_string()),
                    Just("value".to_string()),
                    Just("meta".to_string()),
                    Just("attributes".to_string()),
                    Just(ENTERPRISE_SCHEMA_V1.to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn member_id() -> impl Strategy<Value = String> {
    prop_oneof![Just("u1"), Just("u2"), Just("u3"), Just("u4"), Just("u5")].prop_map(String::from)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_body_is_translated_or_refused_with_a_400(body in any_json()) {
        let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
        for (kind, schema) in [(ResourceKind::User, &schemas.user), (ResourceKind::Group, &schemas.group)] {
            match scim11::patch_from_v1(body.clone(), kind) {
                Err(e) => {
                    prop_assert_eq!(e.status(), 400);
                    prop_assert!(e.scim_type().is_some());
                }
                Ok(None) => {}
                Ok(Some(patch)) => {
                    if let Err(e) = PatchRequest::parse(&patch, schema) {
                        prop_assert_eq!(e.status(), 400, "{:?}", e);
                    }
                }
            }
            if let Err(e) = scim11::resource_from_v1(body.clone(), kind) {
                prop_assert_eq!(e.status(), 400);
            }
        }
    }

    #[test]
    fn a_membership_patch_changes_exactly_the_members_it_names(
        current in prop::collection::btree_set(member_id(), 0..5),
        named in prop::collection::btree_map(member_id(), any::<bool>(), 0..5),
    ) {
        let members: Vec<Value> = named
            .iter()
            .map(|(id, delete)| if *delete {
                json!({"value": id, "operation": "delete"})
            } else {
                json!({"value": id, "display": "x"})
            })
            .collect();
        let body = json!({"schemas": [CORE_SCHEMA_V1], "id": "g", "displayName": "G", "members": members});
        let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
        let patch = scim11::patch_from_v1(body, ResourceKind::Group).unwrap().unwrap();
        let (_, changes) = PatchRequest::parse(&patch, &schemas.group).unwrap().split_members().unwrap();
        let mut after: Vec<String> = current.iter().cloned().collect();
        for change in &changes {
            change.apply_to(&mut after);
        }
        let after: BTreeSet<String> = after.into_iter().collect();
        let expected: BTreeSet<String> = current
            .iter()
            .filter(|m| named.get(*m) != Some(&true))
            .cloned()
            .chain(named.iter().filter(|(_, d)| !**d).map(|(m, _)| m.clone()))
            .collect();
        prop_assert_eq!(after, expected);
    }

    #[test]
    fn a_v2_user_read_through_1_1_and_written_back_is_the_same_user(
        user_name in "[a-z]{1,12}@example\\.com",
        given in proptest::option::of("[A-Za-z]{1,10}"),
        department in proptest::option::of("[A-Za-z&]{1,10}"),
        active in any::<bool>(),
    ) {
        let mut v2 = Map::new();
        let mut urns = vec![json!(USER_SCHEMA)];
        v2.insert("userName".into(), json!(user_name));
        v2.insert("active".into(), json!(active));
        if let Some(given) = given {
            v2.insert("name".into(), json!({"givenName": given}));
        }
        if let Some(department) = department {
            urns.push(json!(ENTERPRISE_USER_SCHEMA));
            v2.insert(ENTERPRISE_USER_SCHEMA.into(), json!({"department": department}));
        }
        v2.insert("schemas".into(), Value::Array(urns));
        let v2 = Value::Object(v2);
        let mut shown = scim11::resource_to_v1(v2.clone());
        prop_assert!(shown.get(ENTERPRISE_USER_SCHEMA).is_none());
        shown["id"] = json!("abc");
        shown["meta"] = json!({"version": "W/\"1\""});
        shown[OKTA_GROUP_SCHEMA_V1] = json!({"description": "ignored"});
        let back = scim11::resource_from_v1(shown, ResourceKind::User).unwrap();
        prop_assert_eq!(back, v2);
    }
}
