//! Races an IdP really produces: retried creates of one user arriving together (Okta and Entra
//! both retry on timeouts, and Entra runs several workers per tenant), and two updates of the
//! same user in flight at once.

use std::sync::Barrier;

use integration_tests::{find_users, patch_body, resources, unique, Client, Resp};
use serde_json::json;

const RACERS: usize = 8;

/// Runs `request(i)` for i in 0..n on n threads released together.
fn race(n: usize, request: impl Fn(usize) -> Resp + Sync) -> Vec<Resp> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, request) = (&barrier, &request);
                s.spawn(move || {
                    barrier.wait();
                    request(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn eight_concurrent_creates_of_one_user_name_yield_one_201_and_seven_409() {
    let c = Client::new_tenant("race");
    let name = format!("{}@race.example", unique("same"));
    let responses = race(RACERS, |i| {
        // Differently cased spellings of one userName are the same user.
        let spelled = if i % 2 == 0 {
            name.clone()
        } else {
            name.to_uppercase()
        };
        c.post(
            "/Users",
            &json!({"userName": spelled, "externalId": unique("ext"),
                    "emails": [{"value": name, "type": "work", "primary": true}]}),
        )
    });
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    let created: Vec<&Resp> = responses.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1, "exactly one create wins: {statuses:?}");
    for r in responses.iter().filter(|r| r.status != 201) {
        r.assert_scim_error(409, Some("uniqueness"));
    }
    let found = find_users(&c, &format!("userName eq \"{name}\""));
    assert_eq!(found.total(), 1, "{}", found.raw);
    assert_eq!(resources(&found)[0]["id"], created[0].id());
    let all = c.get("/Users");
    assert_eq!(all.total(), 1, "no half-created users: {}", all.raw);
    let by_email = find_users(&c, &format!("emails.value eq \"{name}\""));
    assert_eq!(by_email.total(), 1, "{}", by_email.raw);
}

#[test]
fn two_concurrent_patches_on_different_attributes_both_land() {
    let c = Client::new_tenant("race");
    let id = c
        .create_user(&format!("{}@race.example", unique("two")))
        .id();
    for round in 0..4 {
        let title = format!("Title {round}");
        let nick = format!("Nick {round}");
        let responses = race(2, |i| {
            let op = if i == 0 {
                json!({"op": "replace", "path": "title", "value": title})
            } else {
                json!({"op": "replace", "path": "nickName", "value": nick})
            };
            c.patch(&format!("/Users/{id}"), &patch_body(json!([op])))
        });
        for r in &responses {
            assert_eq!(r.status, 200, "round {round}: {}", r.raw);
        }
        let got = c.get(&format!("/Users/{id}")).body;
        assert_eq!(got["title"], title.as_str(), "round {round}: {got}");
        assert_eq!(got["nickName"], nick.as_str(), "round {round}: {got}");
    }
}

#[test]
fn a_concurrent_deactivation_and_profile_update_both_land() {
    let c = Client::new_tenant("race");
    let id = c
        .create_user(&format!("{}@race.example", unique("deact")))
        .id();
    let responses = race(2, |i| {
        let body = if i == 0 {
            patch_body(json!([{"op": "replace", "value": {"active": false}}]))
        } else {
            patch_body(json!([{"op": "Replace", "path": "name.familyName", "value": "Raced"}]))
        };
        c.patch(&format!("/Users/{id}"), &body)
    });
    for r in &responses {
        assert_eq!(r.status, 200, "{}", r.raw);
    }
    let got = c.get(&format!("/Users/{id}")).body;
    assert_eq!(got["active"], false, "{got}");
    assert_eq!(got["name"]["familyName"], "Raced", "{got}");
}
