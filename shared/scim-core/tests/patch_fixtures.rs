//! PATCH fixtures: RFC 7644 section 3.5.2 examples and the bodies Okta and Microsoft Entra send.
//! Each fixture file holds the document before, the request, and the document after (or the
//! expected error); see `common::run_fixture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{all_fixtures, run_fixture};

/// Fixtures with a named test below; every PATCH case in the fixture tree (`tests/fixtures` of
/// the integration tests, shared with them) must be one of them.
const NAMED: &[&str] = &[
    "rfc7644/s3.5.2.1_add_member.json",
    "rfc7644/s3.5.2.1_add_without_path.json",
    "rfc7644/s3.5.2.1_add_existing_email_merges_instead_of_duplicating.json",
    "rfc7644/s3.5.2.2_remove_single_member.json",
    "rfc7644/s3.5.2.2_remove_all_members.json",
    "rfc7644/s3.5.2.2_remove_multiple_members.json",
    "rfc7644/s3.5.2.2_remove_emails_by_complex_filter.json",
    "rfc7644/s3.5.2.2_replace_all_members_by_remove_then_add.json",
    "rfc7644/s3.5.2.2_remove_without_path_is_no_target.json",
    "rfc7644/s3.5.2.2_remove_multi_valued_attribute.json",
    "rfc7644/s3.5.2.2_remove_absent_value_is_a_no_op.json",
    "rfc7644/s3.5.2.3_replace_members.json",
    "rfc7644/s3.5.2.3_replace_work_address.json",
    "rfc7644/s3.5.2.3_replace_work_street_address.json",
    "rfc7644/s3.5.2.3_replace_without_path.json",
    "rfc7644/s3.5.2.3_replace_unmatched_filter_is_no_target.json",
    "rfc7644/s3.5.2.3_replace_complex_keeps_unnamed_sub_attributes.json",
    "rfc7644/s3.5.2_setting_primary_clears_other_primaries.json",
    "rfc7644/s3.5.2_replace_id_is_mutability.json",
    "rfc7644/s3.5.2_unknown_path_is_invalid_path.json",
    "rfc7644/s3.5.2_malformed_path_filter_is_invalid_filter.json",
    "rfc7644/s3.5.2_empty_operations_is_invalid_value.json",
    "okta/deactivate_pathless_replace.json",
    "okta/group_remove_then_add_member.json",
    "okta/rename_group_pathless_with_id.json",
    "okta/group_pathless_replace_with_members.json",
    "entra/disable_user_string_boolean.json",
    "entra/replace_work_email_value.json",
    "entra/add_work_email_when_none.json",
    "entra/replace_family_name.json",
    "entra/add_manager_bare_id.json",
    "entra/replace_manager_drops_stale_sub_attributes.json",
    "entra/pathless_replace_dotted_and_urn_keys.json",
    "entra/add_members_with_null_ref.json",
    "entra/remove_members_with_value_list.json",
    "entra/replace_group_display_name.json",
    "entra/null_update_clears_attributes.json",
    "entra/replace_user_name.json",
];

#[test]
fn every_fixture_file_has_a_named_test() {
    let cases = all_fixtures();
    assert_eq!(cases.len(), NAMED.len(), "{cases:?}");
    for file in cases {
        assert!(
            NAMED.contains(&file.as_str()),
            "fixture {file} has no named test"
        );
    }
}

#[test]
fn rfc_add_member_to_group_becomes_member_add() {
    run_fixture("rfc7644/s3.5.2.1_add_member.json");
}

#[test]
fn rfc_pathless_add_appends_email_and_sets_nickname_in_any_case() {
    run_fixture("rfc7644/s3.5.2.1_add_without_path.json");
}

#[test]
fn rfc_add_of_existing_email_merges_instead_of_duplicating() {
    run_fixture("rfc7644/s3.5.2.1_add_existing_email_merges_instead_of_duplicating.json");
}

#[test]
fn rfc_remove_single_member_by_value_filter() {
    run_fixture("rfc7644/s3.5.2.2_remove_single_member.json");
}

#[test]
fn rfc_remove_members_without_value_removes_all() {
    run_fixture("rfc7644/s3.5.2.2_remove_all_members.json");
}

#[test]
fn rfc_remove_multiple_members_keeps_operation_order() {
    run_fixture("rfc7644/s3.5.2.2_remove_multiple_members.json");
}

#[test]
fn rfc_remove_emails_by_complex_filter_removes_only_matches() {
    run_fixture("rfc7644/s3.5.2.2_remove_emails_by_complex_filter.json");
}

#[test]
fn rfc_remove_then_add_members_replaces_membership() {
    run_fixture("rfc7644/s3.5.2.2_replace_all_members_by_remove_then_add.json");
}

