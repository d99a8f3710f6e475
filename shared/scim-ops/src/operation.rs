//! The operations a door may ask for, already parsed, and what they answer. A door builds one
//! [`Operation`] per request (routing, body, query parameters, `If-Match`) and renders the
//! [`Outcome`] in its own dialect; nothing here knows where the request came from.

use scim_core::ids::ResourceId;
use scim_core::list::{ListQuery, Projection};
use scim_core::patch::PatchRequest;
use serde_json::Value;

use crate::model::Principal;
use crate::write::Precondition;

/// One request, as every door hands it over.
#[derive(Debug, Clone)]
pub enum Operation {
    User(ResourceOperation),
    Group(ResourceOperation),
    /// A search of every resource type at once (`POST /.search`), with its SearchRequest body
    /// (`search.rs` decides how each type reads it).
    SearchAll(Value),
    /// A Bulk request (`POST /Bulk`, `bulk.rs`).
    Bulk(scim_core::bulk::BulkRequest),
}

/// What a request does to a resource type. Users and groups share the shape; the rules differ
/// (`users.rs`, `groups.rs`).
#[derive(Debug, Clone)]
pub enum ResourceOperation {
    Create {
        body: Value,
        projection: Projection,
    },
    Get {
        id: ResourceId,
        projection: Projection,
    },
    Replace {
        id: ResourceId,
        body: Value,
        precondition: Precondition,
        projection: Projection,
    },
    /// A group PATCH is answered without a body unless the client asked for attributes
    /// (Entra expects 204); a user PATCH answers the user.
    Patch {
        id: ResourceId,
        patch: PatchRequest,
        precondition: Precondition,
        projection: Projection,
    },
    Delete {
        id: ResourceId,
        precondition: Precondition,
    },
    List(ListQuery),
}

/// An operation on users.
pub type UserOperation = ResourceOperation;
/// An operation on groups.
pub type GroupOperation = ResourceOperation;

/// A resource in the answer: its SCIM representation (projected), version and URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub body: Value,
    pub version: u64,
    pub location: String,
}

/// What an operation answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Created(Resource),
    Ok(Resource),
    NoContent,
    /// A ListResponse (RFC 7644 section 3.4.2).
    List(Value),
    /// A BulkResponse (RFC 7644 section 3.7.3), answered 200 whatever its operations' statuses.
    Bulk(Value),
}

/// Per-request facts: who asks, where resources live, and when.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub principal: &'a Principal,
    /// Absolute base URL of the resources, e.g. `https://api.example.com/scim/v2`.
    pub base_url: &'a str,
    /// The request's timestamp (RFC 3339): `meta.lastModified` of its writes.
    pub now: String,
}

impl Ctx<'_> {
    /// The stamp of this request's writes: its timestamp and the caller's token prefix.
    pub fn change(&self) -> crate::model::Change<'_> {
        crate::model::Change {
            at: &self.now,
            by: &self.principal.token_prefix,
        }
    }

    pub fn tenant(&self) -> &scim_core::ids::TenantId {
        &self.principal.tenant
    }
}
