//! Signed webhooks (issue #13): an endpoint registered with the admin library receives each
//! provisioning event of its tenant as a POST signed per Standard Webhooks, verified at the
//! local receiver by the `standardwebhooks` reference library (scripts/webhook_receiver.py),
//! through the events function, the FIFO queue (moto) and the webhooks function (fed locally by
//! scripts/queue_pump.py). Failed deliveries come back, in order per resource, with their ids.

use std::collections::BTreeSet;
use std::time::Duration;

use integration_tests::{
    add_members_body, admin, admin_json, admin_lambda, fixture, patch_body, random_guid, unique,
    Client, Hook,
};
use serde_json::{json, Value};

/// The bodies' event types in arrival order.
fn types(deliveries: &[Value]) -> Vec<&str> {
    deliveries
        .iter()
        .map(|d| d["body"]["type"].as_str().unwrap_or("?"))
        .collect()
}

/// Every delivery's `webhook-id` is its event's id, each arrived once, and the receiver
/// refused none (a refused signature is counted as `rejected`).
fn assert_signed_once_each(hook: &Hook, deliveries: &[Value]) {
    for d in deliveries {
        assert_eq!(d["id"], d["body"]["id"], "webhook-id is the event id: {d}");
        assert!(
            d["signature"].as_str().unwrap_or("").starts_with("v1,"),
            "{d}"
        );
        assert_eq!(d["duplicate"], false, "{d}");
    }
    let ids: BTreeSet<&str> = deliveries.iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(ids.len(), deliveries.len(), "{deliveries:#?}");
    assert_eq!(hook.state()["rejected"], 0);
}

/// The types of the deliveries about one user (user events and its memberships), in arrival
/// order.
fn user_types<'a>(deliveries: &'a [Value], user: &str) -> Vec<&'a str> {
    deliveries
        .iter()
        .filter(|d| d["body"]["user"]["id"] == user || d["body"]["membership"]["userId"] == user)
        .map(|d| d["body"]["type"].as_str().unwrap_or("?"))
        .collect()
}

