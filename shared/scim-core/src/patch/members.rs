//! Group membership changes. Members are stored one item per member, outside the group
//! document, so every operation on `members` is turned into a [`MemberChange`] instead of being
//! applied to the document.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{at_operation, PatchOp, PatchOperation, PatchPath, PatchRequest};
use crate::error::ScimError;
use crate::filter::{get_ci, CompValue, CompareOp, FilterExpr};
use crate::ids::ResourceId;
use crate::schema::GROUP_SCHEMA;

/// One change to a group's member set, by member id (the members' `value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Add these members (already-present ones are not duplicated).
    Add(Vec<String>),
    /// Remove these members (absent ones are ignored).
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// Make the member set exactly these members.
    ReplaceAll(Vec<String>),
}

impl MemberChange {
    /// Applies the change to an ordered, duplicate-free list of member ids. Folding a request's
    /// changes over the current members gives the final member set.
    pub fn apply_to(&self, members: &mut Vec<String>) {
        match self {
            Self::Add(ids) => {
                for id in ids {
                    if !members.contains(id) {
                        members.push(id.clone());
                    }
                }
            }
            Self::Remove(ids) => members.retain(|m| !ids.contains(m)),
            Self::RemoveAll => members.clear(),
            Self::ReplaceAll(ids) => {
                members.clear();
                Self::Add(ids.clone()).apply_to(members);
            }
        }
    }
}

/// Splits `req` into the operations that do not touch `members` (to [`PatchRequest::apply`] to
/// the group document) and the ordered membership changes. Both keep the request's order.
///
/// Recognised forms (RFC 7644 section 3.5.2 and what Okta and Microsoft Entra send):
/// - `add` `members` with a list of `{"value": id, ...}` (a single object also works) -> `Add`;
/// - `replace` `members` with such a list -> `ReplaceAll`;
/// - `remove` `members` without a value -> `RemoveAll`; with a value list (Entra) -> `Remove` of
///   just those ids; `members[value eq "id"]`, also `or`-ed terms (Okta, RFC 7644
///   section 3.5.2.2) -> `Remove`;
/// - path-less `add`/`replace` whose value has a `members` key in any case (or
///   `urn:...:core:2.0:Group:members`) -> `Add`/`ReplaceAll`, the other keys staying in an
///   operation of their own;
/// - `""` or `null` as the value of `add`/`replace` `members` -> `RemoveAll` (it clears the
///   target, as everywhere in PATCH).
///
/// Errors: a member without a non-empty string `value` is `400 invalidValue`; a members filter
/// other than `value eq "..."` terms joined by `or` is `400 invalidFilter`; `add`/`replace`
/// through a filter or a sub-attribute of `members` is `400 invalidPath`.
pub fn split_member_operations(
    req: &PatchRequest,
) -> Result<(Vec<PatchOperation>, Vec<MemberChange>), ScimError> {
    let mut remaining = Vec::new();
    let mut changes = Vec::new();
    for (i, op) in req.operations.iter().enumerate() {
        split_one(op, &mut remaining, &mut changes).map_err(|e| at_operation(i, e))?;
    }
    Ok((remaining, changes))
}

fn split_one(
    op: &PatchOperation,
    remaining: &mut Vec<PatchOperation>,
    changes: &mut Vec<MemberChange>,
) -> Result<(), ScimError> {
    match (&op.path, &op.value) {
        (Some(path), _) if is_members(path) => {
            if let Some(change) = pathed_change(op.op, path, op.value.as_ref())? {
                changes.push(change);
            }
        }
        (None, Some(Value::Object(values))) if op.op != PatchOp::Remove => {
            let mut rest = Map::new();
            for (key, value) in values {
                if is_members_key(key) {
                    if let Some(change) = value_change(op.op, value)? {
                        changes.push(change);
                    }
                } else {
                    rest.insert(key.clone(), value.clone());
                }
            }
            if rest.len() == values.len() {
                remaining.push(op.clone());
            } else if !rest.is_empty() {
                remaining.push(PatchOperation {
                    op: op.op,
                    path: None,
                    value: Some(Value::Object(rest)),
                });
            }
        }
        _ => remaining.push(op.clone()),
    }
    Ok(())
}

fn is_members(path: &PatchPath) -> bool {
    path.attr.extension.is_none() && path.attr.attr == "members"
}

