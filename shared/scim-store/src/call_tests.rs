//! Which DynamoDB calls each operation makes, against the in-process fake (see
//! [`crate::fake`]): the counts the API tests and the access-pattern table rely on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scim_core::filter::IndexKey;
use scim_core::ids::{ResourceId, TenantId};
use scim_core::patch::MemberDelta;
use scim_core::{PlatformRole, ProjectRole};
use scim_ops::{
    Change, Group, GroupStore, PageStart, RateCounter, Refusal, StoreError, TokenStore,
    UniqueAttribute, User, UserStore,
};
use serde_json::{json, Value};

use crate::fake::{cancelled, condition_failed, ok, transact_items, wire, wire_key, Fake, TABLE};
use crate::items::{self, EmailItem, GroupItem, TenantItem, TokenItem, UniqueItem, UserItem};
use crate::keys;

const CHANGE: Change<'static> = Change {
    at: "2026-02-01T00:00:00Z",
    by: "scim_1a2b3c4d",
};

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn id(n: usize) -> ResourceId {
    ResourceId::parse(&format!("00000000-0000-4000-8000-{n:012x}")).unwrap()
}

fn user(n: usize, doc: Value) -> User {
    User {
        id: id(n),
        doc,
        active: true,
        platform_role: PlatformRole::Member,
        group_ids: Vec::new(),
        version: 1,
        created: CHANGE.at.into(),
        last_modified: CHANGE.at.into(),
        modified_by: Some(CHANGE.by.into()),
    }
}

fn user_wire(n: usize) -> Value {
    wire(&UserItem::from_record(
        &tenant(),
        &user(n, json!({"userName": format!("u{n}")})),
    ))
}

fn group(doc: Value) -> Group {
    Group {
        id: id(999),
        doc,
        project_role: ProjectRole::Viewer,
        version: 1,
        created: CHANGE.at.into(),
        last_modified: CHANGE.at.into(),
        modified_by: Some(CHANGE.by.into()),
    }
}

