//! The fixture tree (`tests/fixtures/`, shared with scim-core's tests): requests as RFC 7643,
//! RFC 7644, Okta and Entra send them, named after the RFC section or the IdP (see its README).
//!
//! A file is either a request body, or a PATCH case (`{"request", "before", "after", ...}`, run
//! by scim-core's `patch_fixtures` test) whose `request` is what these tests send. `{{NAME}}`
//! placeholders are filled from the caller's values, then from the file's own `vars` (the
//! example values the case's `before` and `after` were written with).

use serde_json::Value;

use crate::scim::{ENTERPRISE, USER_SCHEMA};

/// The fixture tree.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

fn fill(text: &str, vars: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    text
}

/// The request of the fixture at `path` (under `tests/fixtures/`), placeholders filled.
pub fn fixture(path: &str, vars: &[(&str, &str)]) -> Value {
    let full = format!("{FIXTURES}/{path}");
    let raw = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let parse = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{full}: {e}"))
    };
    let mut text = fill(&raw, vars);
    let defaults: Vec<(String, String)> = parse(&text)["vars"]
        .as_object()
        .map(|vars| {
            vars.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let defaults: Vec<(&str, &str)> = defaults
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    text = fill(&text, &defaults);
    assert!(
        !text.contains("{{"),
        "{full}: a placeholder is left unfilled"
    );
    let doc = parse(&text);
    match doc.get("request") {
        Some(request) => request.clone(),
        None => doc,
    }
}

/// RFC 7643 section 8.2's full user representation, as the RFC prints it (Barbara Jensen).
pub fn rfc7643_full_user() -> Value {
    fixture("rfc7643/s8.2_full_user.json", &[])
}

/// RFC 7643 section 8.2's user as a client creates it (without `id`, `meta` and `groups`, which
/// the server assigns), under a `userName` and `externalId` of the test's own, with the
/// enterprise extension of section 8.3 (`employeeNumber` 701984, `department` Tour Operations).
pub fn rfc7643_user_to_create(user_name: &str, external_id: &str) -> Value {
    let mut user = rfc7643_full_user();
    let fields = user.as_object_mut().expect("the RFC user is an object");
    for read_only in ["id", "meta", "groups"] {
        fields.remove(read_only);
    }
    user["userName"] = Value::from(user_name);
    user["externalId"] = Value::from(external_id);
    user["schemas"] = serde_json::json!([USER_SCHEMA, ENTERPRISE]);
    user[ENTERPRISE] = serde_json::json!({
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
    });
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_gives_its_request_with_the_callers_values_then_its_own() {
        let body = fixture(
            "rfc7644/s3.5.2.1_add_member.json",
            &[("USER_ID", "u-1"), ("BASE_URL", "http://h/scim/v2")],
        );
        let member = &body["Operations"][0]["value"][0];
        assert_eq!(member["value"], "u-1");
        assert_eq!(member["$ref"], "http://h/scim/v2/Users/u-1");
        let example = fixture("rfc7644/s3.5.2.1_add_member.json", &[]);
        assert_eq!(
            example["Operations"][0]["value"][0]["value"],
            "2819c223-7f76-453a-919d-413861904646"
        );
    }

    #[test]
    fn the_rfc_user_to_create_has_nothing_the_server_assigns() {
        let user = rfc7643_user_to_create("u@example.com", "e-1");
        for assigned in ["id", "meta", "groups"] {
            assert!(user.get(assigned).is_none(), "{assigned}");
        }
        assert_eq!(user["userName"], "u@example.com");
        assert_eq!(user["externalId"], "e-1");
        assert_eq!(user["name"]["formatted"], "Ms. Barbara J Jensen, III");
        assert_eq!(user[ENTERPRISE]["employeeNumber"], "701984");
    }
}
