//! The audit trail: one item per change of a user or group, derived from the table's stream.
//!
//! Every user and group write stamps the item with its caller (`modified_by`, the token prefix)
//! and time (`last_modified`). DynamoDB Streams delivers each committed change with the item's
//! old and new images; the `audit` function maps each record here to an [`AuditRecord`] and
//! appends it to the trail ([`AuditTrail`], stored as an [`AuditItem`] in the tenant's audit
//! partition `TENANT#t#AUDIT`). So the request path pays no extra DynamoDB call,
//! and the trail cannot disagree with the data: a cancelled transaction leaves no record.
//!
//! Only attribute *names* are recorded, never values: the trail holds no PII and no secrets.
//! Membership is audited on the user side (`group_ids` of the user item), once per member; the
//! group item's own version bump on a membership change is not a separate record.

use std::collections::BTreeSet;

use scim_core::ids::TenantId;
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use scim_ops::{AuditRecord, AuditTrail};

use crate::error::{corrupt, StoreError};
use crate::items::{self, AuditItem};
use crate::keys;
use crate::store::{s, Store};
use crate::stream;

/// Days an audit record is kept when `SCIM_AUDIT_RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u64 = 90;

/// Actor recorded for a change whose item carries no `modified_by` (shared with the events).
pub use scim_ops::events::UNKNOWN_ACTOR;

/// Why a stream event could not be turned into audit items (the name the audit function uses).
pub use crate::stream::StreamError as AuditError;
pub use crate::stream::{StreamData, StreamRecord};

/// The few attributes of a user or group image the audit reads (others are ignored).
#[derive(Debug, Default, Deserialize)]
struct Image {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    doc: Value,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    platform_role: Option<String>,
    #[serde(default, with = "serde_dynamo::string_set")]
    group_ids: Vec<String>,
    #[serde(default)]
    modified_by: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    deleted_at: Option<String>,
}

/// The audit records of a whole Lambda event (`{"Records": [...]}`), in record order. Records
/// of other item types (memberships, uniqueness and email items, tokens, audit items) are
/// skipped.
pub fn audit_records(event: &Value, retention_days: u64) -> Result<Vec<AuditRecord>, AuditError> {
    let mut out = Vec::new();
    for record in stream::records(event)? {
        if let Some(item) = audit_record(&record, retention_days)? {
            out.push(item);
        }
    }
    Ok(out)
}

