//! The SCIM 1.1 door (`/scim/v1`, Okta's "SCIM 1.1" catalog templates): each request is
//! translated by [`scim_core::scim11`] into the same [`Operation`] the 2.0 door builds, and each
//! outcome back into 1.1's form. The rules, writes and guarantees are the core's; nothing of them
//! is repeated here.

use scim_core::ids::ResourceId;
use scim_core::list::ListQuery;
use scim_core::patch::PatchRequest;
use scim_core::schema::{ResourceSchema, Schemas};
use scim_core::scim11;
use scim_core::ScimError;
use scim_ops::render::etag;
use scim_ops::{Operation, Outcome, ResourceOperation};

use crate::http::{Method, Request, Response};
use crate::routes::Route;
use crate::scim2::parts;

/// SCIM 1.1 bodies are plain JSON.
pub const JSON: &str = "application/json";

/// The operation a 1.1 Users or Groups request asks for. `route` already allows the method.
pub fn operation(
    schemas: &Schemas,
    route: &Route,
    request: &Request,
) -> Result<Operation, ScimError> {
    match route {
        Route::Users | Route::User(_) => {
            resource_operation(&schemas.user, route, request).map(Operation::User)
        }
        Route::Groups | Route::Group(_) => {
            resource_operation(&schemas.group, route, request).map(Operation::Group)
        }
        _ => Err(ScimError::NotFound("No such endpoint.".into())),
    }
}

fn resource_operation(
    schema: &ResourceSchema,
    route: &Route,
    request: &Request,
) -> Result<ResourceOperation, ScimError> {
    let kind = schema.kind;
    Ok(match (route, request.method) {
        (Route::Users | Route::Groups, Method::Get) => ResourceOperation::List(
            ListQuery::from_query(|name| request.query_param(name), schema)?,
        ),
        (Route::Users | Route::Groups, _) => ResourceOperation::Create {
            body: scim11::resource_from_v1(request.json_body()?, kind)?,
            projection: parts(request, schema)?.projection,
        },
        (Route::User(id) | Route::Group(id), method) => {
            let id = ResourceId::parse(id).ok_or_else(|| scim_ops::error::not_found(kind))?;
            let parts = parts(request, schema)?;
            match method {
                Method::Get => ResourceOperation::Get {
                    id,
                    projection: parts.projection,
                },
                Method::Put => ResourceOperation::Replace {
                    id,
                    body: scim11::resource_from_v1(request.json_body()?, kind)?,
                    precondition: parts.precondition,
                    projection: parts.projection,
                },
                // A PATCH that names nothing to change (Okta sends `schemas` and `id` around a
                // group whose name and members are as they were) answers the resource as it is.
                Method::Patch => match scim11::patch_from_v1(request.json_body()?, kind)? {
                    Some(patch) => ResourceOperation::Patch {
                        id,
                        patch: PatchRequest::parse(&patch, schema)?,
                        precondition: parts.precondition,
                        projection: parts.projection,
                    },
                    None => ResourceOperation::Get {
                        id,
                        projection: parts.projection,
                    },
                },
                Method::Delete => ResourceOperation::Delete {
                    id,
                    precondition: parts.precondition,
                },
                other => {
                    return Err(ScimError::MethodNotAllowed(format!(
                        "{} is not supported here.",
                        other.as_str()
                    )))
                }
            }
        }
        _ => return Err(ScimError::NotFound("No such endpoint.".into())),
    })
}

/// The 1.1 response for an outcome: the same statuses and headers as 2.0, 1.1 bodies.
pub fn respond(outcome: Outcome) -> Response {
    let response = match outcome {
        Outcome::Created(resource) => Response::json(201, scim11::resource_to_v1(resource.body))
            .with_header("etag", etag(resource.version))
            .with_header("location", resource.location),
        Outcome::Ok(resource) => Response::json(200, scim11::resource_to_v1(resource.body))
            .with_header("etag", etag(resource.version)),
        Outcome::NoContent => return Response::no_content(),
        Outcome::List(body) => Response::json(200, scim11::list_to_v1(body)),
        Outcome::Bulk(body) => Response::json(200, body),
    };
    response.with_header("content-type", JSON)
}

/// The 1.1 error response (`{"Errors": [...]}`), with 2.0's status and headers.
pub fn error(err: &ScimError) -> Response {
    let mut response = Response::error(err);
    response.body = Some(scim11::error_to_v1(err));
    response.with_header("content-type", JSON)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn request(method: Method, path: &str, body: &str) -> Request {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: BTreeMap::from([("content-type".to_string(), JSON.to_string())]),
            body: body.as_bytes().to_vec(),
            endpoint: None,
        }
    }

    fn schemas() -> Schemas {
        Schemas::new(scim_core::schema::DEFAULT_PLATFORM_SCHEMA)
    }

    const ID: &str = "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70";

    #[test]
    fn an_okta_deactivation_is_the_v2_active_patch() {
        let req = request(
            Method::Patch,
            "",
            r#"{"schemas":["urn:scim:schemas:core:1.0"],"id":"x","active":false}"#,
        );
        let op = operation(&schemas(), &Route::User(ID.into()), &req).unwrap();
        let Operation::User(ResourceOperation::Patch { patch, .. }) = op else {
            panic!("{op:?}");
        };
        assert_eq!(patch.only_sets_active(), Some(false));
    }

    #[test]
    fn a_patch_without_changes_reads_the_resource() {
        let req = request(
            Method::Patch,
            "",
            r#"{"schemas":["urn:scim:schemas:core:1.0"],"id":"x"}"#,
        );
        let op = operation(&schemas(), &Route::Group(ID.into()), &req).unwrap();
        assert!(matches!(
            op,
            Operation::Group(ResourceOperation::Get { .. })
        ));
    }

    #[test]
    fn errors_are_plain_json_in_the_v1_form() {
        let response = error(&ScimError::Uniqueness("taken".into()));
        assert_eq!(response.status, 409);
        assert_eq!(
            response.body.unwrap(),
            serde_json::json!({"Errors": [{"description": "taken", "code": 409}]})
        );
        assert!(response
            .headers
            .contains(&("content-type".to_string(), JSON.to_string())));
    }
}
