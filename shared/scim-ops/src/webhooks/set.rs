//! The standard shape, as an option per endpoint (`format: set`): each event as a Security
//! Event Token (RFC 8417) carrying SCIM events (RFC 9967), POSTed as
//! `application/secevent+jwt` (RFC 8935 push delivery).
//!
//! ## The token
//! A JWS compact serialisation, `HS256` with the endpoint's signing secret (the 32 bytes behind
//! its `whsec_`), header `{"alg": "HS256", "typ": "secevent+jwt", "kid": "<endpoint>.<generation>"}`.
//! Claims: `iss` (the deployment), `iat` (this delivery), `toe` (when the change was made),
//! `jti` (the event id: stable across redeliveries and replays), `aud` (the endpoint URL),
//! `txn` (the committed change: events of one change share it), `sub_id` (RFC 9493 `scim`
//! format: the resource's relative `uri`, `/Users/<id>` or `/Groups/<id>`), `events` (the SCIM
//! event URIs below), and two private claims: `tenant`, and `provisioning_event` (the event in
//! this service's own schema, for a consumer that wants the platform-facing state as well).
//!
//! The token is signed with the current secret only (a JWS compact serialisation holds one
//! signature); its `kid` names the generation, so during a rotation's overlap a receiver picks
//! the secret by `kid` (`webhooks secret` shows both).
//!
//! ## The mapping
//! | event | SET events (`urn:ietf:params:scim:event:` ...) | subject |
//! |---|---|---|
//! | `user.created` | `feed:add`, `prov:create:notice` | the user |
//! | `user.updated` | `prov:patch:notice` (`userName`, `name`, `emails`) | the user |
//! | `user.platform_role_changed` | `prov:patch:notice` (the extension's `platformRole`) | the user |
//! | `user.deactivated` / `user.reactivated` | `prov:deactivate` / `prov:activate` | the user |
//! | `user.deleted` | `prov:delete`, `feed:remove` | the user |
//! | `project.created` | `feed:add`, `prov:create:notice` | the group |
//! | `project.renamed` | `prov:patch:notice` (`displayName`) | the group |
//! | `project.deleted` | `prov:delete`, `feed:remove` | the group |
//! | `project.member_added` / `_removed` / `_role_changed` | `prov:patch:notice` (`members`) | the group |
//!
//! Notices name the attributes and carry the version the resource reached (`W/"<seq>"`) where
//! `seq` is that resource's; a receiver that wants the SCIM representation GETs the `uri`. The
//! whole feed is the tenant, so a resource joins it when created and leaves it when deleted.
//!
//! A hand-written encoder rather than a JWT crate: it only signs our own claims with HMAC, which
//! the Standard Webhooks signature already does with the same primitives; the tests decode the
//! tokens with an independent implementation (PyJWT at the local receiver).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::signing::EndpointSecret;
use crate::events::{EventType, ProvisioningEvent, Subject};

/// The media type of a delivery in the standard shape.
pub const SET_CONTENT_TYPE: &str = "application/secevent+jwt";
const EVENT_URI: &str = "urn:ietf:params:scim:event:";

/// Who issues the tokens, and how the platform role attribute is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetIssuer {
    /// `iss`: the deployment's public base URL, or `urn:scim-serverless:<stack>`.
    pub issuer: String,
    /// The platform extension's URN (`SCIM_PLATFORM_SCHEMA_URN`).
    pub platform_schema_urn: String,
}

/// The SCIM event URIs and payloads of one event, and the `sub_id` `uri`.
fn scim_events(event: &ProvisioningEvent, issuer: &SetIssuer) -> (String, Map<String, Value>) {
    let version = json!(format!("W/\"{}\"", event.seq));
    let notice = |attributes: Vec<String>, with_version: bool| {
        let mut payload = json!({ "attributes": attributes });
        if with_version {
            payload["version"] = version.clone();
        }
        payload
    };
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let uri = match &event.subject {
        Subject::User(u) => format!("/Users/{}", u.id),
        Subject::Project(p) => format!("/Groups/{}", p.id),
        Subject::Membership(m) => format!("/Groups/{}", m.project_id),
    };
    // A membership event's seq is the user's version, not the group's: its notice has none.
    let own_version = !matches!(event.subject, Subject::Membership(_));
    let mut events = Map::new();
    let mut add = |name: &str, payload: Value| {
        events.insert(format!("{EVENT_URI}{name}"), payload);
    };
    match event.kind {
        EventType::UserCreated => {
            add("feed:add", json!({}));
            let attributes = names(&["userName", "name", "emails", "active"]);
            add("prov:create:notice", notice(attributes, own_version));
        }
        EventType::ProjectCreated => {
            add("feed:add", json!({}));
            add(
                "prov:create:notice",
                notice(names(&["displayName"]), own_version),
            );
        }
        EventType::UserUpdated => add(
            "prov:patch:notice",
            notice(names(&["userName", "name", "emails"]), own_version),
        ),
        EventType::UserPlatformRoleChanged => add(
            "prov:patch:notice",
            notice(
                vec![format!("{}:platformRole", issuer.platform_schema_urn)],
                own_version,
            ),
        ),
        EventType::ProjectRenamed => add(
            "prov:patch:notice",
            notice(names(&["displayName"]), own_version),
        ),
        EventType::UserDeactivated => add("prov:deactivate", json!({})),
        EventType::UserReactivated => add("prov:activate", json!({})),
        EventType::UserDeleted | EventType::ProjectDeleted => {
            add("prov:delete", json!({}));
            add("feed:remove", json!({}));
        }
        EventType::ProjectMemberAdded
        | EventType::ProjectMemberRemoved
        | EventType::ProjectMemberRoleChanged => {
            add("prov:patch:notice", notice(names(&["members"]), false));
        }
    }
    (uri, events)
}