#[test]
fn rfc_remove_without_path_is_no_target() {
    run_fixture("rfc7644/s3.5.2.2_remove_without_path_is_no_target.json");
}

#[test]
fn rfc_remove_whole_multi_valued_attribute() {
    run_fixture("rfc7644/s3.5.2.2_remove_multi_valued_attribute.json");
}

#[test]
fn rfc_remove_of_absent_values_is_a_no_op() {
    run_fixture("rfc7644/s3.5.2.2_remove_absent_value_is_a_no_op.json");
}

#[test]
fn rfc_replace_members_becomes_replace_all() {
    run_fixture("rfc7644/s3.5.2.3_replace_members.json");
}

#[test]
fn rfc_replace_work_address_by_value_filter() {
    run_fixture("rfc7644/s3.5.2.3_replace_work_address.json");
}

#[test]
fn rfc_replace_street_address_of_work_address() {
    run_fixture("rfc7644/s3.5.2.3_replace_work_street_address.json");
}

#[test]
fn rfc_pathless_replace_replaces_whole_emails_array() {
    run_fixture("rfc7644/s3.5.2.3_replace_without_path.json");
}

#[test]
fn rfc_replace_with_unmatched_non_eq_filter_is_no_target() {
    run_fixture("rfc7644/s3.5.2.3_replace_unmatched_filter_is_no_target.json");
}

#[test]
fn rfc_replace_complex_attribute_keeps_unnamed_sub_attributes() {
    run_fixture("rfc7644/s3.5.2.3_replace_complex_keeps_unnamed_sub_attributes.json");
}

#[test]
fn rfc_setting_primary_clears_other_primaries() {
    run_fixture("rfc7644/s3.5.2_setting_primary_clears_other_primaries.json");
}

#[test]
fn rfc_replace_of_read_only_id_is_mutability() {
    run_fixture("rfc7644/s3.5.2_replace_id_is_mutability.json");
}

#[test]
fn rfc_unknown_path_is_invalid_path() {
    run_fixture("rfc7644/s3.5.2_unknown_path_is_invalid_path.json");
}

#[test]
fn rfc_malformed_path_filter_is_invalid_filter() {
    run_fixture("rfc7644/s3.5.2_malformed_path_filter_is_invalid_filter.json");
}

#[test]
fn rfc_empty_operations_is_invalid_value() {
    run_fixture("rfc7644/s3.5.2_empty_operations_is_invalid_value.json");
}

#[test]
fn okta_pathless_replace_active_false_deactivates() {
    run_fixture("okta/deactivate_pathless_replace.json");
}

#[test]
fn okta_group_remove_by_filter_then_add_member() {
    run_fixture("okta/group_remove_then_add_member.json");
}

#[test]
fn okta_rename_group_ignores_id_in_pathless_value() {
    run_fixture("okta/rename_group_pathless_with_id.json");
}

#[test]
fn okta_pathless_replace_splits_members_from_display_name() {
    run_fixture("okta/group_pathless_replace_with_members.json");
}

#[test]
fn entra_string_boolean_is_kept_for_the_codec_to_coerce() {
    run_fixture("entra/disable_user_string_boolean.json");
}

#[test]
fn entra_replace_work_email_value_updates_matching_email() {
    run_fixture("entra/replace_work_email_value.json");
}

#[test]
fn entra_replace_work_email_value_creates_work_email_when_none() {
    run_fixture("entra/add_work_email_when_none.json");
}

#[test]
fn entra_replace_family_name() {
    run_fixture("entra/replace_family_name.json");
}

#[test]
fn entra_add_manager_as_bare_id_stores_value_object() {
    run_fixture("entra/add_manager_bare_id.json");
}

#[test]
fn entra_replace_manager_drops_stale_ref_and_display_name() {
    run_fixture("entra/replace_manager_drops_stale_sub_attributes.json");
}

#[test]
fn entra_pathless_replace_with_dotted_and_urn_keys() {
    run_fixture("entra/pathless_replace_dotted_and_urn_keys.json");
}

#[test]
fn entra_add_members_with_null_ref() {
    run_fixture("entra/add_members_with_null_ref.json");
}

#[test]
fn entra_remove_with_value_list_removes_only_listed_members() {
    run_fixture("entra/remove_members_with_value_list.json");
}

#[test]
fn entra_replace_group_display_name() {
    run_fixture("entra/replace_group_display_name.json");
}

#[test]
fn entra_empty_string_and_null_clear_attributes() {
    run_fixture("entra/null_update_clears_attributes.json");
}

#[test]
fn entra_replace_user_name() {
    run_fixture("entra/replace_user_name.json");
}
