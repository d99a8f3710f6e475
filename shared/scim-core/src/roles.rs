//! The platform's roles, parsed once from whatever spelling arrives (the IdP's extension
//! attribute, a tenant setting, the deployment's configuration) and carried as types after.

use std::fmt;
use std::str::FromStr;

/// A user's role on the platform (the custom extension's `platformRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum PlatformRole {
    Admin,
    /// What a user gets when neither the IdP nor the tenant says otherwise.
    #[default]
    Member,
    Operator,
}

/// The role a project's members get (ADMIN, EDITOR or VIEWER).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ProjectRole {
    Admin,
    /// What members get when neither the tenant nor the deployment says otherwise.
    #[default]
    Editor,
    Viewer,
}

/// A role name that is none of the roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a role")]
pub struct UnknownRole(pub String);

macro_rules! role_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every role, in its canonical spelling (what `/Schemas` advertises).
            pub const NAMES: &'static [&'static str] = &[$($name),+];
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The canonical spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// Parses a role in any letter case; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                let text = text.trim();
                $(if text.eq_ignore_ascii_case($name) {
                    return Some($ty::$variant);
                })+
                None
            }
        }

        impl FromStr for $ty {
            type Err = UnknownRole;
            fn from_str(text: &str) -> Result<Self, UnknownRole> {
                Self::parse(text).ok_or_else(|| UnknownRole(text.chars().take(64).collect()))
            }
        }

        // Stored and exchanged as the canonical name.
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown role `{}`", text.chars().take(64).collect::<String>()))
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

role_names!(PlatformRole {
    Admin => "ADMIN",
    Member => "MEMBER",
    Operator => "OPERATOR",
});

role_names!(ProjectRole {
    Admin => "ADMIN",
    Editor => "EDITOR",
    Viewer => "VIEWER",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_in_any_case_and_print_canonically() {
        assert_eq!(PlatformRole::parse("admin"), Some(PlatformRole::Admin));
        assert_eq!(
            PlatformRole::parse(" Operator "),
            Some(PlatformRole::Operator)
        );
        assert_eq!(ProjectRole::parse("viewer"), Some(ProjectRole::Viewer));
        assert_eq!(PlatformRole::Member.to_string(), "MEMBER");
        assert_eq!(ProjectRole::default(), ProjectRole::Editor);
        assert_eq!(PlatformRole::default(), PlatformRole::Member);
    }

    #[test]
    fn other_names_are_not_roles() {
        for bad in ["", "OWNER", "EDITOR ", "adm", "MEMBERS"] {
            assert_eq!(PlatformRole::parse(bad), None, "{bad:?}");
        }
        assert!("OWNER".parse::<ProjectRole>().is_err());
        assert_eq!(ProjectRole::parse("MEMBER"), None);
    }

    #[test]
    fn names_list_every_role() {
        assert_eq!(PlatformRole::NAMES, ["ADMIN", "MEMBER", "OPERATOR"]);
        assert_eq!(ProjectRole::NAMES, ["ADMIN", "EDITOR", "VIEWER"]);
        for role in PlatformRole::ALL {
            assert_eq!(PlatformRole::parse(role.as_str()), Some(*role));
        }
    }
}
