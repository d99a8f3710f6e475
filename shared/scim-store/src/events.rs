//! Provisioning events from the table's stream: each record of a user or group item is decoded
//! into a [`CommittedChange`] (the item shapes of [`crate::items`], so attribute names stay in
//! one place) and the rules of [`scim_ops::events`] say which events it means. Records of every
//! other item (memberships, guards, email index, counts, page positions, rate counters, tokens,
//! tenants, audit) mean none: membership events come from the user item's `group_ids`, which
//! every membership change writes.

use scim_core::ids::TenantId;
use scim_ops::events::publish::RecordEvents;
use scim_ops::events::{
    events_of, CommittedChange, ItemChange, ProjectImage, ProjectState, ProvisioningEvent,
    UserImage, UserState, UNKNOWN_ACTOR,
};
use serde_json::Value;

use crate::items::{self, GroupItem, UserItem};
use crate::stream::{self, StreamError, StreamRecord};

/// The provisioning events of a whole Lambda event (`{"Records": [...]}`), in record order.
pub fn provisioning_events(event: &Value) -> Result<Vec<ProvisioningEvent>, StreamError> {
    let mut out = Vec::new();
    for record in stream::records(event)? {
        out.extend(record_events(&record)?);
    }
    Ok(out)
}

/// The events of each record of a Lambda event, in order, with the record's sequence number.
/// A record that cannot be read ends the list and comes back as the error beside it, with its
/// sequence number when it has one, so the consumer publishes what precedes it and has Lambda
/// retry from it.
pub fn events_by_record(event: &Value) -> (Vec<RecordEvents>, Option<UnreadRecord>) {
    let Some(list) = event.get("Records").and_then(Value::as_array) else {
        return (
            Vec::new(),
            Some(UnreadRecord {
                sequence_number: None,
                error: StreamError::Malformed("no Records list".into()),
            }),
        );
    };
    let mut out = Vec::with_capacity(list.len());
    for raw in list {
        let sequence_number = raw
            .pointer("/dynamodb/SequenceNumber")
            .and_then(Value::as_str)
            .map(str::to_string);
        let read = serde_json::from_value::<StreamRecord>(raw.clone())
            .map_err(|e| StreamError::Malformed(format!("record: {e}")))
            .and_then(|record| record_events(&record));
        match (read, sequence_number) {
            (Ok(events), Some(sequence_number)) => out.push(RecordEvents {
                sequence_number,
                events,
            }),
            (Ok(_), None) => {
                return (
                    out,
                    Some(UnreadRecord {
                        sequence_number: None,
                        error: StreamError::Malformed("a record without SequenceNumber".into()),
                    }),
                )
            }
            (Err(error), sequence_number) => {
                return (
                    out,
                    Some(UnreadRecord {
                        sequence_number,
                        error,
                    }),
                )
            }
        }
    }
    (out, None)
}

/// A stream record that could not be read into events.
#[derive(Debug)]
pub struct UnreadRecord {
    pub sequence_number: Option<String>,
    pub error: StreamError,
}

/// The events of one stream record (none for items the platform does not see).
pub fn record_events(record: &StreamRecord) -> Result<Vec<ProvisioningEvent>, StreamError> {
    Ok(committed_change(record)?
        .map(|change| events_of(&change))
        .unwrap_or_default())
}

