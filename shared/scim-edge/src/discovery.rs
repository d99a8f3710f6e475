//! Discovery (RFC 7644 section 4): ServiceProviderConfig, ResourceTypes and Schemas. The
//! schemas served are the same tables the Users and Groups code validates against.

use scim_core::schema::{ResourceSchema, Schema};
use scim_core::ScimError;
use serde_json::{json, Value};

use scim_core::list::{list_response, DEFAULT_COUNT, MAX_COUNT};

use crate::app::App;
use crate::http::Response;
use crate::routes::{Route, Target, Version};

pub fn handle(app: &App, base: &str, target: &Target) -> Result<Response, ScimError> {
    let schemas = app.schemas();
    let route = &target.route;
    if target.version == Version::V1 {
        return match route {
            Route::ServiceProviderConfig => {
                Ok(Response::json(200, service_provider_config_v1(app, base))
                    .with_header("content-type", crate::scim1::JSON))
            }
            _ => Err(ScimError::NotFound("No such endpoint.".into())),
        };
    }
    let body = match route {
        Route::ServiceProviderConfig => service_provider_config(app, base),
        Route::ResourceTypes => {
            let types: Vec<Value> = [&schemas.user, &schemas.group]
                .into_iter()
                .map(|rs| resource_type(rs, base))
                .collect();
            list_response(types.len(), 1, types)
        }
        Route::ResourceType(name) => [&schemas.user, &schemas.group]
            .into_iter()
            .find(|rs| rs.kind.name().eq_ignore_ascii_case(name))
            .map(|rs| resource_type(rs, base))
            .ok_or_else(|| ScimError::NotFound(format!("No resource type `{}`.", clip(name))))?,
        Route::Schemas => {
            let all: Vec<Value> = schemas.all().map(|s| s.to_json(base)).collect();
            list_response(all.len(), 1, all)
        }
        Route::Schema(id) => schemas
            .all()
            .find(|s: &&Schema| s.id.eq_ignore_ascii_case(id))
            .map(|s| s.to_json(base))
            .ok_or_else(|| ScimError::NotFound(format!("No schema `{}`.", clip(id))))?,
        _ => return Err(ScimError::NotFound("No such endpoint.".into())),
    };
    Ok(Response::json(200, body))
}

fn clip(text: &str) -> String {
    text.chars().take(100).filter(|c| !c.is_control()).collect()
}

/// RFC 7643 section 5: only what works is advertised. `bulk.maxPayloadSize` is the request size
/// limit, which applies to every request, Bulk included.
fn service_provider_config(app: &App, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/",
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": app.config.bulk_max_operations,
            "maxPayloadSize": app.config.max_payload_bytes,
        },
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        // RFC 9865 section 4: both ways of paging; cursors never expire (they hold a position).
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT,
            "maxPageSize": MAX_COUNT,
        },
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": authentication_schemes(),
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn authentication_schemes() -> Value {
    json!([{
        "type": "oauthbearertoken",
        "name": "Bearer token",
        "description": "A tenant token issued by the platform's administrators, sent as `Authorization: Bearer <token>`.",
        "primary": true,
    }, {
        "type": "oauth2",
        "name": "OAuth 2.0 client credentials",
        "description": "An access token from POST /oauth2/token (client credentials with a client secret, or a JWT client assertion per RFC 7523, as Entra's workload identity federation sends), sent as `Authorization: Bearer <token>`.",
        "specUri": "https://www.rfc-editor.org/rfc/rfc6749",
        "primary": false,
    }])
}

/// SCIM 1.1's `ServiceProviderConfigs` (draft-scim-core-schema-01 section 9): what the 1.1 door
/// does. It has no Bulk endpoint (Bulk is served at `/scim/v2/Bulk`).
fn service_provider_config_v1(app: &App, base: &str) -> Value {
    json!({
        "schemas": [scim_core::scim11::CORE_SCHEMA_V1],
        "documentationUrl": "https://github.com/",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": app.config.max_payload_bytes},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "xmlDataFormat": {"supported": false},
        "authenticationSchemes": authentication_schemes(),
        "meta": {"location": format!("{base}/ServiceProviderConfigs")},
    })
}

/// RFC 7643 section 6.
fn resource_type(rs: &ResourceSchema, base: &str) -> Value {
    let extensions: Vec<Value> = rs
        .extensions
        .iter()
        .map(|e| json!({"schema": e.id, "required": false}))
        .collect();
    let name = rs.kind.name();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name,
        "name": name,
        "endpoint": rs.kind.endpoint(),
        "description": match name { "User" => "Platform users", _ => "Groups, provisioned as platform projects" },
        "schema": rs.core.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{name}"),
        },
    })
}
