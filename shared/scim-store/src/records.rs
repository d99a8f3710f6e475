//! Conversions between the operations core's records (`scim_ops::model`) and the table's items.
//!
//! Writing derives everything the table needs from the record: keys, GSI1 keys, and the index
//! facts (userName, externalId, folded emails, displayName) from `record.doc`; `active` is the
//! record's flag, never the document's. Reading parses ids back (a malformed stored id is
//! [`StoreError::Internal`]).

use std::collections::BTreeSet;

use scim_core::ids::{ResourceId, TenantId};
use scim_ops::{Group, Member, User};
use serde_json::Value;

use crate::error::StoreError;
use crate::items::{self, GroupItem, MembershipItem, UserItem};
use crate::keys;

use scim_core::limits::MAX_EMAILS;

/// What the table indexes of a SCIM user document.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFacts {
    pub user_name: String,
    pub external_id: Option<String>,
    /// Folded, sorted, without duplicates: all of them, since the codec refuses a user with more
    /// than [`MAX_EMAILS`]. (A document stored before that limit keeps its first ones indexed.)
    pub emails: Vec<String>,
}

impl UserFacts {
    /// Reads the facts from a canonical document (see `scim_core::codec`).
    pub fn of(doc: &Value) -> Self {
        let mut emails: Vec<String> = doc
            .get("emails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("value").and_then(Value::as_str))
            .map(scim_core::fold)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        emails.truncate(MAX_EMAILS);
        Self {
            user_name: text(doc, "userName"),
            external_id: scim_core::codec::external_id(doc).map(str::to_string),
            emails,
        }
    }
}

/// A string attribute of a document, empty when absent.
fn text(doc: &Value, name: &str) -> String {
    doc.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Parses an id read from the table.
pub(crate) fn stored_id(text: &str) -> Result<ResourceId, StoreError> {
    ResourceId::parse(text)
        .ok_or_else(|| StoreError::Internal(format!("malformed stored id {text:?}")))
}

impl UserItem {
    /// The item that stores `user` in `tenant`.
    pub fn from_record(tenant: &TenantId, user: &User) -> Self {
        let facts = UserFacts::of(&user.doc);
        Self {
            pk: keys::user_pk(tenant, &user.id),
            sk: keys::USER_SK.into(),
            gsi1pk: Some(keys::users_gsi(tenant)),
            gsi1sk: Some(keys::name_sk(&facts.user_name)),
            entity: items::USER.into(),
            tenant_id: tenant.to_string(),
            id: user.id.to_string(),
            user_name: facts.user_name,
            external_id: facts.external_id,
            active: user.active,
            platform_role: user.platform_role,
            emails: facts.emails,
            group_ids: user.group_ids.iter().map(ToString::to_string).collect(),
            doc: user.doc.clone(),
            version: user.version,
            created: user.created.clone(),
            last_modified: user.last_modified.clone(),
            modified_by: user.modified_by.clone(),
            deleted_at: None,
        }
    }

    /// The id this item stores.
    pub fn resource_id(&self) -> Result<ResourceId, StoreError> {
        stored_id(&self.id)
    }
}

impl TryFrom<UserItem> for User {
    type Error = StoreError;

    /// The record an item stores (deleted markers included: readers filter those first).
    fn try_from(item: UserItem) -> Result<Self, StoreError> {
        Ok(User {
            id: stored_id(&item.id)?,
            doc: item.doc,
            active: item.active,
            platform_role: item.platform_role,
            group_ids: item
                .group_ids
                .iter()
                .map(|g| stored_id(g))
                .collect::<Result<_, _>>()?,
            version: item.version,
            created: item.created,
            last_modified: item.last_modified,
            modified_by: item.modified_by,
        })
    }
}

impl GroupItem {
    /// The item that stores `group` in `tenant`.
    pub fn from_record(tenant: &TenantId, group: &Group) -> Self {
        let display_name = text(&group.doc, "displayName");
        Self {
            pk: keys::group_pk(tenant, &group.id),
            sk: keys::GROUP_SK.into(),
            gsi1pk: Some(keys::groups_gsi(tenant)),
            gsi1sk: Some(keys::name_sk(&display_name)),
            entity: items::GROUP.into(),
            tenant_id: tenant.to_string(),
            id: group.id.to_string(),
            display_name,
            external_id: scim_core::codec::external_id(&group.doc).map(str::to_string),
            project_role: group.project_role,
            doc: group.doc.clone(),
            version: group.version,
            created: group.created.clone(),
            last_modified: group.last_modified.clone(),
            modified_by: group.modified_by.clone(),
            deleted_at: None,
        }
    }

    /// The id this item stores.
    pub fn resource_id(&self) -> Result<ResourceId, StoreError> {
        stored_id(&self.id)
    }
}

impl TryFrom<GroupItem> for Group {
    type Error = StoreError;

    fn try_from(item: GroupItem) -> Result<Self, StoreError> {
        Ok(Group {
            id: stored_id(&item.id)?,
            doc: item.doc,
            project_role: item.project_role,
            version: item.version,
            created: item.created,
            last_modified: item.last_modified,
            modified_by: item.modified_by,
        })
    }
}

impl TryFrom<MembershipItem> for Member {
    type Error = StoreError;

    fn try_from(item: MembershipItem) -> Result<Self, StoreError> {
        Ok(Member {
            user_id: stored_id(&item.user_id)?,
            project_role: item.project_role,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::store::{from_item, to_item};
    use scim_core::{PlatformRole, ProjectRole};
    use serde_json::json;

    const USER_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const GROUP_ID: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    fn user(doc: Value, active: bool) -> User {
        User {
            id: ResourceId::parse(USER_ID).unwrap(),
            doc,
            active,
            platform_role: PlatformRole::Operator,
            group_ids: vec![ResourceId::parse(GROUP_ID).unwrap()],
            version: 3,
            created: "2026-01-01T00:00:00Z".into(),
            last_modified: "2026-01-02T00:00:00Z".into(),
            modified_by: Some("scim_1a2b3c4d".into()),
        }
    }

    fn group() -> Group {
        Group {
            id: ResourceId::parse(GROUP_ID).unwrap(),
            doc: json!({"displayName": "Engineering Team", "externalId": "G-7"}),
            project_role: ProjectRole::Viewer,
            version: 2,
            created: "2026-01-01T00:00:00Z".into(),
            last_modified: "2026-01-03T00:00:00Z".into(),
            modified_by: None,
        }
    }

    #[test]
    fn a_user_item_derives_keys_and_facts_from_the_document() {
        let doc = json!({
            "userName": "Ann@Example.com",
            "externalId": "EXT-1",
            "active": true,
            "emails": [{"value": "Ann@Example.com"}, {"value": "ann@example.com"}, {"value": "b@x.org"}],
        });
        let item = UserItem::from_record(&tenant(), &user(doc, true));
        assert_eq!(item.pk, format!("TENANT#acme#USER#{USER_ID}"));
        assert_eq!(item.sk, "USER");
        assert_eq!(item.gsi1pk.as_deref(), Some("TENANT#acme#USERS"));
        assert_eq!(item.gsi1sk.as_deref(), Some("ann@example.com"));
        assert_eq!(item.entity, "User");
        assert_eq!(item.tenant_id, "acme");
        assert_eq!(item.user_name, "Ann@Example.com");
        assert_eq!(item.external_id.as_deref(), Some("EXT-1"));
        assert_eq!(item.emails, ["ann@example.com", "b@x.org"]);
        assert_eq!(item.group_ids, [GROUP_ID]);
        assert_eq!(item.modified_by.as_deref(), Some("scim_1a2b3c4d"));
        assert_eq!(item.deleted_at, None);
    }

    #[test]
    fn active_comes_from_the_record_never_from_the_document() {
        // No `active` in the document: the record's false is what is stored.
        let item = UserItem::from_record(&tenant(), &user(json!({"userName": "a"}), false));
        assert!(!item.active);
        // A document that says otherwise does not win either.
        let item = UserItem::from_record(
            &tenant(),
            &user(json!({"userName": "a", "active": true}), false),
        );
        assert!(!item.active);
        let item = UserItem::from_record(
            &tenant(),
            &user(json!({"userName": "a", "active": false}), true),
        );
        assert!(item.active);
    }

    #[test]
    fn a_user_round_trips_through_its_item_and_the_attribute_map() {
        let record = user(
            json!({"userName": "bob", "active": false, "emails": [{"value": "B@x.com"}]}),
            false,
        );
        let item = UserItem::from_record(&tenant(), &record);
        let stored = to_item(&item).unwrap();
        assert_eq!(stored["platform_role"].as_s().unwrap(), "OPERATOR");
        assert_eq!(stored["active"].as_bool().unwrap(), &false);
        let read: UserItem = from_item(stored).unwrap();
        assert_eq!(read, item);
        assert_eq!(User::try_from(read).unwrap(), record);
    }

    #[test]
    fn a_group_round_trips_through_its_item_and_the_attribute_map() {
        let record = group();
        let item = GroupItem::from_record(&tenant(), &record);
        assert_eq!(item.pk, format!("TENANT#acme#GROUP#{GROUP_ID}"));
        assert_eq!(item.sk, "GROUP");
        assert_eq!(item.gsi1pk.as_deref(), Some("TENANT#acme#GROUPS"));
        assert_eq!(item.gsi1sk.as_deref(), Some("engineering team"));
        assert_eq!(item.display_name, "Engineering Team");
        assert_eq!(item.external_id.as_deref(), Some("G-7"));
        let stored = to_item(&item).unwrap();
        assert_eq!(stored["project_role"].as_s().unwrap(), "VIEWER");
        let read: GroupItem = from_item(stored).unwrap();
        assert_eq!(read, item);
        assert_eq!(Group::try_from(read).unwrap(), record);
    }

    #[test]
    fn items_written_before_roles_were_types_still_read() {
        let mut stored = to_item(&UserItem::from_record(
            &tenant(),
            &user(json!({"userName": "a"}), true),
        ))
        .unwrap();
        stored.insert(
            "platform_role".into(),
            aws_sdk_dynamodb::types::AttributeValue::S("ADMIN".into()),
        );
        stored.remove("group_ids");
        stored.remove("modified_by");
        let read = User::try_from(from_item::<UserItem>(stored).unwrap()).unwrap();
        assert_eq!(read.platform_role, PlatformRole::Admin);
        assert!(read.group_ids.is_empty());
        assert_eq!(read.modified_by, None);
    }

    #[test]
    fn malformed_stored_ids_are_internal_errors() {
        let mut item = UserItem::from_record(&tenant(), &user(json!({"userName": "a"}), true));
        item.id = "not-an-id".into();
        assert!(matches!(
            User::try_from(item.clone()),
            Err(StoreError::Internal(_))
        ));
        item.id = USER_ID.into();
        item.group_ids = vec!["TENANT#other".into()];
        assert!(matches!(User::try_from(item), Err(StoreError::Internal(_))));
        let mut g = GroupItem::from_record(&tenant(), &group());
        g.id = "..".into();
        assert!(matches!(Group::try_from(g), Err(StoreError::Internal(_))));
        let m = MembershipItem {
            pk: "p".into(),
            sk: "s".into(),
            entity: items::MEMBERSHIP.into(),
            tenant_id: "acme".into(),
            group_id: GROUP_ID.into(),
            user_id: "nope".into(),
            project_role: ProjectRole::Editor,
            added_at: "2026-01-01T00:00:00Z".into(),
        };
        assert!(matches!(Member::try_from(m), Err(StoreError::Internal(_))));
    }

    #[test]
    fn emails_are_indexed_folded_and_at_most_up_to_the_limit() {
        let emails: Vec<Value> = (0..30)
            .map(|i| json!({"value": format!("U{i:02}@x.com")}))
            .collect();
        let facts = UserFacts::of(&json!({"userName": "a", "emails": emails}));
        assert_eq!(facts.emails.len(), MAX_EMAILS);
        assert_eq!(facts.emails[0], "u00@x.com");
        assert_eq!(UserFacts::of(&json!({})).user_name, "");
        assert_eq!(
            UserFacts::of(&json!({"externalId": ""})).external_id,
            None,
            "an empty externalId is no externalId"
        );
    }
}