#[test]
fn oktas_user_lifecycle_reaches_the_webhook_signed_in_order_one_deactivation() {
    let c = Client::new_tenant("hooks-okta");
    let hook = Hook::for_tenant(&c.tenant, &[]);
    let user_name = format!("{}@okta.example", unique("olga"));
    let created = c.post(
        "/Users",
        &fixture(
            "okta/create_user.json",
            &[("USER_NAME", &user_name), ("EXTERNAL_ID", &unique("00u"))],
        ),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let path = format!("/Users/{}", created.id());
    let mut profile = created.body.clone();
    profile["name"]["familyName"] = json!("Userova");
    assert_eq!(c.put(&path, &profile).status, 200);
    let off = fixture("okta/deactivate_pathless_replace.json", &[]);
    assert_eq!(c.patch(&path, &off).status, 200);
    // Okta repeats a deactivation: still one `user.deactivated`.
    assert_eq!(c.patch(&path, &off).status, 200);
    let on = c.patch(&path, &fixture("okta/reactivate_user.json", &[]));
    assert_eq!(on.status, 200, "{}", on.raw);

    let deliveries = hook.wait_for(4);
    assert_eq!(
        types(&deliveries),
        [
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated"
        ],
        "{deliveries:#?}"
    );
    assert_signed_once_each(&hook, &deliveries);
    let body = &deliveries[2]["body"];
    assert_eq!(body["user"]["userName"], user_name.as_str());
    assert_eq!(body["user"]["active"], false);
    assert_eq!(body["tenant"], integration_tests::tenant_id(&c.tenant));
    assert_eq!(hook.settle(Duration::from_secs(3)).len(), 4);
    // The delivery log: each delivered at the first attempt.
    let log = admin_json(&["webhooks", "deliveries", &hook.id]);
    let statuses: Vec<(&str, u64)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["status"].as_str().unwrap(),
                d["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, vec![("delivered", 1); 4], "{log:#}");
}

#[test]
fn entras_user_and_group_pushes_reach_the_webhook_in_order_per_resource() {
    let c = Client::new_tenant("hooks-entra");
    let hook = Hook::for_tenant(&c.tenant, &[]);
    let user_name = format!("{}@entra.example", unique("emil"));
    let created = c.post(
        "/Users",
        &fixture(
            "entra/create_user.json",
            &[
                ("USER_NAME", &user_name),
                ("EXTERNAL_ID", &random_guid()),
                ("EMPLOYEE_NUMBER", "7"),
            ],
        ),
    );
    assert_eq!(created.status, 201, "{}", created.raw);
    let uid = created.id();
    let group = c.post(
        "/Groups",
        &fixture(
            "entra/create_group.json",
            &[
                ("EXTERNAL_ID", &random_guid()),
                ("DISPLAY_NAME", &unique("Entra Sales")),
            ],
        ),
    );
    assert_eq!(group.status, 201, "{}", group.raw);
    let gid = group.id();
    let gpath = format!("/Groups/{gid}");
    let added = c.patch(&gpath, &add_members_body(&[uid.as_str()]));
    assert!(matches!(added.status, 200 | 204), "{}", added.raw);
    let removed = c.patch(
        &gpath,
        &fixture("entra/remove_group_member.json", &[("USER_ID", &uid)]),
    );
    assert!(matches!(removed.status, 200 | 204), "{}", removed.raw);
    let off = c.patch(
        &format!("/Users/{uid}"),
        &fixture("entra/disable_user_string_boolean.json", &[]),
    );
    assert_eq!(off.status, 200, "{}", off.raw);

    let deliveries = hook.wait_for(5);
    assert_signed_once_each(&hook, &deliveries);
    assert_eq!(
        user_types(&deliveries, &uid),
        [
            "user.created",
            "project.member_added",
            "project.member_removed",
            "user.deactivated"
        ],
        "{deliveries:#?}"
    );
    let projects: Vec<&Value> = deliveries
        .iter()
        .filter(|d| d["body"]["project"]["id"] == gid.as_str())
        .collect();
    assert_eq!(projects.len(), 1, "{deliveries:#?}");
    assert_eq!(projects[0]["body"]["type"], "project.created");
    assert_eq!(hook.settle(Duration::from_secs(3)).len(), 5);
}

#[test]
fn an_endpoint_answering_500_gets_every_event_afterwards_in_order_per_resource() {
    let c = Client::new_tenant("hooks-down");
    let hook = Hook::for_tenant(&c.tenant, &[]);
    // The endpoint is down for its next five deliveries.
    hook.fail_next(5, 500);
    let a = c
        .create_user(&format!("{}@down.example", unique("ann")))
        .id();
    let b = c
        .create_user(&format!("{}@down.example", unique("bob")))
        .id();
    for (i, name) in ["Ames", "Baker", "Cole"].iter().enumerate() {
        let rename =
            patch_body(json!([{"op": "replace", "path": "name.familyName", "value": name}]));
        assert_eq!(c.patch(&format!("/Users/{a}"), &rename).status, 200, "{i}");
    }
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&format!("/Users/{b}"), &off).status, 200);

    let deliveries = hook.wait_for(6);
    assert_eq!(hook.state()["failed"], 5, "the 500s were answered");
    assert_signed_once_each(&hook, &deliveries);
    assert_eq!(
        user_types(&deliveries, &a),
        [
            "user.created",
            "user.updated",
            "user.updated",
            "user.updated"
        ],
        "{deliveries:#?}"
    );
    let names: Vec<&str> = deliveries
        .iter()
        .filter(|d| d["body"]["type"] == "user.updated")
        .map(|d| {
            d["body"]["user"]["name"]["familyName"]
                .as_str()
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(
        names,
        ["Ames", "Baker", "Cole"],
        "in order: {deliveries:#?}"
    );
    assert_eq!(
        user_types(&deliveries, &b),
        ["user.created", "user.deactivated"]
    );
    assert_eq!(hook.settle(Duration::from_secs(3)).len(), 6);
    // The log shows the retried ones: attempts above one, each delivered in the end, with the
    // failure they met.
    let log = admin_json(&["webhooks", "deliveries", &hook.id]);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 6, "{log:#?}");
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:#?}");
    let attempts: u64 = log.iter().map(|d| d["attempts"].as_u64().unwrap()).sum();
    assert_eq!(attempts, 6 + 5, "{log:#?}");
    assert!(
        log.iter()
            .any(|d| d["last_http_status"] == 204 && d["attempts"].as_u64() > Some(1)),
        "{log:#?}"
    );
}

#[test]
fn a_replay_to_a_webhook_delivers_the_same_ids_again() {
    let c = Client::new_tenant("hooks-replay");
    let hook = Hook::for_tenant(&c.tenant, &[]);
    let id = c
        .create_user(&format!("{}@replay.example", unique("rae")))
        .id();
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&format!("/Users/{id}"), &off).status, 200);
    let original = hook.wait_for(2);
    assert_eq!(types(&original), ["user.created", "user.deactivated"]);

    let replayed = admin_json(&[
        "events",
        "replay",
        "--tenant",
        &c.tenant,
        "--webhook",
        &hook.id,
    ]);
    assert_eq!(replayed["replayed"], 2, "{replayed}");
    let all = hook.wait_for(4);
    assert_eq!(all.len(), 4, "{all:#?}");
    for (again, first) in all[2..].iter().zip(&original) {
        assert_eq!(again["id"], first["id"], "the original id");
        assert_eq!(again["body"], first["body"]);
        assert_eq!(again["duplicate"], true, "the receiver can drop it by id");
    }
    // Through the admin Lambda, as the platform's backend would.
    let answer = admin_lambda(&json!({
        "command": "events.replay", "tenant": c.tenant, "webhook": hook.id,
    }));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(hook.wait_for(6).len(), 6);
}

