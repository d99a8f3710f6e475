//! RFC 7644 section 3.12: every failure is a SCIM Error with the right status.

use integration_tests::Client;

#[test]
fn unknown_ids_and_malformed_ids_are_404() {
    let c = Client::new_tenant("err");
    // Okta's SPEC test looks up this id.
    c.get("/Users/00919288221112222")
        .assert_scim_error(404, None);
    c.get("/Users/0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70")
        .assert_scim_error(404, None);
    c.get("/Groups/..%2F..%2Fetc").assert_scim_error(404, None);
    c.get("/Users/TENANT%23x%23USER%230192d7a4")
        .assert_scim_error(404, None);
}

#[test]
fn unsupported_methods_are_405() {
    let c = Client::new_tenant("err");
    c.send("DELETE", "/Users", None, &[])
        .assert_scim_error(405, None);
    c.send("PUT", "/Groups", Some(&serde_json::json!({})), &[])
        .assert_scim_error(405, None);
    c.send(
        "POST",
        "/ServiceProviderConfig",
        Some(&serde_json::json!({})),
        &[],
    )
    .assert_scim_error(405, None);
}

#[test]
fn malformed_json_is_invalid_syntax() {
    let c = Client::new_tenant("err");
    c.send_raw("POST", "/Users", Some("{\"userName\":"), &[], true)
        .assert_scim_error(400, Some("invalidSyntax"));
    c.send_raw(
        "POST",
        "/Users",
        Some("{\"userName\":\"a\",\"userName\":\"b\"}"),
        &[],
        true,
    )
    .assert_scim_error(400, Some("invalidSyntax"));
    c.send_raw("POST", "/Users", Some("[1,2]"), &[], true)
        .assert_scim_error(400, Some("invalidSyntax"));
}

#[test]
fn an_oversized_body_is_413() {
    let c = Client::new_tenant("err");
    let big = format!("{{\"userName\":\"{}\"}}", "a".repeat(1_100_000));
    c.send_raw("POST", "/Users", Some(&big), &[], true)
        .assert_scim_error(413, None);
}
