//! The OAuth 2.0 token endpoint, as Entra's app gallery uses it: a federated client (workload
//! identity federation: an assertion Microsoft signs, checked against the issuer, subject,
//! audience and JWKS the administrator configured) and a client-secret client. The tokens work on
//! every SCIM route; every refusal the issue lists is an RFC 6749 error.

use integration_tests::oauth::{
    assertion_request, federated_client, forge_hs256_with_public_key, form, now, oauth_client,
    secret_client, sign_es256, sign_rs256, sign_with_unpublished_key, token_request, unsigned,
    Federation, RSA_KID,
};
use integration_tests::{admin_json, unique, Client, Resp};
use serde_json::json;

fn assert_token(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["token_type"], "Bearer", "{}", r.raw);
    assert_eq!(r.body["expires_in"], 3600, "{}", r.raw);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.body["access_token"].as_str().unwrap().to_string()
}

fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.raw);
    assert_eq!(r.body["error"], error, "{}", r.raw);
    assert!(r.body["error_description"].is_string(), "{}", r.raw);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.body.get("access_token").is_none());
}

#[test]
fn an_entra_federated_assertion_gets_a_token_that_works_on_every_scim_route() {
    let admin = Client::new_tenant("oauth");
    let federation = Federation::new();
    let client_id = federated_client(&admin.tenant, &federation);
    let token = assert_token(&token_request(
        &assertion_request(&client_id, &sign_rs256(&federation.claims(), RSA_KID)),
        &[],
    ));
    let c = oauth_client(&admin.tenant, &token);

    // Users, groups and membership, through 2.0.
    let user = c.create_user(&unique("oauth.user@example.com"));
    let uid = user.id();
    assert_eq!(c.get(&format!("/Users/{uid}")).status, 200);
    let listed = c.get("/Users?startIndex=1&count=10");
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let group = c.create_group(&unique("OAuth Group"));
    let gid = group.id();
    let patch = c.patch(
        &format!("/Groups/{gid}"),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]}),
    );
    assert_eq!(patch.status, 204, "{}", patch.raw);
    assert_eq!(
        c.post("/Users/.search", &json!({"filter": "userName pr"}))
            .status,
        200
    );
    assert_eq!(c.post("/.search", &json!({"count": 1})).status, 200);
    assert_eq!(c.get("/ServiceProviderConfig").status, 200);
    let bulk = c.post(
        "/Bulk",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [{"method": "DELETE", "path": format!("/Groups/{gid}")}]}),
    );
    assert_eq!(bulk.status, 200, "{}", bulk.raw);
    assert_eq!(bulk.body["Operations"][0]["status"], "204", "{}", bulk.raw);
    // SCIM 1.1 as well.
    assert_eq!(c.v1().get(&format!("/Users/{uid}")).status, 200);
    // The same tenant's data: the bearer token sees what the OAuth client wrote.
    assert_eq!(admin.get(&format!("/Users/{uid}")).body["id"], uid.as_str());
    // And only that tenant's: another tenant's user is not found.
    let other = Client::new_tenant("oauth-other");
    let theirs = other.create_user(&unique("theirs@example.com")).id();
    assert_eq!(c.get(&format!("/Users/{theirs}")).status, 404);

    // ES256 assertions work too.
    assert_token(&token_request(
        &assertion_request(&client_id, &sign_es256(&federation.claims())),
        &[],
    ));
}

#[test]
fn assertions_that_do_not_match_the_client_are_invalid_client() {
    let tenant = Client::new_tenant("oauth").tenant;
    let federation = Federation::new();
    let client_id = federated_client(&tenant, &federation);
    let good = federation.claims();
    let with = |key: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    let cases = [
        (
            "wrong issuer",
            sign_rs256(
                &with("iss", json!("https://login.microsoftonline.com/other/v2.0")),
                RSA_KID,
            ),
        ),
        (
            "wrong subject",
            sign_rs256(&with("sub", json!("someone-else")), RSA_KID),
        ),
        (
            "wrong audience",
            sign_rs256(&with("aud", json!("api://another-app")), RSA_KID),
        ),
        (
            "expired",
            sign_rs256(&with("exp", json!(now() - 600)), RSA_KID),
        ),
        (
            "not yet valid",
            sign_rs256(&with("nbf", json!(now() + 3600)), RSA_KID),
        ),
        (
            "issued in the future",
            sign_rs256(&with("iat", json!(now() + 3600)), RSA_KID),
        ),
        ("unknown kid", sign_rs256(&good, "not-a-published-kid")),
        ("alg none", unsigned(&good)),
        (
            "HS256 with the public key",
            forge_hs256_with_public_key(&good),
        ),
        (
            "a key the issuer never published",
            sign_with_unpublished_key(&good),
        ),
        ("not a JWT", "abc".to_string()),
    ];
    for (what, assertion) in cases {
        let r = token_request(&assertion_request(&client_id, &assertion), &[]);
        assert_oauth_error(&r, 401, "invalid_client");
        assert_eq!(
            r.body["error_description"], "Client authentication failed.",
            "{what}"
        );
    }
    // The valid assertion still works after all that.
    assert_token(&token_request(
        &assertion_request(&client_id, &sign_rs256(&good, RSA_KID)),
        &[],
    ));
}

