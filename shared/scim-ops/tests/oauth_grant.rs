//! The client credentials grant over fake ports: a secret client gets a token the
//! authenticator accepts for its tenant; a wrong secret, a revoked client, a disabled tenant,
//! the wrong way of authenticating and an unknown client are each `invalid_client`; a store
//! that cannot be read is `temporarily_unavailable`, never a token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use scim_core::ids::TenantId;
use scim_ops::access::Authenticator;
use scim_ops::memory::MemoryStore;
use scim_ops::oauth::client::{new_client_id, new_client_secret};
use scim_ops::oauth::request::ClientAuth;
use scim_ops::oauth::{
    AssertionTrust, JwksFetcher, OAuthClient, OAuthErrorCode, TokenRequest, TokenService,
};
use scim_ops::ports::ClientStore;
use scim_ops::tokens::TokenHasher;
use scim_ops::{StoreError, TenantSettings};

fn hasher() -> TokenHasher {
    TokenHasher::new(&[9u8; 32]).unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70").unwrap()
}

#[derive(Default)]
struct Clients {
    clients: Mutex<HashMap<String, (OAuthClient, Option<TenantSettings>)>>,
    unavailable: bool,
}

impl ClientStore for Clients {
    async fn oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<(OAuthClient, Option<TenantSettings>)>, StoreError> {
        if self.unavailable {
            return Err(StoreError::Throttled);
        }
        Ok(self.clients.lock().unwrap().get(client_id).cloned())
    }
}

/// Never reached by secret clients; an assertion client whose issuer is down.
struct NoKeys;

impl JwksFetcher for NoKeys {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, String> {
        Err("connection refused".into())
    }
}

fn service() -> TokenService<NoKeys> {
    TokenService::new(hasher(), NoKeys, Duration::from_secs(3600))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A secret client registered in `store`: its id and secret.
fn secret_client(
    store: &Clients,
    revoked: bool,
    settings: Option<TenantSettings>,
) -> (String, String) {
    let (id, secret) = (new_client_id().unwrap(), new_client_secret().unwrap());
    let client = OAuthClient {
        client_id: id.clone(),
        tenant: tenant(),
        secret_hash: Some(hasher().hash(&secret)),
        assertion: None,
        revoked,
    };
    store
        .clients
        .lock()
        .unwrap()
        .insert(id.clone(), (client, settings));
    (id, secret)
}

fn request(client_id: &str, secret: &str) -> TokenRequest {
    TokenRequest {
        auth: ClientAuth::Secret {
            client_id: client_id.into(),
            secret: secret.into(),
        },
        scope: None,
    }
}

#[tokio::test]
async fn a_secret_client_gets_a_token_the_scim_functions_accept_for_its_tenant() {
    let store = Clients::default();
    let (id, secret) = secret_client(&store, false, Some(TenantSettings::default()));
    let issued = service()
        .grant(&store, &request(&id, &secret), now())
        .await
        .unwrap();
    assert_eq!(issued.expires_in, 3600);
    assert_eq!(issued.scope, "scim");
    let auth = Authenticator::new(hasher(), Duration::from_secs(60));
    let principal = auth
        .authenticate(
            &MemoryStore::new(),
            &issued.access_token,
            "2026-12-05T00:00:00Z",
        )
        .await
        .unwrap();
    assert_eq!(principal.tenant, tenant());
    assert_eq!(principal.token_prefix, id);
    // A deployment with another token key refuses it.
    let other = Authenticator::new(
        TokenHasher::new(&[1u8; 32]).unwrap(),
        Duration::from_secs(60),
    );
    let refused = other
        .authenticate(
            &MemoryStore::new(),
            &issued.access_token,
            "2026-12-05T00:00:00Z",
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn every_failed_client_authentication_is_invalid_client() {
    let store = Clients::default();
    let (id, secret) = secret_client(&store, false, Some(TenantSettings::default()));
    let (revoked, revoked_secret) = secret_client(&store, true, Some(TenantSettings::default()));
    let (disabled, disabled_secret) = secret_client(&store, false, None);
    let federated = new_client_id().unwrap();
    store.clients.lock().unwrap().insert(
        federated.clone(),
        (
            OAuthClient {
                client_id: federated.clone(),
                tenant: tenant(),
                secret_hash: None,
                assertion: Some(AssertionTrust {
                    issuer: "https://login.microsoftonline.com/t/v2.0".into(),
                    subject: "s".into(),
                    audience: "a".into(),
                    jwks_url: "https://login.microsoftonline.com/t/discovery/v2.0/keys".into(),
                }),
                revoked: false,
            },
            Some(TenantSettings::default()),
        ),
    );
    let assertion = TokenRequest {
        auth: ClientAuth::Assertion {
            client_id: id.clone(),
            assertion: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln".into(),
        },
        scope: None,
    };
    let federated_assertion = TokenRequest {
        auth: ClientAuth::Assertion {
            client_id: federated.clone(),
            assertion: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln".into(),
        },
        scope: None,
    };
    for (what, req) in [
        ("wrong secret", request(&id, "scimcs_wrong")),
        ("revoked client", request(&revoked, &revoked_secret)),
        ("disabled tenant", request(&disabled, &disabled_secret)),
        (
            "unknown client",
            request(&new_client_id().unwrap(), &secret),
        ),
        ("not a client id", request("someone", &secret)),
        (
            "a secret for a federated client",
            request(&federated, &secret),
        ),
        ("an assertion for a secret client", assertion),
        ("an issuer whose keys cannot be read", federated_assertion),
    ] {
        let err = service().grant(&store, &req, now()).await.unwrap_err();
        assert_eq!(err.code, OAuthErrorCode::InvalidClient, "{what}: {err:?}");
        assert_eq!(err.description, "Client authentication failed.", "{what}");
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_read_issues_no_token() {
    let store = Clients {
        unavailable: true,
        ..Clients::default()
    };
    let err = service()
        .grant(&store, &request(&new_client_id().unwrap(), "x"), now())
        .await
        .unwrap_err();
    assert_eq!(err.code, OAuthErrorCode::TemporarilyUnavailable);
    assert_eq!(err.status(), 503);
}
