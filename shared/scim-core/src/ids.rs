//! Identifiers, parsed rather than validated: a value of these types is known to be well formed.
//!
//! `id` and `externalId` are different types on purpose: `id` is ours (a UUID we assigned, safe to
//! embed in a table key), `externalId` is the IdP's (any string, compared case-exactly, only ever
//! stored as an attribute value or hashed into a key).

use std::fmt;

/// A resource `id` assigned by this service provider: a lowercase hyphenated UUID.
///
/// Anything else in a URL (`..`, `#`, NUL, another tenant's key prefix) cannot name a resource,
/// so it is answered 404 without touching the table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(String);

impl ResourceId {
    /// Parses an id from a client; `None` when it cannot be one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        let well_formed = bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        });
        well_formed.then(|| Self(text.to_string()))
    }

    /// Wraps an id this service generated (a hyphenated lowercase UUID).
    pub fn from_generated(uuid_text: String) -> Self {
        Self(uuid_text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant's id. Tenants are created by administrators only; the id is generated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Parses a tenant id as stored (a UUID, or an administrator-chosen slug of `[a-z0-9-]`).
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_uuids_are_resource_ids() {
        assert!(ResourceId::parse("0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70").is_some());
        for hostile in [
            "",
            "00919288221112222",
            "../../etc/passwd",
            "0192D7A4-4C1E-4E6F-9A0B-2F3C4D5E6F70",
            "TENANT#x#USER#0192d7a4-4c1e-4e6f-9a0b",
            "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f7\0",
            "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f7é",
        ] {
            assert!(ResourceId::parse(hostile).is_none(), "{hostile:?}");
        }
    }

    #[test]
    fn tenant_ids_are_lowercase_slugs() {
        assert!(TenantId::parse("acme-01").is_some());
        assert!(TenantId::parse("Acme").is_none());
        assert!(TenantId::parse("a#b").is_none());
    }
}