/// The audit record for one stream record, or `None` when it is not an audited change.
pub fn audit_record(
    record: &StreamRecord,
    retention_days: u64,
) -> Result<Option<AuditRecord>, AuditError> {
    let kind = record.entity_type();
    let (resource_type, prefix) = match kind.as_deref() {
        Some(items::USER) => ("User", "user"),
        Some(items::GROUP) => ("Group", "group"),
        _ => return Ok(None),
    };
    let old: Option<Image> = stream::decode(record.dynamodb.old_image.as_ref(), "old")?;
    let new: Option<Image> = stream::decode(record.dynamodb.new_image.as_ref(), "new")?;
    let Some(current) = new.as_ref().or(old.as_ref()) else {
        return Ok(None);
    };
    let tenant = TenantId::parse(&current.tenant_id).ok_or_else(|| {
        AuditError::Malformed(format!("{resource_type} item without a valid tenant_id"))
    })?;
    let empty = Image::default();
    let before = old.as_ref().unwrap_or(&empty);
    let mut attributes = Vec::new();
    let mut groups_added = Vec::new();
    let mut groups_removed = Vec::new();
    let action = match (&old, &new) {
        (None, Some(new)) => {
            attributes = changed_attributes(&Value::Null, &new.doc);
            format!("{prefix}.create")
        }
        (Some(_), None) => format!("{prefix}.purge"),
        (Some(old), Some(new)) => {
            (groups_added, groups_removed) = group_diff(&old.group_ids, &new.group_ids);
            if new.deleted_at.is_some() {
                if old.deleted_at.is_some() {
                    return Ok(None); // a marker touched again: nothing a client changed
                }
                format!("{prefix}.delete")
            } else {
                attributes = changed_attributes(&old.doc, &new.doc);
                if attributes.is_empty() && old.platform_role != new.platform_role {
                    attributes.push("platformRole".into());
                }
                match (old.active, new.active) {
                    (Some(true), Some(false)) if prefix == "user" => "user.deactivate".into(),
                    (Some(false), Some(true)) if prefix == "user" => "user.reactivate".into(),
                    _ if !attributes.is_empty() => format!("{prefix}.update"),
                    _ if !groups_added.is_empty() && groups_removed.is_empty() => {
                        "member.add".into()
                    }
                    _ if groups_added.is_empty() && !groups_removed.is_empty() => {
                        "member.remove".into()
                    }
                    _ if !groups_added.is_empty() => "member.change".into(),
                    // A version bump alone (a group's, when its members change): the members'
                    // own records say what changed.
                    _ => return Ok(None),
                }
            }
        }
        (None, None) => return Ok(None),
    };
    let at = match new.as_ref().and_then(|n| n.last_modified.clone()) {
        Some(at) => at,
        None => record.approximate_time()?,
    };
    let when = OffsetDateTime::parse(&at, &Rfc3339)
        .map_err(|e| AuditError::Malformed(format!("time {at:?}: {e}")))?;
    let expires_at = u64::try_from(when.unix_timestamp())
        .unwrap_or_default()
        .saturating_add(retention_days.saturating_mul(86_400));
    let actor = current
        .modified_by
        .clone()
        .filter(|_| new.is_some())
        .unwrap_or_else(|| UNKNOWN_ACTOR.to_string());
    Ok(Some(AuditRecord {
        cursor: keys::audit_sk(&at, &record.event_id),
        tenant_id: tenant.to_string(),
        at,
        actor,
        action,
        resource_type: resource_type.into(),
        resource_id: current.id.clone(),
        version: current.version.or(before.version),
        attributes,
        groups_added,
        groups_removed,
        event_id: record.event_id.clone(),
        expires_at,
    }))
}

/// Names of the SCIM attributes that differ between two documents. Extension attributes are
/// named `<schema URN>:<attribute>`. Values are never copied.
fn changed_attributes(old: &Value, new: &Value) -> Vec<String> {
    let mut names = BTreeSet::new();
    diff_keys(old, new, None, &mut names);
    names.into_iter().collect()
}

fn diff_keys(old: &Value, new: &Value, parent: Option<&str>, names: &mut BTreeSet<String>) {
    let empty = serde_json::Map::new();
    let old_obj = old.as_object().unwrap_or(&empty);
    let new_obj = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = old_obj.keys().chain(new_obj.keys()).collect();
    for key in keys {
        let (a, b) = (old_obj.get(key), new_obj.get(key));
        if a == b {
            continue;
        }
        let is_extension = parent.is_none()
            && key.starts_with("urn:")
            && a.is_none_or(Value::is_object)
            && b.is_none_or(Value::is_object);
        if is_extension {
            let null = Value::Null;
            diff_keys(a.unwrap_or(&null), b.unwrap_or(&null), Some(key), names);
        } else {
            names.insert(match parent {
                Some(urn) => format!("{urn}:{key}"),
                None => key.clone(),
            });
        }
    }
}

fn group_diff(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let old: BTreeSet<&String> = old.iter().collect();
    let new: BTreeSet<&String> = new.iter().collect();
    (
        new.difference(&old).map(|g| g.to_string()).collect(),
        old.difference(&new).map(|g| g.to_string()).collect(),
    )
}

