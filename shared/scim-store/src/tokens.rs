//! Bearer tokens: their format and keyed hash live in the operations core (`scim_ops::tokens`);
//! this adapter adds the one AWS part, reading the hashing key from Secrets Manager.

pub use scim_ops::tokens::*;

/// Why the token key could not be loaded at cold start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not read the token key secret: {0}")]
    Read(String),
    #[error("the token key secret has no string value")]
    Empty,
    #[error(transparent)]
    Weak(#[from] WeakKey),
}

/// Reads the token HMAC key from Secrets Manager (once per cold start) and builds the hasher.
pub async fn load_hasher(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<TokenHasher, KeyError> {
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
    let key = out.secret_string.ok_or(KeyError::Empty)?;
    Ok(TokenHasher::new(key.as_bytes())?)
}
