//! The signing keys of the issuers clients' assertions come from (JWKS, RFC 7517), fetched over
//! the [`JwksFetcher`] port and cached per URL by `kid`.
//!
//! A known `kid` is served from the cache for [`KEYS_MAX_AGE`]. An unknown `kid` (the issuer
//! rotated its keys) refreshes the set, at most once per [`REFRESH_INTERVAL`] per URL, so
//! assertions naming made-up `kid`s cannot make the function fetch on every request. A set that
//! cannot be fetched keeps serving the keys it had.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};

/// How long fetched keys are used without fetching the set again.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);
/// The shortest time between two fetches of one URL.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Largest JWKS document read.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Fetches a JWKS document (the adapter: `scim_bus::jwks`).
pub trait JwksFetcher: Send + Sync {
    /// The body of a 200 answer to `GET url`, at most [`MAX_JWKS_BYTES`]; an error says why not.
    fn fetch(&self, url: &str) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

/// Why no key was found for a `kid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no key with this kid in the issuer's JWKS")]
    UnknownKid,
    #[error("the issuer's JWKS could not be fetched: {0}")]
    Unavailable(String),
}

#[derive(Debug)]
struct Entry {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
    tried: Instant,
}

impl Entry {
    fn key(&self, kid: &str) -> Option<Jwk> {
        self.keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
            .cloned()
    }
}

/// The per-instance cache of issuers' keys.
#[derive(Debug)]
pub struct JwksCache {
    entries: Mutex<HashMap<String, Entry>>,
    refresh_interval: Duration,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new(REFRESH_INTERVAL)
    }
}

impl JwksCache {
    pub fn new(refresh_interval: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            refresh_interval,
        }
    }

    /// The key `kid` of the set at `url`.
    pub async fn key(
        &self,
        fetcher: &impl JwksFetcher,
        url: &str,
        kid: &str,
    ) -> Result<Jwk, KeyError> {
        let now = Instant::now();
        {
            let entries = self
                .entries
                .lock()
                .map_err(|_| KeyError::Unavailable("cache poisoned".into()))?;
            if let Some(entry) = entries.get(url) {
                let fresh = entry
                    .fetched
                    .is_some_and(|f| now.duration_since(f) < KEYS_MAX_AGE);
                let found = entry.key(kid);
                match found {
                    Some(key) if fresh => return Ok(key),
                    found if now.duration_since(entry.tried) < self.refresh_interval => {
                        return found.ok_or(KeyError::UnknownKid);
                    }
                    _ => {}
                }
            }
        }
        let fetched = fetcher.fetch(url).await.and_then(|body| {
            if body.len() > MAX_JWKS_BYTES {
                return Err("the JWKS is too large".into());
            }
            serde_json::from_slice::<JwkSet>(&body).map_err(|e| format!("not a JWKS: {e}"))
        });
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| KeyError::Unavailable("cache poisoned".into()))?;
        let entry = entries.entry(url.to_string()).or_insert(Entry {
            keys: Vec::new(),
            fetched: None,
            tried: now,
        });
        entry.tried = now;
        match fetched {
            Ok(set) => {
                entry.keys = set.keys;
                entry.fetched = Some(now);
                entry.key(kid).ok_or(KeyError::UnknownKid)
            }
            Err(problem) => {
                tracing::warn!(url, problem = %problem, "JWKS fetch failed");
                entry.key(kid).ok_or(KeyError::Unavailable(problem))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        body: Mutex<String>,
        calls: AtomicUsize,
    }

    impl JwksFetcher for Counting {
        async fn fetch(&self, _url: &str) -> Result<Vec<u8>, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(self.body.lock().unwrap().clone().into_bytes())
        }
    }

    fn set(kids: &[&str]) -> String {
        let keys: Vec<serde_json::Value> = kids
            .iter()
            .map(|kid| {
                serde_json::json!({"kty": "EC", "crv": "P-256", "kid": kid,
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
            })
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    #[tokio::test]
    async fn known_kids_are_cached_and_unknown_ones_refresh_at_most_once_per_interval() {
        let fetcher = Counting {
            body: Mutex::new(set(&["a"])),
            calls: AtomicUsize::new(0),
        };
        let cache = JwksCache::new(Duration::from_secs(3600));
        assert!(cache.key(&fetcher, "u", "a").await.is_ok());
        assert!(cache.key(&fetcher, "u", "a").await.is_ok());
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
        // The issuer rotates: an unknown kid right after a fetch is refused without a fetch.
        *fetcher.body.lock().unwrap() = set(&["b"]);
        assert_eq!(
            cache.key(&fetcher, "u", "b").await,
            Err(KeyError::UnknownKid)
        );
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
        // Once the interval has passed, it refreshes and finds it.
        let eager = JwksCache::new(Duration::ZERO);
        assert!(eager.key(&fetcher, "u", "b").await.is_ok());
        assert_eq!(
            eager.key(&fetcher, "u", "zzz").await,
            Err(KeyError::UnknownKid)
        );
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_set_that_is_not_a_jwks_is_unavailable() {
        let fetcher = Counting {
            body: Mutex::new("<html>".into()),
            calls: AtomicUsize::new(0),
        };
        let cache = JwksCache::default();
        assert!(matches!(
            cache.key(&fetcher, "u", "a").await,
            Err(KeyError::Unavailable(_))
        ));
    }
}
