//! Users: a create, and a PATCH of several operations, under throttling, 5xx and lost responses.

use super::*;

#[test]
fn a_create_throttled_twice_is_retried_by_the_sdk_and_lands_once() {
    let c = faults_client();
    let name = login();
    let fault = Fault::inject(TRANSACT, &tenant_key(&c), FaultKind::Throttle, 2);
    let r = c.post("/Users", &user_body(&name));
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        fault.hits(),
        2,
        "both throttles were answered, then the SDK's third try won"
    );
    assert_eq!(r.calls(), 1, "one TransactWriteItems, tried three times");
    drop(fault);
    let found = find_users(&c, &format!("userName eq \"{name}\""));
    assert_eq!(found.total(), 1, "{}", found.raw);
    assert_eq!(resources(&found)[0]["id"], r.id());
    assert_eq!(c.get("/Users").total(), 1);
}

/// A create that fails on every SDK attempt: the status the client sees, then proof that no
/// item of the transaction landed (user, userName guard, email index).
fn create_failing_on_every_attempt(kind: FaultKind, status: u16) {
    let c = faults_client();
    let name = login();
    let fault = Fault::always(TRANSACT, &tenant_key(&c), kind);
    let r = c.post("/Users", &user_body(&name));
    r.assert_retry_later(status);
    assert_eq!(
        fault.hits(),
        SDK_ATTEMPTS,
        "the SDK tried {SDK_ATTEMPTS} times"
    );
    drop(fault);
    assert_eq!(c.get("/Users").total(), 0);
    assert_eq!(count(&c, &format!("userName eq \"{name}\"")), 0);
    assert_eq!(count(&c, &format!("emails eq \"{name}\"")), 0);
    // No uniqueness guard was left behind either: the IdP's retry creates the user.
    let again = c.post("/Users", &user_body(&name));
    assert_eq!(again.status, 201, "{}", again.raw);
    assert_eq!(c.get("/Users").total(), 1);
}

#[test]
fn a_create_throttled_past_the_sdk_retries_is_429_with_retry_after_and_writes_nothing() {
    create_failing_on_every_attempt(FaultKind::Throttle, 429);
}

#[test]
fn a_create_failing_with_internal_errors_is_503_with_retry_after_and_writes_nothing() {
    create_failing_on_every_attempt(FaultKind::InternalError, 503);
}

#[test]
fn a_create_in_a_transaction_conflict_is_503_with_retry_after_and_writes_nothing() {
    let c = faults_client();
    let name = login();
    let fault = Fault::always(TRANSACT, &tenant_key(&c), FaultKind::TransactionConflict);
    c.post("/Users", &user_body(&name)).assert_retry_later(503);
    // A cancelled transaction is the caller's to retry, not the SDK's: one try.
    assert_eq!(fault.hits(), 1);
    drop(fault);
    assert_eq!(c.get("/Users").total(), 0);
    assert_eq!(c.post("/Users", &user_body(&name)).status, 201);
}

#[test]
fn a_create_whose_response_is_lost_once_lands_once_through_the_sdk_retry() {
    let c = faults_client();
    let name = login();
    let fault = Fault::inject(TRANSACT, &tenant_key(&c), FaultKind::LostResponse, 1);
    let r = c.post("/Users", &user_body(&name));
    // The first try wrote the user and lost the answer. The SDK's retry carried the same
    // ClientRequestToken, so DynamoDB answered it as the completed transaction it was; without
    // the token the retry would have found its own userName guard and answered 409.
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    drop(fault);
    assert_eq!(c.get("/Users").total(), 1);
    let got = c.get(&format!("/Users/{}", r.id()));
    assert_eq!(got.status, 200, "{}", got.raw);
    assert_eq!(got.body["userName"], name.as_str());
}

#[test]
fn a_create_whose_responses_are_all_lost_converges_when_okta_retries() {
    let c = faults_client();
    let name = login();
    let external_id = unique("00u");
    let body = fixture(
        "okta/create_user.json",
        &[("USER_NAME", &name), ("EXTERNAL_ID", &external_id)],
    )
    .to_string();
    let okta_create = || {
        c.send_raw(
            "POST",
            "/Users",
            Some(&body),
            &[("Content-Type", "application/json")],
            true,
        )
    };
    let fault = Fault::always(TRANSACT, &tenant_key(&c), FaultKind::LostResponse);
    okta_create().assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // The write had landed (once: the SDK's retries reused its token). Okta retries the create,
    // is told the userName is taken, looks the user up by userName and links it.
    okta_create().assert_scim_error(409, Some("uniqueness"));
    let found = find_users(&c, &format!("userName eq \"{name}\""));
    assert_eq!(found.total(), 1, "{}", found.raw);
    let user = &resources(&found)[0];
    assert_eq!(user["externalId"], external_id.as_str());
    assert_eq!(user["active"], true);
    assert_eq!(c.get("/Users").total(), 1);
    assert_eq!(count(&c, &format!("externalId eq \"{external_id}\"")), 1);
}

