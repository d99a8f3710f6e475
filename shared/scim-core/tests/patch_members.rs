//! Splitting group membership changes out of PATCH requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::schemas;
use scim_core::patch::{split_member_operations, MemberChange, PatchRequest};
use scim_core::ScimError;
use serde_json::{json, Value};

fn split(operations: Value) -> Result<(PatchRequest, Vec<MemberChange>), ScimError> {
    let req = PatchRequest::parse(&json!({"Operations": operations}), &schemas().group)?;
    req.split_members()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn or_ed_value_eq_terms_remove_each_listed_member() {
    let (_, changes) = split(json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\" or (value eq \"c\")]"}])).unwrap();
    assert_eq!(changes, [MemberChange::Remove(ids(&["a", "b", "c"]))]);
}

#[test]
fn other_member_filters_are_invalid_filter() {
    for path in [
        "members[display eq \"a\"]",
        "members[value eq \"a\" and value eq \"b\"]",
        "members[value co \"a\"]",
        "members[not (value eq \"a\")]",
        "members[value pr]",
    ] {
        let err = split(json!([{"op": "remove", "path": path}])).unwrap_err();
        assert_eq!(
            err.scim_type().map(|t| t.as_str()),
            Some("invalidFilter"),
            "{path}"
        );
    }
}

#[test]
fn members_without_a_string_value_are_invalid_value() {
    for value in [
        json!([{"display": "x"}]),
        json!([{"value": 5}]),
        json!([{"value": ""}]),
        json!(["bare-id"]),
        json!([null]),
    ] {
        let err =
            split(json!([{"op": "add", "path": "members", "value": value.clone()}])).unwrap_err();
        assert_eq!(
            err.scim_type().map(|t| t.as_str()),
            Some("invalidValue"),
            "{value}"
        );
    }
}

#[test]
fn add_or_replace_through_a_member_filter_or_sub_attribute_is_invalid_path() {
    for op in [
        json!({"op": "add", "path": "members[value eq \"a\"]", "value": {"value": "b"}}),
        json!({"op": "remove", "path": "members.value"}),
        json!({"op": "replace", "path": "members[value eq \"a\"].type", "value": "User"}),
    ] {
        let err = split(json!([op.clone()])).unwrap_err();
        assert_eq!(
            err.scim_type().map(|t| t.as_str()),
            Some("invalidPath"),
            "{op}"
        );
    }
}

#[test]
fn path_less_values_with_members_in_any_spelling_become_member_changes() {
    let (rest, changes) = split(json!([
        {"op": "add", "value": {"Members": [{"value": "a"}]}},
        {"op": "add", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group:members": [{"value": "b"}], "displayName": "X"}},
        {"op": "replace", "value": {"members": null}}
    ]))
    .unwrap();
    assert_eq!(
        changes,
        [
            MemberChange::Add(ids(&["a"])),
            MemberChange::Add(ids(&["b"])),
            MemberChange::RemoveAll
        ]
    );
    // The members-only operations are gone; the other keeps displayName.
    assert_eq!(rest.operations.len(), 1);
    assert_eq!(rest.operations[0].value, Some(json!({"displayName": "X"})));
    let mut group = json!({"displayName": "Old"});
    rest.apply(&mut group, &schemas().group).unwrap();
    assert_eq!(group, json!({"displayName": "X"}));
}

#[test]
fn member_clearing_values_remove_all_members_and_empty_lists_change_nothing() {
    let (_, changes) = split(json!([
        {"op": "replace", "path": "members", "value": ""},
        {"op": "add", "path": "members", "value": []},
        {"op": "remove", "path": "members", "value": []},
        {"op": "replace", "path": "members", "value": []},
        {"op": "remove", "path": "members", "value": null}
    ]))
    .unwrap();
    assert_eq!(
        changes,
        [
            MemberChange::RemoveAll,
            MemberChange::ReplaceAll(vec![]),
            MemberChange::RemoveAll
        ]
    );
}

#[test]
fn non_member_operations_keep_their_order() {
    let req = PatchRequest::parse(
        &json!({"Operations": [
            {"op": "replace", "path": "displayName", "value": "A"},
            {"op": "add", "path": "members", "value": [{"value": "m"}]},
            {"op": "replace", "path": "externalId", "value": "E"}
        ]}),
        &schemas().group,
    )
    .unwrap();
    let (rest, changes) = split_member_operations(&req).unwrap();
    let paths: Vec<String> = rest
        .iter()
        .map(|o| o.path.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["displayName", "externalId"]);
    assert_eq!(changes, [MemberChange::Add(ids(&["m"]))]);
}

#[test]
fn folding_member_changes_gives_the_final_member_set() {
    let mut members = ids(&["a", "b"]);
    for change in [
        MemberChange::Add(ids(&["b", "c"])),
        MemberChange::Remove(ids(&["a", "zz"])),
        MemberChange::ReplaceAll(ids(&["x", "y", "x"])),
        MemberChange::Add(ids(&["z"])),
    ] {
        change.apply_to(&mut members);
    }
    assert_eq!(members, ids(&["x", "y", "z"]));
    MemberChange::RemoveAll.apply_to(&mut members);
    assert!(members.is_empty());
}
