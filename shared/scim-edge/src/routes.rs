//! The route table, once: every SCIM path (2.0 under `/scim/v2`, the SCIM 1.1 door under
//! `/scim/v1`), the function that serves it and the methods it answers. `template.yaml` (API
//! Gateway events), the `cargo lambda watch` router in `Cargo.toml` and `openapi.yaml` (2.0) are
//! checked equal to [`ROUTES`] by this module's tests.
//!
//! The raw path is parsed, so a function behaves the same behind API Gateway (with path
//! parameters) and behind `cargo lambda watch` (without).

use crate::http::Method;
use scim_core::ScimError;

/// Where every SCIM 2.0 path starts.
pub const BASE_PATH: &str = "/scim/v2";
/// Where every SCIM 1.1 path starts (Okta's "SCIM 1.1" templates).
pub const BASE_PATH_V1: &str = "/scim/v1";
/// The OAuth 2.0 token endpoint (`crate::oauth`), beside the SCIM paths.
pub const TOKEN_PATH: &str = "/oauth2/token";

/// The protocol version a path speaks: its door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// SCIM 1.1 (`scim1.rs`).
    V1,
    /// SCIM 2.0, RFC 7643/7644 (`scim2.rs`).
    V2,
}

impl Version {
    pub fn base_path(self) -> &'static str {
        match self {
            Self::V1 => BASE_PATH_V1,
            Self::V2 => BASE_PATH,
        }
    }

    /// The version whose base comes first in `path` (a stage prefix may come before it), and
    /// the rest of the path after it; `None` when neither base starts a path segment there.
    pub fn of_path(path: &str) -> Option<(Self, &str)> {
        [Self::V2, Self::V1]
            .into_iter()
            .filter_map(|v| path.find(v.base_path()).map(|i| (i, v)))
            .min()
            .and_then(|(i, v)| Some((v, path.get(i + v.base_path().len()..)?)))
            .filter(|(_, rest)| rest.is_empty() || rest.starts_with('/'))
    }
}

/// One row of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// The path under the API, with `{id}` for a path parameter.
    pub path: &'static str,
    /// The function serving it.
    pub family: Family,
    /// The methods it answers (405 with `Allow` for the others).
    pub methods: &'static [Method],
}

use Method::{Delete, Get, Patch, Post, Put};

/// Every route of the SCIM 2.0 API.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        path: "/scim/v2/Users",
        family: Family::Users,
        methods: &[Get, Post],
    },
    RouteSpec {
        path: "/scim/v2/Users/.search",
        family: Family::Users,
        methods: &[Post],
    },
    RouteSpec {
        path: "/scim/v2/Users/{id}",
        family: Family::Users,
        methods: &[Get, Put, Patch, Delete],
    },
    RouteSpec {
        path: "/scim/v2/Groups",
        family: Family::Groups,
        methods: &[Get, Post],
    },
    RouteSpec {
        path: "/scim/v2/Groups/.search",
        family: Family::Groups,
        methods: &[Post],
    },
    RouteSpec {
        path: "/scim/v2/Groups/{id}",
        family: Family::Groups,
        methods: &[Get, Put, Patch, Delete],
    },
    RouteSpec {
        path: "/scim/v2/ServiceProviderConfig",
        family: Family::Discovery,
        methods: &[Get],
    },
    RouteSpec {
        path: "/scim/v2/ResourceTypes",
        family: Family::Discovery,
        methods: &[Get],
    },
    RouteSpec {
        path: "/scim/v2/ResourceTypes/{id}",
        family: Family::Discovery,
        methods: &[Get],
    },
    RouteSpec {
        path: "/scim/v2/Schemas",
        family: Family::Discovery,
        methods: &[Get],
    },
    RouteSpec {
        path: "/scim/v2/Schemas/{id}",
        family: Family::Discovery,
        methods: &[Get],
    },
    RouteSpec {
        path: "/scim/v2/.search",
        family: Family::Discovery,
        methods: &[Post],
    },
    RouteSpec {
        path: "/scim/v2/Bulk",
        family: Family::Bulk,
        methods: &[Post],
    },
    RouteSpec {
        path: TOKEN_PATH,
        family: Family::Token,
        methods: &[Post],
    },
    RouteSpec {
        path: "/scim/v1/Users",
        family: Family::Users,
        methods: &[Get, Post],
    },
    RouteSpec {
        path: "/scim/v1/Users/{id}",
        family: Family::Users,
        methods: &[Get, Put, Patch, Delete],
    },
    RouteSpec {
        path: "/scim/v1/Groups",
        family: Family::Groups,
        methods: &[Get, Post],
    },
    RouteSpec {
        path: "/scim/v1/Groups/{id}",
        family: Family::Groups,
        methods: &[Get, Put, Patch, Delete],
    },
    RouteSpec {
        path: "/scim/v1/ServiceProviderConfigs",
        family: Family::Discovery,
        methods: &[Get],
    },
];

