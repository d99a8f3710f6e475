//! The SCIM 2.0 door: each HTTP request becomes one typed [`Operation`] (resource, id, body,
//! query parameters, `If-Match`), parsed exactly once here, and each [`Outcome`] becomes an HTTP
//! response. Nothing below this module sees HTTP.

use scim_core::ids::ResourceId;
use scim_core::list::{ListQuery, Projection};
use scim_core::patch::PatchRequest;
use scim_core::schema::{ResourceSchema, Schemas};
use scim_core::ScimError;
use scim_ops::render::etag;
use scim_ops::{GroupOperation, Operation, Outcome, Precondition, UserOperation};

use crate::http::{Method, Request, Response};
use crate::routes::Route;

/// The operation a Users or Groups request asks for. `route` already allows the method.
pub fn operation(
    schemas: &Schemas,
    route: &Route,
    request: &Request,
) -> Result<Operation, ScimError> {
    match route {
        Route::Users | Route::UsersSearch | Route::User(_) => {
            user_operation(&schemas.user, route, request).map(Operation::User)
        }
        Route::Groups | Route::GroupsSearch | Route::Group(_) => {
            group_operation(&schemas.group, route, request).map(Operation::Group)
        }
        _ => Err(ScimError::NotFound("No such endpoint.".into())),
    }
}

/// What every resource request carries besides its body.
struct Parts {
    projection: Projection,
    precondition: Precondition,
}

fn parts(request: &Request, schema: &ResourceSchema) -> Result<Parts, ScimError> {
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

/// An id in a URL that cannot be one of ours names nothing: 404 without touching the store.
fn resource_id(text: &str, what: &str) -> Result<ResourceId, ScimError> {
    ResourceId::parse(text).ok_or_else(|| ScimError::NotFound(format!("{what} not found.")))
}

fn user_operation(
    schema: &ResourceSchema,
    route: &Route,
    request: &Request,
) -> Result<UserOperation, ScimError> {
    Ok(match (route, request.method) {
        (Route::Users, Method::Get) | (Route::UsersSearch, _) => {
            UserOperation::List(list_query(request, schema)?)
        }
        (Route::Users, _) => UserOperation::Create {
            body: request.json_body()?,
            projection: parts(request, schema)?.projection,
        },
        (Route::User(id), method) => {
            let id = resource_id(id, "User")?;
            let Parts {
                projection,
                precondition,
            } = parts(request, schema)?;
            match method {
                Method::Get => UserOperation::Get { id, projection },
                Method::Put => UserOperation::Replace {
                    id,
                    body: request.json_body()?,
                    precondition,
                    projection,
                },
                Method::Patch => UserOperation::Patch {
                    id,
                    patch: PatchRequest::parse(&request.json_body()?, schema)?,
                    precondition,
                    projection,
                },
                _ => UserOperation::Delete { id, precondition },
            }
        }
        _ => return Err(ScimError::NotFound("No such endpoint.".into())),
    })
}

fn group_operation(
    schema: &ResourceSchema,
    route: &Route,
    request: &Request,
) -> Result<GroupOperation, ScimError> {
    Ok(match (route, request.method) {
        (Route::Groups, Method::Get) | (Route::GroupsSearch, _) => {
            GroupOperation::List(list_query(request, schema)?)
        }
        (Route::Groups, _) => GroupOperation::Create {
            body: request.json_body()?,
            projection: parts(request, schema)?.projection,
        },
        (Route::Group(id), method) => {
            let id = resource_id(id, "Group")?;
            let Parts {
                projection,
                precondition,
            } = parts(request, schema)?;
            match method {
                Method::Get => GroupOperation::Get { id, projection },
                Method::Put => GroupOperation::Replace {
                    id,
                    body: request.json_body()?,
                    precondition,
                    projection,
                },
                Method::Patch => GroupOperation::Patch {
                    id,
                    patch: PatchRequest::parse(&request.json_body()?, schema)?,
                    precondition,
                    projection,
                },
                _ => GroupOperation::Delete { id, precondition },
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
        Outcome::List(body) => Response::json(200, body),
    }
}