#[test]
fn a_secret_client_authenticates_by_basic_or_post_and_wrong_secrets_are_refused() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let tenant = Client::new_tenant("oauth").tenant;
    let (client_id, secret) = secret_client(&tenant);
    let basic =
        |secret: &str| format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")));
    let grant = form(&[("grant_type", "client_credentials")]);

    let token = assert_token(&token_request(
        &grant,
        &[("Authorization", &basic(&secret))],
    ));
    assert_eq!(oauth_client(&tenant, &token).get("/Users").status, 200);
    assert_token(&token_request(
        &form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ]),
        &[],
    ));

    // A wrong secret: 401 invalid_client, with the Basic challenge.
    let wrong = token_request(&grant, &[("Authorization", &basic("scimcs_wrong"))]);
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"oauth2\"")
    );
    // A secret for a federated client is refused too.
    let federated = federated_client(&tenant, &Federation::new());
    let r = token_request(
        &form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &federated),
            ("client_secret", &secret),
        ]),
        &[],
    );
    assert_oauth_error(&r, 401, "invalid_client");

    // Rotation: the old secret stops at once, the new one works.
    let rotated = admin_json(&[
        "oauth-client",
        "rotate",
        "--tenant",
        &tenant,
        "--client-id",
        &client_id,
    ]);
    let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
    assert_oauth_error(
        &token_request(&grant, &[("Authorization", &basic(&secret))]),
        401,
        "invalid_client",
    );
    assert_token(&token_request(
        &grant,
        &[("Authorization", &basic(&new_secret))],
    ));

    // Revocation: no new token at once; one issued before works until it expires (documented).
    let issued_before = assert_token(&token_request(
        &grant,
        &[("Authorization", &basic(&new_secret))],
    ));
    admin_json(&[
        "oauth-client",
        "revoke",
        "--tenant",
        &tenant,
        "--client-id",
        &client_id,
    ]);
    assert_oauth_error(
        &token_request(&grant, &[("Authorization", &basic(&new_secret))]),
        401,
        "invalid_client",
    );
    assert_eq!(
        oauth_client(&tenant, &issued_before).get("/Users").status,
        200
    );
    let listed = admin_json(&["oauth-client", "list", "--tenant", &tenant]);
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == client_id.as_str())
        .unwrap();
    assert!(entry["revoked_at"].is_string(), "{listed}");
    assert!(
        !listed.to_string().contains(&new_secret),
        "a listing never shows a secret"
    );
}

#[test]
fn malformed_token_requests_get_rfc_6749_errors() {
    let tenant = Client::new_tenant("oauth").tenant;
    let (client_id, secret) = secret_client(&tenant);
    let with_secret = |grant: &str| {
        form(&[
            ("grant_type", grant),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
    };
    assert_oauth_error(
        &token_request(&with_secret("password"), &[]),
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &token_request(&with_secret("authorization_code"), &[]),
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &token_request(
            &format!(
                "{}&grant_type=client_credentials",
                with_secret("client_credentials")
            ),
            &[],
        ),
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &token_request(
            &form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
            ]),
            &[],
        ),
        401,
        "invalid_client",
    );
    let json_body = Client::with_token("x", "unused").send_raw(
        "POST",
        &integration_tests::oauth::token_url(),
        Some("{\"grant_type\":\"client_credentials\"}"),
        &[("Content-Type", "application/json")],
        false,
    );
    assert_oauth_error(&json_body, 400, "invalid_request");
    let get = Client::with_token("x", "unused").send_raw(
        "GET",
        &integration_tests::oauth::token_url(),
        None,
        &[],
        false,
    );
    assert_oauth_error(&get, 400, "invalid_request");
    assert_eq!(get.header("allow"), Some("POST"));
}

#[test]
fn forged_and_altered_access_tokens_are_refused_on_scim_routes() {
    let tenant = Client::new_tenant("oauth").tenant;
    let (client_id, secret) = secret_client(&tenant);
    let token = assert_token(&token_request(
        &form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ]),
        &[],
    ));
    // Another tenant id in the payload, the signature kept: refused.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["tid"] = json!("0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    }
    let altered = parts.join(".");
    oauth_client(&tenant, &altered)
        .get("/Users")
        .assert_scim_error(401, None);
    // A client assertion is not an access token.
    let federation = Federation::new();
    let assertion = sign_rs256(&federation.claims(), RSA_KID);
    oauth_client(&tenant, &assertion)
        .get("/Users")
        .assert_scim_error(401, None);
}

#[test]
fn discovery_advertises_oauth_beside_the_bearer_token() {
    let c = Client::new_tenant("oauth");
    let schemes = c.get("/ServiceProviderConfig").body["authenticationSchemes"].clone();
    let types: Vec<&str> = schemes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["type"].as_str())
        .collect();
    assert_eq!(types, ["oauthbearertoken", "oauth2"], "{schemes}");
}