impl AuditItem {
    /// The stored item of a record: keyed by its tenant's audit partition and its cursor.
    pub fn from_record(record: &AuditRecord) -> Result<Self, StoreError> {
        let tenant = TenantId::parse(&record.tenant_id)
            .ok_or_else(|| corrupt(format!("audit record tenant {:?}", record.tenant_id)))?;
        Ok(Self {
            pk: keys::audit_pk(&tenant),
            sk: record.cursor.clone(),
            entity: items::AUDIT.into(),
            tenant_id: record.tenant_id.clone(),
            at: record.at.clone(),
            actor: record.actor.clone(),
            action: record.action.clone(),
            resource_type: record.resource_type.clone(),
            resource_id: record.resource_id.clone(),
            version: record.version,
            attributes: record.attributes.clone(),
            groups_added: record.groups_added.clone(),
            groups_removed: record.groups_removed.clone(),
            event_id: record.event_id.clone(),
            expires_at: record.expires_at,
        })
    }
}

impl From<AuditItem> for AuditRecord {
    fn from(item: AuditItem) -> Self {
        Self {
            cursor: item.sk,
            tenant_id: item.tenant_id,
            at: item.at,
            actor: item.actor,
            action: item.action,
            resource_type: item.resource_type,
            resource_id: item.resource_id,
            version: item.version,
            attributes: item.attributes,
            groups_added: item.groups_added,
            groups_removed: item.groups_removed,
            event_id: item.event_id,
            expires_at: item.expires_at,
        }
    }
}

impl AuditTrail for Store {
    /// Writes audit items with BatchWriteItem (25 a call), retrying unprocessed items. Puts are
    /// idempotent: a redelivered stream record overwrites its own item.
    async fn append(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let audit = records
            .iter()
            .map(AuditItem::from_record)
            .collect::<Result<Vec<_>, _>>()?;
        self.put_all(audit.iter().map(|i| (i.pk.as_str(), i.sk.as_str(), i)))
            .await
    }

    /// A tenant's audit records, oldest first (one Query of its audit partition, following
    /// pages until `limit`). `since` is compared with the sort key `<at>#<event id>`: a timestamp
    /// (`2026-11-23T00:00:00Z`, or a prefix such as `2026-11-23`) returns the records from then
    /// on; the last record's `cursor` returns the records after it (the next page).
    async fn records(
        &self,
        tenant: &TenantId,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .expression_attribute_values(":pk", s(keys::audit_pk(tenant)))
            .scan_index_forward(true);
        query = match since {
            Some(since) => query
                .key_condition_expression("pk = :pk AND sk > :since")
                .expression_attribute_values(":since", s(since)),
            None => query.key_condition_expression("pk = :pk"),
        };
        let items: Vec<AuditItem> = self.query_up_to(query, None, limit).await?;
        Ok(items.into_iter().map(AuditRecord::from).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    /// Records captured from the local stack's stream (moto, read by scripts/stream_pump.py, so in
    /// Lambda's event shape) while one token created a user, PATCHed it, deactivated it, created a
    /// group, added the user to it and deleted the user. Includes the records the audit skips
    /// (tenant, uniqueness, email, membership items, a group's version bump).
    const MOTO_FLOW: &str = include_str!("../tests/fixtures/dynamodb_stream/moto_scim_flow.json");
    const USER: &str = "a299ee0e-1a2f-47ae-bd05-39181ee6a2dc";
    const GROUP: &str = "58e28292-770e-42f7-a322-ad1f0359e03c";
    const ACTOR: &str = "scim_9d9a5aed";
    const ENTERPRISE_DEPARTMENT: &str =
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

    fn flow() -> Value {
        serde_json::from_str(MOTO_FLOW).unwrap()
    }

    fn record(index: usize) -> Value {
        flow()["Records"][index].clone()
    }

    fn one(record: Value) -> Option<AuditRecord> {
        audit_records(&json!({"Records": [record]}), 90)
            .unwrap()
            .into_iter()
            .next()
    }

    #[test]
    fn a_scim_flow_becomes_one_audit_item_per_change_in_order() {
        let items = audit_records(&flow(), 90).unwrap();
        let summary: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i.action.as_str(),
                    i.resource_type.as_str(),
                    i.resource_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("user.create", "User", USER),
                ("user.update", "User", USER),
                ("user.deactivate", "User", USER),
                ("group.create", "Group", GROUP),
                ("member.add", "User", USER),
                ("user.delete", "User", USER),
            ]
        );
        assert!(items.iter().all(|i| i.actor == ACTOR));
        assert!(
            items.windows(2).all(|w| w[0].cursor < w[1].cursor),
            "time-ordered keys"
        );
        let versions: Vec<Option<u64>> = items.iter().map(|i| i.version).collect();
        assert_eq!(
            versions,
            [Some(1), Some(2), Some(3), Some(1), Some(4), Some(5)]
        );
        assert_eq!(
            items[0].attributes,
            ["active", "emails", "name", "userName"]
        );
        assert_eq!(items[1].attributes, ["displayName", ENTERPRISE_DEPARTMENT]);
        assert_eq!(items[2].attributes, ["active"]);
        assert_eq!(items[3].attributes, ["displayName"]);
        assert_eq!(items[4].groups_added, [GROUP]);
        assert!(items[4].attributes.is_empty());
        assert_eq!(items[5].groups_removed, [GROUP]);
    }

