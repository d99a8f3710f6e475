//! Every key of the single table, built in one place. Every key except a token's hash, a
//! tenant's name, an OAuth client's (found by its id alone, which we generate) and the
//! webhooks' (deployment configuration, keyed by ids we generate) starts
//! with the tenant id, so no key built from a request can reach another tenant's items.
//!
//! | item | pk | sk | gsi1pk | gsi1sk |
//! |---|---|---|---|---|
//! | tenant | `TENANT#t` | `TENANT` | | |
//! | tenant name | `TENANTNAME#fold(name)` | `TENANTNAME` | | |
//! | token | `TOKEN#hmac(token)` | `TOKEN` | `TENANT#t#TOKENS` | `created#prefix` |
//! | rate counter | `TOKEN#hmac(token)` | `RATE#<epoch second>` | | |
//! | user | `TENANT#t#USER#id` | `USER` | `TENANT#t#USERS` | `fold(userName)` |
//! | group (project) | `TENANT#t#GROUP#id` | `GROUP` | `TENANT#t#GROUPS` | `fold(displayName)` |
//! | membership | `TENANT#t#GROUP#gid` | `MEMBER#uid` | | |
//! | uniqueness | `TENANT#t#UNIQUE#<ATTR>#value` | `UNIQUE` | | |
//! | email index | `TENANT#t#EMAIL#fold(email)` | `USER#id` | | |
//! | audit record | `TENANT#t#AUDIT` | `<at>#<stream event id>` | | |
//! | logged event | `TENANT#t#EVENTS` | `<time>#<event id>` | | |
//! | webhook endpoint | `WEBHOOKS` | `ENDPOINT#<endpoint id>` | | |
//! | OAuth client | `OAUTHCLIENT#<client id>` | `OAUTHCLIENT` | `TENANT#t#OAUTHCLIENTS` | `created#client id` |
//! | webhook delivery | `WEBHOOK#<endpoint id>#DELIVERIES` | `<event time>#<event id>` | | |
//! | resource count (16 shards) | `TENANT#t#COUNTS` | `USERS#<shard>`, `GROUPS#<shard>` | | |
//! | page position (short-lived) | `TENANT#t#PAGING` | `USERS#<offset>`, `GROUPS#<offset>` | | |
//!
//! `fold` is [`scim_core::fold`] (Unicode NFC, then lowercase), the same function the filter
//! evaluator and the in-memory store compare with. Every value goes into a key through
//! [`key_part`].

use scim_core::fold;
use scim_core::ids::{ResourceId, TenantId};
use sha2::{Digest, Sha256};

use crate::error::UniqueAttribute;

pub const TENANT_SK: &str = "TENANT";
pub const TENANT_NAME_SK: &str = "TENANTNAME";
pub const TOKEN_SK: &str = "TOKEN";
pub const OAUTH_CLIENT_SK: &str = "OAUTHCLIENT";
pub const USER_SK: &str = "USER";
pub const GROUP_SK: &str = "GROUP";
pub const UNIQUE_SK: &str = "UNIQUE";
pub const MEMBER_PREFIX: &str = "MEMBER#";

/// Longest attribute value embedded verbatim in a key; longer values are hashed so that no
/// client-supplied value can exceed DynamoDB's key size limits (2048 bytes for a partition key).
const MAX_VERBATIM: usize = 256;

/// Longest sort key a client can hand back to us (in a cursor's position); DynamoDB's limit.
pub const MAX_SORT_KEY_LEN: usize = 1024;

/// What a hashed key part starts with.
const HASHED: &str = "sha256:";

/// A value as it appears inside a key: verbatim when short, otherwise `sha256:<hex>` of it. A
/// value that itself starts with `sha256:` is hashed too, whatever its length, so no verbatim
/// part ever looks like a hashed one: a `userName` spelled like another value's hash gets a key
/// of its own. (Short values keep the keys they always had, unless they began with `sha256:`.)
pub fn key_part(value: &str) -> String {
    if value.len() <= MAX_VERBATIM && !value.starts_with(HASHED) {
        value.to_string()
    } else {
        format!("{HASHED}{}", hex::encode(Sha256::digest(value.as_bytes())))
    }
}

