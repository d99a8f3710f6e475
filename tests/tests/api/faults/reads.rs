//! Reads, and the token verification every request starts with, under throttling and 5xx.

use super::*;

#[test]
fn a_user_read_failing_past_the_retries_is_503_or_429_and_then_reads_again() {
    let c = faults_client();
    let id = c.create_user(&login()).id();
    let path = format!("/Users/{id}");
    let fault = Fault::always("GetItem", &id, FaultKind::InternalError);
    c.get(&path).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    let fault = Fault::always("GetItem", &id, FaultKind::Throttle);
    c.get(&path).assert_retry_later(429);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    assert_eq!(c.get(&path).status, 200);
}

#[test]
fn a_throttled_user_name_lookup_is_retried_by_the_sdk() {
    let c = faults_client();
    let name = login();
    let id = c.create_user(&name).id();
    let filter = format!("userName eq \"{name}\"");
    // The lookup is one Query on gsi1 whose key condition holds the (lowercase) userName.
    let fault = Fault::inject("Query", &name, FaultKind::Throttle, 2);
    let found = find_users(&c, &filter);
    assert_eq!(fault.hits(), 2);
    assert_eq!(found.total(), 1);
    assert_eq!(resources(&found)[0]["id"], id.as_str());
    drop(fault);
    let fault = Fault::always("Query", &name, FaultKind::ProvisionedThroughput);
    list_filtered(&c, "/Users", &filter, "").assert_retry_later(429);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
}

#[test]
fn a_group_read_failing_is_503_and_only_the_failing_query_is_affected() {
    let c = faults_client();
    let gid = c.create_group(&unique("Design")).id();
    let gpath = format!("/Groups/{gid}");
    // The group with its members is one Query of its partition; without members, one GetItem.
    let fault = Fault::always("Query", &gid, FaultKind::InternalError);
    c.get(&gpath).assert_retry_later(503);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    let without_members = c.get(&format!("{gpath}?excludedAttributes=members"));
    assert_eq!(without_members.status, 200, "{}", without_members.raw);
    drop(fault);
    assert_eq!(c.get(&gpath).status, 200);
}

#[test]
fn a_throttled_token_verification_is_429_never_401() {
    // A 401 would tell the IdP that its token is bad (Okta then stops provisioning); a throttled
    // table is a reason to come back later. The tenant read of a token verification fails here.
    let c = faults_client();
    let tenant_item = format!("{{\"S\":\"TENANT#{}\"}}", tenant_id(&c.tenant));
    let fault = Fault::always("GetItem", &tenant_item, FaultKind::Throttle);
    let r = c.get("/Users");
    r.assert_retry_later(429);
    assert!(r.header("www-authenticate").is_none(), "{:?}", r.headers);
    assert_eq!(fault.hits(), SDK_ATTEMPTS);
    drop(fault);
    assert_eq!(c.get("/Users").status, 200);
}

#[test]
fn an_email_lookup_whose_batch_read_comes_back_unprocessed_is_retried_by_the_store() {
    let c = faults_client();
    let name = login();
    let id = c.create_user(&name).id();
    let filter = format!("emails eq \"{name}\"");
    // The lookup is a Query of the email index, then a BatchGetItem of the users. DynamoDB
    // answers a throttled batch with its keys unprocessed, not with an error, so the SDK does
    // not retry it: the store does, with its own backoff.
    let fault = Fault::inject("BatchGetItem", &id, FaultKind::Unprocessed, 2);
    let found = find_users(&c, &filter);
    assert_eq!(fault.hits(), 2);
    assert_eq!(found.total(), 1, "{}", found.raw);
    assert_eq!(resources(&found)[0]["id"], id.as_str());
    drop(fault);
    let fault = Fault::always("BatchGetItem", &id, FaultKind::Unprocessed);
    list_filtered(&c, "/Users", &filter, "").assert_retry_later(429);
    assert_eq!(fault.hits(), STORE_BATCH_ATTEMPTS);
}