#[test]
fn an_endpoint_of_some_types_receives_only_those_and_a_deleted_one_nothing() {
    let c = Client::new_tenant("hooks-types");
    let deactivations = Hook::for_tenant(&c.tenant, &["user.deactivated"]);
    let gone = Hook::for_tenant(&c.tenant, &[]);
    admin(&["webhooks", "delete", &gone.id]);
    std::thread::sleep(Duration::from_millis(1500));
    let id = c
        .create_user(&format!("{}@types.example", unique("tia")))
        .id();
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&format!("/Users/{id}"), &off).status, 200);

    let deliveries = deactivations.wait_for(1);
    assert_eq!(types(&deliveries), ["user.deactivated"]);
    assert_eq!(deactivations.settle(Duration::from_secs(3)).len(), 1);
    assert!(gone.deliveries().is_empty(), "{:#?}", gone.deliveries());
}

#[test]
fn after_a_rotation_deliveries_verify_with_the_new_secret_and_the_old_one() {
    let c = Client::new_tenant("hooks-rotate");
    let hook = Hook::for_tenant(&c.tenant, &[]);
    let rotated = admin_json(&["webhooks", "rotate", &hook.id]);
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, hook.secret);
    assert_eq!(rotated["previous_secret"], hook.secret.as_str());
    assert_eq!(rotated["endpoint"]["secret_generation"], 2);
    std::thread::sleep(Duration::from_millis(1500));

    // The receiver still holds the old secret: the old signature verifies.
    c.create_user(&format!("{}@rotate.example", unique("ria")));
    let first = hook.wait_for(1);
    assert_eq!(first.len(), 1, "{first:#?}");
    let signatures = first[0]["signature"].as_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    // The receiver switches to the new one: the new signature verifies.
    hook.configure(&json!({"secret": new_secret}));
    c.create_user(&format!("{}@rotate.example", unique("rob")));
    assert_eq!(hook.wait_for(2).len(), 2);
    assert_eq!(hook.state()["rejected"], 0);
    // `webhooks secret` shows both while they overlap.
    let shown = admin_json(&["webhooks", "secret", &hook.id]);
    assert_eq!(shown["secret"], new_secret.as_str());
    assert_eq!(shown["previous_secret"], hook.secret.as_str());
}

