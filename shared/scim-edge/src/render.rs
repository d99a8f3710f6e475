//! Resources as clients see them: the stored document plus `schemas`, `id`, `meta` and the
//! relationship attributes (`groups`, `members`).

use scim_core::schema::{ResourceKind, ResourceSchema};
use scim_store::{GroupItem, Member, UserItem};
use serde_json::{json, Map, Value};

/// Groups with more members than this are rendered without each member's `$ref`.
pub const MEMBER_REF_LIMIT: usize = 10_000;

/// A weak ETag for a version (RFC 7644 section 3.14).
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// 412 unless the request's `If-Match` (when sent) names `version` of the `what` (RFC 7644
/// section 3.14).
pub fn check_if_match(
    request: &crate::http::Request,
    version: u64,
    what: &str,
) -> Result<(), scim_core::ScimError> {
    if if_match_allows(request.header("if-match"), version) {
        Ok(())
    } else {
        Err(scim_core::ScimError::PreconditionFailed(format!(
            "The {what} is at version {}, not the one in If-Match.",
            etag(version)
        )))
    }
}

/// Whether an `If-Match` header matches `version` (`*` matches any existing resource).
pub fn if_match_allows(header: Option<&str>, version: u64) -> bool {
    let Some(header) = header else { return true };
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version.to_string()
    })
}

/// The `schemas` a resource lists: its core schema and each extension it carries.
fn schemas_of(doc: &Map<String, Value>, schema: &ResourceSchema) -> Value {
    let mut ids = vec![Value::String(schema.core.id.clone())];
    for ext in &schema.extensions {
        if doc.contains_key(&ext.id) {
            ids.push(Value::String(ext.id.clone()));
        }
    }
    Value::Array(ids)
}

fn meta(
    kind: ResourceKind,
    id: &str,
    base_url: &str,
    created: &str,
    modified: &str,
    version: u64,
) -> Value {
    json!({
        "resourceType": kind.name(),
        "created": created,
        "lastModified": modified,
        "location": format!("{base_url}{}/{id}", kind.endpoint()),
        "version": etag(version),
    })
}

/// The SCIM User for a stored user.
pub fn user(item: &UserItem, schema: &ResourceSchema, base_url: &str) -> Value {
    let mut doc = item.doc.as_object().cloned().unwrap_or_default();
    doc.insert("schemas".into(), schemas_of(&doc, schema));
    doc.insert("id".into(), Value::String(item.id.clone()));
    if !item.group_ids.is_empty() {
        let groups: Vec<Value> = item
            .group_ids
            .iter()
            .map(|gid| {
                json!({
                    "value": gid,
                    "$ref": format!("{base_url}/Groups/{gid}"),
                    "type": "direct",
                })
            })
            .collect();
        doc.insert("groups".into(), Value::Array(groups));
    }
    doc.insert(
        "meta".into(),
        meta(
            ResourceKind::User,
            &item.id,
            base_url,
            &item.created,
            &item.last_modified,
            item.version,
        ),
    );
    Value::Object(doc)
}

/// The SCIM Group for a stored group; `members` only when they were read.
pub fn group(
    item: &GroupItem,
    members: Option<&[Member]>,
    schema: &ResourceSchema,
    base_url: &str,
) -> Value {
    let mut doc = item.doc.as_object().cloned().unwrap_or_default();
    doc.insert("schemas".into(), schemas_of(&doc, schema));
    doc.insert("id".into(), Value::String(item.id.clone()));
    if let Some(members) = members {
        // A Lambda response is at most 6 MB: past MEMBER_REF_LIMIT members, `$ref` (which the
        // client can build from `value`) is left out so a 50,000-member group still fits.
        let with_ref = members.len() <= MEMBER_REF_LIMIT;
        let list: Vec<Value> = members
            .iter()
            .map(|m| {
                if with_ref {
                    json!({"value": m.user_id, "$ref": format!("{base_url}/Users/{}", m.user_id), "type": "User"})
                } else {
                    json!({"value": m.user_id, "type": "User"})
                }
            })
            .collect();
        doc.insert("members".into(), Value::Array(list));
    }
    doc.insert(
        "meta".into(),
        meta(
            ResourceKind::Group,
            &item.id,
            base_url,
            &item.created,
            &item.last_modified,
            item.version,
        ),
    );
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_weak_and_strong_tags_and_star() {
        assert!(if_match_allows(None, 3));
        assert!(if_match_allows(Some("W/\"3\""), 3));
        assert!(if_match_allows(Some("\"3\""), 3));
        assert!(if_match_allows(Some("*"), 3));
        assert!(if_match_allows(Some("W/\"2\", W/\"3\""), 3));
        assert!(!if_match_allows(Some("W/\"2\""), 3));
    }
}
