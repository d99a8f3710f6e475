//! Helpers shared by the integration tests: schemas, sample resources and the PATCH fixture
//! runner.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use scim_core::filter::Filter;
use scim_core::patch::{MemberChange, PatchRequest};
use scim_core::schema::{ResourceSchema, Schemas, DEFAULT_PLATFORM_SCHEMA};
use serde_json::{json, Value};

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub fn schemas() -> Schemas {
    Schemas::new(DEFAULT_PLATFORM_SCHEMA)
}

pub fn user_filter(input: &str) -> Filter {
    Filter::parse(input, &schemas().user).unwrap_or_else(|e| panic!("{input}: {e:?}"))
}

pub fn group_filter(input: &str) -> Filter {
    Filter::parse(input, &schemas().group).unwrap_or_else(|e| panic!("{input}: {e:?}"))
}

/// The `scimType` of a failed user filter parse.
pub fn user_filter_error(input: &str) -> (Option<&'static str>, String) {
    match Filter::parse(input, &schemas().user) {
        Ok(f) => panic!("{input} parsed as {f}"),
        Err(e) => (e.scim_type().map(|t| t.as_str()), e.detail()),
    }
}

/// Barbara Jensen: RFC 7643 section 8.2's full user (`rfc7643/s8.2_full_user.json`, the one
/// copy), with the enterprise extension of section 8.3, under the userName and externalId that
/// RFC 7644 section 3.4.2.2's filter examples look up (`userName eq "bjensen"`).
pub fn bjensen() -> Value {
    let mut user = load_fixture("rfc7643/s8.2_full_user.json");
    user["userName"] = json!("bjensen");
    user["externalId"] = json!("bjensen");
    user["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    user[ENTERPRISE] = json!({
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
        "manager": {
            "value": "26118915-6090-4610-87e4-49d8ca9f808d",
            "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
            "displayName": "John Smith"
        }
    });
    user
}

/// An intern without a title, modified after bjensen.
pub fn jomalley() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "c3a26dd3-27a0-4dec-a2ac-ce211e105f97",
        "externalId": "JOMALLEY",
        "userName": "Jomalley",
        "name": {"familyName": "O'Malley", "givenName": "Jo"},
        "userType": "Intern",
        "active": false,
        "emails": [{"value": "jo@example.org", "type": "work"}],
        "ims": [{"value": "jo@foo.com", "type": "xmpp"}],
        "meta": {"resourceType": "User", "created": "2011-06-01T00:00:00Z", "lastModified": "2012-01-01T00:00:00+01:00"}
    })
}

/// A contractor modified before bjensen.
pub fn csmith() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "08e1d05d-121c-4561-8b96-473d93df9210",
        "userName": "csmith",
        "title": "Contractor",
        "userType": "Contractor",
        "active": "True",
        "emails": [{"value": "c@other.net", "type": "home"}],
        "meta": {"resourceType": "User", "created": "2009-01-01T00:00:00Z", "lastModified": "2010-01-01T00:00:00Z"}
    })
}

/// The `userName`s of the sample users `input` matches.
pub fn matching_users(input: &str) -> Vec<String> {
    let filter = user_filter(input);
    [bjensen(), jomalley(), csmith()]
        .iter()
        .filter(|u| filter.matches(u))
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect()
}

/// The fixture tree shared with the HTTP integration tests (`tests/fixtures/`, see its README).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A fixture, its `{{NAME}}` placeholders filled from its own `vars` (the example values its
/// `before` and `after` were written with; the HTTP tests fill in real ids instead).
pub fn load_fixture(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let parse = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Some(vars) = parse(&text).get("vars").and_then(Value::as_object) {
        for (k, v) in vars {
            text = text.replace(&format!("{{{{{k}}}}}"), v.as_str().unwrap_or_default());
        }
    }
    assert!(
        !text.contains("{{"),
        "{}: an unfilled placeholder",
        path.display()
    );
    parse(&text)
}

fn schema_for<'a>(schemas: &'a Schemas, fixture: &Value) -> &'a ResourceSchema {
    match fixture["resourceType"].as_str() {
        Some("Group") => &schemas.group,
        _ => &schemas.user,
    }
}

fn member_change_json(change: &MemberChange) -> Value {
    match change {
        MemberChange::Add(ids) => json!({"add": ids}),
        MemberChange::Remove(ids) => json!({"remove": ids}),
        MemberChange::RemoveAll => json!("removeAll"),
        MemberChange::ReplaceAll(ids) => json!({"replaceAll": ids}),
    }
}

/// Runs a PATCH fixture:
/// `{"resourceType", "before", "request", "after"?, "memberChanges"?, "error"?: {"scimType"}}`.
/// Groups have their member operations split off first (members are stored outside the
/// document); `memberChanges` lists them as `{"add": [..]}`, `{"remove": [..]}`, `"removeAll"`,
/// `{"replaceAll": [..]}`.
pub fn run_fixture(name: &str) {
    let fixture = load_fixture(name);
    let schemas = schemas();
    let schema = schema_for(&schemas, &fixture);
    let result = PatchRequest::parse(&fixture["request"], schema).and_then(|req| {
        let (req, changes) = if schema.kind == scim_core::schema::ResourceKind::Group {
            req.split_members()?
        } else {
            (req, Vec::new())
        };
        let mut doc = fixture["before"].clone();
        req.apply(&mut doc, schema)?;
        Ok((doc, changes))
    });
    match (fixture.get("error"), result) {
        (Some(expected), Err(err)) => {
            assert_eq!(
                Some(err.scim_type().map_or("", |t| t.as_str())),
                expected["scimType"].as_str(),
                "{name}: {err:?}"
            );
            assert_eq!(err.status(), 400, "{name}");
        }
        (Some(expected), Ok((doc, _))) => panic!("{name}: expected {expected}, got {doc:#}"),
        (None, Err(err)) => panic!("{name}: {err:?}"),
        (None, Ok((doc, changes))) => {
            assert_eq!(doc, fixture["after"], "{name}: document\n{doc:#}");
            let changes: Vec<Value> = changes.iter().map(member_change_json).collect();
            let expected = fixture.get("memberChanges").cloned().unwrap_or(json!([]));
            assert_eq!(Value::Array(changes), expected, "{name}: member changes");
        }
    }
}

/// Every PATCH case of the fixture tree (a file with a `before` document), relative to it.
/// The tree also holds plain request bodies for the HTTP tests; those are not cases.
pub fn all_fixtures() -> Vec<String> {
    let mut out = Vec::new();
    let root = fixtures_dir();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let name = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                let doc: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                if doc.get("before").is_some() {
                    out.push(name);
                }
            }
        }
    }
    out.sort();
    out
}
