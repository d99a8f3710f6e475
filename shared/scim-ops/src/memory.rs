//! An in-memory store with the ports' conditional semantics (uniqueness guards, versions,
//! atomic membership changes), and injectable faults. It drives fast unit tests of the
//! operations core; it is never a substitute for the integration tests against a
//! DynamoDB-compatible server.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_core::patch::MemberDelta;
use scim_core::{codec, fold};
use serde_json::Value;

use crate::error::{StoreError, UniqueAttribute};
use crate::model::{AuditRecord, Change, Group, Member, Page, PageStart, Principal, Refusal, User};
use crate::ports::{AuditTrail, GroupStore, RateCounter, TokenStore, UserStore};

/// A failure the next matching call answers with.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Fail with this error, writing nothing.
    Fail(StoreError),
    /// The write's response is lost and the store retries it. A transactional write
    /// (creates, group updates, deletes) is idempotent under retry, as DynamoDB's
    /// TransactWriteItems is with its client request token: it is applied once and answered as
    /// done. A single conditional write (`replace_user`, `set_user_active`) is applied, then
    /// answers `VersionConflict`: the retry's condition found the version its first try wrote.
    LostResponse,
    /// Let another writer change the record first (bumping its version), then run the call:
    /// a concurrent change between this request's read and its write.
    ConcurrentChange,
}

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<(String, ResourceId), (User, bool)>,
    groups: BTreeMap<(String, ResourceId), (Group, bool)>,
    members: BTreeMap<(String, ResourceId), BTreeMap<ResourceId, Member>>,
    unique: HashMap<(String, &'static str, String), ResourceId>,
    tokens: HashMap<String, Result<Principal, Refusal>>,
    rate: HashMap<(String, u32, u64), u32>,
    audit: BTreeMap<(String, String), AuditRecord>,
    faults: Vec<(&'static str, Fault)>,
    calls: Vec<&'static str>,
}

/// Writes that are transactions in the DynamoDB adapter, and so idempotent under its retries.
const IDEMPOTENT: &[&str] = &[
    "create_user",
    "delete_user",
    "create_group",
    "update_group",
    "delete_group",
];

/// The in-memory store. Cheap to build; one per test.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

fn key(tenant: &TenantId, id: &ResourceId) -> (String, ResourceId) {
    (tenant.to_string(), id.clone())
}

fn text<'a>(doc: &'a Value, name: &str) -> Option<&'a str> {
    doc.get(name).and_then(Value::as_str)
}

/// A user's index order: its folded userName.
fn user_name(user: &User) -> String {
    fold(text(&user.doc, "userName").unwrap_or_default())
}

/// A group's index order: its folded displayName.
fn display_name(group: &Group) -> String {
    fold(text(&group.doc, "displayName").unwrap_or_default())
}

/// The unique values a record claims: (kind, folded value, the attribute they guard).
fn user_guards(doc: &Value) -> Vec<(&'static str, String, UniqueAttribute)> {
    let mut out = vec![(
        "userName",
        fold(text(doc, "userName").unwrap_or_default()),
        UniqueAttribute::UserName,
    )];
    if let Some(ext) = codec::external_id(doc) {
        out.push((
            "userExternalId",
            ext.to_string(),
            UniqueAttribute::ExternalId,
        ));
    }
    out
}

fn group_guards(doc: &Value) -> Vec<(&'static str, String, UniqueAttribute)> {
    let mut out = vec![(
        "displayName",
        fold(text(doc, "displayName").unwrap_or_default()),
        UniqueAttribute::DisplayName,
    )];
    if let Some(ext) = codec::external_id(doc) {
        out.push((
            "groupExternalId",
            ext.to_string(),
            UniqueAttribute::ExternalId,
        ));
    }
    out
}

