//! Webhook endpoints: where events are POSTed, for which tenants and types, and which URLs are
//! allowed at all (the server-side request forgery rules).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::events::{EventType, ProvisioningEvent};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// One configured webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// `wh_` and 32 hex digits; names the endpoint in commands, queue messages and the
    /// delivery log.
    pub id: String,
    /// The tenant whose events it receives; `None`: every tenant of the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub url: String,
    /// The event types it receives; empty: all of them.
    #[serde(default)]
    pub types: Vec<EventType>,
    #[serde(default)]
    pub description: String,
    /// Which derivation of the signing secret is current (1 at creation, one more per
    /// rotation; see [`super::signing`]).
    pub secret_generation: u32,
    /// After a rotation, deliveries are signed with the previous secret too until this time
    /// (epoch seconds), so the receiver can switch without losing one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<u64>,
    /// What a delivery's body is: the event (`event`, the default) or a Security Event Token
    /// (`set`, [`super::set`]).
    #[serde(default)]
    pub format: PayloadFormat,
    /// RFC 3339.
    pub created: String,
}

/// The body of a delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// The event as JSON, as on the bus (`application/json`).
    #[default]
    Event,
    /// The event as an RFC 8417 Security Event Token with RFC 9967 SCIM events
    /// (`application/secevent+jwt`).
    Set,
}

impl PayloadFormat {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "event" => Some(Self::Event),
            "set" => Some(Self::Set),
            _ => None,
        }
    }
}

impl WebhookEndpoint {
    /// Whether the endpoint receives `event`.
    pub fn wants(&self, event: &ProvisioningEvent) -> bool {
        self.tenant.as_deref().is_none_or(|t| t == event.tenant)
            && (self.types.is_empty() || self.types.contains(&event.kind))
    }

    /// The secret generations a delivery at `now` (epoch seconds) is signed with: the current
    /// one, and the previous one during a rotation's overlap.
    pub fn signing_generations(&self, now: u64) -> Vec<u32> {
        let mut out = vec![self.secret_generation];
        if self.secret_generation > 1 && self.previous_secret_until.is_some_and(|t| now < t) {
            out.push(self.secret_generation - 1);
        }
        out
    }
}

/// Generates an endpoint id from the operating system's CSPRNG.
pub fn new_endpoint_id() -> String {
    format!("wh_{}", uuid::Uuid::new_v4().simple())
}

/// Whether `id` has the shape of an endpoint id (checked before it reaches a key).
pub fn is_endpoint_id(id: &str) -> bool {
    id.len() == 35
        && id.starts_with("wh_")
        && id[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Which destinations the deployment allows. In AWS only public `https` URLs; the local stack
/// allows `http` and private addresses, for its receiver on 127.0.0.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allow_private: bool,
}

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is longer than {MAX_URL_LEN} bytes")]
    TooLong,
    #[error("not a URL: {0}")]
    Unparsable(String),
    #[error("only https URLs are allowed")]
    NotHttps,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL must not carry a fragment")]
    Fragment,
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is not a public address")]
    PrivateAddress(String),
}

