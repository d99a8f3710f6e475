//! SCIM Bulk (RFC 7644 section 3.7, issue #15 point 3): several operations in one request, each
//! through the same operations as its own request, `bulkId` references resolved, each
//! operation's own status in the answer, `failOnErrors`, and the advertised limits enforced.

use integration_tests::{enc, platform_member_ids, unique, Client};
use serde_json::{json, Value};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

fn bulk(operations: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": operations})
}

fn user_op(bulk_id: &str, user_name: &str) -> Value {
    json!({
        "method": "POST", "path": "/Users", "bulkId": bulk_id,
        "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name}
    })
}

fn group_op(bulk_id: &str, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({
        "method": "POST", "path": "/Groups", "bulkId": bulk_id,
        "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                 "displayName": name, "members": members}
    })
}

/// The statuses of the answer's operations, in order.
fn statuses(answer: &Value) -> Vec<&str> {
    answer["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap_or("?"))
        .collect()
}

fn id_of(location: &Value) -> String {
    location
        .as_str()
        .and_then(|l| l.rsplit('/').next())
        .unwrap()
        .to_string()
}

#[test]
fn one_request_creates_a_user_and_adds_it_to_a_new_group_by_bulk_id() {
    let c = Client::new_tenant("bulk-create");
    let user_name = format!("{}@bulk.example", unique("alice"));
    let group_name = unique("Tour Guides");
    let r = c.post(
        "/Bulk",
        &bulk(json!([
            user_op("qwerty", &user_name),
            group_op("ytrewq", &group_name, &["bulkId:qwerty"]),
        ])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["schemas"][0], BULK_RESPONSE);
    assert_eq!(statuses(&r.body), ["201", "201"], "{}", r.raw);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["bulkId"], "qwerty");
    assert_eq!(ops[0]["method"], "POST");
    assert_eq!(ops[0]["version"], "W/\"1\"");
    let uid = id_of(&ops[0]["location"]);
    let gid = id_of(&ops[1]["location"]);

    // The same resources through /Users and /Groups, and the platform's view.
    let user = c.get(&format!("/Users/{uid}"));
    assert_eq!(user.status, 200);
    assert_eq!(user.body["userName"], user_name.as_str());
    assert_eq!(user.body["groups"][0]["value"], gid.as_str());
    let group = c.get(&format!("/Groups/{gid}"));
    assert_eq!(group.body["displayName"], group_name.as_str());
    assert_eq!(group.body["members"][0]["value"], uid.as_str());
    assert_eq!(
        platform_member_ids(&c.tenant, &gid),
        std::collections::BTreeSet::from([uid])
    );
}

#[test]
fn an_operation_referring_to_a_later_one_waits_for_it() {
    let c = Client::new_tenant("bulk-order");
    let user_name = format!("{}@bulk.example", unique("bob"));
    let r = c.post(
        "/Bulk",
        &bulk(json!([
            group_op("g", &unique("Later"), &["bulkId:u"]),
            user_op("u", &user_name),
            {"method": "PATCH", "path": "/Users/bulkId:u", "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": false}]}},
        ])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    // Processing order: the user and the PATCH after it (its reference resolves in the same
    // pass), then the group that waited.
    let ops = r.body["Operations"].as_array().unwrap();
    let order: Vec<(&str, &str)> = ops
        .iter()
        .map(|o| (o["method"].as_str().unwrap(), o["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [("POST", "201"), ("PATCH", "200"), ("POST", "201")],
        "{}",
        r.raw
    );
    assert_eq!(ops[0]["bulkId"], "u");
    assert_eq!(ops[2]["bulkId"], "g");
    let uid = id_of(&ops[0]["location"]);
    assert_eq!(ops[1]["location"], ops[0]["location"]);
    let gid = id_of(&ops[2]["location"]);
    assert_eq!(
        c.get(&format!("/Groups/{gid}")).body["members"][0]["value"],
        uid.as_str()
    );
    assert_eq!(c.get(&format!("/Users/{uid}")).body["active"], false);
}

#[test]
fn fail_on_errors_stops_processing_after_that_many_failures() {
    let c = Client::new_tenant("bulk-fail");
    let taken = format!("{}@bulk.example", unique("taken"));
    assert_eq!(c.create_user(&taken).status, 201);
    let fresh = format!("{}@bulk.example", unique("fresh"));
    let mut body = bulk(json!([user_op("a", &taken), user_op("b", &fresh)]));
    body["failOnErrors"] = json!(1);
    let r = c.post("/Bulk", &body);
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(statuses(&r.body), ["409"], "{}", r.raw);
    let error = &r.body["Operations"][0]["response"];
    assert_eq!(error["scimType"], "uniqueness");
    assert_eq!(error["status"], "409");
    let filter = format!("/Users?filter={}", enc(&format!("userName eq \"{fresh}\"")));
    assert_eq!(c.get(&filter).total(), 0, "the second operation never ran");

    // Without failOnErrors every operation runs, each with its own status.
    let r = c.post(
        "/Bulk",
        &bulk(json!([user_op("a", &taken), user_op("b", &fresh)])),
    );
    assert_eq!(statuses(&r.body), ["409", "201"], "{}", r.raw);
    assert_eq!(c.get(&filter).total(), 1);
}

#[test]
fn references_that_cannot_resolve_are_409_and_the_rest_still_runs() {
    let c = Client::new_tenant("bulk-refs");
    let ok = format!("{}@bulk.example", unique("cy"));
    let r = c.post(
        "/Bulk",
        &bulk(json!([
            group_op("a", &unique("A"), &["bulkId:b"]),
            group_op("b", &unique("B"), &["bulkId:a"]),
            {"method": "DELETE", "path": "/Users/bulkId:nobody"},
            user_op("ok", &ok),
            group_op("c", &unique("C"), &["bulkId:ok"]),
        ])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let by_id = |id: &str| -> String {
        r.body["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["bulkId"] == id)
            .map(|o| o["status"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(by_id("a"), "409", "{}", r.raw);
    assert_eq!(by_id("b"), "409");
    assert_eq!(by_id("ok"), "201");
    assert_eq!(by_id("c"), "201");
    assert!(statuses(&r.body).iter().filter(|s| **s == "409").count() == 3);
    // The cycle created nothing.
    assert_eq!(c.get("/Groups").total(), 1);
}

#[test]
fn versions_guard_each_operation_as_if_match_does() {
    let c = Client::new_tenant("bulk-version");
    let id = c
        .create_user(&format!("{}@bulk.example", unique("vic")))
        .id();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Vic"}]});
    let r = c.post(
        "/Bulk",
        &bulk(json!([
            {"method": "PATCH", "path": format!("/Users/{id}"), "version": "W/\"1\"", "data": patch},
            {"method": "DELETE", "path": format!("/Users/{id}"), "version": "W/\"1\""},
        ])),
    );
    assert_eq!(statuses(&r.body), ["200", "412"], "{}", r.raw);
    assert_eq!(r.body["Operations"][0]["version"], "W/\"2\"");
    assert_eq!(c.get(&format!("/Users/{id}")).body["displayName"], "Vic");
    let r = c.post(
        "/Bulk",
        &bulk(json!([{"method": "DELETE", "path": format!("/Users/{id}"), "version": "W/\"2\""}])),
    );
    assert_eq!(statuses(&r.body), ["204"], "{}", r.raw);
    assert_eq!(c.get(&format!("/Users/{id}")).status, 404);
}

#[test]
fn another_tenants_resources_are_not_found_from_a_bulk_request() {
    let owner = Client::new_tenant("bulk-owner");
    let stranger = Client::new_tenant("bulk-stranger");
    let id = owner
        .create_user(&format!("{}@bulk.example", unique("own")))
        .id();
    let r = stranger.post(
        "/Bulk",
        &bulk(json!([{"method": "DELETE", "path": format!("/Users/{id}")}])),
    );
    assert_eq!(statuses(&r.body), ["404"], "{}", r.raw);
    assert_eq!(owner.get(&format!("/Users/{id}")).status, 200);
}

#[test]
fn the_advertised_limits_hold_and_malformed_requests_are_refused() {
    let c = Client::new_tenant("bulk-limits");
    let config = c.get("/ServiceProviderConfig");
    assert_eq!(config.body["bulk"]["supported"], true);
    let max = config.body["bulk"]["maxOperations"].as_u64().unwrap() as usize;
    assert_eq!(max, 50);
    assert_eq!(config.body["bulk"]["maxPayloadSize"], 1_048_576);

    let too_many: Vec<Value> = (0..=max)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/x{i}")}))
        .collect();
    c.post("/Bulk", &bulk(Value::Array(too_many)))
        .assert_scim_error(413, None);
    let members: Vec<Value> = (0..1001)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    c.post(
        "/Bulk",
        &bulk(json!([{"method": "POST", "path": "/Groups", "bulkId": "g",
                       "data": {"displayName": "big", "members": members}}])),
    )
    .assert_scim_error(413, None);
    c.post("/Bulk", &json!({"Operations": []}))
        .assert_scim_error(400, Some("invalidSyntax"));
    c.post(
        "/Bulk",
        &json!({"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": 0}),
    )
    .assert_scim_error(400, Some("invalidValue"));
    // A malformed operation is an error in its place, not the request's.
    let r = c.post(
        "/Bulk",
        &bulk(json!([
            {"method": "GET", "path": "/Users"},
            {"method": "POST", "path": "/Users", "data": {"userName": "x"}},
            {"method": "POST", "path": "/Schemas", "bulkId": "s", "data": {}},
        ])),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(statuses(&r.body), ["400", "400", "400"]);
    // Only POST reaches /Bulk.
    c.get("/Bulk").assert_scim_error(405, None);
}