pub fn tenant_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

pub fn tenant_name_pk(name: &str) -> String {
    format!("TENANTNAME#{}", key_part(&fold(name)))
}

pub fn token_pk(token_hash_hex: &str) -> String {
    format!("TOKEN#{token_hash_hex}")
}

/// The partition of one shard of a token's request counters: beside the token's own partition
/// (each shard is its own partition key, so a busy token is not one hot partition) and under
/// `TOKEN#`, so the functions' token permissions cover it.
pub fn rate_pk(token_hash_hex: &str, shard: u32) -> String {
    format!("TOKEN#{token_hash_hex}#RATE#{shard}")
}

/// The sort key of a token's request counter for one second (in a shard's partition).
pub fn rate_sk(epoch_second: u64) -> String {
    format!("RATE#{epoch_second}")
}

/// An OAuth client's partition: by its generated id (`scimc_` and hex), never a request's text.
pub fn oauth_client_pk(client_id: &str) -> String {
    format!("OAUTHCLIENT#{}", key_part(client_id))
}

pub fn tenant_oauth_clients_gsi(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#OAUTHCLIENTS")
}

pub fn tenant_tokens_gsi(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#TOKENS")
}

pub fn user_pk(tenant: &TenantId, id: &ResourceId) -> String {
    format!("TENANT#{tenant}#USER#{id}")
}

pub fn users_gsi(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#USERS")
}

pub fn group_pk(tenant: &TenantId, id: &ResourceId) -> String {
    format!("TENANT#{tenant}#GROUP#{id}")
}

pub fn groups_gsi(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#GROUPS")
}

pub fn member_sk(user: &ResourceId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

/// The name sort key in GSI1 (`lower(userName)` / `lower(displayName)`).
pub fn name_sk(name: &str) -> String {
    key_part(&fold(name))
}

/// What a uniqueness item guards.
#[derive(Debug, Clone, Copy)]
pub enum Unique {
    UserName,
    UserExternalId,
    GroupDisplayName,
    GroupExternalId,
}

impl Unique {
    /// The uniqueness rule a guard of this kind enforces (what a `Taken` names).
    pub fn attribute(self) -> UniqueAttribute {
        match self {
            Self::UserName => UniqueAttribute::UserName,
            Self::UserExternalId | Self::GroupExternalId => UniqueAttribute::ExternalId,
            Self::GroupDisplayName => UniqueAttribute::DisplayName,
        }
    }
}

/// The key of the item guarding `value`: names fold case, external ids do not, so two values
/// share a guard exactly when they are the same value under the attribute's uniqueness rule.
pub fn unique_pk(tenant: &TenantId, kind: Unique, value: &str) -> String {
    let (label, value) = match kind {
        Unique::UserName => ("USERNAME", fold(value)),
        Unique::UserExternalId => ("USEREXTID", value.to_string()),
        Unique::GroupDisplayName => ("GROUPNAME", fold(value)),
        Unique::GroupExternalId => ("GROUPEXTID", value.to_string()),
    };
    format!("TENANT#{tenant}#UNIQUE#{label}#{}", key_part(&value))
}

pub fn email_pk(tenant: &TenantId, email: &str) -> String {
    format!("TENANT#{tenant}#EMAIL#{}", key_part(&fold(email)))
}

pub fn email_sk(user: &ResourceId) -> String {
    format!("USER#{user}")
}

/// How many items share a tenant's count of one kind: creates and deletes each add to one
/// shard, so concurrent creates rarely touch the same item.
pub const COUNT_SHARDS: u8 = 16;

/// The partition holding a tenant's resource counts (read in one Query).
pub fn counts_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#COUNTS")
}

/// The count shard of `kind` (`USERS`, `GROUPS`) that resource `id` adds to.
pub fn count_sk(kind: &str, id: &ResourceId) -> String {
    let shard = id
        .as_str()
        .bytes()
        .fold(0u8, |acc, b| acc.wrapping_mul(31).wrapping_add(b))
        % COUNT_SHARDS;
    format!("{kind}#{shard:02}")
}