/// Checks an endpoint URL against the policy and returns it parsed. Host names are resolved
/// and their addresses checked again with [`is_public_address`] at each delivery (a name that
/// resolves to a private address later is refused then).
pub fn validate_url(raw: &str, policy: UrlPolicy) -> Result<Url, UrlError> {
    if raw.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    let url = Url::parse(raw).map_err(|e| UrlError::Unparsable(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_private => {}
        _ => return Err(UrlError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    let address = match url.host() {
        None => return Err(UrlError::NoHost),
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !policy.allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(UrlError::PrivateAddress(name));
            }
            None
        }
    };
    if let Some(ip) = address {
        if !policy.allow_private && !is_public_address(ip) {
            return Err(UrlError::PrivateAddress(ip.to_string()));
        }
    }
    Ok(url)
}

/// Whether a webhook may be delivered to `ip`: not loopback (the Lambda runtime API listens
/// there), private, link-local (instance metadata), shared (carrier-grade NAT), multicast,
/// documentation, benchmarking, reserved or unspecified, in IPv4 or IPv6 (IPv4-mapped and
/// NAT64 addresses are judged by the IPv4 address they carry).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let v4_of = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(v4_of(segments[6], segments[7]));
    }
    // 6to4 (2002::/16) carries an IPv4 address in bits 16-47.
    if segments[0] == 0x2002 {
        return is_public_v4(v4_of(segments[1], segments[2]));
    }
    // Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48) tunnel to addresses that cannot
    // be told from here: refused.
    if (segments[0] == 0x2001 && segments[1] == 0) || segments[..3] == [0x64, 0xff9b, 1] {
        return false;
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7 (also AWS's fd00:ec2::/32)
        || (segments[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn refused(url: &str) -> UrlError {
        match validate_url(url, UrlPolicy::default()) {
            Err(e) => e,
            Ok(u) => panic!("{url} was accepted as {u}"),
        }
    }

    #[test]
    fn a_public_https_url_is_accepted() {
        assert!(validate_url("https://hooks.example.com/scim?x=1", UrlPolicy::default()).is_ok());
        assert!(validate_url("https://203.0.114.7:8443/in", UrlPolicy::default()).is_ok());
    }

    #[test]
    fn urls_that_reach_inside_the_deployment_are_refused() {
        for url in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:a00:1::1]/",  // 6to4 of 10.0.0.1
            "https://[2001:0:4136::1]/", // Teredo
            "https://[64:ff9b:1::808:808]/",
            "https://2130706433/", // 127.0.0.1 as one number
            "https://0x7f.1/",
        ] {
            assert!(
                matches!(refused(url), UrlError::PrivateAddress(_)),
                "{url}: {:?}",
                refused(url)
            );
        }
    }

    #[test]
    fn only_https_without_credentials_or_fragment_is_accepted() {
        assert_eq!(refused("http://hooks.example.com/"), UrlError::NotHttps);
        assert_eq!(refused("ftp://hooks.example.com/"), UrlError::NotHttps);
        assert_eq!(refused("file:///etc/passwd"), UrlError::NotHttps);
        assert_eq!(
            refused("https://user:pw@hooks.example.com/"),
            UrlError::Credentials
        );
        assert_eq!(refused("https://hooks.example.com/#x"), UrlError::Fragment);
        assert!(matches!(refused("not a url"), UrlError::Unparsable(_)));
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(refused(&long), UrlError::TooLong);
    }

    #[test]
    fn the_local_policy_allows_http_and_loopback() {
        let local = UrlPolicy {
            allow_private: true,
        };
        assert!(validate_url("http://127.0.0.1:9102/hooks/a", local).is_ok());
        assert_eq!(
            validate_url("ftp://127.0.0.1/", local),
            Err(UrlError::NotHttps)
        );
    }

    #[test]
    fn public_addresses_are_public() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public_address(ip), "{ip}");
        }
    }

    #[test]
    fn an_endpoint_receives_its_tenant_and_types_only() {
        let endpoint = WebhookEndpoint {
            id: new_endpoint_id(),
            tenant: Some("acme".into()),
            url: "https://hooks.example.com/".into(),
            types: vec![EventType::UserDeactivated],
            description: String::new(),
            secret_generation: 1,
            previous_secret_until: None,
            format: PayloadFormat::Event,
            created: "2026-12-05T00:00:00Z".into(),
        };
        assert!(is_endpoint_id(&endpoint.id));
        let event = |tenant: &str, kind| ProvisioningEvent {
            v: 1,
            id: "e.0".into(),
            kind,
            tenant: tenant.into(),
            time: "t".into(),
            actor: "a".into(),
            seq: 1,
            subject: crate::events::Subject::Project(crate::events::ProjectState {
                id: "p".into(),
                name: "n".into(),
                member_role: scim_core::ProjectRole::Editor,
            }),
        };
        assert!(endpoint.wants(&event("acme", EventType::UserDeactivated)));
        assert!(!endpoint.wants(&event("other", EventType::UserDeactivated)));
        assert!(!endpoint.wants(&event("acme", EventType::UserCreated)));
        let everything = WebhookEndpoint {
            tenant: None,
            types: vec![],
            ..endpoint
        };
        assert!(everything.wants(&event("other", EventType::UserCreated)));
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_until_the_overlap_ends() {
        let mut endpoint = WebhookEndpoint {
            id: new_endpoint_id(),
            tenant: None,
            url: "https://hooks.example.com/".into(),
            types: vec![],
            description: String::new(),
            secret_generation: 2,
            previous_secret_until: Some(1_000),
            format: PayloadFormat::Event,
            created: "2026-12-05T00:00:00Z".into(),
        };
        assert_eq!(endpoint.signing_generations(999), vec![2, 1]);
        assert_eq!(endpoint.signing_generations(1_000), vec![2]);
        endpoint.previous_secret_until = None;
        assert_eq!(endpoint.signing_generations(0), vec![2]);
    }
}
