//! Filter evaluation rules (RFC 7644 section 3.4.2.2), errors and index keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    bjensen, csmith, group_filter, jomalley, matching_users, user_filter, user_filter_error,
};
use scim_core::filter::{Filter, IndexKey};
use serde_json::json;

#[test]
fn string_comparisons_ignore_case_unless_case_exact() {
    assert_eq!(matching_users(r#"userName eq "BJENSEN""#), ["bjensen"]);
    assert_eq!(matching_users(r#"name.givenName sw "bar""#), ["bjensen"]);
    // externalId and id are caseExact.
    assert_eq!(matching_users(r#"externalId eq "bjensen""#), ["bjensen"]);
    assert!(matching_users(r#"externalId eq "BJENSEN""#).is_empty());
    assert!(matching_users(r#"id eq "2819C223-7F76-453A-919D-413861904646""#).is_empty());
    // manager.value is caseExact too.
    let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value";
    assert_eq!(
        matching_users(&format!(
            r#"{manager} eq "26118915-6090-4610-87e4-49d8ca9f808d""#
        )),
        ["bjensen"]
    );
    assert!(matching_users(&format!(
        r#"{manager} eq "26118915-6090-4610-87E4-49D8CA9F808D""#
    ))
    .is_empty());
}

#[test]
fn composed_and_decomposed_unicode_compare_equal_unless_case_exact() {
    // "José" with a precomposed é (NFC) in the resources, with e + U+0301 (NFD) in the filter.
    let user = json!({"userName": "Jos\u{e9}", "externalId": "Jos\u{e9}",
        "emails": [{"value": "jos\u{e9}@example.com"}]});
    assert!(user_filter("userName eq \"JOSE\u{301}\"").matches(&user));
    assert!(user_filter("emails[value eq \"jose\u{301}@example.com\"]").matches(&user));
    assert!(!user_filter("externalId eq \"Jose\u{301}\"").matches(&user));
    let group = json!({"displayName": "Caf\u{e9}"});
    assert!(group_filter("displayName eq \"CAFE\u{301}\"").matches(&group));
    assert_eq!(
        user_filter("userName eq \"JOSE\u{301}\"").index_key(),
        Some(IndexKey::UserName("jos\u{e9}".into()))
    );
}

#[test]
fn members_value_is_case_exact_in_group_filters() {
    let group = json!({"displayName": "Ops", "members": [{"value": "AbC"}]});
    assert!(group_filter(r#"members.value eq "AbC""#).matches(&group));
    assert!(!group_filter(r#"members.value eq "abc""#).matches(&group));
    assert!(group_filter(r#"displayName eq "OPS""#).matches(&group));
}

#[test]
fn operators_and_keywords_are_case_insensitive() {
    assert_eq!(
        matching_users(r#"userName Eq "bjensen" AND title Pr Or NOT (userName ne "csmith")"#),
        ["bjensen", "csmith"]
    );
    assert_eq!(matching_users("active EQ TRUE"), ["bjensen", "csmith"]);
}

#[test]
fn and_binds_tighter_than_or() {
    // a or b and c == a or (b and c)
    assert_eq!(
        matching_users(r#"userName eq "csmith" or userName eq "bjensen" and title eq "nope""#),
        ["csmith"]
    );
    assert!(matching_users(
        r#"(userName eq "csmith" or userName eq "bjensen") and title eq "nope""#
    )
    .is_empty());
}

#[test]
fn date_times_compare_as_instants_not_text() {
    // Jomalley: 2012-01-01T00:00:00+01:00 is 2011-12-31T23:00:00Z.
    assert_eq!(
        matching_users(r#"meta.lastModified eq "2011-12-31T23:00:00Z""#),
        ["Jomalley"]
    );
    assert_eq!(
        matching_users(r#"meta.lastModified lt "2011-12-31T23:30:00.000Z""#),
        ["bjensen", "Jomalley", "csmith"]
    );
    assert_eq!(matching_users(r#"meta.created sw "2010""#), ["bjensen"]);
    let (scim_type, detail) = user_filter_error(r#"meta.lastModified gt "yesterday""#);
    assert_eq!(scim_type, Some("invalidFilter"));
    assert!(detail.contains("RFC 3339"), "{detail}");
}

#[test]
fn booleans_match_json_booleans_and_string_booleans() {
    assert_eq!(matching_users("active eq true"), ["bjensen", "csmith"]);
    assert_eq!(matching_users("active eq false"), ["Jomalley"]);
    assert_eq!(matching_users("active ne true"), ["Jomalley"]);
    assert_eq!(matching_users(r#"emails[primary eq true]"#), ["bjensen"]);
}

#[test]
fn ordering_operators_on_booleans_or_complex_attributes_are_invalid_filter() {
    for bad in [
        "active gt true",
        "active le false",
        r#"name eq "x""#,
        r#"name co "x""#,
        r#"addresses eq "x""#,
        "emails[primary gt true]",
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "x""#,
        r#"active eq "yes""#,
        "active eq 1",
        "userName eq 5",
        "userName eq true",
        "userName gt null",
    ] {
        assert_eq!(user_filter_error(bad).0, Some("invalidFilter"), "{bad}");
    }
}

#[test]
fn presence_requires_a_non_empty_value() {
    let doc = json!({"userName": "x", "title": "", "nickName": null, "emails": [], "name": {}, "ims": [{"value": "a"}]});
    for (filter, expected) in [
        ("userName pr", true),
        ("title pr", false),
        ("nickName pr", false),
        ("emails pr", false),
        ("name pr", false),
        ("ims pr", true),
        ("ims.value pr", true),
        ("locale pr", false),
    ] {
        assert_eq!(user_filter(filter).matches(&doc), expected, "{filter}");
    }
}

#[test]
fn eq_null_means_absent_and_ne_null_means_present() {
    assert_eq!(matching_users("title eq null"), ["Jomalley"]);
    assert_eq!(matching_users("title ne null"), ["bjensen", "csmith"]);
}

#[test]
fn ne_holds_when_no_value_equals_including_absent() {
    assert_eq!(
        matching_users(r#"title ne "Tour Guide""#),
        ["Jomalley", "csmith"]
    );
    assert_eq!(matching_users(r#"emails.type ne "work""#), ["csmith"]);
}

#[test]
fn multi_valued_attribute_matches_when_any_value_matches() {
    assert_eq!(
        matching_users(r#"emails.value ew "jensen.org""#),
        ["bjensen"]
    );
    assert_eq!(
        matching_users(r#"emails eq "BABS@jensen.org""#),
        ["bjensen"]
    );
}

#[test]
fn value_path_requires_one_value_to_satisfy_the_whole_bracket_filter() {
    // bjensen's work email is at example.com, her home email at jensen.org.
    assert_eq!(
        matching_users(r#"emails[type eq "work" and value co "jensen.org"]"#),
        Vec::<String>::new()
    );
    assert_eq!(
        matching_users(r#"emails.type eq "work" and emails.value co "jensen.org""#),
        ["bjensen"]
    );
    assert_eq!(
        matching_users(r#"emails[not (type eq "work")]"#),
        ["bjensen", "csmith"]
    );
}

#[test]
fn entra_value_path_with_trailing_sub_attribute_means_same_value() {
    let f = user_filter(r#"emails[type eq "work"].value eq "bjensen@example.com""#);
    assert!(f.matches(&bjensen()));
    let f = user_filter(r#"emails[type eq "work"].value eq "babs@jensen.org""#);
    assert!(!f.matches(&bjensen()));
    let f = user_filter(r#"emails[type eq "home"].value pr"#);
    assert!(f.matches(&bjensen()));
    assert!(!f.matches(&jomalley()));
}

#[test]
fn extension_attributes_resolve_with_their_urn() {
    assert_eq!(
        matching_users(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations""#
        ),
        ["bjensen"]
    );
    let platform = json!({"urn:ietf:params:scim:schemas:extension:platform:2.0:User": {"platformRole": "ADMIN"}});
    assert!(user_filter(
        r#"urn:ietf:params:scim:schemas:extension:platform:2.0:User:platformRole eq "admin""#
    )
    .matches(&platform));
}

#[test]
fn unquoted_bare_word_values_are_invalid_filter() {
    // Microsoft's SCIM documentation shows `externalId eq jyoung`; it must not match everything.
    let (scim_type, detail) = user_filter_error("externalId eq jyoung");
    assert_eq!(scim_type, Some("invalidFilter"));
    assert!(detail.contains("double quotes"), "{detail}");
}

#[test]
fn unknown_attributes_and_syntax_errors_are_invalid_filter_with_a_position() {
    for (bad, needle) in [
        (r#"favouriteColour eq "blue""#, "unknown attribute"),
        (r#"name.nope eq "x""#, "no sub-attribute"),
        (
            r#"urn:example:nope:1.0:User:x eq "x""#,
            "unknown schema URN or attribute",
        ),
        (r#"userName eq "x" and"#, "unexpected end"),
        (r#"userName eq "x" userName pr"#, "position 16"),
        (r#"(userName pr"#, "never closed"),
        (r#"userName pr)"#, "unexpected ')'"),
        (r#"userName xx "x""#, "unknown operator"),
        (r#"userName eq "x"#, "unterminated string"),
        (r#"emails[value[type eq "work"]]"#, "nested"),
        (r#"emails[emails.type eq "work"]"#, "sub-attribute"),
        (r#"userName[value eq "x"]"#, "complex attributes"),
        ("not title pr", "expected '('"),
        ("", "empty filter"),
        ("   ", "empty filter"),
        ("userName eq \"x\" & title pr", "unexpected character"),
    ] {
        let (scim_type, detail) = user_filter_error(bad);
        assert_eq!(scim_type, Some("invalidFilter"), "{bad}");
        assert!(detail.contains(needle), "{bad}: {detail}");
    }
}

#[test]
fn numbers_parse_for_numeric_comparisons_only() {
    // No numeric attribute in the schema; numbers are still lexed and refused for strings.
    let (_, detail) = user_filter_error("userName eq 12.5e3");
    assert!(detail.contains("double quotes"), "{detail}");
}

#[test]
fn index_key_for_simple_equalities() {
    let cases = [
        (r#"id eq "AbC""#, Some(IndexKey::Id("AbC".into()))),
        (
            r#"userName eq "BJensen@Example.com""#,
            Some(IndexKey::UserName("bjensen@example.com".into())),
        ),
        (
            r#"externalId eq "AbC""#,
            Some(IndexKey::ExternalId("AbC".into())),
        ),
        (
            r#"emails eq "X@Y.com""#,
            Some(IndexKey::Email("x@y.com".into())),
        ),
        (
            r#"emails.value eq "X@Y.com""#,
            Some(IndexKey::Email("x@y.com".into())),
        ),
        (
            r#"emails[value eq "X@Y.com"]"#,
            Some(IndexKey::Email("x@y.com".into())),
        ),
        (
            r#"emails[type eq "work"].value eq "X@Y.com""#,
            Some(IndexKey::Email("x@y.com".into())),
        ),
        (r#"displayName eq "Babs""#, None),
        (r#"userName ne "x""#, None),
        (r#"userName co "x""#, None),
        (r#"userName eq "x" or title pr"#, None),
        (r#"not (userName eq "x")"#, None),
        (r#"emails[value eq "a" or type eq "work"]"#, None),
        (r#"emails.type eq "work""#, None),
        ("userName eq null", None),
    ];
    for (filter, expected) in cases {
        assert_eq!(user_filter(filter).index_key(), expected, "{filter}");
    }
}

#[test]
fn index_key_of_and_prefers_the_most_selective_side() {
    let f =
        user_filter(r#"emails eq "a@b.c" and externalId eq "E" and userName eq "U" and id eq "I""#);
    assert_eq!(f.index_key(), Some(IndexKey::Id("I".into())));
    let f = user_filter(r#"emails eq "a@b.c" and (externalId eq "E" and userName eq "U")"#);
    assert_eq!(f.index_key(), Some(IndexKey::UserName("u".into())));
    let f = user_filter(r#"title pr and externalId eq "E""#);
    assert_eq!(f.index_key(), Some(IndexKey::ExternalId("E".into())));
}

#[test]
fn index_key_for_groups_answers_member_lookups_case_exactly() {
    for filter in [
        r#"members.value eq "AbC""#,
        r#"members[value eq "AbC"]"#,
        r#"members.value eq "AbC" and displayName sw "x""#,
    ] {
        assert_eq!(
            group_filter(filter).index_key(),
            Some(IndexKey::Member("AbC".into())),
            "{filter}"
        );
    }
    assert_eq!(
        group_filter(r#"members.value eq "a" and displayName eq "B""#).index_key(),
        Some(IndexKey::DisplayName("b".into()))
    );
    assert_eq!(
        group_filter(r#"members.value eq "a" or displayName eq "B""#).index_key(),
        None
    );
    assert_eq!(group_filter(r#"members.value ne "a""#).index_key(), None);
}

#[test]
fn index_key_for_groups_uses_display_name_not_email_or_user_name() {
    assert_eq!(
        group_filter(r#"displayName eq "Tour Guides""#).index_key(),
        Some(IndexKey::DisplayName("tour guides".into()))
    );
    assert_eq!(
        group_filter(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "A""#)
            .index_key(),
        Some(IndexKey::DisplayName("a".into()))
    );
    assert!(Filter::parse(r#"userName eq "x""#, &common::schemas().group).is_err());
}

#[test]
fn entra_probe_filters_parse() {
    let schemas = common::schemas();
    let f = user_filter(r#"userName eq "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081""#);
    assert_eq!(
        f.index_key(),
        Some(IndexKey::UserName(
            "test_user_dfeef4c5-5681-4387-b016-bdf221e82081".into()
        ))
    );
    let f = Filter::parse(r#"displayName eq "Group1DisplayName""#, &schemas.group).unwrap();
    assert!(f.index_key().is_some());
    assert!(!user_filter(r#"userName eq "x""#).matches(&csmith()));
}