fn is_members_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("members")
        || key
            .get(..GROUP_SCHEMA.len())
            .is_some_and(|urn| urn.eq_ignore_ascii_case(GROUP_SCHEMA))
            && key
                .get(GROUP_SCHEMA.len()..)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(":members"))
}

fn pathed_change(
    op: PatchOp,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<Option<MemberChange>, ScimError> {
    if path.attr.sub_attr.is_some() {
        return Err(ScimError::invalid_path(
            "sub-attributes of 'members' cannot be patched; add or remove members by 'value'",
        ));
    }
    match (op, &path.filter) {
        (PatchOp::Remove, Some(filter)) => {
            let mut ids = Vec::new();
            value_eq_ids(filter, &mut ids)?;
            Ok(Some(MemberChange::Remove(ids)))
        }
        (PatchOp::Remove, None) => match value {
            None | Some(Value::Null) => Ok(Some(MemberChange::RemoveAll)),
            Some(listed) => {
                let ids = member_ids(listed)?;
                Ok((!ids.is_empty()).then_some(MemberChange::Remove(ids)))
            }
        },
        (_, Some(_)) => Err(ScimError::invalid_path(format!(
            "'{}' cannot target members through a filter; use path 'members'",
            op.as_str()
        ))),
        (_, None) => match value {
            Some(value) => value_change(op, value),
            None => Err(ScimError::invalid_value(format!(
                "'{}' needs a 'value'",
                op.as_str()
            ))),
        },
    }
}

/// The change for `add`/`replace` of `members` with `value`.
fn value_change(op: PatchOp, value: &Value) -> Result<Option<MemberChange>, ScimError> {
    if value.is_null() || value.as_str() == Some("") {
        return Ok(Some(MemberChange::RemoveAll));
    }
    let ids = member_ids(value)?;
    Ok(match op {
        PatchOp::Replace => Some(MemberChange::ReplaceAll(ids)),
        _ if ids.is_empty() => None,
        _ => Some(MemberChange::Add(ids)),
    })
}

/// The `value` of each member object in a list (or of a single member object).
fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|item| match get_ci(item, "value") {
            Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
            _ => Err(ScimError::invalid_value(
                "each member must be an object with a non-empty string 'value' (the member's id)",
            )),
        })
        .collect()
}

/// The ids of `value eq "id"` terms joined by `or`.
fn value_eq_ids(filter: &FilterExpr, ids: &mut Vec<String>) -> Result<(), ScimError> {
    match filter {
        FilterExpr::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.sub_attr == Some("value") => {
            ids.push(id.clone());
            Ok(())
        }
        FilterExpr::Or(a, b) => {
            value_eq_ids(a, ids)?;
            value_eq_ids(b, ids)
        }
        _ => Err(ScimError::invalid_filter(
            "members can only be selected by 'value eq \"id\"' terms, optionally joined by 'or'",
        )),
    }
}

/// Members moved by one request, on ids of ours, folded so that no user appears twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    pub add: Vec<ResourceId>,
    pub remove: Vec<ResourceId>,
}

impl MemberDelta {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// The delta that turns the member set `current` into `wanted`.
    pub fn between(current: &[ResourceId], wanted: &[ResourceId]) -> Self {
        let have: BTreeSet<&ResourceId> = current.iter().collect();
        let want: BTreeSet<&ResourceId> = wanted.iter().collect();
        Self {
            add: wanted
                .iter()
                .filter(|w| !have.contains(w))
                .cloned()
                .collect(),
            remove: current
                .iter()
                .filter(|c| !want.contains(c))
                .cloned()
                .collect(),
        }
    }
}

/// What a request's member changes need from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberPlan {
    /// No member changes.
    Unchanged,
    /// Adds and removes by id: they commute with concurrent changes and need no member read.
    Delta(MemberDelta),
    /// A `RemoveAll` or `ReplaceAll` makes the result depend on the current members: read them,
    /// then [`resolve_members`].
    NeedsCurrent,
}

/// The id a member `value` names; a value that cannot be one of our ids is not a user of this
/// tenant (`400 invalidValue` when added).
pub fn member_id(value: &str) -> Result<ResourceId, ScimError> {
    ResourceId::parse(value).ok_or_else(|| {
        ScimError::invalid_value(format!(
            "`{}` is not a user of this tenant.",
            value.chars().take(100).collect::<String>()
        ))
    })
}