    #[test]
    fn audit_items_name_attributes_but_never_hold_their_values() {
        let items = audit_records(&flow(), 90).unwrap();
        let stored = serde_json::to_string(&items).unwrap();
        for value in ["bob@x.com", "Bob", "R&D", "MEMBER"] {
            assert!(!stored.contains(value), "{value} leaked into {stored}");
        }
    }

    #[test]
    fn keys_are_tenant_scoped_time_first_and_idempotent() {
        let record_ = one(record(1)).unwrap();
        let item = AuditItem::from_record(&record_).unwrap();
        assert_eq!(item.sk, record_.cursor);
        assert_eq!(item.pk, "TENANT#4b0030ed-3ec8-44e2-a16c-854926a64d23#AUDIT");
        assert_eq!(item.at, "2026-11-23T00:39:21.657Z");
        assert_eq!(
            item.sk,
            "2026-11-23T00:39:21.657Z#30d91ec5c5b84870a0c0c66e2be5b659"
        );
        assert_eq!(item.entity, "Audit");
        // A redelivered record maps to the same key (the put overwrites, never doubles).
        assert_eq!(one(record(1)), Some(record_));
    }

    #[test]
    fn expiry_is_the_change_time_plus_the_retention() {
        let at = OffsetDateTime::parse("2026-11-23T00:39:21.657Z", &Rfc3339)
            .unwrap()
            .unix_timestamp() as u64;
        let item = one(record(1)).unwrap();
        assert_eq!(item.expires_at, at + 90 * 86_400);
        let week = audit_records(&json!({"Records": [record(1)]}), 7).unwrap();
        assert_eq!(week[0].expires_at, at + 7 * 86_400);
    }