impl State {
    /// Checks that `wanted` guards are free or held by `owner`; then moves `owner`'s guards
    /// from `held` to `wanted`.
    fn swap_guards(
        &mut self,
        tenant: &TenantId,
        owner: &ResourceId,
        held: &[(&'static str, String, UniqueAttribute)],
        wanted: &[(&'static str, String, UniqueAttribute)],
    ) -> Result<(), StoreError> {
        for (kind, value, attr) in wanted {
            match self.unique.get(&(tenant.to_string(), *kind, value.clone())) {
                Some(other) if other != owner => return Err(StoreError::Taken(*attr)),
                _ => {}
            }
        }
        for (kind, value, _) in held {
            self.unique
                .remove(&(tenant.to_string(), *kind, value.clone()));
        }
        for (kind, value, _) in wanted {
            self.unique
                .insert((tenant.to_string(), *kind, value.clone()), owner.clone());
        }
        Ok(())
    }

    fn live_user(&self, tenant: &TenantId, id: &ResourceId) -> Option<&User> {
        self.users
            .get(&key(tenant, id))
            .filter(|(_, deleted)| !deleted)
            .map(|(u, _)| u)
    }

    fn live_group(&self, tenant: &TenantId, id: &ResourceId) -> Option<&Group> {
        self.groups
            .get(&key(tenant, id))
            .filter(|(_, deleted)| !deleted)
            .map(|(g, _)| g)
    }

    fn bump_user(&mut self, tenant: &TenantId, id: &ResourceId, change: Change<'_>) {
        if let Some((user, false)) = self.users.get_mut(&key(tenant, id)) {
            user.version += 1;
            user.last_modified = change.at.to_string();
            user.modified_by = Some(change.by.to_string());
        }
    }

    /// Applies a member delta atomically: every added user must exist; no-ops write nothing.
    fn apply_delta(
        &mut self,
        tenant: &TenantId,
        group: &Group,
        delta: &MemberDelta,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        if let Some(missing) = delta
            .add
            .iter()
            .find(|u| self.live_user(tenant, u).is_none())
        {
            return Err(StoreError::MissingReference(missing.to_string()));
        }
        for uid in &delta.add {
            let members = self.members.entry(key(tenant, &group.id)).or_default();
            if members.contains_key(uid) {
                continue;
            }
            members.insert(
                uid.clone(),
                Member {
                    user_id: uid.clone(),
                    project_role: group.project_role,
                },
            );
            if let Some((user, _)) = self.users.get_mut(&key(tenant, uid)) {
                user.group_ids.push(group.id.clone());
            }
            self.bump_user(tenant, uid, change);
        }
        for uid in &delta.remove {
            let removed = self
                .members
                .get_mut(&key(tenant, &group.id))
                .and_then(|m| m.remove(uid))
                .is_some();
            if removed {
                if let Some((user, _)) = self.users.get_mut(&key(tenant, uid)) {
                    user.group_ids.retain(|g| g != &group.id);
                }
                self.bump_user(tenant, uid, change);
            }
        }
        Ok(())
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another test thread panicked; the data is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the next call of `operation` (a port method's name, e.g. `replace_user`) answer
    /// with `fault`. Several faults for one operation are used in order.
    pub fn inject(&self, operation: &'static str, fault: Fault) {
        self.state().faults.push((operation, fault));
    }

    /// The port methods called so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.state().calls.clone()
    }

    /// How many times `operation` was called.
    pub fn count(&self, operation: &str) -> usize {
        self.state()
            .calls
            .iter()
            .filter(|c| **c == operation)
            .count()
    }

    /// Registers a token hash and what verifying it answers.
    pub fn add_token(&self, token_hash: &str, answer: Result<Principal, Refusal>) {
        self.state().tokens.insert(token_hash.to_string(), answer);
    }

    /// A user as stored, including a deleted one (with its deleted flag).
    pub fn user_record(&self, tenant: &TenantId, id: &ResourceId) -> Option<(User, bool)> {
        self.state().users.get(&key(tenant, id)).cloned()
    }

    /// Records the call and takes its pending fault, if any.
    fn enter(&self, operation: &'static str) -> Option<Fault> {
        let mut state = self.state();
        state.calls.push(operation);
        let at = state.faults.iter().position(|(op, _)| *op == operation)?;
        Some(state.faults.remove(at).1)
    }

    /// Runs a write under the fault rules.
    fn write<T>(
        &self,
        operation: &'static str,
        concurrent: impl FnOnce(&mut State),
        apply: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let fault = self.enter(operation);
        let mut state = self.state();
        match fault {
            Some(Fault::Fail(err)) => Err(err),
            Some(Fault::LostResponse) if IDEMPOTENT.contains(&operation) => apply(&mut state),
            Some(Fault::LostResponse) => apply(&mut state).and(Err(StoreError::VersionConflict)),
            Some(Fault::ConcurrentChange) => {
                concurrent(&mut state);
                apply(&mut state)
            }
            None => apply(&mut state),
        }
    }

    fn read<T>(
        &self,
        operation: &'static str,
        read: impl FnOnce(&State) -> T,
    ) -> Result<T, StoreError> {
        match self.enter(operation) {
            Some(Fault::Fail(err)) => Err(err),
            _ => Ok(read(&self.state())),
        }
    }
}

fn touch_user<'a>(tenant: &'a TenantId, id: &'a ResourceId) -> impl FnOnce(&mut State) + 'a {
    move |state| {
        if let Some((user, false)) = state.users.get_mut(&key(tenant, id)) {
            user.version += 1;
            user.last_modified = "concurrent".into();
        }
    }
}

fn touch_group<'a>(tenant: &'a TenantId, id: &'a ResourceId) -> impl FnOnce(&mut State) + 'a {
    move |state| {
        if let Some((group, false)) = state.groups.get_mut(&key(tenant, id)) {
            group.version += 1;
            group.last_modified = "concurrent".into();
        }
    }
}

/// The records in (folded name, id) order, as the DynamoDB adapter's index orders them.
fn sorted<T>(
    all: Vec<T>,
    name: impl Fn(&T) -> String,
    id: impl Fn(&T) -> String,
) -> Vec<((String, String), T)> {
    let mut keyed: Vec<((String, String), T)> =
        all.into_iter().map(|t| ((name(&t), id(&t)), t)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed
}

/// A page of `all` from `start`; positions are `<id> <folded name>` of the last record read.
fn sorted_page<T>(
    all: Vec<T>,
    name: impl Fn(&T) -> String,
    id: impl Fn(&T) -> String,
    start: &PageStart,
    take: usize,
) -> Result<Page<T>, StoreError> {
    let keyed = sorted(all, name, id);
    let from = match start {
        PageStart::Offset(skip) => *skip,
        PageStart::After(position) => {
            let (id, name) = position
                .split_once(' ')
                .ok_or(StoreError::InvalidPosition)?;
            let after = (name.to_string(), id.to_string());
            keyed.partition_point(|(k, _)| *k <= after)
        }
    };
    let total = keyed.len();
    let page: Vec<((String, String), T)> = keyed.into_iter().skip(from).take(take).collect();
    let next = match page.last() {
        Some(((name, id), _)) if take > 0 && page.len() == take && from + take < total => {
            Some(format!("{id} {name}"))
        }
        _ => None,
    };
    Ok(Page {
        items: page.into_iter().map(|(_, t)| t).collect(),
        next,
    })
}

impl UserStore for MemoryStore {
    async fn create_user(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError> {
        self.write(
            "create_user",
            |_| {},
            |state| {
                if state.users.contains_key(&key(tenant, &user.id)) {
                    return Err(StoreError::VersionConflict);
                }
                state.swap_guards(tenant, &user.id, &[], &user_guards(&user.doc))?;
                state
                    .users
                    .insert(key(tenant, &user.id), (user.clone(), false));
                Ok(())
            },
        )
    }

    async fn get_user(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<User>, StoreError> {
        self.read("get_user", |s| s.live_user(tenant, id).cloned())
    }

    async fn get_users(
        &self,
        tenant: &TenantId,
        ids: &[ResourceId],
    ) -> Result<Vec<User>, StoreError> {
        self.read("get_users", |s| {
            ids.iter()
                .filter_map(|id| s.live_user(tenant, id).cloned())
                .collect()
        })
    }

    async fn find_users(
        &self,
        tenant: &TenantId,
        index: &IndexKey,
    ) -> Result<Vec<User>, StoreError> {
        self.read("find_users", |s| {
            s.users
                .iter()
                .filter(|((t, _), (_, deleted))| t == tenant.as_str() && !deleted)
                .map(|(_, (u, _))| u)
                .filter(|u| match index {
                    IndexKey::Id(id) => u.id.as_str() == id,
                    IndexKey::UserName(name) => {
                        fold(text(&u.doc, "userName").unwrap_or_default()) == fold(name)
                    }
                    IndexKey::ExternalId(ext) => codec::external_id(&u.doc) == Some(ext.as_str()),
                    IndexKey::Email(email) => u
                        .doc
                        .get("emails")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|e| text(e, "value"))
                        .any(|v| fold(v) == fold(email)),
                    IndexKey::DisplayName(_) | IndexKey::Member(_) => false,
                })
                .cloned()
                .collect()
        })
    }

    async fn replace_user(
        &self,
        tenant: &TenantId,
        before: &User,
        after: &User,
    ) -> Result<(), StoreError> {
        self.write("replace_user", touch_user(tenant, &before.id), |state| {
            match state.live_user(tenant, &before.id) {
                Some(current) if current.version == before.version => {}
                _ => return Err(StoreError::VersionConflict),
            }
            state.swap_guards(
                tenant,
                &before.id,
                &user_guards(&before.doc),
                &user_guards(&after.doc),
            )?;
            state
                .users
                .insert(key(tenant, &after.id), (after.clone(), false));
            Ok(())
        })
    }

    async fn set_user_active(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        active: bool,
        change: Change<'_>,
        expected_version: Option<u64>,
    ) -> Result<User, StoreError> {
        self.write("set_user_active", touch_user(tenant, id), |state| {
            let Some((user, false)) = state.users.get_mut(&key(tenant, id)) else {
                return Err(if expected_version.is_some() {
                    StoreError::VersionConflict
                } else {
                    StoreError::NotFound
                });
            };
            if expected_version.is_some_and(|v| v != user.version) {
                return Err(StoreError::VersionConflict);
            }
            user.active = active;
            if let Some(doc) = user.doc.as_object_mut() {
                doc.insert("active".into(), Value::Bool(active));
            }
            user.version += 1;
            user.last_modified = change.at.to_string();
            user.modified_by = Some(change.by.to_string());
            Ok(user.clone())
        })
    }

    async fn delete_user(
        &self,
        tenant: &TenantId,
        user: &User,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        self.write("delete_user", touch_user(tenant, &user.id), |state| {
            match state.live_user(tenant, &user.id) {
                Some(current) if current.version == user.version => {}
                _ => return Err(StoreError::VersionConflict),
            }
            state.swap_guards(tenant, &user.id, &user_guards(&user.doc), &[])?;
            for gid in &user.group_ids {
                if let Some(members) = state.members.get_mut(&key(tenant, gid)) {
                    members.remove(&user.id);
                }
            }
            if let Some((stored, deleted)) = state.users.get_mut(&key(tenant, &user.id)) {
                stored.active = false;
                stored.group_ids.clear();
                stored.version += 1;
                stored.last_modified = change.at.to_string();
                *deleted = true;
            }
            Ok(())
        })
    }

    async fn count_users(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        Ok(self.live_users(tenant, "count_users")?.len())
    }

    async fn page_users(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> Result<Page<User>, StoreError> {
        let all = self.live_users(tenant, "page_users")?;
        sorted_page(all, user_name, |u| u.id.to_string(), start, take)
    }

    async fn all_users(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<User>>, StoreError> {
        // In userName order, as the DynamoDB adapter reads them (GSI1, `lower(userName)`).
        let all = self.live_users(tenant, "all_users")?;
        let count = all.len();
        Ok((count <= max).then(|| {
            sorted(all, user_name, |u| u.id.to_string())
                .into_iter()
                .map(|(_, u)| u)
                .collect()
        }))
    }
}

impl MemoryStore {
    fn live_users(
        &self,
        tenant: &TenantId,
        operation: &'static str,
    ) -> Result<Vec<User>, StoreError> {
        self.read(operation, |s| {
            s.users
                .iter()
                .filter(|((t, _), (_, deleted))| t == tenant.as_str() && !deleted)
                .map(|(_, (u, _))| u.clone())
                .collect()
        })
    }

    fn live_groups(
        &self,
        tenant: &TenantId,
        operation: &'static str,
    ) -> Result<Vec<Group>, StoreError> {
        self.read(operation, |s| {
            s.groups
                .iter()
                .filter(|((t, _), (_, deleted))| t == tenant.as_str() && !deleted)
                .map(|(_, (g, _))| g.clone())
                .collect()
        })
    }

    fn members_of(state: &State, tenant: &TenantId, id: &ResourceId) -> Vec<Member> {
        state
            .members
            .get(&key(tenant, id))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl GroupStore for MemoryStore {
    async fn create_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        members: &[ResourceId],
        change: Change<'_>,
    ) -> Result<Group, StoreError> {
        self.write(
            "create_group",
            |_| {},
            |state| {
                if let Some(missing) = members
                    .iter()
                    .find(|u| state.live_user(tenant, u).is_none())
                {
                    return Err(StoreError::MissingReference(missing.to_string()));
                }
                state.swap_guards(tenant, &group.id, &[], &group_guards(&group.doc))?;
                state
                    .groups
                    .insert(key(tenant, &group.id), (group.clone(), false));
                let delta = MemberDelta {
                    add: members.to_vec(),
                    remove: Vec::new(),
                };
                state.apply_delta(tenant, group, &delta, change)?;
                Ok(group.clone())
            },
        )
    }

    async fn get_group(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<Group>, StoreError> {
        self.read("get_group", |s| s.live_group(tenant, id).cloned())
    }

    async fn get_group_with_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Option<(Group, Vec<Member>)>, StoreError> {
        self.read("get_group_with_members", |s| {
            s.live_group(tenant, id)
                .map(|g| (g.clone(), Self::members_of(s, tenant, id)))
        })
    }

    async fn group_members(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
    ) -> Result<Vec<Member>, StoreError> {
        self.read("group_members", |s| Self::members_of(s, tenant, id))
    }

    async fn members_among(
        &self,
        tenant: &TenantId,
        id: &ResourceId,
        users: &[ResourceId],
    ) -> Result<Vec<ResourceId>, StoreError> {
        self.read("members_among", |s| {
            let members = Self::members_of(s, tenant, id);
            users
                .iter()
                .filter(|u| members.iter().any(|m| m.user_id == **u))
                .cloned()
                .collect()
        })
    }

    async fn find_groups(
        &self,
        tenant: &TenantId,
        index: &IndexKey,
    ) -> Result<Vec<Group>, StoreError> {
        self.read("find_groups", |s| {
            s.groups
                .iter()
                .filter(|((t, _), (_, deleted))| t == tenant.as_str() && !deleted)
                .map(|(_, (g, _))| g)
                .filter(|g| match index {
                    IndexKey::Id(id) => g.id.as_str() == id,
                    IndexKey::DisplayName(name) => {
                        fold(text(&g.doc, "displayName").unwrap_or_default()) == fold(name)
                    }
                    IndexKey::ExternalId(ext) => codec::external_id(&g.doc) == Some(ext.as_str()),
                    IndexKey::Member(user) => Self::members_of(s, tenant, &g.id)
                        .iter()
                        .any(|m| m.user_id.as_str() == user),
                    IndexKey::UserName(_) | IndexKey::Email(_) => false,
                })
                .cloned()
                .collect()
        })
    }

    async fn update_group(
        &self,
        tenant: &TenantId,
        before: &Group,
        after: Option<&Group>,
        delta: &MemberDelta,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        self.write("update_group", touch_group(tenant, &before.id), |state| {
            let Some(current) = state.live_group(tenant, &before.id).cloned() else {
                return Err(StoreError::VersionConflict);
            };
            // Atomic: validate everything before the first change.
            if let Some(missing) = delta
                .add
                .iter()
                .find(|u| state.live_user(tenant, u).is_none())
            {
                return Err(StoreError::MissingReference(missing.to_string()));
            }
            match after {
                Some(after) => {
                    if current.version != before.version {
                        return Err(StoreError::VersionConflict);
                    }
                    state.swap_guards(
                        tenant,
                        &before.id,
                        &group_guards(&before.doc),
                        &group_guards(&after.doc),
                    )?;
                    state
                        .groups
                        .insert(key(tenant, &after.id), (after.clone(), false));
                }
                None => {
                    if let Some((group, _)) = state.groups.get_mut(&key(tenant, &before.id)) {
                        group.version += 1;
                        group.last_modified = change.at.to_string();
                        group.modified_by = Some(change.by.to_string());
                    }
                }
            }
            state.apply_delta(tenant, &current, delta, change)
        })
    }

    async fn delete_group(
        &self,
        tenant: &TenantId,
        group: &Group,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        self.write(
            "delete_group",
            |_| {},
            |state| {
                let Some(current) = state.live_group(tenant, &group.id).cloned() else {
                    return Err(StoreError::VersionConflict);
                };
                let members: Vec<ResourceId> = Self::members_of(state, tenant, &group.id)
                    .into_iter()
                    .map(|m| m.user_id)
                    .collect();
                let delta = MemberDelta {
                    add: Vec::new(),
                    remove: members,
                };
                state.apply_delta(tenant, &current, &delta, change)?;
                state.swap_guards(tenant, &group.id, &group_guards(&current.doc), &[])?;
                if let Some((stored, deleted)) = state.groups.get_mut(&key(tenant, &group.id)) {
                    stored.version += 1;
                    *deleted = true;
                }
                Ok(())
            },
        )
    }

    async fn count_groups(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        Ok(self.live_groups(tenant, "count_groups")?.len())
    }

    async fn page_groups(
        &self,
        tenant: &TenantId,
        start: &PageStart,
        take: usize,
    ) -> Result<Page<Group>, StoreError> {
        let all = self.live_groups(tenant, "page_groups")?;
        sorted_page(all, display_name, |g| g.id.to_string(), start, take)
    }

    async fn all_groups(
        &self,
        tenant: &TenantId,
        max: usize,
    ) -> Result<Option<Vec<Group>>, StoreError> {
        // In displayName order, as the DynamoDB adapter reads them (GSI1, `lower(displayName)`).
        let all = self.live_groups(tenant, "all_groups")?;
        let count = all.len();
        Ok((count <= max).then(|| {
            sorted(all, display_name, |g| g.id.to_string())
                .into_iter()
                .map(|(_, g)| g)
                .collect()
        }))
    }
}

impl TokenStore for MemoryStore {
    async fn verify_token(
        &self,
        token_hash: &str,
        _now: &str,
    ) -> Result<Result<Principal, Refusal>, StoreError> {
        self.read("verify_token", |s| {
            s.tokens
                .get(token_hash)
                .cloned()
                .unwrap_or(Err(Refusal::UnknownOrRevoked))
        })
    }
}

impl RateCounter for MemoryStore {
    async fn claim_rate(
        &self,
        token_hash: &str,
        shard: u32,
        second: u64,
        want: u32,
        limit: u32,
    ) -> Result<u32, StoreError> {
        self.write(
            "claim_rate",
            |_| {},
            |state| {
                let used = state
                    .rate
                    .entry((token_hash.to_string(), shard, second))
                    .or_default();
                let want = want.clamp(1, limit.max(1));
                let granted = if *used + want <= limit {
                    want
                } else if *used < limit {
                    1
                } else {
                    0
                };
                *used += granted;
                Ok(granted)
            },
        )
    }
}

impl AuditTrail for MemoryStore {
    async fn append(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        self.write(
            "append",
            |_| {},
            |state| {
                for record in records {
                    state.audit.insert(
                        (record.tenant_id.clone(), record.cursor.clone()),
                        record.clone(),
                    );
                }
                Ok(())
            },
        )
    }

    async fn records(
        &self,
        tenant: &TenantId,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.read("records", |s| {
            s.audit
                .range((tenant.to_string(), since.unwrap_or_default().to_string())..)
                .take_while(|((t, _), _)| t == tenant.as_str())
                .filter(|((_, cursor), _)| since.is_none_or(|since| cursor.as_str() > since))
                .take(limit)
                .map(|(_, r)| r.clone())
                .collect()
        })
    }
}
