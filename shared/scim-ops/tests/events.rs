//! Provisioning events: the rules that turn one committed user or project change into events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use scim_core::ids::TenantId;
use scim_core::{PlatformRole, ProjectRole};
use scim_ops::events::{
    events_of, CommittedChange, EmailState, EventType, ItemChange, NameState, ProjectImage,
    ProjectState, ProvisioningEvent, SequenceOf, Subject, UserImage, UserState, SCHEMA_VERSION,
};
use serde_json::json;

const USER: &str = "a299ee0e-1a2f-47ae-bd05-39181ee6a2dc";
const PROJECT: &str = "58e28292-770e-42f7-a322-ad1f0359e03c";
const OTHER_PROJECT: &str = "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70";

fn user(version: u64) -> UserImage {
    UserImage {
        state: UserState {
            id: USER.into(),
            user_name: "bob@x.com".into(),
            emails: vec![EmailState {
                value: "bob@x.com".into(),
                kind: Some("work".into()),
                primary: true,
            }],
            name: NameState {
                given_name: Some("Bob".into()),
                family_name: Some("Smith".into()),
                formatted: None,
            },
            active: true,
            platform_role: PlatformRole::Member,
        },
        version,
        project_ids: BTreeSet::new(),
        deleted: false,
    }
}

fn project(version: u64) -> ProjectImage {
    ProjectImage {
        state: ProjectState {
            id: PROJECT.into(),
            name: "Apollo".into(),
            member_role: ProjectRole::Editor,
        },
        version,
        deleted: false,
    }
}

fn change(item: ItemChange) -> CommittedChange {
    CommittedChange {
        source_id: "30d91ec5c5b84870a0c0c66e2be5b659".into(),
        tenant: TenantId::parse("acme").unwrap(),
        time: "2026-11-23T00:39:21.657Z".into(),
        actor: "scim_9d9a5aed".into(),
        item,
    }
}

fn user_change(before: Option<UserImage>, after: Option<UserImage>) -> Vec<ProvisioningEvent> {
    events_of(&change(ItemChange::User { before, after }))
}

fn project_change(
    before: Option<ProjectImage>,
    after: Option<ProjectImage>,
) -> Vec<ProvisioningEvent> {
    events_of(&change(ItemChange::Project { before, after }))
}

fn kinds(events: &[ProvisioningEvent]) -> Vec<EventType> {
    events.iter().map(|e| e.kind).collect()
}

