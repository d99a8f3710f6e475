//! OAuth 2.0 for the SCIM API (RFC 6749 client credentials, RFC 7523 client assertions): the
//! token endpoint's rules and the access tokens every SCIM function accepts beside bearer
//! tokens. Entra's app gallery requires it (client credentials, or workload identity federation,
//! where Entra signs an assertion for the customer's tenant).
//!
//! - [`request`]: the token request, parsed once (form body, `Authorization: Basic`);
//! - [`client`]: clients and what they must present;
//! - [`jwks`]: issuers' signing keys, cached by `kid`, refreshed at a bounded rate;
//! - [`assertion`]: a client assertion checked against its client's configuration;
//! - [`access_token`]: the access tokens issued and verified (no table read);
//! - [`grant`]: the grant itself, over the [`crate::ports::ClientStore`] port.

pub mod access_token;
pub mod assertion;
pub mod client;
pub mod error;
pub mod grant;
pub mod jwks;
pub mod request;

pub use client::{AssertionTrust, OAuthClient};
pub use error::{OAuthError, OAuthErrorCode};
pub use grant::{IssuedToken, TokenService};
pub use jwks::JwksFetcher;
pub use request::TokenRequest;
