//! Webhook endpoint URLs (administrator input, and the server-side request forgery rules) on
//! arbitrary text: validation never panics, and what the deployment's policy accepts is https,
//! without credentials or fragment, to a host that is not a private or loopback address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_ops::webhooks::{is_public_address, validate_url, UrlPolicy};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = validate_url(input, UrlPolicy::default()) else {
        return;
    };
    assert_eq!(url.scheme(), "https", "{input:?}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{input:?}"
    );
    assert!(url.fragment().is_none(), "{input:?}");
    match url.host() {
        Some(url::Host::Ipv4(ip)) => assert!(is_public_address(ip.into()), "{input:?}"),
        Some(url::Host::Ipv6(ip)) => assert!(is_public_address(ip.into()), "{input:?}"),
        Some(url::Host::Domain(name)) => assert!(name != "localhost", "{input:?}"),
        None => panic!("accepted without a host: {input:?}"),
    }
});