/// The token's claims.
pub fn claims(
    event: &ProvisioningEvent,
    audience: &str,
    issued_at: u64,
    issuer: &SetIssuer,
) -> Value {
    let (uri, events) = scim_events(event, issuer);
    // The change's id: an event id is `<change>.<n>`.
    let txn = event
        .id
        .rsplit_once('.')
        .map_or(event.id.as_str(), |(change, _)| change);
    // The change's time, as epoch seconds (RFC 8417 `toe`); the item's stamp is always RFC 3339.
    let toe = crate::time_epoch(&event.time).unwrap_or(issued_at);
    json!({
        "iss": issuer.issuer,
        "iat": issued_at,
        "toe": toe,
        "jti": event.id,
        "aud": audience,
        "txn": txn,
        "sub_id": {"format": "scim", "uri": uri},
        "events": events,
        "tenant": event.tenant,
        "provisioning_event": event,
    })
}

/// The signed token (JWS compact, HS256).
pub fn security_event_token(
    event: &ProvisioningEvent,
    audience: &str,
    issued_at: u64,
    issuer: &SetIssuer,
    secret: &EndpointSecret,
    key_id: &str,
) -> String {
    let header = json!({"alg": "HS256", "typ": "secevent+jwt", "kid": key_id});
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let signing_input = format!(
        "{}.{}",
        encode(&header),
        encode(&claims(event, audience, issued_at, issuer))
    );
    let signature = URL_SAFE_NO_PAD.encode(secret.mac(signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::events::{MembershipState, NameState, UserState};
    use crate::webhooks::signing::WebhookKey;
    use scim_core::PlatformRole;

    fn issuer() -> SetIssuer {
        SetIssuer {
            issuer: "https://scim.example.com/scim/v2".into(),
            platform_schema_urn: "urn:ietf:params:scim:schemas:extension:platform:2.0:User".into(),
        }
    }

    fn event(kind: EventType, subject: Subject) -> ProvisioningEvent {
        ProvisioningEvent {
            v: 1,
            id: "f00d.1".into(),
            kind,
            tenant: "acme".into(),
            time: "2026-12-05T08:00:00Z".into(),
            actor: "scim_9d9a5aed".into(),
            seq: 4,
            subject,
        }
    }

    fn user() -> Subject {
        Subject::User(UserState {
            id: "u1".into(),
            user_name: "ann@example.com".into(),
            emails: vec![],
            name: NameState::default(),
            active: false,
            platform_role: PlatformRole::Member,
        })
    }

    #[test]
    fn a_deactivation_is_prov_deactivate_about_the_user() {
        let c = claims(
            &event(EventType::UserDeactivated, user()),
            "https://hooks.example.com/in",
            1_800_000_000,
            &issuer(),
        );
        assert_eq!(c["jti"], "f00d.1");
        assert_eq!(c["txn"], "f00d");
        assert_eq!(c["aud"], "https://hooks.example.com/in");
        assert_eq!(c["iat"], 1_800_000_000u64);
        assert_eq!(c["sub_id"], json!({"format": "scim", "uri": "/Users/u1"}));
        assert_eq!(
            c["events"],
            json!({"urn:ietf:params:scim:event:prov:deactivate": {}})
        );
        assert_eq!(c["provisioning_event"]["type"], "user.deactivated");
        assert_eq!(c["toe"], 1_796_457_600u64, "2026-12-05T08:00:00Z");
    }

    #[test]
    fn a_creation_joins_the_feed_with_a_versioned_notice() {
        let c = claims(&event(EventType::UserCreated, user()), "a", 0, &issuer());
        let events = c["events"].as_object().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events["urn:ietf:params:scim:event:feed:add"], json!({}));
        let notice = &events["urn:ietf:params:scim:event:prov:create:notice"];
        assert_eq!(notice["version"], "W/\"4\"");
        assert_eq!(notice["attributes"][0], "userName");
    }

    #[test]
    fn a_membership_is_a_notice_on_the_group_without_the_users_version() {
        let m = Subject::Membership(MembershipState {
            user_id: "u1".into(),
            project_id: "g1".into(),
            project_role: None,
        });
        let c = claims(&event(EventType::ProjectMemberAdded, m), "a", 0, &issuer());
        assert_eq!(c["sub_id"]["uri"], "/Groups/g1");
        let notice = &c["events"]["urn:ietf:params:scim:event:prov:patch:notice"];
        assert_eq!(notice, &json!({"attributes": ["members"]}));
    }

    #[test]
    fn the_token_is_hs256_over_header_and_claims_with_the_endpoint_secret() {
        let secret = WebhookKey::new(&[9u8; 32])
            .unwrap()
            .endpoint_secret("wh_a", 1);
        let token = security_event_token(
            &event(EventType::UserDeleted, user()),
            "a",
            0,
            &issuer(),
            &secret,
            "wh_a.1",
        );
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            header,
            json!({"alg": "HS256", "typ": "secevent+jwt", "kid": "wh_a.1"})
        );
        let expected = secret.mac(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap(), expected);
        let body: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert!(body["events"]
            .as_object()
            .unwrap()
            .contains_key("urn:ietf:params:scim:event:feed:remove"));
    }
}