/// Folds a request's member changes, in order, into what the store must do. Removing an id
/// that cannot be ours is a no-op; adding one is `400 invalidValue`.
pub fn plan_member_changes(changes: &[MemberChange]) -> Result<MemberPlan, ScimError> {
    if changes.is_empty() {
        return Ok(MemberPlan::Unchanged);
    }
    // One pass: every added id is checked (a bad one fails before anything is read), and adds
    // and removes fold into their net effect unless a RemoveAll or ReplaceAll needs the
    // current members.
    let mut net: BTreeMap<ResourceId, bool> = BTreeMap::new();
    let mut needs_current = false;
    for change in changes {
        match change {
            MemberChange::Add(ids) => {
                for id in ids {
                    net.insert(member_id(id)?, true);
                }
            }
            MemberChange::Remove(ids) => {
                for id in ids.iter().filter_map(|id| ResourceId::parse(id)) {
                    net.insert(id, false);
                }
            }
            MemberChange::RemoveAll => needs_current = true,
            MemberChange::ReplaceAll(ids) => {
                needs_current = true;
                for id in ids {
                    member_id(id)?;
                }
            }
        }
    }
    if needs_current {
        return Ok(MemberPlan::NeedsCurrent);
    }
    let (add, remove): (Vec<_>, Vec<_>) = net.into_iter().partition(|(_, add)| *add);
    Ok(MemberPlan::Delta(MemberDelta {
        add: add.into_iter().map(|(id, _)| id).collect(),
        remove: remove.into_iter().map(|(id, _)| id).collect(),
    }))
}

/// Applies member changes, in order, to the current member set: the complete new member list.
pub fn resolve_members(
    current: &[ResourceId],
    changes: &[MemberChange],
) -> Result<Vec<ResourceId>, ScimError> {
    let mut set: BTreeSet<ResourceId> = current.iter().cloned().collect();
    for change in changes {
        match change {
            MemberChange::Add(ids) => {
                for id in ids {
                    set.insert(member_id(id)?);
                }
            }
            MemberChange::Remove(ids) => {
                for id in ids.iter().filter_map(|id| ResourceId::parse(id)) {
                    set.remove(&id);
                }
            }
            MemberChange::RemoveAll => set.clear(),
            MemberChange::ReplaceAll(ids) => {
                set.clear();
                for id in ids {
                    set.insert(member_id(id)?);
                }
            }
        }
    }
    Ok(set.into_iter().collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod plan_tests {
    use super::*;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    fn id(s: &str) -> ResourceId {
        ResourceId::parse(s).unwrap()
    }

    #[test]
    fn adds_and_removes_fold_to_a_delta_where_the_last_change_wins() {
        let plan = plan_member_changes(&[
            MemberChange::Add(vec![A.into(), B.into()]),
            MemberChange::Remove(vec![B.into(), "not-ours".into()]),
        ])
        .unwrap();
        assert_eq!(
            plan,
            MemberPlan::Delta(MemberDelta {
                add: vec![id(A)],
                remove: vec![id(B)]
            })
        );
    }

    #[test]
    fn adding_an_id_that_is_not_ours_is_invalid_value() {
        for changes in [
            vec![MemberChange::Add(vec!["x".into()])],
            vec![MemberChange::RemoveAll, MemberChange::Add(vec!["x".into()])],
        ] {
            let err = plan_member_changes(&changes).unwrap_err();
            assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidValue));
        }
    }

    #[test]
    fn replace_all_needs_the_current_members_and_resolves_in_order() {
        let changes = [
            MemberChange::ReplaceAll(vec![A.into()]),
            MemberChange::Add(vec![B.into()]),
            MemberChange::Remove(vec![A.into()]),
        ];
        assert_eq!(
            plan_member_changes(&changes).unwrap(),
            MemberPlan::NeedsCurrent
        );
        assert_eq!(resolve_members(&[id(A)], &changes).unwrap(), vec![id(B)]);
        assert_eq!(
            resolve_members(&[id(A), id(B)], &[MemberChange::RemoveAll]).unwrap(),
            Vec::<ResourceId>::new()
        );
    }

    #[test]
    fn the_delta_between_member_sets_names_only_differences() {
        let d = MemberDelta::between(&[id(A)], &[id(B), id(A)]);
        assert_eq!(
            d,
            MemberDelta {
                add: vec![id(B)],
                remove: vec![]
            }
        );
        assert!(MemberDelta::between(&[id(A)], &[id(A)]).is_empty());
    }
}
