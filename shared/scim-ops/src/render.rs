//! Resources as SCIM clients see them (RFC 7643): the stored document plus `schemas`, `id`,
//! `meta` and the relationship attributes (`groups`, `members`). This is the canonical SCIM 2.0
//! representation; filters and projections run on it, and a door for another dialect
//! translates from it.

use scim_core::schema::{ResourceKind, ResourceSchema};
use serde_json::{json, Map, Value};

use crate::model::{Group, Member, User};

/// Groups with more members than this are rendered without each member's `$ref`: a Lambda
/// response is at most 6 MB, and a 50,000-member group must still fit.
pub const MEMBER_REF_LIMIT: usize = 10_000;

/// A weak ETag for a version (RFC 7644 section 3.14).
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
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

/// The resource's URL: `meta.location` and the `Location` of a 201.
pub fn location(base_url: &str, kind: ResourceKind, id: &str) -> String {
    format!("{base_url}{}/{id}", kind.endpoint())
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
        "location": location(base_url, kind, id),
        "version": etag(version),
    })
}

/// The SCIM User for a stored user.
pub fn user(item: &User, schema: &ResourceSchema, base_url: &str) -> Value {
    let mut doc = item.doc.as_object().cloned().unwrap_or_default();
    doc.insert("schemas".into(), schemas_of(&doc, schema));
    doc.insert("id".into(), Value::String(item.id.to_string()));
    // The platform's flag is the truth; the document carries the same value (see
    // `users::settle_active`), this only makes that impossible to get wrong.
    doc.insert("active".into(), Value::Bool(item.active));
    if !item.group_ids.is_empty() {
        let groups: Vec<Value> = item
            .group_ids
            .iter()
            .map(|gid| {
                json!({
                    "value": gid.as_str(),
                    "$ref": location(base_url, ResourceKind::Group, gid.as_str()),
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
            item.id.as_str(),
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
    item: &Group,
    members: Option<&[Member]>,
    schema: &ResourceSchema,
    base_url: &str,
) -> Value {
    let mut doc = item.doc.as_object().cloned().unwrap_or_default();
    doc.insert("schemas".into(), schemas_of(&doc, schema));
    doc.insert("id".into(), Value::String(item.id.to_string()));
    if let Some(members) = members {
        let with_ref = members.len() <= MEMBER_REF_LIMIT;
        let list: Vec<Value> = members
            .iter()
            .map(|m| {
                let id = m.user_id.as_str();
                if with_ref {
                    json!({"value": id, "$ref": location(base_url, ResourceKind::User, id), "type": "User"})
                } else {
                    json!({"value": id, "type": "User"})
                }
            })
            .collect();
        doc.insert("members".into(), Value::Array(list));
    }
    doc.insert(
        "meta".into(),
        meta(
            ResourceKind::Group,
            item.id.as_str(),
            base_url,
            &item.created,
            &item.last_modified,
            item.version,
        ),
    );
    Value::Object(doc)
}