    #[test]
    fn other_item_types_are_skipped() {
        let records = flow()["Records"].as_array().unwrap().clone();
        let skipped: Vec<Value> = records
            .into_iter()
            .filter(|r| {
                let image = r["dynamodb"]
                    .get("NewImage")
                    .or(r["dynamodb"].get("OldImage"))
                    .unwrap();
                !matches!(image["type"]["S"].as_str(), Some("User" | "Group"))
            })
            .collect();
        assert!(skipped.len() >= 5, "tenant, guards, emails, memberships");
        assert!(audit_records(&json!({ "Records": skipped }), 90)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn reactivation_and_missing_actor() {
        // The deactivation record played backwards is a reactivation.
        let mut r = record(5);
        let data = &mut r["dynamodb"];
        let old = data["OldImage"].take();
        data["OldImage"] = data["NewImage"].take();
        data["NewImage"] = old;
        data["NewImage"]
            .as_object_mut()
            .unwrap()
            .remove("modified_by");
        let item = one(r).unwrap();
        assert_eq!(item.action, "user.reactivate");
        assert_eq!(item.attributes, ["active"]);
        assert_eq!(item.actor, UNKNOWN_ACTOR, "never the previous writer");
    }

    #[test]
    fn group_rename_and_delete() {
        let created = record(6);
        let mut renamed = created.clone();
        renamed["eventName"] = json!("MODIFY");
        renamed["eventID"] = json!("e-rename");
        let data = &mut renamed["dynamodb"];
        data["OldImage"] = data["NewImage"].clone();
        data["NewImage"]["doc"]["M"]["displayName"] = json!({"S": "Renamed"});
        data["NewImage"]["version"] = json!({"N": "3"});
        data["NewImage"]["last_modified"] = json!({"S": "2026-11-23T00:40:00.000Z"});
        let item = one(renamed.clone()).unwrap();
        assert_eq!(
            (item.action.as_str(), item.attributes.clone()),
            ("group.update", vec!["displayName".to_string()])
        );
        assert_eq!(item.version, Some(3));
        let mut deleted = renamed;
        deleted["eventID"] = json!("e-delete");
        let data = &mut deleted["dynamodb"];
        data["NewImage"]["deleted_at"] = json!({"S": "2026-11-23T00:41:00.000Z"});
        let item = one(deleted).unwrap();
        assert_eq!(item.action, "group.delete");
        assert!(item.attributes.is_empty());
        assert_eq!(item.resource_id, GROUP);
    }

    #[test]
    fn a_removed_item_is_a_purge_timed_by_the_stream() {
        let mut r = record(1);
        r["eventName"] = json!("REMOVE");
        let data = &mut r["dynamodb"];
        data["OldImage"] = data["NewImage"].take();
        data.as_object_mut().unwrap().remove("NewImage");
        data["ApproximateCreationDateTime"] = json!(1_795_394_400);
        let item = one(r).unwrap();
        assert_eq!(item.action, "user.purge");
        assert_eq!(item.actor, UNKNOWN_ACTOR);
        assert_eq!(item.at, "2026-11-23T00:40:00.000Z");
    }

    #[test]
    fn unknown_item_shapes_are_skipped_unparsed() {
        let odd = json!({"eventID": "e", "eventName": "INSERT", "dynamodb": {
            "ApproximateCreationDateTime": 1_795_394_400,
            "NewImage": {"type": {"S": "RateLimit"}, "version": {"S": "not a number"},
                         "group_ids": {"L": []}, "doc": {"N": "1"}}}});
        let keys_only = json!({"eventID": "k", "eventName": "MODIFY", "dynamodb": {
            "ApproximateCreationDateTime": 1_795_394_400, "Keys": {"pk": {"S": "x"}}}});
        assert!(audit_records(&json!({"Records": [odd, keys_only]}), 90)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn malformed_events_are_errors_so_lambda_retries_and_bisects() {
        assert!(audit_records(&json!({}), 90).is_err());
        assert!(audit_records(&json!({"Records": [{"eventID": "x"}]}), 90).is_err());
        let mut r = record(1);
        r["dynamodb"]["NewImage"]["tenant_id"] = json!({"S": "NOT#A#TENANT"});
        assert!(audit_records(&json!({ "Records": [r] }), 90).is_err());
    }

    #[test]
    fn extension_attributes_are_named_with_their_urn() {
        let old = json!({"userName": "a", "urn:x:ext": {"a": 1, "b": 2}});
        let new = json!({"userName": "a", "urn:x:ext": {"a": 1, "b": 3, "c": 4}, "title": "t"});
        assert_eq!(
            changed_attributes(&old, &new),
            ["title", "urn:x:ext:b", "urn:x:ext:c"]
        );
        assert_eq!(
            changed_attributes(&new, &json!({"userName": "a"})),
            ["title", "urn:x:ext:a", "urn:x:ext:b", "urn:x:ext:c"]
        );
    }
}
