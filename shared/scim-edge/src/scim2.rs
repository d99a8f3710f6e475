//! The SCIM 2.0 door: each HTTP request becomes one typed [`Operation`] (resource, id, body,
//! query parameters, `If-Match`), parsed exactly once here, and each [`Outcome`] becomes an HTTP
//! response. Nothing below this module sees HTTP.

use scim_core::bulk::BulkRequest;
use scim_core::ids::ResourceId;
use scim_core::list::{ListQuery, Projection};
use scim_core::patch::PatchRequest;
use scim_core::schema::{ResourceSchema, Schemas};
use scim_core::ScimError;
use scim_ops::render::etag;
use scim_ops::{Operation, Outcome, Precondition, ResourceOperation};

use crate::http::{Method, Request, Response};
use crate::routes::Route;

/// The operation a Users, Groups, root `.search` or Bulk request asks for (a Bulk request of at
/// most `bulk_max_operations`). `route` already allows the method.
pub fn operation(
    schemas: &Schemas,
    route: &Route,
    request: &Request,
    bulk_max_operations: usize,
) -> Result<Operation, ScimError> {
    match route {
        Route::Users | Route::UsersSearch | Route::User(_) => {
            resource_operation(&schemas.user, route, request).map(Operation::User)
        }
        Route::Groups | Route::GroupsSearch | Route::Group(_) => {
            resource_operation(&schemas.group, route, request).map(Operation::Group)
        }
        Route::RootSearch => Ok(Operation::SearchAll(request.json_body()?)),
        Route::Bulk => {
            BulkRequest::parse(&request.json_body()?, bulk_max_operations).map(Operation::Bulk)
        }
        _ => Err(ScimError::NotFound("No such endpoint.".into())),
    }
}

/// What every resource request carries besides its body (the same in SCIM 1.1).
pub(crate) struct Parts {
    pub(crate) projection: Projection,
    pub(crate) precondition: Precondition,
}

pub(crate) fn parts(request: &Request, schema: &ResourceSchema) -> Result<Parts, ScimError> {
    Ok(Parts {
        projection: Projection::parse(
            request.query_param("attributes"),
            request.query_param("excludedAttributes"),
            schema,
        )?,
        precondition: request
            .header("if-match")
            .map_or_else(Precondition::none, Precondition::if_match),
    })
}

fn list_query(request: &Request, schema: &ResourceSchema) -> Result<ListQuery, ScimError> {
    match request.method {
        Method::Post => ListQuery::from_search(&request.json_body()?, schema),
        _ => ListQuery::from_query(|name| request.query_param(name), schema),
    }
}

/// The operation on one resource type: its collection (GET lists, POST creates), its
/// `.search` (POST lists) and one resource (GET, PUT, PATCH, DELETE).
fn resource_operation(
    schema: &ResourceSchema,
    route: &Route,
    request: &Request,
) -> Result<ResourceOperation, ScimError> {
    Ok(match (route, request.method) {
        (Route::Users | Route::Groups, Method::Get)
        | (Route::UsersSearch | Route::GroupsSearch, _) => {
            ResourceOperation::List(list_query(request, schema)?)
        }
        (Route::Users | Route::Groups, _) => ResourceOperation::Create {
            body: request.json_body()?,
            projection: parts(request, schema)?.projection,
        },
        (Route::User(id) | Route::Group(id), method) => {
            let id = ResourceId::parse(id).ok_or_else(|| {
                // An id that cannot be one of ours names nothing: 404 without a store call.
                scim_ops::error::not_found(schema.kind)
            })?;
            let Parts {
                projection,
                precondition,
            } = parts(request, schema)?;
            match method {
                Method::Get => ResourceOperation::Get { id, projection },
                Method::Put => ResourceOperation::Replace {
                    id,
                    body: request.json_body()?,
                    precondition,
                    projection,
                },
                Method::Patch => ResourceOperation::Patch {
                    id,
                    patch: PatchRequest::parse(&request.json_body()?, schema)?,
                    precondition,
                    projection,
                },
                Method::Delete => ResourceOperation::Delete { id, precondition },
                other => {
                    return Err(ScimError::MethodNotAllowed(format!(
                        "{} is not supported on {}.",
                        other.as_str(),
                        route.name()
                    )))
                }
            }
        }
        _ => return Err(ScimError::NotFound("No such endpoint.".into())),
    })
}

/// The HTTP response for an outcome (RFC 7644 sections 3.3 to 3.6).
pub fn respond(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Created(resource) => Response::json(201, resource.body)
            .with_header("etag", etag(resource.version))
            .with_header("location", resource.location),
        Outcome::Ok(resource) => {
            Response::json(200, resource.body).with_header("etag", etag(resource.version))
        }
        Outcome::NoContent => Response::no_content(),
        Outcome::List(body) | Outcome::Bulk(body) => Response::json(200, body),
    }
}