/// The partition of a tenant's remembered page positions (where an offset page ended).
pub fn paging_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#PAGING")
}

/// The remembered position of `kind` (`USERS`, `GROUPS`) at `offset`, in name order.
pub fn paging_sk(kind: &str, offset: usize) -> String {
    format!("{kind}#{offset}")
}

/// The partition holding a tenant's audit trail (one item per audited change).
pub fn audit_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#AUDIT")
}

/// Time first, so a Query reads the trail in order; the event id makes it unique and idempotent.
pub fn audit_sk(at: &str, event_id: &str) -> String {
    format!("{at}#{event_id}")
}

/// The partition holding a tenant's event log (one item per provisioning event).
pub fn events_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#EVENTS")
}

/// Time first, so a Query reads the log in order; the event id makes it unique and idempotent.
pub fn events_sk(time: &str, event_id: &str) -> String {
    format!("{time}#{event_id}")
}

/// The partition of every webhook endpoint.
pub const WEBHOOKS_PK: &str = "WEBHOOKS";
pub const WEBHOOK_SK_PREFIX: &str = "ENDPOINT#";

pub fn webhook_sk(endpoint_id: &str) -> String {
    format!("{WEBHOOK_SK_PREFIX}{}", key_part(endpoint_id))
}

/// The partition of one endpoint's delivery log (sort key [`events_sk`]).
pub fn webhook_deliveries_pk(endpoint_id: &str) -> String {
    format!("WEBHOOK#{}#DELIVERIES", key_part(endpoint_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_hashed_into_bounded_keys() {
        let long = "x".repeat(10_000);
        assert!(key_part(&long).len() < 80);
        assert_eq!(key_part("short"), "short");
    }

    #[test]
    fn a_value_spelled_like_a_hash_never_shares_the_hashed_values_key() {
        let long = "x".repeat(300);
        let hashed = key_part(&long);
        assert!(hashed.starts_with("sha256:"));
        assert_ne!(key_part(&hashed), hashed);
        let Some(t) = TenantId::parse("acme") else {
            unreachable!("valid tenant id")
        };
        assert_ne!(
            unique_pk(&t, Unique::UserName, &long),
            unique_pk(&t, Unique::UserName, &hashed)
        );
        assert_ne!(
            unique_pk(&t, Unique::UserExternalId, &long),
            unique_pk(&t, Unique::UserExternalId, &hashed)
        );
        assert_ne!(email_pk(&t, &long), email_pk(&t, &hashed));
        // Values that merely mention the prefix elsewhere stay verbatim.
        assert_eq!(
            key_part("ann+sha256:x@example.com"),
            "ann+sha256:x@example.com"
        );
    }

    #[test]
    fn keys_of_a_name_in_composed_and_decomposed_form_are_one_key() {
        let Some(t) = TenantId::parse("acme") else {
            unreachable!("valid tenant id")
        };
        let composed = "jos\u{e9}@example.com";
        let decomposed = "JOSE\u{301}@example.com";
        assert_eq!(
            unique_pk(&t, Unique::UserName, composed),
            unique_pk(&t, Unique::UserName, decomposed)
        );
        assert_eq!(
            unique_pk(&t, Unique::GroupDisplayName, composed),
            unique_pk(&t, Unique::GroupDisplayName, decomposed)
        );
        assert_eq!(email_pk(&t, composed), email_pk(&t, decomposed));
        assert_eq!(name_sk(composed), name_sk(decomposed));
    }

    #[test]
    fn user_name_keys_fold_case_but_external_ids_do_not() {
        let Some(t) = TenantId::parse("acme") else {
            unreachable!("valid tenant id")
        };
        assert_eq!(
            unique_pk(&t, Unique::UserName, "Ann@X.com"),
            unique_pk(&t, Unique::UserName, "ann@x.com")
        );
        assert_ne!(
            unique_pk(&t, Unique::UserExternalId, "ABC"),
            unique_pk(&t, Unique::UserExternalId, "abc")
        );
    }
}
