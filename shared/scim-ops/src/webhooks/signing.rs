//! Webhook signatures, following the Standard Webhooks scheme
//! (<https://www.standardwebhooks.com/>): each delivery carries `webhook-id` (the event id,
//! stable across redeliveries), `webhook-timestamp` (epoch seconds) and `webhook-signature`,
//! `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`; several space-separated
//! signatures while a rotated secret overlaps the previous one.
//!
//! ## Secrets
//! An endpoint's secret is derived, not stored: HMAC-SHA256 of the deployment's webhook key
//! (a Secrets Manager secret, like the token key) over the endpoint id and a generation number.
//! So no secret sits in the table, any function holding the key can sign for any endpoint, and
//! a rotation is a new generation. The administrator reads it as `whsec_<base64>`, the form
//! receivers' libraries take.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::tokens::WeakKey;

/// What every secret starts with, as the Standard Webhooks libraries expect.
pub const SECRET_PREFIX: &str = "whsec_";

/// The deployment's webhook key, from which every endpoint's secret is derived.
#[derive(Clone)]
pub struct WebhookKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(<redacted>)")
    }
}

/// One endpoint's signing secret (32 bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointSecret([u8; 32]);

impl std::fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndpointSecret(<redacted>)")
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[allow(clippy::panic, reason = "HMAC accepts keys of every length")]
fn unreachable_hmac() -> ! {
    panic!("HMAC refused a key")
}

impl WebhookKey {
    /// At least 32 bytes, like the token key.
    pub fn new(key: &[u8]) -> Result<Self, WeakKey> {
        if key.len() < 32 {
            return Err(WeakKey);
        }
        Ok(Self { key: key.to_vec() })
    }

    /// The secret of generation `generation` of endpoint `endpoint_id`.
    pub fn endpoint_secret(&self, endpoint_id: &str, generation: u32) -> EndpointSecret {
        EndpointSecret(hmac(
            &self.key,
            &[
                b"scim-webhook-secret\0",
                endpoint_id.as_bytes(),
                b"\0",
                generation.to_string().as_bytes(),
            ],
        ))
    }
}

impl EndpointSecret {
    /// `whsec_<base64>`: what the administrator gives the receiver.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(self.0))
    }

    /// HMAC-SHA256 of `data` under this secret (the Security Event Token's HS256).
    pub(crate) fn mac(&self, data: &[u8]) -> [u8; 32] {
        hmac(&self.0, &[data])
    }

    /// One `v1,<base64>` signature of a delivery.
    pub fn sign(&self, webhook_id: &str, timestamp: u64, body: &str) -> String {
        sign_with(&self.0, webhook_id, timestamp, body)
    }
}

fn sign_with(secret: &[u8], webhook_id: &str, timestamp: u64, body: &str) -> String {
    let mac = hmac(
        secret,
        &[
            webhook_id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body.as_bytes(),
        ],
    );
    format!("v1,{}", STANDARD.encode(mac))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[EndpointSecret],
    webhook_id: &str,
    timestamp: u64,
    body: &str,
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key() -> WebhookKey {
        WebhookKey::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn the_standard_webhooks_example_signature_is_reproduced() {
        // The test vector of the Standard Webhooks reference libraries
        // (secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`).
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign_with(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                "{\"test\": 2432232314}"
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_differ_per_endpoint_and_generation_and_are_stable() {
        let k = key();
        let a1 = k.endpoint_secret("wh_a", 1);
        assert_eq!(a1, k.endpoint_secret("wh_a", 1));
        assert_ne!(a1, k.endpoint_secret("wh_a", 2));
        assert_ne!(a1, k.endpoint_secret("wh_b", 1));
        let other = WebhookKey::new(&[8u8; 32]).unwrap();
        assert_ne!(a1, other.endpoint_secret("wh_a", 1));
        assert!(a1.to_whsec().starts_with(SECRET_PREFIX));
        assert_eq!(STANDARD.decode(&a1.to_whsec()[6..]).unwrap().len(), 32);
    }

    #[test]
    fn a_signature_covers_id_timestamp_and_body() {
        let s = key().endpoint_secret("wh_a", 1);
        let base = s.sign("e.0", 10, "{}");
        assert_ne!(base, s.sign("e.1", 10, "{}"));
        assert_ne!(base, s.sign("e.0", 11, "{}"));
        assert_ne!(base, s.sign("e.0", 10, "{ }"));
        let both = signature_header(
            &[s.clone(), key().endpoint_secret("wh_a", 2)],
            "e.0",
            10,
            "{}",
        );
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.starts_with(&base));
    }

    #[test]
    fn short_keys_and_debug_output_leak_nothing() {
        assert!(WebhookKey::new(&[1u8; 31]).is_err());
        assert_eq!(format!("{:?}", key()), "WebhookKey(<redacted>)");
        let s = key().endpoint_secret("wh_a", 1);
        assert_eq!(format!("{s:?}"), "EndpointSecret(<redacted>)");
    }
}