fn memberships(events: &[ProvisioningEvent]) -> Vec<(EventType, String)> {
    events
        .iter()
        .filter_map(|e| match &e.subject {
            Subject::Membership(m) => Some((e.kind, m.project_id.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_user_is_one_user_created_at_its_first_version() {
    let events = user_change(None, Some(user(1)));
    assert_eq!(kinds(&events), [EventType::UserCreated]);
    let event = &events[0];
    assert_eq!(event.v, SCHEMA_VERSION);
    assert_eq!(event.id, "30d91ec5c5b84870a0c0c66e2be5b659.0");
    assert_eq!(event.tenant, "acme");
    assert_eq!(event.actor, "scim_9d9a5aed");
    assert_eq!(event.time, "2026-11-23T00:39:21.657Z");
    assert_eq!(event.seq, 1);
    assert_eq!(event.subject, Subject::User(user(1).state));
}

#[test]
fn a_deactivation_alone_is_exactly_one_user_deactivated() {
    let mut after = user(4);
    after.state.active = false;
    let events = user_change(Some(user(3)), Some(after.clone()));
    assert_eq!(kinds(&events), [EventType::UserDeactivated]);
    assert_eq!(events[0].seq, 4);
    assert_eq!(events[0].subject, Subject::User(after.state));
}

#[test]
fn a_reactivation_is_one_user_reactivated() {
    let mut before = user(4);
    before.state.active = false;
    let events = user_change(Some(before), Some(user(5)));
    assert_eq!(kinds(&events), [EventType::UserReactivated]);
}

#[test]
fn a_deactivation_with_a_rename_is_updated_then_deactivated_with_one_seq() {
    let mut after = user(4);
    after.state.active = false;
    after.state.user_name = "robert@x.com".into();
    let events = user_change(Some(user(3)), Some(after));
    assert_eq!(
        kinds(&events),
        [EventType::UserUpdated, EventType::UserDeactivated]
    );
    assert!(events.iter().all(|e| e.seq == 4));
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "30d91ec5c5b84870a0c0c66e2be5b659.0",
            "30d91ec5c5b84870a0c0c66e2be5b659.1"
        ]
    );
}

#[test]
fn emails_and_name_changes_are_user_updated() {
    let mut emails = user(2);
    emails.state.emails.push(EmailState {
        value: "bob@home.example".into(),
        kind: Some("home".into()),
        primary: false,
    });
    assert_eq!(
        kinds(&user_change(Some(user(1)), Some(emails))),
        [EventType::UserUpdated]
    );
    let mut name = user(2);
    name.state.name.formatted = Some("Bob Smith".into());
    assert_eq!(
        kinds(&user_change(Some(user(1)), Some(name))),
        [EventType::UserUpdated]
    );
}

#[test]
fn a_platform_role_change_is_its_own_event_beside_an_update() {
    let mut role = user(2);
    role.state.platform_role = PlatformRole::Admin;
    assert_eq!(
        kinds(&user_change(Some(user(1)), Some(role.clone()))),
        [EventType::UserPlatformRoleChanged]
    );
    role.state.name.given_name = Some("Robert".into());
    assert_eq!(
        kinds(&user_change(Some(user(1)), Some(role))),
        [EventType::UserUpdated, EventType::UserPlatformRoleChanged]
    );
}

#[test]
fn a_version_bump_alone_is_no_event() {
    assert!(user_change(Some(user(1)), Some(user(2))).is_empty());
    assert!(project_change(Some(project(1)), Some(project(2))).is_empty());
}

#[test]
fn joining_and_leaving_projects_is_one_member_event_per_project() {
    let mut before = user(3);
    before.project_ids.insert(OTHER_PROJECT.into());
    let mut after = user(4);
    after.project_ids.insert(PROJECT.into());
    let events = user_change(Some(before), Some(after));
    assert_eq!(
        memberships(&events),
        [
            (EventType::ProjectMemberAdded, PROJECT.to_string()),
            (EventType::ProjectMemberRemoved, OTHER_PROJECT.to_string()),
        ]
    );
    assert!(events.iter().all(|e| e.seq == 4));
    let Subject::Membership(m) = &events[0].subject else {
        panic!("membership")
    };
    assert_eq!(m.user_id, USER);
    assert_eq!(m.project_role, None, "not on the user item");
}

#[test]
fn a_deleted_marker_removes_memberships_then_deletes_the_user() {
    let mut before = user(4);
    before.project_ids = [PROJECT.to_string(), OTHER_PROJECT.to_string()].into();
    let mut after = user(5);
    after.deleted = true;
    after.state.active = false;
    let events = user_change(Some(before), Some(after));
    assert_eq!(
        kinds(&events),
        [
            EventType::ProjectMemberRemoved,
            EventType::ProjectMemberRemoved,
            EventType::UserDeleted
        ]
    );
    assert!(events.iter().all(|e| e.seq == 5));
}

#[test]
fn a_removed_item_is_deleted_one_version_past_its_last() {
    let events = user_change(Some(user(7)), None);
    assert_eq!(kinds(&events), [EventType::UserDeleted]);
    assert_eq!(events[0].seq, 8);
    let events = project_change(Some(project(3)), None);
    assert_eq!(kinds(&events), [EventType::ProjectDeleted]);
    assert_eq!(events[0].seq, 4);
}

#[test]
fn a_deleted_marker_touched_or_removed_again_is_no_event() {
    let mut marker = user(5);
    marker.deleted = true;
    let mut later = marker.clone();
    later.version = 6;
    assert!(user_change(Some(marker.clone()), Some(later)).is_empty());
    assert!(user_change(Some(marker.clone()), None).is_empty());
    assert!(user_change(None, Some(marker)).is_empty());
    let mut gone = project(3);
    gone.deleted = true;
    assert!(project_change(Some(gone.clone()), None).is_empty());
    assert!(project_change(Some(gone.clone()), Some(gone)).is_empty());
}

#[test]
fn projects_are_created_renamed_and_deleted() {
    assert_eq!(
        kinds(&project_change(None, Some(project(1)))),
        [EventType::ProjectCreated]
    );
    let mut renamed = project(2);
    renamed.state.name = "Artemis".into();
    let events = project_change(Some(project(1)), Some(renamed.clone()));
    assert_eq!(kinds(&events), [EventType::ProjectRenamed]);
    assert_eq!(events[0].subject, Subject::Project(renamed.state));
    let mut deleted = project(3);
    deleted.deleted = true;
    let events = project_change(Some(project(2)), Some(deleted));
    assert_eq!(kinds(&events), [EventType::ProjectDeleted]);
    assert_eq!(events[0].seq, 3);
}

#[test]
fn the_same_change_always_gives_the_same_events() {
    let mut after = user(4);
    after.state.active = false;
    after.project_ids.insert(PROJECT.into());
    let once = user_change(Some(user(3)), Some(after.clone()));
    let again = user_change(Some(user(3)), Some(after));
    assert_eq!(once, again);
}

#[test]
fn events_round_trip_as_the_documented_json() {
    let events = user_change(None, Some(user(1)));
    let wire = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        wire,
        json!({
            "v": 1,
            "id": "30d91ec5c5b84870a0c0c66e2be5b659.0",
            "type": "user.created",
            "tenant": "acme",
            "time": "2026-11-23T00:39:21.657Z",
            "actor": "scim_9d9a5aed",
            "seq": 1,
            "user": {
                "id": USER,
                "userName": "bob@x.com",
                "emails": [{"value": "bob@x.com", "type": "work", "primary": true}],
                "name": {"givenName": "Bob", "familyName": "Smith"},
                "active": true,
                "platformRole": "MEMBER"
            }
        })
    );
    let back: ProvisioningEvent = serde_json::from_value(wire).unwrap();
    assert_eq!(back, events[0]);
    let mut member = user(2);
    member.project_ids.insert(PROJECT.into());
    let added = &user_change(Some(user(1)), Some(member))[0];
    let wire = serde_json::to_value(added).unwrap();
    assert_eq!(
        wire["membership"],
        json!({"userId": USER, "projectId": PROJECT})
    );
    let project = &project_change(None, Some(project(1)))[0];
    assert_eq!(
        serde_json::to_value(project).unwrap()["project"],
        json!({"id": PROJECT, "name": "Apollo", "memberRole": "EDITOR"})
    );
}

#[test]
fn every_event_type_has_its_documented_name() {
    let names: Vec<String> = EventType::ALL
        .iter()
        .map(|t| {
            serde_json::to_value(t)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated",
            "user.deleted",
            "user.platform_role_changed",
            "project.created",
            "project.renamed",
            "project.deleted",
            "project.member_added",
            "project.member_removed",
            "project.member_role_changed",
        ]
    );
    assert!(EventType::ALL
        .iter()
        .all(|t| names.contains(&t.as_str().to_string())));
    assert_eq!(EventType::ProjectRenamed.ordered_by(), SequenceOf::Project);
    assert_eq!(EventType::ProjectMemberAdded.ordered_by(), SequenceOf::User);
}

#[test]
fn the_user_state_reads_emails_and_name_from_the_document() {
    let doc = json!({
        "userName": "bob@x.com",
        "title": "not platform-facing",
        "emails": [{"value": "bob@x.com", "type": "work", "primary": true},
                   {"value": "b@home.example"}, {"type": "no value"}],
        "name": {"givenName": "Bob", "familyName": "Smith", "formatted": "Bob Smith"}
    });
    let state = UserState::from_document(USER, "bob@x.com", false, PlatformRole::Operator, &doc);
    assert_eq!(state.emails.len(), 2);
    assert_eq!(state.emails[1].kind, None);
    assert!(!state.emails[1].primary);
    assert_eq!(state.name.formatted.as_deref(), Some("Bob Smith"));
    assert!(!state.active);
    let bare = UserState::from_document(USER, "bob", true, PlatformRole::Member, &json!({}));
    assert!(bare.emails.is_empty());
    assert_eq!(bare.name, NameState::default());
}