/// The committed change a record holds, when it is a user's or a group's.
pub fn committed_change(record: &StreamRecord) -> Result<Option<CommittedChange>, StreamError> {
    let data = &record.dynamodb;
    match record.entity_type().as_deref() {
        Some(items::USER) => {
            let before: Option<UserItem> = stream::decode(data.old_image.as_ref(), "old user")?;
            let after: Option<UserItem> = stream::decode(data.new_image.as_ref(), "new user")?;
            let Some(current) = after.as_ref().or(before.as_ref()) else {
                return Ok(None);
            };
            let stamp = Stamp {
                tenant: &current.tenant_id,
                last_modified: after.as_ref().map(|u| u.last_modified.as_str()),
                modified_by: after.as_ref().and_then(|u| u.modified_by.as_deref()),
            };
            let item = ItemChange::User {
                before: before.as_ref().map(user_image),
                after: after.as_ref().map(user_image),
            };
            stamp.change(record, item).map(Some)
        }
        Some(items::GROUP) => {
            let before: Option<GroupItem> = stream::decode(data.old_image.as_ref(), "old group")?;
            let after: Option<GroupItem> = stream::decode(data.new_image.as_ref(), "new group")?;
            let Some(current) = after.as_ref().or(before.as_ref()) else {
                return Ok(None);
            };
            let stamp = Stamp {
                tenant: &current.tenant_id,
                last_modified: after.as_ref().map(|g| g.last_modified.as_str()),
                modified_by: after.as_ref().and_then(|g| g.modified_by.as_deref()),
            };
            let item = ItemChange::Project {
                before: before.as_ref().map(project_image),
                after: after.as_ref().map(project_image),
            };
            stamp.change(record, item).map(Some)
        }
        _ => Ok(None),
    }
}

/// Who and when, from the item after the change; an item removed outright has neither, so
/// its change is timed by the stream and its actor is unknown.
struct Stamp<'a> {
    tenant: &'a str,
    last_modified: Option<&'a str>,
    modified_by: Option<&'a str>,
}

impl Stamp<'_> {
    fn change(
        self,
        record: &StreamRecord,
        item: ItemChange,
    ) -> Result<CommittedChange, StreamError> {
        let tenant = TenantId::parse(self.tenant)
            .ok_or_else(|| StreamError::Malformed("item without a valid tenant_id".into()))?;
        let time = match self.last_modified {
            Some(at) => at.to_string(),
            None => record.approximate_time()?,
        };
        Ok(CommittedChange {
            source_id: record.event_id.clone(),
            tenant,
            time,
            actor: self.modified_by.unwrap_or(UNKNOWN_ACTOR).to_string(),
            item,
        })
    }
}

pub(crate) fn user_image(item: &UserItem) -> UserImage {
    UserImage {
        state: UserState::from_document(
            &item.id,
            &item.user_name,
            item.active,
            item.platform_role,
            &item.doc,
        ),
        version: item.version,
        project_ids: item.group_ids.iter().cloned().collect(),
        deleted: item.deleted_at.is_some(),
    }
}

