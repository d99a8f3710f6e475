//! Bearer tokens: their format and keyed hash live in the operations core (`scim_ops::tokens`);
//! this adapter adds the one AWS part, reading the hashing key from Secrets Manager.

pub use scim_ops::tokens::*;

/// Why a key (the token key, the webhook key) could not be loaded at cold start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not read the key secret: {0}")]
    Read(String),
    #[error("the key secret has no string value")]
    Empty,
    #[error(transparent)]
    Weak(#[from] WeakKey),
}

/// Reads the token HMAC key from Secrets Manager (once per cold start) and builds the hasher.
pub async fn load_hasher(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<TokenHasher, KeyError> {
    Ok(TokenHasher::new(
        read_key(client, secret_id).await?.as_bytes(),
    )?)
}

/// Reads the webhook signing key from Secrets Manager (once per cold start).
pub async fn load_webhook_key(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<scim_ops::webhooks::WebhookKey, KeyError> {
    Ok(scim_ops::webhooks::WebhookKey::new(
        read_key(client, secret_id).await?.as_bytes(),
    )?)
}

async fn read_key(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, KeyError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            KeyError::Read(format!(
                "{}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            ))
        })?;
    out.secret_string.ok_or(KeyError::Empty)
}
