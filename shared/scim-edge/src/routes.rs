//! Paths to routes. The raw path is parsed, so the handlers behave the same behind API Gateway
//! (with path parameters) and behind `cargo lambda watch` (without).

use crate::http::Method;
use scim_core::ScimError;

/// The function families of the design card; each Lambda binary serves one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Users,
    Groups,
    Discovery,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /.search` at the root: searching several resource types at once (501).
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
}

impl Route {
    /// Parses the part of `path` after `/scim/v2`.
    pub fn parse(path: &str) -> Result<Self, ScimError> {
        let not_found =
            || ScimError::NotFound(format!("No SCIM endpoint at `{}`.", truncate(path)));
        let rest = path
            .find("/scim/v2")
            .and_then(|i| path.get(i + "/scim/v2".len()..))
            .ok_or_else(not_found)?;
        let rest = rest.trim_end_matches('/');
        let mut segments = rest.trim_start_matches('/').splitn(2, '/');
        let head = segments.next().unwrap_or("");
        let tail = segments.next().map(percent_decode);
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
            _ => return Err(not_found()),
        };
        Ok(route)
    }

    pub fn family(&self) -> Family {
        match self {
            Self::Users | Self::UsersSearch | Self::User(_) => Family::Users,
            Self::Groups | Self::GroupsSearch | Self::Group(_) => Family::Groups,
            _ => Family::Discovery,
        }
    }

    /// Whether `method` is defined on this route (405 otherwise).
    pub fn allows(&self, method: Method) -> bool {
        use Method::*;
        match self {
            Self::Users | Self::Groups => matches!(method, Get | Post),
            Self::UsersSearch | Self::GroupsSearch | Self::RootSearch => method == Post,
            Self::User(_) | Self::Group(_) => matches!(method, Get | Put | Patch | Delete),
            _ => method == Get,
        }
    }

    /// The methods this route answers, for the `Allow` header of a 405 (RFC 9110 15.5.6).
    pub fn allowed_methods(&self) -> &'static str {
        match self {
            Self::Users | Self::Groups => "GET, POST",
            Self::UsersSearch | Self::GroupsSearch | Self::RootSearch => "POST",
            Self::User(_) | Self::Group(_) => "GET, PUT, PATCH, DELETE",
            _ => "GET",
        }
    }

    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RootSearch => ".search",
            Self::Users => "Users",
            Self::UsersSearch => "Users/.search",
            Self::User(_) => "Users/{id}",
            Self::Groups => "Groups",
            Self::GroupsSearch => "Groups/.search",
            Self::Group(_) => "Groups/{id}",
            Self::ServiceProviderConfig => "ServiceProviderConfig",
            Self::ResourceTypes => "ResourceTypes",
            Self::ResourceType(_) => "ResourceTypes/{id}",
            Self::Schemas => "Schemas",
            Self::Schema(_) => "Schemas/{id}",
        }
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
#[allow(clippy::unwrap_used)]
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
}
