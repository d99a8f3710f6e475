//! A local OAuth issuer and the token endpoint as a client sees it. The issuer plays Entra's
//! workload identity federation: it serves its JWKS (`tests/fixtures/oauth/issuer_jwks.json`)
//! on 127.0.0.1 and signs assertions shaped like Microsoft's (`iss`
//! `https://login.microsoftonline.com/<tenant>/v2.0`, `sub`, `aud`, `exp`, `nbf`, `iat`,
//! `jti`) with its test keys.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::client::{base_url, Client, Resp};
use crate::names::{random_guid, unique};
use crate::platform::admin_json;

/// The RS256 key's id in the issuer's JWKS.
pub const RSA_KID: &str = "test-rsa-1";
/// The ES256 key's id.
pub const EC_KID: &str = "test-ec-1";

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/oauth/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The issuer's JWKS URL, serving from a thread of this test process (started once).
pub fn jwks_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the issuer's port");
        let port = listener.local_addr().expect("issuer address").port();
        let body = fixture_bytes("issuer_jwks.json");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://127.0.0.1:{port}/discovery/v2.0/keys")
    })
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a federated client is configured with, as an administrator copies it from Entra.
#[derive(Debug, Clone)]
pub struct Federation {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

impl Federation {
    pub fn new() -> Self {
        Self {
            issuer: format!("https://login.microsoftonline.com/{}/v2.0", random_guid()),
            subject: random_guid(),
            audience: format!("api://scim-test/{}", unique("aud")),
        }
    }

    /// The claims of a valid assertion, valid for 10 minutes.
    pub fn claims(&self) -> Value {
        let now = now();
        json!({
            "iss": self.issuer, "sub": self.subject, "aud": self.audience,
            "exp": now + 600, "nbf": now - 10, "iat": now, "jti": random_guid(),
        })
    }
}

impl Default for Federation {
    fn default() -> Self {
        Self::new()
    }
}

/// An assertion with `claims`, signed by the issuer's RSA key (`RS256`) under `kid`.
pub fn sign_rs256(claims: &Value, kid: &str) -> String {
    sign_with(
        claims,
        Algorithm::RS256,
        kid,
        &fixture_bytes("issuer_rsa.pem"),
    )
}

/// Signed by the issuer's EC key (`ES256`).
pub fn sign_es256(claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(&fixture_bytes("issuer_ec.pem")).expect("EC test key");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(EC_KID.into());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// Signed by an RSA key the issuer never published, under the published key's `kid`.
pub fn sign_with_unpublished_key(claims: &Value) -> String {
    sign_with(
        claims,
        Algorithm::RS256,
        RSA_KID,
        &fixture_bytes("other_rsa.pem"),
    )
}

fn sign_with(claims: &Value, alg: Algorithm, kid: &str, pem: &[u8]) -> String {
    let key = EncodingKey::from_rsa_pem(pem).expect("RSA test key");
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// HS256 with the issuer's *public* key as the HMAC secret: the algorithm-confusion forgery.
pub fn forge_hs256_with_public_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(RSA_KID.into());
    let key = EncodingKey::from_secret(&fixture_bytes("issuer_rsa_public.pem"));
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// An unsigned assertion (`alg: none`).
pub fn unsigned(claims: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let header = json!({"alg": "none", "typ": "JWT", "kid": RSA_KID}).to_string();
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Creates a federated client of `tenant` trusting `federation` and the local issuer's keys.
pub fn federated_client(tenant: &str, federation: &Federation) -> String {
    let out = admin_json(&[
        "oauth-client",
        "create",
        "--tenant",
        tenant,
        "--name",
        "Entra gallery",
        "--issuer",
        &federation.issuer,
        "--subject",
        &federation.subject,
        "--audience",
        &federation.audience,
        "--jwks-url",
        jwks_url(),
    ]);
    out["client_id"].as_str().expect("client_id").to_string()
}

/// Creates a secret client of `tenant`: its id and secret.
pub fn secret_client(tenant: &str) -> (String, String) {
    let out = admin_json(&[
        "oauth-client",
        "create",
        "--tenant",
        tenant,
        "--name",
        "client credentials",
    ]);
    (
        out["client_id"].as_str().expect("client_id").to_string(),
        out["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_string(),
    )
}

/// The token endpoint's URL.
pub fn token_url() -> String {
    format!("{}/oauth2/token", base_url().trim_end_matches("/scim/v2"))
}

/// Form-encodes `params`.
pub fn form(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// POSTs a form to the token endpoint, with extra headers (e.g. `Authorization: Basic`).
pub fn token_request(body: &str, headers: &[(&str, &str)]) -> Resp {
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    Client::with_token("oauth", "unused").send_raw("POST", &token_url(), Some(body), &all, false)
}

/// The request Entra sends for a federated client.
pub fn assertion_request(client_id: &str, assertion: &str) -> String {
    form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", "api://scim/.default"),
    ])
}

/// A client of `tenant` holding an access token from the endpoint.
pub fn oauth_client(tenant: &str, access_token: &str) -> Client {
    Client::with_token(tenant, access_token)
}
