//! SCIM Bulk requests (RFC 7644 section 3.7): the message, parsed once.
//!
//! A request that is not a BulkRequest at all (not an object, no `Operations` list, a bad
//! `failOnErrors`) is refused whole with 400; more operations than the limit is 413. An
//! operation that is malformed on its own (unknown method, a path that is not `/Users`,
//! `/Users/<id>`, `/Groups` or `/Groups/<id>`, a POST without `bulkId`, a missing `data`, a
//! `bulkId` used twice) is kept as a per-operation error, so the response reports it in its
//! place and `failOnErrors` counts it. Member names are matched without regard to case, like
//! every SCIM attribute name.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::ScimError;

pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// What a `bulkId` reference looks like inside a path or a value: `bulkId:<id>`.
pub const BULK_ID_PREFIX: &str = "bulkId:";

/// The longest `bulkId` accepted.
pub const MAX_BULK_ID_LEN: usize = 256;

/// The most group members one Bulk request may add, replace or remove in all (each is a write;
/// this keeps a request inside one function invocation).
pub const MAX_BULK_MEMBER_CHANGES: usize = 1000;

/// A parsed BulkRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (`failOnErrors`); `None`: process every operation.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkEntry>,
}

/// One entry of `Operations`: what the response echoes, and the operation or why it is none.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkEntry {
    /// The method as sent (upper-cased), echoed in the response.
    pub method: String,
    pub bulk_id: Option<String>,
    pub operation: Result<BulkOperation, ScimError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

/// The resource type an operation addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkResource {
    Users,
    Groups,
}

impl BulkResource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Groups => "Groups",
        }
    }
}

/// A well-formed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: BulkMethod,
    pub resource: BulkResource,
    /// The resource's id, or a `bulkId:<id>` reference (PUT, PATCH, DELETE); `None` for POST.
    pub target: Option<String>,
    /// `version`: the operation's `If-Match`.
    pub version: Option<String>,
    pub data: Option<Value>,
}

impl BulkOperation {
    /// The `bulkId`s this operation refers to, in its path and anywhere in its data.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(id) = self.target.as_deref().and_then(bulk_reference) {
            out.insert(id.to_string());
        }
        if let Some(data) = &self.data {
            collect_references(data, &mut out);
        }
        out
    }
}

/// The `bulkId` a string refers to, when it is a `bulkId:<id>` reference.
pub fn bulk_reference(text: &str) -> Option<&str> {
    text.strip_prefix(BULK_ID_PREFIX)
        .filter(|id| !id.is_empty())
}

fn collect_references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = bulk_reference(s) {
                out.insert(id.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// Replaces every `bulkId:<id>` string in `value` that `resolve` knows with the id it gives.
pub fn substitute_references(value: &mut Value, resolve: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = bulk_reference(s).and_then(resolve) {
                *s = id;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute_references(v, resolve)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute_references(v, resolve)),
        _ => {}
    }
}

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

impl BulkRequest {
    /// Parses a BulkRequest of at most `max_operations` operations.
    pub fn parse(body: &Value, max_operations: usize) -> Result<Self, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("A BulkRequest must be a JSON object."))?;
        let schemas_ok = field(object, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|v| {
                    v.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST_SCHEMA))
                })
            });
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "`schemas` must name {BULK_REQUEST_SCHEMA}."
            )));
        }
        let fail_on_errors = match field(object, "failOnErrors") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .filter(|n| *n >= 1)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| {
                        ScimError::invalid_value("`failOnErrors` must be a positive integer.")
                    })?,
            ),
        };
        let operations = field(object, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| ScimError::invalid_syntax("`Operations` must be a list."))?;
        if operations.len() > max_operations {
            return Err(ScimError::PayloadTooLarge(format!(
                "The request has {} operations; at most {max_operations} are processed \
                 (ServiceProviderConfig bulk.maxOperations).",
                operations.len()
            )));
        }
        let members: usize = operations.iter().map(member_changes).sum();
        if members > MAX_BULK_MEMBER_CHANGES {
            return Err(ScimError::PayloadTooLarge(format!(
                "The request changes {members} group members; at most \
                 {MAX_BULK_MEMBER_CHANGES} a Bulk request."
            )));
        }
        let mut seen = BTreeSet::new();
        let operations = operations
            .iter()
            .map(|op| {
                let mut entry = entry(op);
                if let Some(id) = &entry.bulk_id {
                    if !seen.insert(id.clone()) && entry.operation.is_ok() {
                        entry.operation = Err(ScimError::invalid_value(format!(
                            "bulkId `{id}` is used by an earlier operation."
                        )));
                    }
                }
                entry
            })
            .collect();
        Ok(Self {
            fail_on_errors,
            operations,
        })
    }
}

