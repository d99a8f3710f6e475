//! Bearer tokens: generation, keyed hashing and verification.
//!
//! A token is `scim_<id>_<secret>`: an 8-hex-digit id (the visible prefix `scim_<id>`, shown in
//! listings and used to revoke) and 256 random bits, base64url. Only HMAC-SHA256(key, token) is
//! stored, with a key from Secrets Manager: a leaked table reveals no usable token, and the
//! hash cannot be brute-forced without the key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Tokens start with this, so secret scanners and people can tell what they are.
pub const TOKEN_PREFIX: &str = "scim_";
const ID_HEX_LEN: usize = 8;
const SECRET_BYTES: usize = 32;
/// 5 + 8 + 1 + 43.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + ID_HEX_LEN + 1 + 43;

/// A freshly generated token: the plaintext (shown once) and its visible prefix.
#[derive(Debug)]
pub struct NewToken {
    pub plaintext: String,
    pub prefix: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomError;

/// Generates a new token from the operating system's CSPRNG.
pub fn generate() -> Result<NewToken, RandomError> {
    let mut id = [0u8; ID_HEX_LEN / 2];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut id).map_err(|_| RandomError)?;
    getrandom::fill(&mut secret).map_err(|_| RandomError)?;
    let prefix = format!("{TOKEN_PREFIX}{}", hex::encode(id));
    let plaintext = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(secret));
    Ok(NewToken { plaintext, prefix })
}

/// Whether `token` has our shape; anything else is rejected without a table read.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The visible prefix of a well-formed token.
pub fn prefix_of(token: &str) -> Option<&str> {
    token.get(..TOKEN_PREFIX.len() + ID_HEX_LEN)
}

/// HMAC-SHA256 with the deployment's token key.
#[derive(Clone)]
pub struct TokenHasher {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHasher(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the token hashing key must be at least 32 bytes")]
pub struct WeakKey;

impl TokenHasher {
    pub fn new(key: &[u8]) -> Result<Self, WeakKey> {
        if key.len() < 32 {
            return Err(WeakKey);
        }
        Ok(Self { key: key.to_vec() })
    }

    /// The hex HMAC of a token: the only form in which tokens reach the table.
    pub fn hash(&self, token: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail; fall back to an unmatchable
        // value rather than panic if it ever did.
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(token.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Err(_) => String::from("invalid-key"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert!(is_well_formed(&a.plaintext), "{}", a.plaintext);
        assert_ne!(a.plaintext, b.plaintext);
        assert_eq!(prefix_of(&a.plaintext), Some(a.prefix.as_str()));
        assert_eq!(a.prefix.len(), 13);
    }

    #[test]
    fn hashes_depend_on_the_key() {
        let t = generate().unwrap().plaintext;
        let h1 = TokenHasher::new(&[1u8; 32]).unwrap().hash(&t);
        let h2 = TokenHasher::new(&[2u8; 32]).unwrap().hash(&t);
        assert_ne!(h1, h2);
        assert_eq!(h1.len(), 64);
        assert!(!h1.contains(&t));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenHasher::new(b"short").is_err());
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        for bad in ["", "Bearer", "scim_", &"a".repeat(57), "scim_0000000_/"] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }
}