/// The function families of the design card; each Lambda binary serves one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Users,
    Groups,
    Discovery,
    /// `POST /Bulk`: users and groups in one request.
    Bulk,
    /// `POST /oauth2/token`: OAuth access tokens.
    Token,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /.search` at the root: searching every resource type at once (discovery serves it).
    RootSearch,
    Users,
    UsersSearch,
    User(String),
    Groups,
    GroupsSearch,
    Group(String),
    ServiceProviderConfig,
    ResourceTypes,
    ResourceType(String),
    Schemas,
    Schema(String),
    Bulk,
    /// The OAuth token endpoint (not a SCIM route; its `version` is meaningless).
    Token,
}

/// A parsed path: the door it goes through and the route within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub version: Version,
    pub route: Route,
}

impl Target {
    /// Parses a path under `/scim/v2` or `/scim/v1` (after any stage prefix). SCIM 1.1 has only
    /// users, groups and its `ServiceProviderConfigs`; anything else is 404.
    pub fn parse(path: &str) -> Result<Self, ScimError> {
        let not_found =
            || ScimError::NotFound(format!("No SCIM endpoint at `{}`.", truncate(path)));
        if Version::of_path(path).is_none() && path.trim_end_matches('/').ends_with(TOKEN_PATH) {
            return Ok(Self {
                version: Version::V2,
                route: Route::Token,
            });
        }
        let (version, rest) = Version::of_path(path).ok_or_else(not_found)?;
        let route = Route::parse_rest(rest, version).ok_or_else(not_found)?;
        Ok(Self { version, route })
    }

    /// This target's row of [`ROUTES`].
    pub fn spec(&self) -> &'static RouteSpec {
        self.route.spec_in(self.version)
    }

    pub fn family(&self) -> Family {
        self.spec().family
    }

    /// Whether `method` is defined on this route (405 otherwise).
    pub fn allows(&self, method: Method) -> bool {
        self.spec().methods.contains(&method)
    }

    /// The methods this route answers, for the `Allow` header of a 405 (RFC 9110 15.5.6).
    pub fn allowed_methods(&self) -> String {
        self.spec()
            .methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A short name for logs: `Users/{id}` for 2.0, `v1/Users/{id}` for 1.1.
    pub fn name(&self) -> &'static str {
        let path = self.spec().path;
        path.strip_prefix(BASE_PATH)
            .or_else(|| path.strip_prefix("/scim"))
            .unwrap_or(path)
            .trim_start_matches('/')
    }

    /// The operation a method on this route performs, for logs (`user.create`).
    pub fn operation(&self, method: Method) -> &'static str {
        self.route.operation(method)
    }
}

impl Route {
    /// Parses a SCIM 2.0 path (the part after `/scim/v2`, after any stage prefix).
    pub fn parse(path: &str) -> Result<Self, ScimError> {
        match Target::parse(path)? {
            Target {
                version: Version::V2,
                route,
            } => Ok(route),
            Target { .. } => Err(ScimError::NotFound(format!(
                "No SCIM endpoint at `{}`.",
                truncate(path)
            ))),
        }
    }

    /// The route of the path after a version's base, if that version has it.
    fn parse_rest(rest: &str, version: Version) -> Option<Self> {
        let rest = rest.trim_end_matches('/');
        let mut segments = rest.trim_start_matches('/').splitn(2, '/');
        let head = segments.next().unwrap_or("");
        let tail = segments.next().map(percent_decode);
        if version == Version::V1 {
            return match (head, tail) {
                ("Users", None) => Some(Self::Users),
                ("Users", Some(t)) if !t.starts_with('.') => Some(Self::User(t)),
                ("Groups", None) => Some(Self::Groups),
                ("Groups", Some(t)) if !t.starts_with('.') => Some(Self::Group(t)),
                ("ServiceProviderConfigs", None) => Some(Self::ServiceProviderConfig),
                _ => None,
            };
        }
        let route = match (head, tail) {
            (".search", None) => Self::RootSearch,
            ("Users", None) => Self::Users,
            ("Users", Some(t)) if t == ".search" => Self::UsersSearch,
            ("Users", Some(t)) => Self::User(t),
            ("Groups", None) => Self::Groups,
            ("Groups", Some(t)) if t == ".search" => Self::GroupsSearch,
            ("Groups", Some(t)) => Self::Group(t),
            ("ServiceProviderConfig", None) => Self::ServiceProviderConfig,
            ("ResourceTypes", None) => Self::ResourceTypes,
            ("ResourceTypes", Some(t)) => Self::ResourceType(t),
            ("Schemas", None) => Self::Schemas,
            ("Schemas", Some(t)) => Self::Schema(t),
            ("Bulk", None) => Self::Bulk,
            _ => return None,
        };
        Some(route)
    }

    /// This route's row of [`ROUTES`] in SCIM 2.0.
    pub fn spec(&self) -> &'static RouteSpec {
        self.spec_in(Version::V2)
    }

    /// The 2.0 route's short name (`Users/{id}`).
    pub fn name(&self) -> &'static str {
        self.spec()
            .path
            .trim_start_matches(BASE_PATH)
            .trim_start_matches('/')
    }

    /// This route's row of [`ROUTES`] in `version` (a 2.0 row when 1.1 has no such route,
    /// which [`Target::parse`] never gives).
    pub fn spec_in(&self, version: Version) -> &'static RouteSpec {
        let v1 = match self {
            Self::Users => Some("/scim/v1/Users"),
            Self::User(_) => Some("/scim/v1/Users/{id}"),
            Self::Groups => Some("/scim/v1/Groups"),
            Self::Group(_) => Some("/scim/v1/Groups/{id}"),
            Self::ServiceProviderConfig => Some("/scim/v1/ServiceProviderConfigs"),
            _ => None,
        };
        let path = match self {
            Self::RootSearch => "/scim/v2/.search",
            Self::Users => "/scim/v2/Users",
            Self::UsersSearch => "/scim/v2/Users/.search",
            Self::User(_) => "/scim/v2/Users/{id}",
            Self::Groups => "/scim/v2/Groups",
            Self::GroupsSearch => "/scim/v2/Groups/.search",
            Self::Group(_) => "/scim/v2/Groups/{id}",
            Self::ServiceProviderConfig => "/scim/v2/ServiceProviderConfig",
            Self::ResourceTypes => "/scim/v2/ResourceTypes",
            Self::ResourceType(_) => "/scim/v2/ResourceTypes/{id}",
            Self::Schemas => "/scim/v2/Schemas",
            Self::Schema(_) => "/scim/v2/Schemas/{id}",
            Self::Bulk => "/scim/v2/Bulk",
            Self::Token => TOKEN_PATH,
        };
        let path = match (version, v1) {
            (Version::V1, Some(v1)) => v1,
            _ => path,
        };
        // Every variant has a row (a test checks it); the first row is never reached.
        ROUTES.iter().find(|r| r.path == path).unwrap_or(&ROUTES[0])
    }
}

impl Route {
    /// The operation a method on this route performs, for logs (`user.create`, `group.patch`).
    pub fn operation(&self, method: Method) -> &'static str {
        use Method::{Delete, Get, Patch, Post, Put};
        match (self, method) {
            (Self::Users, Get) => "user.list",
            (Self::Users, Post) => "user.create",
            (Self::UsersSearch, _) => "user.search",
            (Self::User(_), Get) => "user.get",
            (Self::User(_), Put) => "user.replace",
            (Self::User(_), Patch) => "user.patch",
            (Self::User(_), Delete) => "user.delete",
            (Self::Groups, Get) => "group.list",
            (Self::Groups, Post) => "group.create",
            (Self::GroupsSearch, _) => "group.search",
            (Self::Group(_), Get) => "group.get",
            (Self::Group(_), Put) => "group.replace",
            (Self::Group(_), Patch) => "group.patch",
            (Self::Group(_), Delete) => "group.delete",
            (Self::RootSearch, _) => "search",
            (Self::Bulk, _) => "bulk",
            (Self::Token, _) => "token",
            (Self::Users | Self::User(_) | Self::Groups | Self::Group(_), _) => "unsupported",
            _ => "discovery",
        }
    }
}

fn truncate(path: &str) -> String {
    path.chars().take(100).filter(|c| !c.is_control()).collect()
}

/// Decodes `%XX` escapes (API Gateway passes the raw path); invalid escapes stay as they are.
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'%') && i + 2 < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        if let Some(b) = bytes.get(i) {
            out.push(*b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_with_and_without_stage_prefixes() {
        assert_eq!(Route::parse("/scim/v2/Users").unwrap(), Route::Users);
        assert_eq!(
            Route::parse("/prod/scim/v2/Users/abc").unwrap(),
            Route::User("abc".into())
        );
        assert_eq!(
            Route::parse("/scim/v2/Groups/.search").unwrap(),
            Route::GroupsSearch
        );
        assert_eq!(
            Route::parse("/scim/v2/Schemas/urn:x:y").unwrap(),
            Route::Schema("urn:x:y".into())
        );
        assert_eq!(
            Route::parse("/scim/v2/ServiceProviderConfig/").unwrap(),
            Route::ServiceProviderConfig
        );
    }

    #[test]
    fn scim_1_1_paths_reach_the_v1_door_and_only_its_routes() {
        let v1 = |route| Target {
            version: Version::V1,
            route,
        };
        assert_eq!(Target::parse("/scim/v1/Users").unwrap(), v1(Route::Users));
        assert_eq!(
            Target::parse("/prod/scim/v1/Groups/abc/").unwrap(),
            v1(Route::Group("abc".into()))
        );
        assert_eq!(
            Target::parse("/scim/v1/ServiceProviderConfigs").unwrap(),
            v1(Route::ServiceProviderConfig)
        );
        assert_eq!(
            Target::parse("/scim/v1/Users/abc").unwrap().name(),
            "v1/Users/{id}"
        );
        assert_eq!(
            Target::parse("/scim/v2/Users/abc").unwrap().name(),
            "Users/{id}"
        );
        for p in [
            "/scim/v1",
            "/scim/v1/Bulk",
            "/scim/v1/Users/.search",
            "/scim/v1/ServiceProviderConfig",
            "/scim/v1/Schemas",
            "/scim/v10/Users",
            "/scim/v1x/Users",
        ] {
            assert_eq!(Target::parse(p).unwrap_err().status(), 404, "{p}");
        }
        // The first base in the path decides: a v2 path inside a v1 id is still v1.
        assert_eq!(
            Target::parse("/scim/v1/Users/scim/v2/Users")
                .unwrap()
                .version,
            Version::V1
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for p in ["/", "/scim/v2", "/scim/v2/Nope", "/scim/v1/Users"] {
            assert_eq!(Route::parse(p).unwrap_err().status(), 404, "{p}");
        }
    }

    #[test]
    fn escaped_ids_are_decoded_including_slashes() {
        assert_eq!(
            Route::parse("/scim/v2/Users/a%2Fb").unwrap(),
            Route::User("a/b".into())
        );
        assert_eq!(
            Route::parse("/scim/v2/Users/a%2").unwrap(),
            Route::User("a%2".into())
        );
    }

    fn repo_file(path: &str) -> String {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        std::fs::read_to_string(format!("{root}/{path}")).unwrap()
    }

    fn function_name(family: Family) -> &'static str {
        match family {
            Family::Users => "users",
            Family::Groups => "groups",
            Family::Discovery => "discovery",
            Family::Bulk => "bulk",
            Family::Token => "token",
        }
    }

    #[test]
    fn every_route_variant_has_its_row_in_the_table() {
        for (route, path) in [
            (Route::RootSearch, "/scim/v2/.search"),
            (Route::User("x".into()), "/scim/v2/Users/{id}"),
            (Route::Schema("x".into()), "/scim/v2/Schemas/{id}"),
            (
                Route::ResourceType("x".into()),
                "/scim/v2/ResourceTypes/{id}",
            ),
            (Route::GroupsSearch, "/scim/v2/Groups/.search"),
        ] {
            assert_eq!(route.spec().path, path);
        }
        for spec in ROUTES {
            let concrete = spec
                .path
                .replace("{id}", "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70");
            let target = Target::parse(&concrete).unwrap();
            assert_eq!(target.spec(), spec, "{}", spec.path);
        }
        let user = Target::parse("/scim/v1/Users/x").unwrap();
        assert_eq!(user.allowed_methods(), "GET, PUT, PATCH, DELETE");
    }

    /// `template.yaml`: each function's HttpApi events name exactly its routes (discovery may
    /// leave some to its `$default` catch-all), with methods the table allows.
    #[test]
    fn the_sam_template_routes_match_the_route_table() {
        let template = repo_file("template.yaml");
        let mut function = None;
        let mut routed: Vec<(Family, String, String)> = Vec::new();
        let mut pending_path: Option<String> = None;
        for line in template.lines() {
            let trimmed = line.trim();
            if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with(':') {
                function = match trimmed {
                    "UsersFunction:" => Some(Family::Users),
                    "GroupsFunction:" => Some(Family::Groups),
                    "DiscoveryFunction:" => Some(Family::Discovery),
                    "BulkFunction:" => Some(Family::Bulk),
                    "TokenFunction:" => Some(Family::Token),
                    _ => None,
                };
            }
            if let Some(path) = trimmed.strip_prefix("Path: ") {
                pending_path = Some(path.to_string());
            }
            if let (Some(method), Some(family)) = (trimmed.strip_prefix("Method: "), function) {
                if let Some(path) = pending_path.take() {
                    routed.push((family, path, method.to_string()));
                }
            }
        }
        assert!(routed.len() >= 10, "{routed:?}");
        for (family, path, method) in &routed {
            if path == "$default" {
                assert_eq!(*family, Family::Discovery, "only discovery catches all");
                continue;
            }
            let spec = ROUTES
                .iter()
                .find(|r| r.path == path)
                .unwrap_or_else(|| panic!("template route {path} is not in ROUTES"));
            assert_eq!(spec.family, *family, "{path}");
            assert!(
                method == "ANY" || spec.methods.iter().any(|m| m.as_str() == method),
                "{path} {method}"
            );
        }
        for spec in ROUTES.iter().filter(|r| r.family != Family::Discovery) {
            assert!(
                routed
                    .iter()
                    .any(|(f, p, m)| *f == spec.family && p == spec.path && m == "ANY"),
                "{} is not routed to its function in template.yaml",
                spec.path
            );
        }
    }

    /// The `cargo lambda watch` router in the workspace `Cargo.toml`: exactly the table, plus
    /// the catch-all to discovery.
    #[test]
    fn the_local_router_matches_the_route_table() {
        let manifest = repo_file("Cargo.toml");
        let section = manifest
            .split("[workspace.metadata.lambda.watch.router]")
            .nth(1)
            .unwrap();
        let mut routed: Vec<(String, String)> = section
            .lines()
            .take_while(|l| !l.starts_with('['))
            .filter(|l| l.starts_with('"'))
            .map(|l| {
                let parts: Vec<&str> = l.split('"').collect();
                (parts[1].to_string(), parts[3].to_string())
            })
            .collect();
        routed.sort();
        let mut expected: Vec<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.path.to_string(), function_name(r.family).to_string()))
            .chain([("/{*path}".to_string(), "discovery".to_string())])
            .collect();
        expected.sort();
        assert_eq!(routed, expected);
    }

    /// `openapi.yaml` documents exactly the table's 2.0 paths, each with the table's methods
    /// (SCIM 1.1 is a compatibility door, described in the README).
    #[test]
    fn the_openapi_paths_match_the_route_table() {
        let spec = repo_file("openapi.yaml");
        let paths = spec.split("\npaths:\n").nth(1).unwrap();
        let mut documented: Vec<(String, Vec<String>)> = Vec::new();
        for line in paths.lines() {
            if !line.starts_with(' ') && !line.is_empty() {
                break; // the next top-level key
            }
            if let Some(path) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
                documented.push((format!("{BASE_PATH}/{path}"), Vec::new()));
            } else if let Some(method) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            {
                if let Some((_, methods)) = documented.last_mut() {
                    if ["get", "post", "put", "patch", "delete"].contains(&method) {
                        methods.push(method.to_ascii_uppercase());
                    }
                }
            }
        }
        documented.sort();
        let mut expected: Vec<(String, Vec<String>)> = ROUTES
            .iter()
            .filter(|r| r.path.starts_with(BASE_PATH))
            .map(|r| {
                let mut methods: Vec<String> =
                    r.methods.iter().map(|m| m.as_str().to_string()).collect();
                methods.sort();
                (r.path.to_string(), methods)
            })
            .collect();
        expected.sort();
        for (_, methods) in &mut documented {
            methods.sort();
        }
        assert_eq!(documented, expected);
    }
}
