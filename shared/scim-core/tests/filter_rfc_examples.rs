//! Every filter example of RFC 7644 section 3.4.2.2 (the figure after table 4), parsed,
//! evaluated against three sample users and round-tripped through `Display`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{matching_users, user_filter};
use scim_core::filter::Filter;

/// (filter, userNames of the sample users it matches: bjensen, Jomalley, csmith).
const RFC_7644_FILTER_EXAMPLES: &[(&str, &[&str])] = &[
    (r#"userName eq "bjensen""#, &["bjensen"]),
    (r#"name.familyName co "O'Malley""#, &["Jomalley"]),
    (r#"userName sw "J""#, &["Jomalley"]),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        &["Jomalley"],
    ),
    ("title pr", &["bjensen", "csmith"]),
    (
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        &["Jomalley"],
    ),
    (
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        &["bjensen", "Jomalley"],
    ),
    (
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        &["csmith"],
    ),
    (
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        &["bjensen", "csmith"],
    ),
    (r#"title pr and userType eq "Employee""#, &["bjensen"]),
    (
        r#"title pr or userType eq "Intern""#,
        &["bjensen", "Jomalley", "csmith"],
    ),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        &["bjensen"],
    ),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        &["bjensen"],
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        &["csmith"],
    ),
    (
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        &["bjensen"],
    ),
    (
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        &["bjensen"],
    ),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        &["bjensen", "Jomalley"],
    ),
];

#[test]
fn rfc_7644_filter_examples_match_the_expected_users() {
    for (filter, expected) in RFC_7644_FILTER_EXAMPLES {
        assert_eq!(matching_users(filter), *expected, "{filter}");
    }
}

#[test]
fn rfc_7644_filter_examples_round_trip_through_display() {
    let schemas = common::schemas();
    for (filter, _) in RFC_7644_FILTER_EXAMPLES {
        let parsed = user_filter(filter);
        let text = parsed.to_string();
        let reparsed = Filter::parse(&text, &schemas.user).unwrap();
        assert_eq!(reparsed, parsed, "{filter} -> {text}");
        assert_eq!(reparsed.to_string(), text);
    }
}

#[test]
fn display_uses_canonical_names_and_minimal_parentheses() {
    let cases = [
        (r#"USERNAME EQ "bjensen""#, r#"userName eq "bjensen""#),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"userName sw "J""#,
        ),
        (
            r#"emails co "example.com""#,
            r#"emails.value co "example.com""#,
        ),
        (
            "(title pr) AND (userType pr OR nickName pr)",
            "title pr and (userType pr or nickName pr)",
        ),
        (
            "title pr or (userType pr or nickName pr)",
            "title pr or (userType pr or nickName pr)",
        ),
        (
            "(title pr or userType pr) or nickName pr",
            "title pr or userType pr or nickName pr",
        ),
        (
            "title pr and (userType pr and nickName pr)",
            "title pr and (userType pr and nickName pr)",
        ),
        ("NOT (title pr)", "not (title pr)"),
        (r#"active eq "True""#, "active eq true"),
        (
            r#"emails[type eq "work"].value eq "x@y.com""#,
            r#"emails[type eq "work" and value eq "x@y.com"]"#,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:DEPARTMENT eq "Sales""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales""#,
        ),
        (r#"title eq "tab\tquote\"""#, r#"title eq "tab\tquote\"""#),
    ];
    for (input, canonical) in cases {
        assert_eq!(user_filter(input).to_string(), canonical, "{input}");
    }
}