/// Answers BatchGetItem of user keys with every user whose id number is not in `missing`.
fn users_exist(missing: &'static [usize]) -> impl Fn(&str, &Value) -> (u16, Value) {
    move |op, body| match op {
        "BatchGetItem" => {
            let keys = body["RequestItems"][TABLE]["Keys"].as_array().unwrap();
            let found: Vec<Value> = (0..1000)
                .filter(|n| !missing.contains(n))
                .filter(|n| {
                    let pk = keys::user_pk(&tenant(), &id(*n));
                    keys.iter().any(|k| k["pk"]["S"] == pk.as_str())
                })
                .map(user_wire)
                .collect();
            ok(json!({"Responses": {TABLE: found}}))
        }
        _ => ok(json!({})),
    }
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The GSI1 key a page of users ends at: user `n`'s.
fn user_page_key(n: usize) -> Value {
    json!({
        "pk": {"S": keys::user_pk(&tenant(), &id(n))}, "sk": {"S": keys::USER_SK},
        "gsi1pk": {"S": keys::users_gsi(&tenant())}, "gsi1sk": {"S": format!("u{n}")},
    })
}

fn position_item(position: &str, expires_at: i64) -> Value {
    json!({"Item": {
        "pk": {"S": keys::paging_pk(&tenant())}, "sk": {"S": "USERS#5"},
        "type": {"S": items::PAGE_POSITION}, "position": {"S": position},
        "expires_at": {"N": expires_at.to_string()},
    }})
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn an_offset_page_nobody_ended_at_counts_its_way_there_and_remembers_where_it_ends() {
    let (store, fake) = Fake::store(|op, body| match op {
        "GetItem" | "PutItem" => ok(json!({})),
        _ if body["Select"] == "COUNT" => {
            // Three of the five to skip, then the other two.
            let limit = body["Limit"].as_u64().unwrap();
            let count = limit.min(3);
            ok(json!({"Count": count, "LastEvaluatedKey": wire_key("k", &format!("c{limit}"))}))
        }
        _ => ok(json!({"Count": 2, "Items": [user_wire(1), user_wire(2)],
                       "LastEvaluatedKey": user_page_key(2)})),
    });
    let page = run(store.page_users(&tenant(), &PageStart::Offset(5), 3)).unwrap();
    // The fake ignores Limit and answers two items a page: the loop asks only for what is
    // still missing (3, then 1) and keeps whatever comes.
    assert_eq!(page.items.len(), 4);
    assert_eq!(page.next.as_deref(), Some(format!("{} u2", id(2)).as_str()));
    assert_eq!(
        fake.ops(),
        ["GetItem", "Query", "Query", "Query", "Query", "PutItem"]
    );
    let calls = fake.calls();
    let queries: Vec<_> = calls.iter().filter(|c| c.op == "Query").collect();
    let limits: Vec<u64> = queries
        .iter()
        .map(|c| c.body["Limit"].as_u64().unwrap())
        .collect();
    assert_eq!(limits, [5, 2, 3, 1]);
    assert_eq!(queries[0].body.get("ExclusiveStartKey"), None);
    assert_eq!(queries[1].body["ExclusiveStartKey"]["sk"]["S"], "c5");
    assert_eq!(queries[2].body["ExclusiveStartKey"]["sk"]["S"], "c2");
    assert!(queries.iter().all(|c| c.body["IndexName"] == "gsi1"));
    let remembered = &calls[5].body["Item"];
    assert_eq!(remembered["sk"]["S"], "USERS#9", "offset 5 + 4 read");
    assert_eq!(remembered["position"]["S"], format!("{} u2", id(2)));
}

#[test]
fn an_offset_page_an_earlier_page_ended_at_reads_only_the_page() {
    let (store, fake) = Fake::store(|op, _| match op {
        "GetItem" => ok(position_item(&format!("{} u7", id(7)), now() + 60)),
        "PutItem" => ok(json!({})),
        _ => ok(
            json!({"Count": 3, "Items": [user_wire(8), user_wire(9), user_wire(10)],
                       "LastEvaluatedKey": user_page_key(10)}),
        ),
    });
    let page = run(store.page_users(&tenant(), &PageStart::Offset(5), 3)).unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(fake.ops(), ["GetItem", "Query", "PutItem"]);
    let calls = fake.calls();
    assert!(calls[1].body.get("Select").is_none(), "no counting");
    let start = &calls[1].body["ExclusiveStartKey"];
    assert_eq!(start["pk"]["S"], keys::user_pk(&tenant(), &id(7)));
    assert_eq!(start["gsi1pk"]["S"], keys::users_gsi(&tenant()));
    assert_eq!(start["gsi1sk"]["S"], "u7");
    assert_eq!(calls[2].body["Item"]["sk"]["S"], "USERS#8");
}

#[test]
fn an_expired_page_position_is_not_used() {
    let (store, fake) = Fake::store(|op, body| match op {
        "GetItem" => ok(position_item(&format!("{} u7", id(7)), now() - 1)),
        _ if body["Select"] == "COUNT" => ok(json!({"Count": 2})),
        _ => ok(json!({})),
    });
    let page = run(store.page_users(&tenant(), &PageStart::Offset(5), 3)).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(fake.ops(), ["GetItem", "Query"]);
}

#[test]
fn a_cursor_position_is_rebuilt_inside_the_callers_tenant() {
    let (store, fake) = Fake::store(|_, _| ok(json!({"Count": 1, "Items": [user_wire(3)]})));
    let position = PageStart::After(format!("{} u2", id(2)));
    let page = run(store.page_users(&tenant(), &position, 5)).unwrap();
    assert_eq!((page.items.len(), page.next), (1, None), "the last page");
    let start = &fake.calls()[0].body["ExclusiveStartKey"];
    assert_eq!(start["pk"]["S"], keys::user_pk(&tenant(), &id(2)));
    assert_eq!(start["gsi1pk"]["S"], keys::users_gsi(&tenant()));
    assert_eq!(fake.ops(), ["Query"], "a cursor page remembers nothing");
    for forged in [
        "no-space".to_string(),
        "TENANT#other#USER#x u2".to_string(),
        format!("{} ", id(2)),
        format!("{} {}", id(2), "x".repeat(2000)),
    ] {
        let (store, fake) = Fake::store(|_, _| ok(json!({})));
        let err = run(store.page_users(&tenant(), &PageStart::After(forged.clone()), 5));
        assert_eq!(err.unwrap_err(), StoreError::InvalidPosition, "{forged}");
        assert!(fake.ops().is_empty());
    }
}

#[test]
fn an_offset_past_the_end_is_one_lookup_and_one_count_query() {
    let (store, fake) = Fake::store(|op, _| match op {
        "GetItem" => ok(json!({})),
        _ => ok(json!({"Count": 2})),
    });
    let page = run(store.page_groups(&tenant(), &PageStart::Offset(10), 5)).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(fake.ops(), ["GetItem", "Query"]);
    let (store, fake) = Fake::store(|_, _| ok(json!({"Count": 0, "Items": []})));
    let page = run(store.page_users(&tenant(), &PageStart::Offset(0), 0)).unwrap();
    assert!(page.items.is_empty());
    assert!(fake.ops().is_empty(), "nothing to read, no call");
}

#[test]
fn totals_are_one_query_of_the_count_shards_whatever_the_tenants_size() {
    let (store, fake) = Fake::store(|_, _| {
        ok(json!({"Count": 3, "Items": [
            {"n": {"N": "7000"}}, {"n": {"N": "4"}}, {"n": {"N": "-1"}},
        ]}))
    });
    assert_eq!(run(store.count_users(&tenant())).unwrap(), 7003);
    assert_eq!(fake.ops(), ["Query"]);
    let q = &fake.calls()[0].body;
    assert_eq!(
        q["ExpressionAttributeValues"][":pk"]["S"],
        keys::counts_pk(&tenant())
    );
    assert_eq!(q["ExpressionAttributeValues"][":kind"]["S"], "USERS#");
    assert_eq!(q["ConsistentRead"], true);
}

#[test]
fn creates_and_deletes_move_the_count_in_their_own_transaction() {
    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    run(store.create_user(&tenant(), &user(1, json!({"userName": "u1"})))).unwrap();
    run(store.delete_user(&tenant(), &user(1, json!({"userName": "u1"})), CHANGE)).unwrap();
    assert_eq!(fake.ops(), ["TransactWriteItems", "TransactWriteItems"]);
    let adds: Vec<String> = fake
        .calls()
        .iter()
        .map(|c| {
            let counted: Vec<Value> = transact_items(c)
                .into_iter()
                .filter(|i| i["Update"]["Key"]["pk"]["S"] == keys::counts_pk(&tenant()).as_str())
                .collect();
            assert_eq!(counted.len(), 1, "one count write per transaction");
            counted[0]["Update"]["ExpressionAttributeValues"][":d"]["N"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(adds, ["1", "-1"]);
}

#[test]
fn reading_everything_gives_up_on_the_page_that_passes_the_bound() {
    let (store, fake) = Fake::store(|_, _| {
        ok(json!({"Count": 2, "Items": [user_wire(1), user_wire(2)],
                  "LastEvaluatedKey": wire_key("k", "more")}))
    });
    assert_eq!(run(store.all_users(&tenant(), 3)).unwrap(), None);
    assert_eq!(fake.ops(), ["Query", "Query"]);
    let (store, _) =
        Fake::store(|_, _| ok(json!({"Count": 2, "Items": [user_wire(1), user_wire(2)]})));
    assert_eq!(
        run(store.all_users(&tenant(), 2)).unwrap().unwrap().len(),
        2
    );
}

#[test]
fn user_lookups_cost_one_or_two_calls() {
    let answer = |op: &str, body: &Value| match op {
        "GetItem"
            if body["Key"]["pk"]["S"]
                .as_str()
                .unwrap()
                .contains("#UNIQUE#") =>
        {
            ok(json!({"Item": wire(&UniqueItem {
                pk: "p".into(), sk: "UNIQUE".into(), entity: items::UNIQUE.into(),
                owner_id: id(1).to_string(),
            })}))
        }
        "GetItem" => ok(json!({"Item": user_wire(1)})),
        "Query" if body.get("IndexName").is_none() => ok(json!({"Count": 1, "Items": [wire(
            &EmailItem {
                pk: keys::email_pk(&tenant(), "a@x.com"),
                sk: keys::email_sk(&id(1)),
                entity: items::EMAIL.into(),
                user_id: id(1).to_string(),
            }
        )]})),
        "Query" => ok(json!({"Count": 1, "Items": [user_wire(1)]})),
        "BatchGetItem" => ok(json!({"Responses": {TABLE: [user_wire(1)]}})),
        _ => ok(json!({})),
    };
    let cases: [(IndexKey, &[&str]); 6] = [
        (IndexKey::Id(id(1).to_string()), &["GetItem"]),
        (IndexKey::Id("../x".into()), &[]),
        (IndexKey::UserName("u1".into()), &["Query"]),
        (IndexKey::ExternalId("E-1".into()), &["GetItem", "GetItem"]),
        (
            IndexKey::Email("a@x.com".into()),
            &["Query", "BatchGetItem"],
        ),
        (IndexKey::DisplayName("x".into()), &[]),
    ];
    for (key, ops) in cases {
        let (store, fake) = Fake::store(answer);
        let found = run(store.find_users(&tenant(), &key)).unwrap();
        assert_eq!(fake.ops(), ops, "{key:?}");
        assert_eq!(found.len(), usize::from(!ops.is_empty()), "{key:?}");
        assert_eq!(store.calls(), ops.len() as u64, "the call counter agrees");
    }
    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    assert!(
        run(store.find_users(&tenant(), &IndexKey::ExternalId("E".into())))
            .unwrap()
            .is_empty()
    );
    assert!(
        run(store.find_users(&tenant(), &IndexKey::Email("a@x.com".into())))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        fake.ops(),
        ["GetItem", "Query"],
        "no owner, no index entry: one call each"
    );
    let (store, fake) = Fake::store(answer);
    assert!(run(store.get_user(&tenant(), &id(1))).unwrap().is_some());
    assert_eq!(fake.calls()[0].body["ConsistentRead"], true);
}

#[test]
fn a_user_create_is_one_transaction_and_stores_the_records_active_flag() {
    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    let mut record = user(
        1,
        json!({"userName": "Ann", "externalId": "E-1", "emails": [{"value": "A@x.com"}]}),
    );
    record.active = false;
    run(store.create_user(&tenant(), &record)).unwrap();
    let calls = fake.calls();
    assert_eq!(fake.ops(), ["TransactWriteItems"]);
    let items = transact_items(&calls[0]);
    let pks: Vec<&str> = items
        .iter()
        .filter_map(|i| i["Put"]["Item"]["pk"]["S"].as_str())
        .collect();
    let count = &items[items.len() - 1]["Update"];
    assert_eq!(count["Key"]["pk"]["S"], keys::counts_pk(&tenant()));
    assert_eq!(
        pks,
        [
            keys::user_pk(&tenant(), &id(1)).as_str(),
            "TENANT#acme#UNIQUE#USERNAME#ann",
            "TENANT#acme#UNIQUE#USEREXTID#E-1",
            "TENANT#acme#EMAIL#a@x.com",
        ]
    );
    assert_eq!(items[0]["Put"]["Item"]["active"]["BOOL"], false);

    let (store, _) =
        Fake::store(|_, _| cancelled(&["None", "None", "ConditionalCheckFailed", "None"]));
    assert_eq!(
        run(store.create_user(&tenant(), &record)),
        Err(StoreError::Taken(UniqueAttribute::ExternalId))
    );
}

#[test]
fn a_replace_is_one_put_unless_an_index_moves() {
    let before = user(1, json!({"userName": "ann", "title": "a"}));
    let mut after = user(1, json!({"userName": "Ann", "title": "b"}));
    after.version = 2;
    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    run(store.replace_user(&tenant(), &before, &after)).unwrap();
    assert_eq!(fake.ops(), ["PutItem"], "a case change keeps the guard");
    assert_eq!(
        fake.calls()[0].body["ExpressionAttributeValues"][":v"]["N"],
        "1"
    );

    after.doc = json!({"userName": "bob"});
    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    run(store.replace_user(&tenant(), &before, &after)).unwrap();
    assert_eq!(fake.ops(), ["TransactWriteItems"]);
    let items = transact_items(&fake.calls()[0]);
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[1]["Delete"]["Key"]["pk"]["S"],
        "TENANT#acme#UNIQUE#USERNAME#ann"
    );
    assert_eq!(
        items[2]["Put"]["Item"]["pk"]["S"],
        "TENANT#acme#UNIQUE#USERNAME#bob"
    );
}

#[test]
fn deactivation_is_one_update_and_a_missing_user_is_not_found() {
    let (store, fake) = Fake::store(|_, _| {
        let mut item = UserItem::from_record(&tenant(), &user(1, json!({"userName": "a"})));
        item.active = false;
        item.version = 2;
        ok(json!({"Attributes": wire(&item)}))
    });
    let written = run(store.set_user_active(&tenant(), &id(1), false, CHANGE, None)).unwrap();
    assert_eq!(fake.ops(), ["UpdateItem"]);
    assert!(!written.active);
    assert_eq!(written.version, 2);
    let (store, _) = Fake::store(|_, _| condition_failed());
    assert_eq!(
        run(store.set_user_active(&tenant(), &id(1), false, CHANGE, None)),
        Err(StoreError::NotFound)
    );
    let (store, _) = Fake::store(|_, _| condition_failed());
    assert_eq!(
        run(store.set_user_active(&tenant(), &id(1), false, CHANGE, Some(4))),
        Err(StoreError::VersionConflict)
    );
}

#[test]
fn a_group_created_with_members_that_fit_is_one_transaction() {
    let (store, fake) = Fake::store(users_exist(&[]));
    let members: Vec<ResourceId> = (0..10).map(id).collect();
    let stored = run(store.create_group(
        &tenant(),
        &group(json!({"displayName": "Eng"})),
        &members,
        CHANGE,
    ))
    .unwrap();
    assert_eq!(fake.ops(), ["TransactWriteItems"]);
    // The group, its name guard, the tenant's group count and ten member pairs.
    assert_eq!(transact_items(&fake.calls()[0]).len(), 3 + 2 * 10);
    assert_eq!(stored.version, 1);
}

#[test]
fn a_group_created_with_more_members_checks_them_first_and_bumps_per_extra_transaction() {
    let (store, fake) = Fake::store(users_exist(&[]));
    let members: Vec<ResourceId> = (0..160).map(id).collect();
    let stored = run(store.create_group(
        &tenant(),
        &group(json!({"displayName": "Eng", "externalId": "G-1"})),
        &members,
        CHANGE,
    ))
    .unwrap();
    // 160 members: checked in two BatchGetItems; 48 beside the group, its two guards and the
    // count, then 49 + 49 + 14, each with the group's version bump.
    assert_eq!(
        fake.ops(),
        [
            "BatchGetItem",
            "BatchGetItem",
            "TransactWriteItems",
            "TransactWriteItems",
            "TransactWriteItems",
            "TransactWriteItems"
        ]
    );
    let sizes: Vec<usize> = fake.calls()[2..]
        .iter()
        .map(|c| transact_items(c).len())
        .collect();
    assert_eq!(sizes, [4 + 2 * 48, 1 + 2 * 49, 1 + 2 * 49, 1 + 2 * 14]);
    let bump = &transact_items(&fake.calls()[3])[0]["Update"];
    assert_eq!(bump["Key"]["pk"]["S"], keys::group_pk(&tenant(), &id(999)));
    assert_eq!(stored.version, 4);

    // Without an externalId, 48 fit beside the group, its name guard and the count.
    let (store, fake) = Fake::store(users_exist(&[]));
    let stored = run(store.create_group(
        &tenant(),
        &group(json!({"displayName": "Eng"})),
        &members[..60],
        CHANGE,
    ))
    .unwrap();
    assert_eq!(
        fake.ops(),
        ["BatchGetItem", "TransactWriteItems", "TransactWriteItems"]
    );
    let sizes: Vec<usize> = fake.calls()[1..]
        .iter()
        .map(|c| transact_items(c).len())
        .collect();
    assert_eq!(sizes, [3 + 2 * 48, 1 + 2 * 12]);
    assert_eq!(stored.version, 2);
}

#[test]
fn a_group_create_with_an_unknown_member_writes_nothing() {
    let (store, fake) = Fake::store(users_exist(&[59]));
    let members: Vec<ResourceId> = (0..60).map(id).collect();
    let err = run(store.create_group(
        &tenant(),
        &group(json!({"displayName": "Eng"})),
        &members,
        CHANGE,
    ));
    assert_eq!(err, Err(StoreError::MissingReference(id(59).to_string())));
    assert_eq!(fake.ops(), ["BatchGetItem"]);
}

#[test]
fn a_membership_patch_keeps_its_transaction_shape() {
    let (store, fake) = Fake::store(users_exist(&[]));
    let delta = MemberDelta {
        add: (0..120).map(id).collect(),
        remove: Vec::new(),
    };
    let g = group(json!({"displayName": "Eng"}));
    run(store.update_group(&tenant(), &g, None, &delta, CHANGE)).unwrap();
    // 49 beside the version bump, then 49 a transaction, each bumping the version again (so
    // none lands on a deleted group).
    assert_eq!(
        fake.ops(),
        [
            "BatchGetItem",
            "BatchGetItem",
            "TransactWriteItems",
            "TransactWriteItems",
            "TransactWriteItems"
        ]
    );
    let sizes: Vec<usize> = fake.calls()[2..]
        .iter()
        .map(|c| transact_items(c).len())
        .collect();
    assert_eq!(sizes, [1 + 2 * 49, 1 + 2 * 49, 1 + 2 * 22]);
    for call in &fake.calls()[3..] {
        let bump = &transact_items(call)[0]["Update"];
        assert_eq!(bump["Key"]["pk"]["S"], keys::group_pk(&tenant(), &id(999)));
    }

    let (store, fake) = Fake::store(users_exist(&[]));
    let small = MemberDelta {
        add: vec![id(1)],
        remove: vec![id(2)],
    };
    run(store.update_group(&tenant(), &g, None, &small, CHANGE)).unwrap();
    assert_eq!(fake.ops(), ["TransactWriteItems"]);
}

#[test]
fn group_reads_and_lookups() {
    let g = GroupItem::from_record(&tenant(), &group(json!({"displayName": "Eng"})));
    let group_wire = wire(&g);
    let member = json!({
        "pk": {"S": g.pk}, "sk": {"S": keys::member_sk(&id(1))}, "type": {"S": "Membership"},
        "tenant_id": {"S": "acme"}, "group_id": {"S": g.id}, "user_id": {"S": id(1).to_string()},
        "project_role": {"S": "VIEWER"}, "added_at": {"S": CHANGE.at},
    });
    let (store, fake) = Fake::store(move |op, _| match op {
        "Query" => ok(json!({"Count": 2, "Items": [group_wire, member]})),
        _ => ok(json!({})),
    });
    let (read, members) = run(store.get_group_with_members(&tenant(), &id(999)))
        .unwrap()
        .unwrap();
    assert_eq!(fake.ops(), ["Query"]);
    assert_eq!(read.id, id(999));
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].user_id, id(1));
    assert_eq!(members[0].project_role, ProjectRole::Viewer);

    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    for key in [
        IndexKey::UserName("a".into()),
        IndexKey::Email("a@x".into()),
    ] {
        assert!(run(store.find_groups(&tenant(), &key)).unwrap().is_empty());
    }
    assert!(fake.ops().is_empty());
    run(store.find_groups(&tenant(), &IndexKey::DisplayName("eng".into()))).unwrap();
    assert_eq!(fake.ops(), ["Query"]);
    assert_eq!(
        fake.calls()[0].body["ExpressionAttributeValues"][":sk"]["S"],
        "eng"
    );
}

#[test]
fn a_token_is_verified_in_two_calls_and_refused_in_one() {
    let token = TokenItem {
        pk: keys::token_pk("abc"),
        sk: keys::TOKEN_SK.into(),
        gsi1pk: keys::tenant_tokens_gsi(&tenant()),
        gsi1sk: "x".into(),
        entity: items::TOKEN.into(),
        tenant_id: "acme".into(),
        prefix: "scim_1a2b3c4d".into(),
        name: "Okta".into(),
        created: CHANGE.at.into(),
        last_used: None,
        revoked_at: None,
        rotated_from: None,
    };
    let tenant_item = TenantItem {
        pk: keys::tenant_pk(&tenant()),
        sk: keys::TENANT_SK.into(),
        gsi1pk: None,
        gsi1sk: None,
        entity: items::TENANT.into(),
        tenant_id: "acme".into(),
        name: "Acme".into(),
        status: crate::TENANT_ACTIVE.into(),
        settings: scim_ops::TenantSettings::default(),
        created: CHANGE.at.into(),
    };
    let (token_wire, tenant_wire) = (wire(&token), wire(&tenant_item));
    let (store, fake) = Fake::store(move |op, _| match op {
        "UpdateItem" => ok(json!({"Attributes": token_wire})),
        _ => ok(json!({"Item": tenant_wire})),
    });
    let principal = run(store.verify_token("abc", CHANGE.at)).unwrap().unwrap();
    assert_eq!(fake.ops(), ["UpdateItem", "GetItem"]);
    assert_eq!(principal.tenant, tenant());
    assert_eq!(principal.token_hash, "abc");
    assert_eq!(principal.token_prefix, "scim_1a2b3c4d");

    let (store, fake) = Fake::store(|_, _| condition_failed());
    assert_eq!(
        run(store.verify_token("abc", CHANGE.at)).unwrap(),
        Err(Refusal::UnknownOrRevoked)
    );
    assert_eq!(fake.ops(), ["UpdateItem"]);
}

/// A token item of the tenant with this hash and prefix, revoked or not.
fn token_item(hash: &str, prefix: &str, revoked: bool) -> TokenItem {
    TokenItem {
        pk: keys::token_pk(hash),
        sk: keys::TOKEN_SK.into(),
        gsi1pk: keys::tenant_tokens_gsi(&tenant()),
        gsi1sk: format!("{}#{prefix}", CHANGE.at),
        entity: items::TOKEN.into(),
        tenant_id: "acme".into(),
        prefix: prefix.into(),
        name: "Okta".into(),
        created: CHANGE.at.into(),
        last_used: None,
        revoked_at: revoked.then(|| CHANGE.at.to_string()),
        rotated_from: None,
    }
}

/// A store whose tenant holds `tokens` (oldest first), and the fake recording its calls.
fn store_with_tokens(tokens: &[TokenItem]) -> (crate::Store, Fake) {
    let listed: Vec<Value> = tokens.iter().map(wire).collect();
    Fake::store(move |op, _| match op {
        "Query" => ok(json!({"Items": listed, "Count": listed.len()})),
        _ => ok(json!({})),
    })
}

#[test]
fn revoking_a_prefix_shared_with_a_revoked_token_revokes_the_live_one() {
    let (store, fake) = store_with_tokens(&[
        token_item("old", "scim_1a2b3c4d", true),
        token_item("live", "scim_1a2b3c4d", false),
    ]);
    let outcome = run(store.revoke_token(&tenant(), "scim_1a2b3c4d", CHANGE.at)).unwrap();
    assert_eq!(outcome, crate::ByPrefix::Found(()));
    assert_eq!(fake.ops(), ["Query", "UpdateItem"]);
    assert_eq!(
        fake.calls()[1].body["Key"]["pk"]["S"],
        keys::token_pk("live")
    );
}

#[test]
fn a_prefix_shared_by_two_live_tokens_revokes_and_rotates_nothing() {
    let tokens = [
        token_item("one", "scim_1a2b3c4d", false),
        token_item("two", "scim_1a2b3c4d", false),
    ];
    let (store, fake) = store_with_tokens(&tokens);
    let outcome = run(store.revoke_token(&tenant(), "scim_1a2b3c4d", CHANGE.at)).unwrap();
    assert_eq!(outcome, crate::ByPrefix::Ambiguous(2));
    assert_eq!(fake.ops(), ["Query"], "no write");

    let (store, fake) = store_with_tokens(&tokens);
    let hasher = crate::tokens::TokenHasher::new(&[7u8; 64]).unwrap();
    let rotated = run(store.rotate_token(&tenant(), "scim_1a2b3c4d", &hasher, CHANGE.at)).unwrap();
    assert!(matches!(rotated, crate::ByPrefix::Ambiguous(2)));
    assert_eq!(fake.ops(), ["Query"], "no token issued");
}

#[test]
fn a_prefix_of_only_revoked_tokens_is_unknown() {
    let (store, fake) = store_with_tokens(&[token_item("old", "scim_1a2b3c4d", true)]);
    let outcome = run(store.revoke_token(&tenant(), "scim_1a2b3c4d", CHANGE.at)).unwrap();
    assert_eq!(outcome, crate::ByPrefix::Unknown);
    assert_eq!(fake.ops(), ["Query"]);
}

#[test]
fn a_rate_claim_falls_back_to_one_request() {
    let (store, fake) = Fake::store(|_, body| {
        if body["ExpressionAttributeValues"][":take"]["N"] == "5" {
            condition_failed()
        } else {
            ok(json!({}))
        }
    });
    assert_eq!(run(store.claim_rate("abc", 2, 100, 5, 10)).unwrap(), 1);
    assert_eq!(fake.ops(), ["UpdateItem", "UpdateItem"]);
    let calls = fake.calls();
    assert_eq!(calls[0].body["Key"]["pk"]["S"], "TOKEN#abc#RATE#2");
    assert_eq!(calls[0].body["Key"]["sk"]["S"], "RATE#100");
}

#[test]
fn a_user_delete_sends_full_transactions_then_the_marker_with_the_last() {
    let mut record = user(
        1,
        json!({"userName": "ann", "emails": [{"value": "a@x.com"}]}),
    );
    record.group_ids = (100..250).map(id).collect();
    let (store, fake) = Fake::store(|_, _| ok(json!({})));
    run(store.delete_user(&tenant(), &record, CHANGE)).unwrap();
    assert_eq!(fake.ops(), ["TransactWriteItems", "TransactWriteItems"]);
    let calls = fake.calls();
    let (first, last) = (transact_items(&calls[0]), transact_items(&calls[1]));
    // The userName guard, one email and 150 memberships, then the marker and the count.
    assert_eq!((first.len(), last.len()), (100, 1 + 1 + 150 - 100 + 2));
    assert_eq!(
        first[0]["Delete"]["Key"]["pk"]["S"],
        "TENANT#acme#UNIQUE#USERNAME#ann"
    );
    let marker = &last[last.len() - 2]["Update"];
    assert_eq!(marker["Key"]["pk"]["S"], keys::user_pk(&tenant(), &id(1)));
    assert_eq!(marker["ExpressionAttributeValues"][":v"]["N"], "1");
}

#[test]
fn a_group_delete_removes_members_in_parallel_then_leaves_a_marker() {
    let g = group(json!({"displayName": "Eng", "externalId": "G-1"}));
    let gpk = keys::group_pk(&tenant(), &g.id);
    let members: Vec<Value> = (0..120)
        .map(|n| {
            json!({
                "pk": {"S": gpk}, "sk": {"S": keys::member_sk(&id(n))},
                "type": {"S": "Membership"}, "tenant_id": {"S": "acme"},
                "group_id": {"S": id(999).to_string()}, "user_id": {"S": id(n).to_string()},
                "project_role": {"S": "VIEWER"}, "added_at": {"S": CHANGE.at},
            })
        })
        .collect();
    let mut partition = vec![wire(&GroupItem::from_record(&tenant(), &g))];
    partition.extend(members);
    let (store, fake) = Fake::store(move |op, _| match op {
        "Query" => ok(json!({"Count": partition.len(), "Items": partition})),
        _ => ok(json!({})),
    });
    run(store.delete_group(&tenant(), &g, CHANGE)).unwrap();
    assert_eq!(fake.ops()[0], "Query");
    let calls = fake.calls();
    let mut sizes: Vec<usize> = calls[1..].iter().map(|c| transact_items(c).len()).collect();
    let last = sizes.pop();
    sizes.sort_unstable();
    assert_eq!(sizes, [40, 100, 100]);
    assert_eq!(last, Some(4), "the marker, both guards and the count");
    let final_items = transact_items(&calls[calls.len() - 1]);
    assert_eq!(final_items[0]["Update"]["Key"]["pk"]["S"], gpk);
    assert_eq!(
        final_items[2]["Delete"]["Key"]["pk"]["S"],
        "TENANT#acme#UNIQUE#GROUPEXTID#G-1"
    );
    let marker = &final_items[0]["Update"];
    assert!(marker["ConditionExpression"]
        .as_str()
        .unwrap()
        .contains("version = :v"));
    assert_eq!(marker["ExpressionAttributeValues"][":v"]["N"], "1");
}

#[test]
fn a_group_delete_that_loses_a_race_with_a_member_add_reads_the_members_again() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let g = group(json!({"displayName": "Eng"}));
    let markers = AtomicUsize::new(0);
    let (store, fake) = Fake::store(move |op, body| match op {
        "Query" => ok(json!({"Count": 1, "Items": [wire(&GroupItem::from_record(&tenant(), &g))]})),
        "TransactWriteItems" if body.to_string().contains("deleted_at") => {
            // The first marker finds the version moved: a member was added meanwhile.
            if markers.fetch_add(1, Ordering::SeqCst) == 0 {
                cancelled(&["ConditionalCheckFailed", "None", "None"])
            } else {
                ok(json!({}))
            }
        }
        _ => ok(json!({})),
    });
    let g = group(json!({"displayName": "Eng"}));
    run(store.delete_group(&tenant(), &g, CHANGE)).unwrap();
    assert_eq!(
        fake.ops(),
        ["Query", "TransactWriteItems", "Query", "TransactWriteItems"]
    );
}