pub(crate) fn project_image(item: &GroupItem) -> ProjectImage {
    ProjectImage {
        state: ProjectState {
            id: item.id.clone(),
            name: item.display_name.clone(),
            member_role: item.project_role,
        },
        version: item.version,
        deleted: item.deleted_at.is_some(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use scim_core::{PlatformRole, ProjectRole};
    use scim_ops::events::Subject;
    use serde_json::json;

    /// The audit's captured local-stack flow (see `audit::tests::MOTO_FLOW`): a user created,
    /// PATCHed (displayName and department), deactivated, a group created, the user added to it,
    /// the user deleted; with the tenant, guard, email and membership records between.
    const MOTO_FLOW: &str = include_str!("../tests/fixtures/dynamodb_stream/moto_scim_flow.json");
    const TENANT: &str = "4b0030ed-3ec8-44e2-a16c-854926a64d23";
    const USER: &str = "a299ee0e-1a2f-47ae-bd05-39181ee6a2dc";
    const GROUP: &str = "58e28292-770e-42f7-a322-ad1f0359e03c";
    const ACTOR: &str = "scim_9d9a5aed";

    // Indexes of records in the flow.
    const USER_CREATED: usize = 1;
    const USER_PATCHED: usize = 4;
    const USER_DEACTIVATED: usize = 5;
    const GROUP_CREATED: usize = 6;
    const GROUP_VERSION_BUMP: usize = 8;
    const MEMBERSHIP_INSERTED: usize = 10;
    const USER_JOINED: usize = 11;
    const MEMBERSHIP_REMOVED: usize = 14;
    const USER_DELETED: usize = 15;

    fn flow() -> Value {
        serde_json::from_str(MOTO_FLOW).unwrap()
    }

    fn record(index: usize) -> Value {
        flow()["Records"][index].clone()
    }

    fn events(records: Vec<Value>) -> Vec<ProvisioningEvent> {
        provisioning_events(&json!({ "Records": records })).unwrap()
    }

    fn kinds(events: &[ProvisioningEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.as_str()).collect()
    }

    fn user_state(event: &ProvisioningEvent) -> &UserState {
        match &event.subject {
            Subject::User(user) => user,
            other => panic!("not a user event: {other:?}"),
        }
    }

    /// `record` with its old and new images swapped (a change played backwards).
    fn reversed(mut record: Value, event_id: &str) -> Value {
        record["eventID"] = json!(event_id);
        let data = &mut record["dynamodb"];
        let old = data["OldImage"].take();
        data["OldImage"] = data["NewImage"].take();
        data["NewImage"] = old;
        record
    }

    /// A MODIFY of the group PATCH's user record for another user, as each member of one PATCH
    /// is its own user item change.
    fn member_change(template: usize, user: &str, event_id: &str) -> Value {
        let mut r = record(template);
        r["eventID"] = json!(event_id);
        for image in ["OldImage", "NewImage"] {
            let image = &mut r["dynamodb"][image];
            image["id"] = json!({ "S": user });
            image["pk"] = json!({ "S": format!("TENANT#{TENANT}#USER#{user}") });
        }
        r
    }

    #[test]
    fn a_scim_flow_becomes_the_platforms_events_in_order() {
        let events = provisioning_events(&flow()).unwrap();
        assert_eq!(
            kinds(&events),
            [
                "user.created",
                "user.deactivated",
                "project.created",
                "project.member_added",
                "project.member_removed",
                "user.deleted",
            ]
        );
        assert!(events
            .iter()
            .all(|e| e.tenant == TENANT && e.actor == ACTOR));
        assert!(events.iter().all(|e| e.v == 1));
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 3, 1, 4, 5, 5]);
        assert_eq!(events[0].time, "2026-11-23T00:39:21.657Z", "last_modified");
        let created = user_state(&events[0]);
        assert_eq!(created.user_name, "bob@x.com");
        assert_eq!(created.emails[0].value, "bob@x.com");
        assert_eq!(created.name.given_name.as_deref(), Some("Bob"));
        assert_eq!(created.platform_role, PlatformRole::Member);
        assert!(created.active);
        assert!(!user_state(&events[1]).active);
        let Subject::Project(project) = &events[2].subject else {
            panic!("project")
        };
        assert_eq!(
            (
                project.id.as_str(),
                project.name.as_str(),
                project.member_role
            ),
            (GROUP, "G1", ProjectRole::Editor)
        );
        let Subject::Membership(member) = &events[3].subject else {
            panic!("membership")
        };
        assert_eq!(
            (member.user_id.as_str(), member.project_id.as_str()),
            (USER, GROUP)
        );
    }

    #[test]
    fn a_user_s_events_are_ordered_by_its_version() {
        let events = provisioning_events(&flow()).unwrap();
        let user_seqs: Vec<u64> = events
            .iter()
            .filter(|e| !matches!(e.subject, Subject::Project(_)))
            .map(|e| e.seq)
            .collect();
        assert!(user_seqs.windows(2).all(|w| w[0] <= w[1]), "{user_seqs:?}");
        let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), events.len(), "ids are unique");
    }

    #[test]
    fn a_redelivered_record_gives_identical_events() {
        let first = events(vec![record(USER_DELETED)]);
        let again = events(vec![record(USER_DELETED)]);
        assert_eq!(first, again);
        let ids: Vec<&str> = first.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "2444458b07304f50b683020412851a50.0",
                "2444458b07304f50b683020412851a50.1"
            ]
        );
    }

    #[test]
    fn items_the_platform_does_not_see_give_no_event() {
        let records = flow()["Records"].as_array().unwrap().clone();
        let others: Vec<Value> = records
            .into_iter()
            .filter(|r| {
                let image = r["dynamodb"]
                    .get("NewImage")
                    .or(r["dynamodb"].get("OldImage"))
                    .unwrap();
                !matches!(image["type"]["S"].as_str(), Some("User" | "Group"))
            })
            .collect();
        assert!(others.len() >= 7, "tenant, guards, emails, memberships");
        let counter = json!({"eventID": "c", "eventName": "MODIFY", "dynamodb": {
            "ApproximateCreationDateTime": 1_795_394_400,
            "NewImage": {"type": {"S": "Count"}, "pk": {"S": format!("TENANT#{TENANT}#COUNTS")},
                         "sk": {"S": "USERS#3"}, "n": {"N": "2"}},
            "OldImage": {"type": {"S": "Count"}, "pk": {"S": format!("TENANT#{TENANT}#COUNTS")},
                         "sk": {"S": "USERS#3"}, "n": {"N": "1"}}}});
        let rate = json!({"eventID": "r", "eventName": "INSERT", "dynamodb": {
            "ApproximateCreationDateTime": 1_795_394_400,
            "NewImage": {"pk": {"S": "TOKEN#ab#RATE#0"}, "sk": {"S": "RATE#1795394400"},
                         "used": {"N": "5"}}}});
        let page = json!({"eventID": "p", "eventName": "INSERT", "dynamodb": {
            "ApproximateCreationDateTime": 1_795_394_400,
            "NewImage": {"type": {"S": "PagePosition"}, "pk": {"S": "x"}, "sk": {"S": "USERS#100"},
                         "position": {"S": "p"}, "expires_at": {"N": "1"}}}});
        let mut all = others;
        all.extend([counter, rate, page]);
        assert!(events(all).is_empty());
    }

    #[test]
    fn attributes_the_platform_does_not_see_and_version_bumps_give_no_event() {
        // The flow's PATCH changes displayName and the enterprise department only.
        assert!(events(vec![record(USER_PATCHED)]).is_empty());
        // The group's version bump when its members change.
        assert!(events(vec![record(GROUP_VERSION_BUMP)]).is_empty());
    }

    #[test]
    fn profile_changes_are_user_updated() {
        let mut r = record(USER_PATCHED);
        let new = &mut r["dynamodb"]["NewImage"];
        new["doc"]["M"]["name"] = json!({"M": {"givenName": {"S": "Robert"},
            "familyName": {"S": "Smith"}, "formatted": {"S": "Robert Smith"}}});
        new["doc"]["M"]["emails"] = json!({"L": [{"M": {"value": {"S": "bob@x.com"},
            "type": {"S": "work"}, "primary": {"BOOL": true}}}]});
        let events = events(vec![r]);
        assert_eq!(kinds(&events), ["user.updated"]);
        let user = user_state(&events[0]);
        assert_eq!(user.name.formatted.as_deref(), Some("Robert Smith"));
        assert_eq!(user.emails[0].kind.as_deref(), Some("work"));
        assert!(user.emails[0].primary);
        assert_eq!(events[0].seq, 2);
    }

    #[test]
    fn a_platform_role_change_is_user_platform_role_changed() {
        let mut r = record(USER_PATCHED);
        r["dynamodb"]["NewImage"]["platform_role"] = json!({"S": "ADMIN"});
        let events = events(vec![r]);
        assert_eq!(kinds(&events), ["user.platform_role_changed"]);
        assert_eq!(user_state(&events[0]).platform_role, PlatformRole::Admin);
    }

    #[test]
    fn a_deactivation_is_exactly_one_user_deactivated() {
        let events = events(vec![record(USER_DEACTIVATED)]);
        assert_eq!(kinds(&events), ["user.deactivated"]);
        assert_eq!(events[0].seq, 3);
    }

    #[test]
    fn a_deactivation_with_a_rename_is_updated_then_deactivated() {
        let mut r = record(USER_DEACTIVATED);
        r["dynamodb"]["NewImage"]["user_name"] = json!({"S": "robert@x.com"});
        let events = events(vec![r]);
        assert_eq!(kinds(&events), ["user.updated", "user.deactivated"]);
        assert!(events.iter().all(|e| e.seq == 3));
        assert!(events
            .iter()
            .all(|e| user_state(e).user_name == "robert@x.com" && !user_state(e).active));
    }

    #[test]
    fn the_deactivation_played_backwards_is_a_reactivation() {
        let r = reversed(record(USER_DEACTIVATED), "e-reactivate");
        assert_eq!(kinds(&events(vec![r])), ["user.reactivated"]);
    }

    #[test]
    fn a_group_patch_gives_one_member_event_per_member_change() {
        let users = [
            USER,
            "0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70",
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        ];
        // What one PATCH adding three members writes: the group's version bump, and per member
        // the membership item and the user's group_ids.
        let mut records = vec![record(GROUP_VERSION_BUMP)];
        for (i, user) in users.iter().enumerate() {
            records.push(record(MEMBERSHIP_INSERTED));
            records.push(member_change(USER_JOINED, user, &format!("add-{i}")));
        }
        let added = events(records);
        assert_eq!(kinds(&added), ["project.member_added"; 3]);
        let members: Vec<(&str, &str)> = added
            .iter()
            .map(|e| match &e.subject {
                Subject::Membership(m) => (m.user_id.as_str(), m.project_id.as_str()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(members, users.map(|u| (u, GROUP)));
        // The same PATCH removing them again.
        let mut records = vec![record(GROUP_VERSION_BUMP)];
        for (i, user) in users.iter().enumerate() {
            records.push(record(MEMBERSHIP_REMOVED));
            records.push(reversed(
                member_change(USER_JOINED, user, "x"),
                &format!("remove-{i}"),
            ));
        }
        assert_eq!(kinds(&events(records)), ["project.member_removed"; 3]);
    }

    #[test]
    fn a_user_delete_removes_its_memberships_then_deletes_it() {
        let events = events(vec![record(MEMBERSHIP_REMOVED), record(USER_DELETED)]);
        assert_eq!(kinds(&events), ["project.member_removed", "user.deleted"]);
        assert!(events.iter().all(|e| e.seq == 5));
        assert_eq!(events[1].time, "2026-11-23T00:39:25.671Z");
    }

    #[test]
    fn a_group_is_renamed_then_deleted_after_its_members_leave() {
        let mut renamed = record(GROUP_CREATED);
        renamed["eventName"] = json!("MODIFY");
        renamed["eventID"] = json!("e-rename");
        let data = &mut renamed["dynamodb"];
        data["OldImage"] = data["NewImage"].clone();
        data["NewImage"]["display_name"] = json!({"S": "Renamed"});
        data["NewImage"]["doc"]["M"]["displayName"] = json!({"S": "Renamed"});
        data["NewImage"]["version"] = json!({"N": "3"});
        data["NewImage"]["last_modified"] = json!({"S": "2026-11-23T00:40:00.000Z"});
        let mut deleted = renamed.clone();
        deleted["eventID"] = json!("e-delete");
        let data = &mut deleted["dynamodb"];
        data["OldImage"] = data["NewImage"].clone();
        data["NewImage"]["deleted_at"] = json!({"S": "2026-11-23T00:41:00.000Z"});
        data["NewImage"]["version"] = json!({"N": "5"});
        data["NewImage"].as_object_mut().unwrap().remove("gsi1pk");
        // A group delete: each member leaves through its user item, then the marker.
        let mut member_left = reversed(record(USER_JOINED), "e-left");
        member_left["dynamodb"]["NewImage"]["version"] = json!({"N": "5"});
        let events = events(vec![
            renamed,
            record(MEMBERSHIP_REMOVED),
            member_left,
            deleted,
        ]);
        assert_eq!(
            kinds(&events),
            [
                "project.renamed",
                "project.member_removed",
                "project.deleted"
            ]
        );
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            [3, 5, 5],
            "the project's, the user's, the project's version"
        );
        let Subject::Project(project) = &events[2].subject else {
            panic!("project")
        };
        assert_eq!(project.name, "Renamed");
    }

    #[test]
    fn a_removed_user_item_is_deleted_timed_by_the_stream() {
        let mut r = record(USER_CREATED);
        r["eventName"] = json!("REMOVE");
        let data = &mut r["dynamodb"];
        data["OldImage"] = data["NewImage"].take();
        data.as_object_mut().unwrap().remove("NewImage");
        data["ApproximateCreationDateTime"] = json!(1_795_394_400);
        let events = events(vec![r]);
        assert_eq!(kinds(&events), ["user.deleted"]);
        assert_eq!(events[0].seq, 2, "one past its last version");
        assert_eq!(events[0].actor, UNKNOWN_ACTOR);
        assert_eq!(events[0].time, "2026-11-23T00:40:00.000Z");
    }

    #[test]
    fn malformed_user_and_group_records_are_errors_so_lambda_retries() {
        assert!(provisioning_events(&json!({})).is_err());
        let mut bad_tenant = record(USER_CREATED);
        bad_tenant["dynamodb"]["NewImage"]["tenant_id"] = json!({"S": "NOT#A#TENANT"});
        assert!(provisioning_events(&json!({ "Records": [bad_tenant] })).is_err());
        let mut no_version = record(GROUP_CREATED);
        no_version["dynamodb"]["NewImage"]
            .as_object_mut()
            .unwrap()
            .remove("version");
        assert!(provisioning_events(&json!({ "Records": [no_version] })).is_err());
    }

    fn sequence(index: usize) -> String {
        record(index)["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn each_record_keeps_its_sequence_number_and_its_own_events() {
        let (records, unread) = events_by_record(&flow());
        assert!(unread.is_none());
        assert_eq!(records.len(), 16);
        assert_eq!(
            records[USER_CREATED].sequence_number,
            sequence(USER_CREATED)
        );
        assert_eq!(kinds(&records[USER_CREATED].events), ["user.created"]);
        assert!(records[MEMBERSHIP_INSERTED].events.is_empty());
        let all: Vec<ProvisioningEvent> = records.into_iter().flat_map(|r| r.events).collect();
        assert_eq!(all, provisioning_events(&flow()).unwrap());
    }

    #[test]
    fn an_unreadable_record_ends_the_list_and_is_named_for_the_retry() {
        let mut bad = record(GROUP_CREATED);
        bad["dynamodb"]["NewImage"]["tenant_id"] = json!({"S": "NOT#A#TENANT"});
        let event = json!({ "Records": [record(USER_CREATED), bad, record(USER_DELETED)] });
        let (records, unread) = events_by_record(&event);
        assert_eq!(records.len(), 1);
        assert_eq!(kinds(&records[0].events), ["user.created"]);
        let unread = unread.expect("the bad record");
        assert_eq!(unread.sequence_number, Some(sequence(GROUP_CREATED)));

        // Without a sequence number nothing can name it: the caller fails the whole batch.
        let mut nameless = record(USER_PATCHED);
        nameless["dynamodb"]
            .as_object_mut()
            .unwrap()
            .remove("SequenceNumber");
        let (records, unread) = events_by_record(&json!({ "Records": [nameless] }));
        assert!(records.is_empty());
        assert_eq!(unread.expect("the nameless record").sequence_number, None);
        let (_, unread) = events_by_record(&json!({}));
        assert!(unread.is_some());
    }
}