// A PATCH of several operations.

/// Entra's multi-operation PATCH: userName, the work email, displayName and `active` ("False",
/// a string, as Entra sends it) in one request. userName and email move uniqueness and index
/// items, so the write is one transaction.
fn entra_multi_op(user_name: &str, email: &str) -> Value {
    patch_body(json!([
        {"op": "Replace", "path": "userName", "value": user_name},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": email},
        {"op": "Replace", "path": "displayName", "value": "Renamed User"},
        {"op": "Replace", "path": "active", "value": "False"},
    ]))
}

#[test]
fn a_multi_op_patch_throttled_past_the_retries_changes_nothing_until_entra_retries() {
    let c = faults_client();
    let old = login();
    let id = c.create_user(&old).id();
    let path = format!("/Users/{id}");
    let before = c.get(&path).body;
    let (new_name, new_email) = (login(), login());
    let patch = entra_multi_op(&new_name, &new_email);

    let fault = Fault::always(TRANSACT, &id, FaultKind::Throttle);
    c.patch(&path, &patch).assert_retry_later(429);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // All or nothing: not one of the four operations landed, the version did not move, and no
    // guard or index item of the new values exists.
    assert_eq!(c.get(&path).body, before);
    assert_eq!(count(&c, &format!("userName eq \"{old}\"")), 1);
    assert_eq!(count(&c, &format!("userName eq \"{new_name}\"")), 0);
    assert_eq!(count(&c, &format!("emails eq \"{old}\"")), 1);
    assert_eq!(count(&c, &format!("emails eq \"{new_email}\"")), 0);
    let platform = platform_user(&c.tenant, &id);
    assert_eq!(platform["active"], true);
    assert_eq!(platform["user_name"], old.as_str());

    // Entra retries the same PATCH later: every operation lands, in one new version.
    let r = c.patch(&path, &patch);
    assert_eq!(r.status, 200, "{}", r.raw);
    let after = c.get(&path).body;
    assert_eq!(after["userName"], new_name.as_str());
    assert_eq!(after["emails"][0]["value"], new_email.as_str());
    assert_eq!(after["displayName"], "Renamed User");
    assert_eq!(after["active"], false);
    assert_eq!(version(&c, &path), version_of(&before) + 1);
    assert_eq!(count(&c, &format!("userName eq \"{old}\"")), 0);
    assert_eq!(count(&c, &format!("emails eq \"{new_email}\"")), 1);
    assert_eq!(platform_user(&c.tenant, &id)["active"], false);
}

#[test]
fn a_multi_op_patch_over_provisioned_throughput_once_lands_after_the_sdk_retry() {
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let (new_name, new_email) = (login(), login());
    let fault = Fault::inject(TRANSACT, &id, FaultKind::ProvisionedThroughput, 1);
    let r = c.patch(&path, &entra_multi_op(&new_name, &new_email));
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    assert_eq!(r.body["userName"], new_name.as_str());
    assert_eq!(r.body["active"], false);
    assert_eq!(version_of(&r.body), 2);
}

#[test]
fn a_multi_op_patch_whose_responses_are_all_lost_converges_when_entra_retries() {
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let (new_name, new_email) = (login(), login());
    let patch = entra_multi_op(&new_name, &new_email);
    let fault = Fault::always(TRANSACT, &id, FaultKind::LostResponse);
    c.patch(&path, &patch).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // The first try landed, whole and once (the SDK's retries reused its token).
    let landed = c.get(&path).body;
    assert_eq!(landed["userName"], new_name.as_str());
    assert_eq!(landed["active"], false);
    assert_eq!(version_of(&landed), 2);
    // Entra's retry finds nothing left to change: 200, the same user, no new version.
    let r = c.patch(&path, &patch);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(c.get(&path).body, landed);
    assert_eq!(count(&c, &format!("userName eq \"{new_name}\"")), 1);
    assert_eq!(count(&c, &format!("emails eq \"{new_email}\"")), 1);
}