/// The group members an operation names: the entries of `members` lists in its data and in
/// its PATCH operations' values (a value that is no list counts one).
fn member_changes(op: &Value) -> usize {
    fn count(value: &Value) -> usize {
        match value {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::Array(items) if k.eq_ignore_ascii_case("members") => items.len(),
                    _ => count(v),
                })
                .sum(),
            Value::Array(items) => items.iter().map(count).sum(),
            _ => 0,
        }
    }
    let Some(data) = op.as_object().and_then(|o| field(o, "data")) else {
        return 0;
    };
    let patched: usize = data
        .as_object()
        .and_then(|d| field(d, "Operations"))
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter()
                .filter(|o| {
                    o.as_object()
                        .and_then(|o| field(o, "path"))
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.to_ascii_lowercase().starts_with("members"))
                })
                .map(|o| match o.as_object().and_then(|o| field(o, "value")) {
                    Some(Value::Array(items)) => items.len(),
                    _ => 1,
                })
                .sum()
        })
        .unwrap_or(0);
    count(data) + patched
}

fn entry(op: &Value) -> BulkEntry {
    let object = op.as_object();
    let text = |name: &str| {
        object
            .and_then(|o| field(o, name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let method = text("method").unwrap_or_default().to_ascii_uppercase();
    let bulk_id = text("bulkId");
    let operation = match object {
        None => Err(ScimError::invalid_syntax(
            "An operation must be a JSON object.",
        )),
        Some(o) => operation(o, &method, bulk_id.as_deref()),
    };
    BulkEntry {
        method,
        bulk_id,
        operation,
    }
}

fn operation(
    object: &Map<String, Value>,
    method: &str,
    bulk_id: Option<&str>,
) -> Result<BulkOperation, ScimError> {
    let method = match method {
        "POST" => BulkMethod::Post,
        "PUT" => BulkMethod::Put,
        "PATCH" => BulkMethod::Patch,
        "DELETE" => BulkMethod::Delete,
        other => {
            return Err(ScimError::invalid_value(format!(
                "`method` must be POST, PUT, PATCH or DELETE, not `{}`.",
                other.chars().take(20).collect::<String>()
            )))
        }
    };
    if let Some(field_value) = field(object, "bulkId") {
        let ok = field_value.as_str().is_some_and(|id| {
            !id.is_empty() && id.len() <= MAX_BULK_ID_LEN && !id.starts_with(BULK_ID_PREFIX)
        });
        if !ok {
            return Err(ScimError::invalid_value(format!(
                "`bulkId` must be a string of 1 to {MAX_BULK_ID_LEN} characters."
            )));
        }
    }
    let path = field(object, "path")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_path("Each operation needs a `path`."))?;
    let (resource, target) = parse_path(path)?;
    match (method, &target) {
        (BulkMethod::Post, Some(_)) => {
            return Err(ScimError::invalid_path(
                "A POST path names the resource type only (`/Users` or `/Groups`).",
            ))
        }
        (BulkMethod::Post, None) if bulk_id.is_none() => {
            return Err(ScimError::invalid_syntax(
                "A POST operation needs a `bulkId`.",
            ))
        }
        (BulkMethod::Put | BulkMethod::Patch | BulkMethod::Delete, None) => {
            return Err(ScimError::invalid_path(
                "A PUT, PATCH or DELETE path names one resource (`/Users/<id>`).",
            ))
        }
        _ => {}
    }
    let data = field(object, "data").cloned();
    if method != BulkMethod::Delete && !data.as_ref().is_some_and(Value::is_object) {
        return Err(ScimError::invalid_syntax(
            "POST, PUT and PATCH operations need a `data` object.",
        ));
    }
    let version = match field(object, "version") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .ok_or_else(|| ScimError::invalid_value("`version` must be a string."))?
                .to_string(),
        ),
    };
    Ok(BulkOperation {
        method,
        resource,
        target,
        version,
        data,
    })
}

