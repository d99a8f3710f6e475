//! OAuth clients: the items the token endpoint reads and the admin commands write. A client is
//! found by its id alone (the token request names no tenant), so its partition is
//! `OAUTHCLIENT#<client id>`, an id we generate; its tenant's listing is the GSI. The secret is
//! stored only as its keyed hash, like bearer tokens.

use scim_core::ids::TenantId;
use scim_ops::oauth::{AssertionTrust, OAuthClient};
use scim_ops::ports::ClientStore;
use scim_ops::TenantSettings;
use serde::{Deserialize, Serialize};

use crate::error::{from_sdk, StoreError};
use crate::keys;
use crate::store::{key, s, to_item, Store};
use crate::tenants::TENANT_ACTIVE;

/// The entity type of a client item.
pub const OAUTH_CLIENT: &str = "OAuthClient";

/// An OAuth client, keyed by its id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OAuthClientItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    #[serde(rename = "type")]
    pub entity: String,
    pub tenant_id: String,
    pub client_id: String,
    pub name: String,
    pub created: String,
    /// The keyed hash of the secret (secret clients); never the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    /// When the secret was last replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_rotated_at: Option<String>,
    /// What its assertions must carry (federated clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<AssertionTrust>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// How a new client authenticates.
#[derive(Debug, Clone)]
pub enum ClientKind {
    /// With a secret; its keyed hash.
    Secret(String),
    /// With assertions carrying these values.
    Assertion(AssertionTrust),
}

impl Store {
    /// Creates a client of `tenant` with a generated id.
    pub async fn create_oauth_client(
        &self,
        tenant: &TenantId,
        name: &str,
        kind: ClientKind,
        now: &str,
    ) -> Result<OAuthClientItem, StoreError> {
        let client_id = scim_ops::oauth::client::new_client_id()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let (secret_hash, assertion) = match kind {
            ClientKind::Secret(hash) => (Some(hash), None),
            ClientKind::Assertion(trust) => (None, Some(trust)),
        };
        let item = OAuthClientItem {
            pk: keys::oauth_client_pk(&client_id),
            sk: keys::OAUTH_CLIENT_SK.into(),
            gsi1pk: keys::tenant_oauth_clients_gsi(tenant),
            gsi1sk: format!("{now}#{client_id}"),
            entity: OAUTH_CLIENT.into(),
            tenant_id: tenant.to_string(),
            client_id,
            name: name.to_string(),
            created: now.to_string(),
            secret_hash,
            secret_rotated_at: None,
            assertion,
            revoked_at: None,
        };
        self.client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(item)
    }

    /// A tenant's clients, oldest first.
    pub async fn list_oauth_clients(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<OAuthClientItem>, StoreError> {
        Ok(self
            .read_gsi1_bounded(&keys::tenant_oauth_clients_gsi(tenant), usize::MAX)
            .await?
            .unwrap_or_default())
    }

    /// The client `client_id`, strongly consistent.
    pub async fn get_oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<OAuthClientItem>, StoreError> {
        self.get(
            keys::oauth_client_pk(client_id),
            keys::OAUTH_CLIENT_SK,
            true,
        )
        .await
    }

    /// Replaces the secret of `tenant`'s unrevoked secret client `client_id`: the old secret
    /// stops at once. `NotFound` when there is no such client (or it is another tenant's,
    /// revoked, or federated).
    pub async fn rotate_oauth_client_secret(
        &self,
        tenant: &TenantId,
        client_id: &str,
        secret_hash: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(keys::oauth_client_pk(client_id), keys::OAUTH_CLIENT_SK)))
            .update_expression("SET secret_hash = :h, secret_rotated_at = :now")
            .condition_expression(
                "tenant_id = :t AND attribute_exists(secret_hash) AND attribute_not_exists(revoked_at)",
            )
            .expression_attribute_values(":h", s(secret_hash))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":t", s(tenant.to_string()))
            .send()
            .await
            .map_err(from_sdk)
            .map_err(conditional_not_found)?;
        Ok(())
    }

    /// Revokes `tenant`'s client `client_id`: no new token from now on.
    pub async fn revoke_oauth_client(
        &self,
        tenant: &TenantId,
        client_id: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(
                keys::oauth_client_pk(client_id),
                keys::OAUTH_CLIENT_SK,
            )))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("tenant_id = :t")
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":t", s(tenant.to_string()))
            .send()
            .await
            .map_err(from_sdk)
            .map_err(conditional_not_found)?;
        Ok(())
    }
}

fn conditional_not_found(err: StoreError) -> StoreError {
    match err {
        StoreError::VersionConflict => StoreError::NotFound,
        other => other,
    }
}

impl ClientStore for Store {
    /// One strongly consistent GetItem for the client, one for its tenant.
    async fn oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<(OAuthClient, Option<TenantSettings>)>, StoreError> {
        let Some(item) = self.get_oauth_client(client_id).await? else {
            return Ok(None);
        };
        let tenant = TenantId::parse(&item.tenant_id)
            .ok_or_else(|| StoreError::Internal("malformed tenant id on client".into()))?;
        let settings = match self.get_tenant(&tenant).await? {
            Some(t) if t.status == TENANT_ACTIVE => Some(t.settings),
            _ => None,
        };
        Ok(Some((
            OAuthClient {
                client_id: item.client_id,
                tenant,
                secret_hash: item.secret_hash,
                assertion: item.assertion,
                revoked: item.revoked_at.is_some(),
            },
            settings,
        )))
    }
}