#[test]
fn a_single_write_patch_whose_response_is_lost_is_settled_by_a_reread() {
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    // displayName and title move no uniqueness or index item: one conditional PutItem.
    let patch = patch_body(json!([
        {"op": "replace", "path": "displayName", "value": "Ada Lovelace"},
        {"op": "replace", "path": "title", "value": "Analyst"},
    ]));
    let fault = Fault::inject("PutItem", &id, FaultKind::LostResponse, 1);
    let r = c.patch(&path, &patch);
    // The SDK's retry of the PutItem fails its version condition (the first try landed); the
    // handler reads the user again, finds the change made and answers it.
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    assert_eq!(r.body["displayName"], "Ada Lovelace");
    assert_eq!(r.body["title"], "Analyst");
    assert_eq!(version_of(&r.body), 2, "written once");
    assert_eq!(c.get(&path).body, r.body);
}

#[test]
fn an_okta_deactivation_whose_response_is_lost_stays_deactivated() {
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let deactivate = fixture("okta/deactivate_pathless_replace.json", &[]);
    // Deactivation is one UpdateItem (no read). Its SDK retry applies it again: `active` is set,
    // not toggled, so the state converges (the version moves once per application).
    let fault = Fault::inject("UpdateItem", &id, FaultKind::LostResponse, 1);
    let r = c.patch(&path, &deactivate);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    assert_eq!(r.body["active"], false);
    drop(fault);
    let fault = Fault::always("UpdateItem", &id, FaultKind::LostResponse);
    c.patch(&path, &deactivate).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    let r = c.patch(&path, &deactivate);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(c.get(&path).body["active"], false);
    assert_eq!(platform_user(&c.tenant, &id)["active"], false);
}

#[test]
fn an_if_match_patch_whose_single_write_response_is_lost_is_not_refused_as_stale() {
    // The SDK's retry of the conditional PutItem fails on the version its own first try wrote.
    // That is not a concurrent change: the client's PATCH landed, and it is answered as such.
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let etag = c.get(&path).header("etag").unwrap().to_string();
    let patch = patch_body(json!([{"op": "replace", "path": "title", "value": "Engineer"}]));
    let fault = Fault::inject("PutItem", &id, FaultKind::LostResponse, 1);
    let r = c.send("PATCH", &path, Some(&patch), &[("If-Match", &etag)]);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    assert_eq!(r.body["title"], "Engineer");
    assert_eq!(version_of(&r.body), 2);
    drop(fault);
    // A stale If-Match is still refused.
    let again = c.send("PATCH", &path, Some(&patch), &[("If-Match", &etag)]);
    again.assert_scim_error(412, None);
}

#[test]
fn an_if_match_deactivation_whose_response_is_lost_is_not_refused_as_stale() {
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let etag = c.get(&path).header("etag").unwrap().to_string();
    let deactivate = fixture("okta/deactivate_pathless_replace.json", &[]);
    let fault = Fault::inject("UpdateItem", &id, FaultKind::LostResponse, 1);
    let r = c.send("PATCH", &path, Some(&deactivate), &[("If-Match", &etag)]);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(fault.hits(), 1);
    assert_eq!(r.body["active"], false);
    assert_eq!(version_of(&r.body), 2);
    drop(fault);
    let again = c.send("PATCH", &path, Some(&deactivate), &[("If-Match", &etag)]);
    again.assert_scim_error(412, None);
}

#[test]
fn an_add_patch_whose_responses_are_all_lost_adds_its_value_once_when_retried() {
    // `add` to a multi-valued attribute appends only values not already there (RFC 7644
    // section 3.5.2.1), so the IdP's retry of a PATCH that landed adds nothing twice.
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let patch = patch_body(json!([{
        "op": "add",
        "path": "phoneNumbers",
        "value": [{"value": "+1 555 0100", "type": "work"}],
    }]));
    let fault = Fault::always("PutItem", &id, FaultKind::LostResponse);
    c.patch(&path, &patch).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    // The first try landed (the SDK's retries then failed their version condition, unseen).
    let r = c.patch(&path, &patch);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"value": "+1 555 0100", "type": "work"}])
    );
    assert_eq!(version_of(&r.body), 2, "written once");
}
