//! SCIM PATCH (RFC 7644 section 3.5.2), as the RFC specifies it and as IdPs really send it.
//!
//! [`PatchRequest::parse`] validates the body and resolves every `path` against the schema;
//! [`PatchRequest::apply`] applies the operations in order to a canonical resource document.
//! Group membership lives outside the document, so [`split_member_operations`] first pulls out
//! every operation that touches `members` as [`MemberChange`]s.
//!
//! Leniencies, each for a client seen in the wild:
//! - `op` and the keys `Operations`, `op`, `path`, `value` are matched case-insensitively
//!   (Microsoft Entra sends `"op": "Replace"`);
//! - path-less `add`/`replace` values may use attribute names in any case, dotted names
//!   (`name.givenName`), URN-qualified names and extension objects; unknown and read-only
//!   keys are ignored (Okta renames a group with `{"id": .., "displayName": ..}`);
//! - `""` or `null` as the value of `add`/`replace` clears the target (Entra's "null update");
//! - a scalar value for a complex attribute with a `value` sub-attribute means `{"value": ..}`
//!   (Entra sends the enterprise `manager` as a bare id);
//! - a value path that matches nothing, when its filter is a conjunction of `eq` terms, creates
//!   the value (Entra's `emails[type eq "work"].value` on a user without a work email);
//! - `remove` of a multi-valued attribute with a `value` list removes only the listed values
//!   (Entra removes group members this way).
//!
//! The result is not validated beyond what applying needs: the caller runs the resource codec
//! on it, which coerces `"False"` to `false`, checks canonical values and required attributes,
//! and rebuilds `schemas`.

mod apply;
mod members;
mod request;
mod values;

use std::fmt;

use serde_json::Value;

use crate::error::ScimError;
use crate::filter::{AttrPath, FilterExpr};
use crate::schema::ResourceSchema;

pub use members::{
    member_id, plan_member_changes, resolve_members, split_member_operations, MemberChange,
    MemberDelta, MemberPlan,
};

/// The most operations one PATCH request may carry.
pub const MAX_PATCH_OPERATIONS: usize = 1000;

/// `urn:ietf:params:scim:api:messages:2.0:PatchOp` (RFC 7644 section 3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The three operations of RFC 7644 section 3.5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
}

impl PatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }
}

/// A parsed PATCH `path` (RFC 7644 section 3.5.2, figure 7): `attr`, `attr.sub`,
/// `attr[filter]` or `attr[filter].sub`, optionally URN-qualified.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute, and the sub-attribute for `attr.sub` and `attr[filter].sub`.
    pub attr: AttrPath,
    /// The value filter of `attr[filter]`; its paths name sub-attributes of `attr` and it is
    /// evaluated against each value of the multi-valued attribute.
    pub filter: Option<FilterExpr>,
}

impl PatchPath {
    /// Parses and resolves a path. A malformed path or an unknown attribute is
    /// `400 invalidPath`; a malformed filter inside brackets is `400 invalidFilter`. Mutability
    /// is not checked here (see [`PatchRequest::parse`]).
    pub fn parse(input: &str, schema: &ResourceSchema) -> Result<PatchPath, ScimError> {
        let (attr, filter) = crate::filter::parse_patch_path(input, schema)?;
        Ok(PatchPath { attr, filter })
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => write!(f, "{}", self.attr),
            Some(filter) => {
                write!(
                    f,
                    "{}[{}]",
                    self.attr.parent(),
                    crate::filter::Relative(filter)
                )?;
                if let Some(sub) = self.attr.sub_attr {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

/// One operation. `value` is kept as sent (after path rewriting for bare extension URNs); it is
/// interpreted when applied.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A validated PATCH request: the operations in the order they must be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// The request without its `members` operations, and those as [`MemberChange`]s; see
    /// [`split_member_operations`].
    pub fn split_members(&self) -> Result<(PatchRequest, Vec<MemberChange>), ScimError> {
        let (operations, changes) = split_member_operations(self)?;
        Ok((PatchRequest { operations }, changes))
    }
}

impl PatchRequest {
    /// `Some(active)` when every operation only sets `active` to a boolean (with or without a
    /// path, any key casing, `"True"`/`"False"` as strings): the (de)activation Okta and Entra
    /// send, which a store can apply without reading the resource first. `None` for anything
    /// else, including `remove active` and `null`/`""` values (which go the general way, where
    /// they keep the current value: see `docs/ARCHITECTURE.md`, "Deprovisioning is sticky").
    pub fn only_sets_active(&self) -> Option<bool> {
        let mut result = None;
        for op in &self.operations {
            if op.op == PatchOp::Remove {
                return None;
            }
            let value = op.value.as_ref()?;
            let sent = match &op.path {
                Some(path)
                    if path.filter.is_none()
                        && path.attr.extension.is_none()
                        && path.attr.attr == "active"
                        && path.attr.sub_attr.is_none() =>
                {
                    value
                }
                Some(_) => return None,
                None => {
                    let obj = value.as_object()?;
                    let mut entries = obj.iter();
                    let (key, v) = entries.next()?;
                    if entries.next().is_some() || !key.eq_ignore_ascii_case("active") {
                        return None;
                    }
                    v
                }
            };
            result = Some(match sent {
                Value::Bool(b) => *b,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return None,
            });
        }
        result
    }
}

/// Prefixes an error's detail with the index of the operation it came from.
fn at_operation(index: usize, err: ScimError) -> ScimError {
    match err {
        ScimError::BadRequest { scim_type, detail } => {
            ScimError::bad_request(scim_type, format!("Operations[{index}]: {detail}"))
        }
        other => other,
    }
}
