//! Tenants and their tokens: what the admin CLI and the authenticator need.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnValue;
use scim_core::ids::TenantId;
use scim_ops::{Principal, Refusal, TenantSettings, TokenStore};

use crate::error::{from_sdk, StoreError};
use crate::items::{self, TenantItem, TenantNameItem, TokenItem};
use crate::keys;
use crate::store::{from_item, key, s, to_item, tx, Store};
use crate::tokens::{self, NewToken, TokenHasher};

pub const TENANT_ACTIVE: &str = "active";
pub const TENANT_DISABLED: &str = "disabled";
const TENANTS_GSI: &str = "TENANTS";

impl Store {
    /// Creates the tenant called `name`, or returns the existing one (names fold case).
    pub async fn ensure_tenant(&self, name: &str, now: &str) -> Result<TenantItem, StoreError> {
        let existing: Option<TenantNameItem> = self
            .get(keys::tenant_name_pk(name), keys::TENANT_NAME_SK, true)
            .await?;
        if let Some(found) = existing {
            let id = TenantId::parse(&found.tenant_id)
                .ok_or_else(|| StoreError::Internal("malformed tenant id".into()))?;
            return self.get_tenant(&id).await?.ok_or(StoreError::NotFound);
        }
        let id = TenantId::parse(&uuid::Uuid::new_v4().to_string())
            .ok_or_else(|| StoreError::Internal("generated tenant id is malformed".into()))?;
        let tenant = TenantItem {
            pk: keys::tenant_pk(&id),
            sk: keys::TENANT_SK.into(),
            gsi1pk: Some(TENANTS_GSI.into()),
            gsi1sk: Some(keys::name_sk(name)),
            entity: items::TENANT.into(),
            tenant_id: id.to_string(),
            name: name.to_string(),
            status: TENANT_ACTIVE.into(),
            settings: TenantSettings::default(),
            created: now.to_string(),
        };
        let name_item = TenantNameItem {
            pk: keys::tenant_name_pk(name),
            sk: keys::TENANT_NAME_SK.into(),
            entity: items::TENANT_NAME.into(),
            tenant_id: id.to_string(),
        };
        let table = self.table.as_ref();
        let writes = vec![
            tx::put(table, to_item(&tenant)?, Some("attribute_not_exists(pk)"))?,
            tx::put(
                table,
                to_item(&name_item)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(tenant),
            // created concurrently under the same name: return that one
            Err(err) if err.failed_condition().is_some() => {
                Box::pin(self.ensure_tenant(name, now)).await
            }
            Err(err) => Err(err.into_store_error()),
        }
    }

    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<TenantItem>, StoreError> {
        self.get(keys::tenant_pk(id), keys::TENANT_SK, false).await
    }

    /// Finds a tenant by its name.
    pub async fn find_tenant(&self, name: &str) -> Result<Option<TenantItem>, StoreError> {
        let found: Option<TenantNameItem> = self
            .get(keys::tenant_name_pk(name), keys::TENANT_NAME_SK, true)
            .await?;
        match found.and_then(|f| TenantId::parse(&f.tenant_id)) {
            Some(id) => self.get_tenant(&id).await,
            None => Ok(None),
        }
    }

    /// Every tenant (administration only).
    pub async fn list_tenants(&self) -> Result<Vec<TenantItem>, StoreError> {
        Ok(self
            .read_gsi1_bounded(TENANTS_GSI, usize::MAX)
            .await?
            .unwrap_or_default())
    }

    /// Sets a tenant's status (`active` / `disabled`); a disabled tenant's tokens are refused.
    pub async fn set_tenant_status(&self, id: &TenantId, status: &str) -> Result<(), StoreError> {
        self.update_tenant(id, "SET #status = :s", "#status", "status", s(status))
            .await
    }

    pub async fn set_tenant_settings(
        &self,
        id: &TenantId,
        settings: &TenantSettings,
    ) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(settings)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        self.update_tenant(id, "SET #settings = :s", "#settings", "settings", value)
            .await
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        expr: &str,
        name_placeholder: &str,
        name: &str,
        value: aws_sdk_dynamodb::types::AttributeValue,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(keys::tenant_pk(id), keys::TENANT_SK)))
            .update_expression(expr)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names(name_placeholder, name)
            .expression_attribute_values(":s", value)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match from_sdk(e) {
                StoreError::VersionConflict => StoreError::NotFound,
                other => other,
            })
    }

    /// Issues a token for a tenant; the plaintext is returned once and never stored.
    pub async fn issue_token(
        &self,
        tenant: &TenantId,
        name: &str,
        hasher: &TokenHasher,
        now: &str,
    ) -> Result<NewToken, StoreError> {
        self.put_new_token(tenant, name, None, hasher, now).await
    }

    /// Rotation: issues a new token with the same name, recording which one it replaces. The
    /// old token keeps working until it is revoked, so the IdP can be switched over without a
    /// gap. The prefix must name exactly one unrevoked token ([`Self::live_token`]).
    pub async fn rotate_token(
        &self,
        tenant: &TenantId,
        prefix: &str,
        hasher: &TokenHasher,
        now: &str,
    ) -> Result<ByPrefix<(NewToken, String)>, StoreError> {
        let old = match self.live_token(tenant, prefix).await? {
            ByPrefix::Found(old) => old,
            ByPrefix::Unknown => return Ok(ByPrefix::Unknown),
            ByPrefix::Ambiguous(live) => return Ok(ByPrefix::Ambiguous(live)),
        };
        let new = self
            .put_new_token(tenant, &old.name, Some(prefix), hasher, now)
            .await?;
        Ok(ByPrefix::Found((new, old.name)))
    }

    /// The tenant's one unrevoked token with this visible prefix. A prefix is 32 random bits, so
    /// two tokens of a tenant may share one; a revoked token never stands in for a live one, and
    /// when several live tokens share the prefix none is chosen (the caller must not act on
    /// the wrong one).
    pub async fn live_token(
        &self,
        tenant: &TenantId,
        prefix: &str,
    ) -> Result<ByPrefix<TokenItem>, StoreError> {
        let mut live: Vec<TokenItem> = self
            .list_tokens(tenant)
            .await?
            .into_iter()
            .filter(|t| t.prefix == prefix && t.revoked_at.is_none())
            .collect();
        Ok(match live.len() {
            0 => ByPrefix::Unknown,
            1 => live.pop().map_or(ByPrefix::Unknown, ByPrefix::Found),
            n => ByPrefix::Ambiguous(n),
        })
    }

    async fn put_new_token(
        &self,
        tenant: &TenantId,
        name: &str,
        rotated_from: Option<&str>,
        hasher: &TokenHasher,
        now: &str,
    ) -> Result<NewToken, StoreError> {
        let new = tokens::generate().map_err(|e| StoreError::Internal(e.to_string()))?;
        let item = TokenItem {
            pk: keys::token_pk(&hasher.hash(&new.plaintext)),
            sk: keys::TOKEN_SK.into(),
            gsi1pk: keys::tenant_tokens_gsi(tenant),
            gsi1sk: format!("{now}#{}", new.prefix),
            entity: items::TOKEN.into(),
            tenant_id: tenant.to_string(),
            prefix: new.prefix.clone(),
            name: name.to_string(),
            created: now.to_string(),
            last_used: None,
            revoked_at: None,
            rotated_from: rotated_from.map(str::to_string),
        };
        self.client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(new)
    }

    /// A tenant's tokens, oldest first (never the plaintext or the hash).
    pub async fn list_tokens(&self, tenant: &TenantId) -> Result<Vec<TokenItem>, StoreError> {
        Ok(self
            .read_gsi1_bounded(&keys::tenant_tokens_gsi(tenant), usize::MAX)
            .await?
            .unwrap_or_default())
    }

    /// Revokes the tenant's one unrevoked token with this visible prefix
    /// ([`Self::live_token`]); nothing is revoked when the prefix names no live token or more
    /// than one.
    pub async fn revoke_token(
        &self,
        tenant: &TenantId,
        prefix: &str,
        now: &str,
    ) -> Result<ByPrefix<()>, StoreError> {
        let token = match self.live_token(tenant, prefix).await? {
            ByPrefix::Found(token) => token,
            ByPrefix::Unknown => return Ok(ByPrefix::Unknown),
            ByPrefix::Ambiguous(live) => return Ok(ByPrefix::Ambiguous(live)),
        };
        self.client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(token.pk, keys::TOKEN_SK)))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(now))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(ByPrefix::Found(()))
    }
}