#[test]
fn bad_webhook_commands_are_refused_with_their_codes() {
    let c = Client::new_tenant("hooks-refusals");
    let other = Client::new_tenant("hooks-refusals-other");
    let refused = |command: Value, code: &str| {
        let answer = admin_lambda(&command);
        assert_eq!(answer["ok"], false, "{command}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{command}: {answer}");
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let message = refused(
        json!({"command": "webhooks.create", "url": "ftp://hooks.example.com/"}),
        "invalid_argument",
    );
    assert!(message.contains("url"), "{message}");
    refused(
        json!({"command": "webhooks.create", "url": "https://hooks.example.com/", "types": ["user.exploded"]}),
        "invalid_argument",
    );
    refused(
        json!({"command": "webhooks.create", "url": "https://hooks.example.com/", "tenant": unique("nobody")}),
        "tenant_not_found",
    );
    refused(
        json!({"command": "webhooks.rotate", "endpoint": "wh_0123456789abcdef0123456789abcdef"}),
        "webhook_not_found",
    );
    refused(
        json!({"command": "webhooks.deliveries", "endpoint": "../../etc"}),
        "webhook_not_found",
    );
    refused(
        json!({"command": "webhooks.delete", "endpoint": "WEBHOOKS"}),
        "webhook_not_found",
    );
    refused(
        json!({"command": "webhooks.secret", "endpoint": "wh_0123456789abcdef0123456789abcdef"}),
        "webhook_not_found",
    );
    let message = refused(
        json!({"command": "webhooks.create", "url": "https://hooks.example.com/", "format": "xml"}),
        "invalid_argument",
    );
    assert!(message.contains("format"), "{message}");
    // A tenant's endpoint cannot be made to replay another tenant's events.
    let hook = Hook::for_tenant(&c.tenant, &[]);
    // An overlap is at most a week, and a second rotation during one needs overlap_hours 0.
    refused(
        json!({"command": "webhooks.rotate", "endpoint": hook.id, "overlap_hours": 169}),
        "invalid_argument",
    );
    let first = admin_lambda(&json!({"command": "webhooks.rotate", "endpoint": hook.id}));
    assert_eq!(first["ok"], true, "{first}");
    let message = refused(
        json!({"command": "webhooks.rotate", "endpoint": hook.id}),
        "invalid_argument",
    );
    assert!(message.contains("overlap"), "{message}");
    let now = admin_lambda(
        &json!({"command": "webhooks.rotate", "endpoint": hook.id, "overlap_hours": 0}),
    );
    assert_eq!(now["result"]["endpoint"]["secret_generation"], 3, "{now}");
    assert!(now["result"].get("previous_secret").is_none(), "{now}");
    refused(
        json!({"command": "events.replay", "tenant": other.tenant, "webhook": hook.id}),
        "invalid_argument",
    );
    // The secret never appears in a listing.
    let listed = admin_lambda(&json!({"command": "webhooks.list", "tenant": c.tenant}));
    assert_eq!(listed["ok"], true);
    assert!(!listed.to_string().contains(&hook.secret[6..]), "{listed}");
    assert!(listed["result"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == hook.id.as_str()));
}

#[test]
fn a_set_endpoint_receives_rfc_9967_security_event_tokens_a_receiver_verifies() {
    let c = Client::new_tenant("hooks-set");
    let hook = Hook::for_tenant_as_sets(&c.tenant);
    let id = c
        .create_user(&format!("{}@set.example", unique("sam")))
        .id();
    let path = format!("/Users/{id}");
    let off = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(c.patch(&path, &off).status, 200);
    assert_eq!(c.delete(&path).status, 204);

    // Each verified by PyJWT at the receiver (HS256 with the endpoint's secret, typ
    // secevent+jwt, aud its URL) and by its Standard Webhooks signature; answered 202.
    let deliveries = hook.wait_for(3);
    assert_eq!(deliveries.len(), 3, "{deliveries:#?}");
    assert_eq!(hook.state()["rejected"], 0);
    let event_uris = |d: &Value| -> Vec<String> {
        let mut uris: Vec<String> = d["body"]["events"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        uris.sort();
        uris
    };
    let scim = |name: &str| format!("urn:ietf:params:scim:event:{name}");
    assert_eq!(
        event_uris(&deliveries[0]),
        [scim("feed:add"), scim("prov:create:notice")]
    );
    assert_eq!(event_uris(&deliveries[1]), [scim("prov:deactivate")]);
    assert_eq!(
        event_uris(&deliveries[2]),
        [scim("feed:remove"), scim("prov:delete")]
    );
    for d in &deliveries {
        assert_eq!(d["format"], "set");
        let claims = &d["body"];
        assert_eq!(claims["jti"], d["id"], "jti is the event id: {claims}");
        assert_eq!(claims["sub_id"]["format"], "scim");
        assert_eq!(claims["sub_id"]["uri"], format!("/Users/{id}"));
        assert_eq!(claims["iss"], integration_tests::base_url().as_str());
        assert_eq!(claims["tenant"], integration_tests::tenant_id(&c.tenant));
        assert_eq!(claims["provisioning_event"]["id"], claims["jti"]);
        assert!(claims["toe"].as_u64() <= claims["iat"].as_u64(), "{claims}");
    }
    let created = &deliveries[0]["body"]["events"][scim("prov:create:notice")];
    assert_eq!(created["version"], "W/\"1\"", "{created}");
}
