//! The audit trail port's semantics, on the in-memory store: one record per cursor, tenant
//! scoped, oldest first, paged by cursor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::ids::TenantId;
use scim_ops::memory::MemoryStore;
use scim_ops::{AuditRecord, AuditTrail};

fn record(tenant: &str, at: &str, event: &str, action: &str) -> AuditRecord {
    AuditRecord {
        cursor: format!("{at}#{event}"),
        tenant_id: tenant.into(),
        at: at.into(),
        actor: "scim_00000000".into(),
        action: action.into(),
        resource_type: "User".into(),
        resource_id: "2819c223-7f76-453a-919d-413861904646".into(),
        version: Some(1),
        attributes: vec!["userName".into()],
        groups_added: Vec::new(),
        groups_removed: Vec::new(),
        event_id: event.into(),
        expires_at: 0,
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

#[tokio::test]
async fn a_redelivered_change_is_recorded_once() {
    let store = MemoryStore::new();
    let first = record("acme", "2026-11-23T00:00:01Z", "e1", "user.create");
    store.append(std::slice::from_ref(&first)).await.unwrap();
    store.append(std::slice::from_ref(&first)).await.unwrap();
    let records = store.records(&tenant("acme"), None, 10).await.unwrap();
    assert_eq!(records, vec![first]);
}

#[tokio::test]
async fn records_are_tenant_scoped_oldest_first_and_paged_by_cursor() {
    let store = MemoryStore::new();
    let a2 = record("acme", "2026-11-23T00:00:02Z", "e2", "user.update");
    let a1 = record("acme", "2026-11-23T00:00:01Z", "e1", "user.create");
    let b1 = record("other", "2026-11-23T00:00:01Z", "e3", "user.create");
    store.append(&[a2.clone(), b1, a1.clone()]).await.unwrap();
    let acme = tenant("acme");
    assert_eq!(
        store.records(&acme, None, 10).await.unwrap(),
        vec![a1.clone(), a2.clone()]
    );
    assert_eq!(
        store.records(&acme, None, 1).await.unwrap(),
        vec![a1.clone()]
    );
    assert_eq!(
        store.records(&acme, Some(&a1.cursor), 10).await.unwrap(),
        vec![a2.clone()]
    );
    assert_eq!(
        store
            .records(&acme, Some("2026-11-23T00:00:02"), 10)
            .await
            .unwrap(),
        vec![a2]
    );
}