/// `/Users`, `/Groups`, `/Users/<id>`, `/Groups/<id>` (the id may be a `bulkId:` reference).
fn parse_path(path: &str) -> Result<(BulkResource, Option<String>), ScimError> {
    let refused = || {
        ScimError::invalid_path(format!(
            "`{}` is not /Users, /Groups or one of their resources.",
            path.chars().take(100).collect::<String>()
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(refused)?;
    let (head, tail) = match rest.split_once('/') {
        Some((head, tail)) => (head, Some(tail)),
        None => (rest, None),
    };
    let resource = if head.eq_ignore_ascii_case("Users") {
        BulkResource::Users
    } else if head.eq_ignore_ascii_case("Groups") {
        BulkResource::Groups
    } else {
        return Err(refused());
    };
    match tail {
        None => Ok((resource, None)),
        Some(id) if !id.is_empty() && !id.contains('/') && id.len() <= 300 => {
            Ok((resource, Some(id.to_string())))
        }
        Some(_) => Err(refused()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(ops: Value) -> Value {
        json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": ops})
    }

    #[test]
    fn the_rfc_example_parses_with_its_references() {
        let body = request(json!([
            {"method": "POST", "path": "/Users", "bulkId": "qwerty",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Alice"}},
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
            {"method": "PATCH", "path": "/Groups/bulkId:ytrewq", "version": "W/\"1\"",
             "data": {"Operations": []}},
            {"method": "delete", "path": "/Users/b7c14771-226c-4d05-8860-134711653041"}
        ]));
        let parsed = BulkRequest::parse(&body, 10).unwrap();
        assert_eq!(parsed.fail_on_errors, None);
        let ops: Vec<&BulkOperation> = parsed
            .operations
            .iter()
            .map(|e| e.operation.as_ref().unwrap())
            .collect();
        assert_eq!(ops[0].method, BulkMethod::Post);
        assert!(ops[0].references().is_empty());
        assert_eq!(ops[1].references(), BTreeSet::from(["qwerty".to_string()]));
        assert_eq!(ops[2].target.as_deref(), Some("bulkId:ytrewq"));
        assert_eq!(ops[2].references(), BTreeSet::from(["ytrewq".to_string()]));
        assert_eq!(ops[2].version.as_deref(), Some("W/\"1\""));
        assert_eq!(ops[3].method, BulkMethod::Delete);
        assert_eq!(parsed.operations[3].method, "DELETE");
    }

    #[test]
    fn a_malformed_request_is_refused_whole() {
        for body in [
            json!([]),
            json!({"Operations": []}),
            json!({"schemas": [BULK_REQUEST_SCHEMA]}),
            json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": {}}),
            json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": [], "failOnErrors": 0}),
            json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": [], "failOnErrors": "1"}),
        ] {
            let err = BulkRequest::parse(&body, 10).unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
        }
        let many = request(Value::Array(vec![json!({}); 11]));
        assert_eq!(BulkRequest::parse(&many, 10).unwrap_err().status(), 413);
        let members: Vec<Value> = (0..600)
            .map(|i| json!({"value": format!("u{i}")}))
            .collect();
        let big = request(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"displayName": "a", "members": members}},
            {"method": "PATCH", "path": "/Groups/g", "data": {"Operations": [
                {"op": "add", "path": "members", "value": members}]}}
        ]));
        assert_eq!(BulkRequest::parse(&big, 10).unwrap_err().status(), 413);
    }

    #[test]
    fn a_malformed_operation_is_an_error_in_its_place() {
        let body = request(json!([
            {"method": "GET", "path": "/Users"},
            {"method": "POST", "path": "/Users", "data": {}},
            {"method": "POST", "path": "/Users/x", "bulkId": "a", "data": {}},
            {"method": "PUT", "path": "/Users", "data": {}},
            {"method": "PATCH", "path": "/Users/1"},
            {"method": "DELETE", "path": "/Schemas/x"},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {}},
            {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {}},
            "not an object",
            {"method": "POST", "path": "/Users", "bulkId": "bulkId:c", "data": {}}
        ]));
        let parsed = BulkRequest::parse(&body, 20).unwrap();
        let statuses: Vec<Option<u16>> = parsed
            .operations
            .iter()
            .map(|e| e.operation.as_ref().err().map(ScimError::status))
            .collect();
        assert_eq!(
            statuses,
            vec![
                Some(400),
                Some(400),
                Some(400),
                Some(400),
                Some(400),
                Some(400),
                None,
                Some(400),
                Some(400),
                Some(400)
            ]
        );
    }

    #[test]
    fn references_are_substituted_wherever_they_are() {
        let mut data =
            json!({"members": [{"value": "bulkId:a"}, {"value": "bulkId:zz"}], "x": "bulkId:"});
        substitute_references(&mut data, &|id| (id == "a").then(|| "u-1".to_string()));
        assert_eq!(
            data,
            json!({"members": [{"value": "u-1"}, {"value": "bulkId:zz"}], "x": "bulkId:"})
        );
    }
}
