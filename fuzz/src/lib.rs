//! Fixed documents and checks shared by the fuzz targets.

use scim_core::ScimError;
use std::sync::OnceLock;

use serde_json::{json, Value};

/// Barbara Jensen: RFC 7643 section 8.2's full user (its one copy, in `tests/fixtures`), with
/// the enterprise extension of section 8.3 and a platform role.
pub fn bjensen() -> Value {
    static USER: OnceLock<Value> = OnceLock::new();
    USER.get_or_init(|| {
        let mut user: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/rfc7643/s8.2_full_user.json"
        ))
        .unwrap_or_default();
        user["schemas"] = json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ]);
        user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        });
        user["urn:ietf:params:scim:schemas:extension:platform:2.0:User"] =
            json!({"platformRole": "ADMIN"});
        user
    })
    .clone()
}

/// A group with two members, as rendered.
pub fn group_doc() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "externalId": "tg",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
        ]
    })
}

/// Every refusal of client input is a 400 with one of the RFC's `scimType`s.
pub fn assert_400(err: &ScimError) {
    assert_eq!(err.status(), 400, "{err:?}");
    assert!(err.scim_type().is_some(), "{err:?}");
}