/// What a token's visible prefix names among a tenant's unrevoked tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum ByPrefix<T> {
    /// Exactly one: the command acted on it.
    Found(T),
    /// None (never issued, or revoked already).
    Unknown,
    /// This many share the prefix; nothing was done.
    Ambiguous(usize),
}

impl TokenStore for Store {
    /// One conditional UpdateItem that both checks the token is known and unrevoked and records
    /// `last_used`, then one GetItem of its tenant. The caller has checked the token's shape
    /// and hashed it.
    async fn verify_token(
        &self,
        token_hash: &str,
        now: &str,
    ) -> Result<Result<Principal, Refusal>, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(keys::token_pk(token_hash), keys::TOKEN_SK)))
            .update_expression("SET last_used = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .set_expression_attribute_values(Some(HashMap::from([(":now".to_string(), s(now))])))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(self.rcc())
            .send()
            .await;
        let item: TokenItem = match out {
            Ok(out) => {
                self.note_capacity(out.consumed_capacity());
                from_item(out.attributes.unwrap_or_default())?
            }
            Err(err) => {
                return match from_sdk(err) {
                    StoreError::VersionConflict => Ok(Err(Refusal::UnknownOrRevoked)),
                    other => Err(other),
                }
            }
        };
        let tenant = TenantId::parse(&item.tenant_id)
            .ok_or_else(|| StoreError::Internal("malformed tenant id on token".into()))?;
        match self.get_tenant(&tenant).await? {
            Some(t) if t.status == TENANT_ACTIVE => Ok(Ok(Principal {
                tenant,
                token_prefix: item.prefix,
                token_hash: token_hash.to_string(),
                settings: t.settings,
            })),
            _ => Ok(Err(Refusal::TenantDisabled)),
        }
    }
}
