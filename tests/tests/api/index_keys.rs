//! What the table's keys make one name: `userName`, `displayName` and emails are compared in
//! Unicode NFC and case-folded (RFC 7643 section 2.3.1 makes them case-insensitive; an IdP may
//! send "josé" composed or decomposed), and a value too long to be a key part (hashed into
//! `sha256:<hex>`) never shares a key with a short value spelled like that hash.

use integration_tests::{enc, find_users, unique, Client, GROUP_SCHEMA};
use serde_json::json;
use sha2::{Digest, Sha256};

/// `unique` with an é: composed (U+00E9, NFC) and decomposed (e + U+0301, NFD), in another case.
fn jose(tag: &str) -> (String, String) {
    let composed = format!("jos\u{e9}.{tag}@example.com");
    let decomposed = format!("JOSE\u{301}.{tag}@example.com");
    (composed, decomposed)
}

#[test]
fn a_name_in_decomposed_unicode_is_the_same_user_or_group_as_composed() {
    let c = Client::new_tenant("nfc");
    let (composed, decomposed) = jose(&unique("u"));
    let user = c.post(
        "/Users",
        &json!({"userName": composed, "emails": [{"value": composed, "type": "work"}]}),
    );
    assert_eq!(user.status, 201, "{}", user.raw);
    let id = user.id();

    // The same name decomposed is taken (an IdP that sends it gets 409, not a duplicate).
    c.post("/Users", &json!({"userName": decomposed}))
        .assert_scim_error(409, Some("uniqueness"));
    // And a lookup in the other form finds the user, by userName and by email.
    for filter in [
        format!("userName eq \"{decomposed}\""),
        format!("emails eq \"{decomposed}\""),
        format!("emails[type eq \"work\"].value eq \"{decomposed}\""),
    ] {
        let found = find_users(&c, &filter);
        assert_eq!(found.total(), 1, "{filter}: {}", found.raw);
        assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    }

    let (group_composed, group_decomposed) = jose(&unique("g"));
    let group = c.create_group(&group_composed);
    c.post(
        "/Groups",
        &json!({"schemas": [GROUP_SCHEMA], "displayName": group_decomposed}),
    )
    .assert_scim_error(409, Some("uniqueness"));
    let found = c.get(&format!(
        "/Groups?filter={}",
        enc(&format!("displayName eq \"{group_decomposed}\""))
    ));
    assert_eq!(found.total(), 1, "{}", found.raw);
    assert_eq!(found.body["Resources"][0]["id"], group.id().as_str());
}

#[test]
fn a_short_value_spelled_like_a_long_values_hash_is_another_value() {
    let c = Client::new_tenant("hash");
    // Over 256 bytes: stored in keys as sha256:<hex> of the (folded) value.
    let long = format!("{}@example.com", unique("l").repeat(30)).to_lowercase();
    assert!(long.len() > 256);
    let spelled_like_its_hash = format!("sha256:{}", hex::encode(Sha256::digest(&long)));

    let first = c.post("/Users", &json!({"userName": long, "externalId": long}));
    assert_eq!(first.status, 201, "{}", first.raw);
    let second = c.post(
        "/Users",
        &json!({"userName": spelled_like_its_hash, "externalId": spelled_like_its_hash}),
    );
    assert_eq!(
        second.status, 201,
        "another userName and externalId: {}",
        second.raw
    );

    for (value, id) in [(&long, first.id()), (&spelled_like_its_hash, second.id())] {
        for attr in ["userName", "externalId"] {
            let found = find_users(&c, &format!("{attr} eq \"{value}\""));
            assert_eq!(found.total(), 1, "{attr} eq {value}: {}", found.raw);
            assert_eq!(found.body["Resources"][0]["id"], id.as_str());
        }
    }
    // The same goes for group names.
    let long_group = format!("{} group", unique("g").repeat(30)).to_lowercase();
    c.create_group(&long_group);
    let hashed_group = format!("sha256:{}", hex::encode(Sha256::digest(&long_group)));
    assert_eq!(c.create_group(&hashed_group).status, 201);
}
