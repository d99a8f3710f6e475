//! Least privilege in `template.yaml` (issue #12, point 12): each function's role reaches only
//! the key families that function uses, by `dynamodb:LeadingKeys` conditions, checked against
//! the keys the store really builds (`scim_store::keys`); and the SCIM functions' reserved
//! concurrency is one parameter, unreserved by default. Reads the template only: no stack.

use integration_tests::template::{allows, resource_properties, statements, template_text, TABLE};
use scim_core::ids::{ResourceId, TenantId};
use scim_store::keys::{self, Unique};

const FUNCTIONS: [&str; 9] = [
    "UsersFunction",
    "GroupsFunction",
    "BulkFunction",
    "DiscoveryFunction",
    "AdminFunction",
    "AuditFunction",
    "EventsFunction",
    "WebhooksFunction",
    "TokenFunction",
];
const ITEM_ACTIONS: [&str; 7] = [
    "GetItem",
    "BatchGetItem",
    "Query",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
];

/// One partition key of each family, as the store builds them for one tenant.
struct Keys {
    tenant: String,
    tenant_name: String,
    token: String,
    user: String,
    user_name_guard: String,
    user_external_id_guard: String,
    email: String,
    group: String,
    group_name_guard: String,
    group_external_id_guard: String,
    audit: String,
    /// The list bookkeeping partitions of main's 25ca038 (`keys::counts_pk`, `keys::paging_pk`
    /// there; spelled out here until this branch has them).
    counts: String,
    paging: String,
    /// A guard whose externalId ends like an audit partition: not an audit partition.
    guard_named_like_audit: String,
}

fn keys() -> Keys {
    let tenant = TenantId::parse("acme-0192d7a4").unwrap();
    let id = ResourceId::parse("0192d7a4-4c1e-4e6f-9a0b-2f3c4d5e6f70").unwrap();
    Keys {
        tenant: keys::tenant_pk(&tenant),
        tenant_name: keys::tenant_name_pk("Acme"),
        token: keys::token_pk(&"ab".repeat(32)),
        user: keys::user_pk(&tenant, &id),
        user_name_guard: keys::unique_pk(&tenant, Unique::UserName, "ann@example.com"),
        user_external_id_guard: keys::unique_pk(&tenant, Unique::UserExternalId, "00u1"),
        email: keys::email_pk(&tenant, "ann@example.com"),
        group: keys::group_pk(&tenant, &id),
        group_name_guard: keys::unique_pk(&tenant, Unique::GroupDisplayName, "Sales"),
        group_external_id_guard: keys::unique_pk(&tenant, Unique::GroupExternalId, "g1"),
        audit: keys::audit_pk(&tenant),
        counts: format!("{}#COUNTS", keys::tenant_pk(&tenant)),
        paging: format!("{}#PAGING", keys::tenant_pk(&tenant)),
        guard_named_like_audit: keys::unique_pk(&tenant, Unique::UserExternalId, "x#AUDIT"),
    }
}

/// Asserts what `function` may and may not do: `(action, key, allowed)`.
fn assert_reach(function: &str, cases: &[(&str, &str, bool)]) {
    let policy = statements(&template_text(), function);
    for (action, pk, expected) in cases {
        assert_eq!(
            allows(&policy, &format!("dynamodb:{action}"), pk),
            *expected,
            "{function} {action} on {pk}"
        );
    }
}

#[test]
fn every_table_statement_names_the_key_families_it_may_touch() {
    let template = template_text();
    for function in FUNCTIONS {
        let policy = statements(&template, function);
        let table: Vec<_> = policy.iter().filter(|s| s.resource == TABLE).collect();
        assert!(!table.is_empty(), "{function} has no table statement");
        for statement in table {
            assert!(
                !statement.leading_keys_like.is_empty() && statement.requires_keys,
                "{function}/{}: every table statement needs ForAllValues:StringLike on \
                 dynamodb:LeadingKeys and Null false (a request naming no key passes \
                 ForAllValues alone)",
                statement.sid
            );
        }
        for statement in &policy {
            for action in &statement.actions {
                assert!(
                    action != "dynamodb:Scan" && !action.ends_with('*'),
                    "{function}/{}: {action}",
                    statement.sid
                );
            }
        }
    }
}

#[test]
fn the_users_function_writes_only_users_their_guards_and_emails() {
    let k = keys();
    assert_reach(
        "UsersFunction",
        &[
            ("UpdateItem", &k.token, true),
            ("GetItem", &k.tenant, true),
            ("PutItem", &k.user, true),
            ("UpdateItem", &k.user, true),
            ("BatchGetItem", &k.user, true),
            ("PutItem", &k.user_name_guard, true),
            ("DeleteItem", &k.user_external_id_guard, true),
            ("Query", &k.email, true),
            ("PutItem", &k.email, true),
            // A deleted user's memberships go with it; nothing else of a group.
            ("DeleteItem", &k.group, true),
            ("PutItem", &k.group, false),
            ("UpdateItem", &k.group, false),
            ("PutItem", &k.group_name_guard, false),
            ("UpdateItem", &k.tenant, false),
            ("PutItem", &k.token, false),
            ("GetItem", &k.audit, false),
            ("PutItem", &k.audit, false),
            ("GetItem", &k.tenant_name, false),
            ("UpdateItem", &k.counts, true),
            ("Query", &k.counts, true),
            ("PutItem", &k.paging, true),
            ("GetItem", &k.paging, true),
            ("DeleteItem", &k.counts, false),
        ],
    );
}

#[test]
fn the_groups_function_writes_only_groups_their_guards_and_members_group_lists() {
    let k = keys();
    assert_reach(
        "GroupsFunction",
        &[
            ("UpdateItem", &k.token, true),
            ("GetItem", &k.tenant, true),
            ("PutItem", &k.group, true),
            ("Query", &k.group, true),
            ("DeleteItem", &k.group, true),
            ("PutItem", &k.group_name_guard, true),
            ("DeleteItem", &k.group_external_id_guard, true),
            ("BatchGetItem", &k.user, true),
            ("UpdateItem", &k.user, true),
            ("PutItem", &k.user, false),
            ("DeleteItem", &k.user, false),
            ("PutItem", &k.user_name_guard, false),
            ("PutItem", &k.email, false),
            ("GetItem", &k.audit, false),
            ("UpdateItem", &k.tenant, false),
            ("PutItem", &k.token, false),
            ("UpdateItem", &k.counts, true),
            ("Query", &k.counts, true),
            ("PutItem", &k.paging, true),
            ("GetItem", &k.paging, true),
        ],
    );
}

/// Discovery authenticates and answers the root search (`POST /.search`): it reads users and
/// groups and remembers page positions, and writes nothing of theirs.
#[test]
fn the_discovery_function_reads_users_and_groups_and_writes_none_of_them() {
    let k = keys();
    let mut cases = vec![
        ("UpdateItem", k.token.as_str(), true),
        ("GetItem", &k.tenant, true),
        ("Query", &k.counts, true),
        ("GetItem", &k.paging, true),
        ("PutItem", &k.paging, true),
        ("UpdateItem", &k.counts, false),
        ("DeleteItem", &k.paging, false),
    ];
    let readable = [
        &k.user,
        &k.user_name_guard,
        &k.user_external_id_guard,
        &k.email,
        &k.group,
        &k.group_name_guard,
        &k.group_external_id_guard,
    ];
    for pk in readable {
        for action in ITEM_ACTIONS {
            let read = matches!(action, "GetItem" | "BatchGetItem" | "Query");
            cases.push((action, pk, read));
        }
    }
    for pk in [&k.audit, &k.tenant_name, &k.guard_named_like_audit] {
        for action in ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"] {
            cases.push((action, pk, false));
        }
    }
    for action in ITEM_ACTIONS {
        cases.push((action, &k.audit, false));
    }
    for action in ["PutItem", "DeleteItem", "Query", "BatchGetItem"] {
        cases.push((action, &k.token, false));
        cases.push((action, &k.tenant, false));
    }
    assert_reach("DiscoveryFunction", &cases);
}

#[test]
fn the_admin_function_writes_only_tenants_and_tokens_and_reads_everything() {
    let k = keys();
    let mut cases = vec![
        ("PutItem", k.tenant.as_str(), true),
        ("PutItem", &k.tenant_name, true),
        ("UpdateItem", &k.tenant, true),
        ("PutItem", &k.token, true),
        ("UpdateItem", &k.token, true),
    ];
    for pk in [&k.user, &k.group, &k.email, &k.audit, &k.user_name_guard] {
        cases.extend([("PutItem", pk.as_str(), false), ("UpdateItem", pk, false)]);
        cases.extend([("GetItem", pk.as_str(), true), ("Query", pk, true)]);
        cases.push(("BatchGetItem", pk, true));
    }
    for pk in [&k.tenant, &k.token, &k.user, &k.group] {
        cases.push(("DeleteItem", pk, false));
    }
    // Webhook endpoints: created, read, deleted; their delivery logs only read.
    let deliveries = keys::webhook_deliveries_pk("wh_0123456789abcdef0123456789abcdef");
    cases.extend([
        ("PutItem", keys::WEBHOOKS_PK, true),
        ("DeleteItem", keys::WEBHOOKS_PK, true),
        ("Query", keys::WEBHOOKS_PK, true),
        ("Query", &deliveries, true),
        ("UpdateItem", &deliveries, false),
        ("DeleteItem", &deliveries, false),
    ]);
    // OAuth clients: created, rotated, revoked, read; never deleted.
    let client = keys::oauth_client_pk("scimc_0123456789abcdef");
    cases.extend([
        ("PutItem", client.as_str(), true),
        ("UpdateItem", &client, true),
        ("GetItem", &client, true),
        ("DeleteItem", &client, false),
    ]);
    assert_reach("AdminFunction", &cases);
}

#[test]
fn the_token_function_reads_a_client_and_its_tenant_and_writes_nothing() {
    let k = keys();
    let client = keys::oauth_client_pk("scimc_0123456789abcdef");
    let mut cases = vec![
        ("GetItem", client.as_str(), true),
        ("GetItem", &k.tenant, true),
    ];
    for action in ITEM_ACTIONS.iter().filter(|a| **a != "GetItem") {
        cases.push((action, client.as_str(), false));
        cases.push((action, k.tenant.as_str(), false));
    }
    for pk in [
        &k.user,
        &k.group,
        &k.token,
        &k.audit,
        &k.email,
        &k.tenant_name,
    ] {
        for action in ITEM_ACTIONS {
            cases.push((action, pk.as_str(), false));
        }
    }
    assert_reach("TokenFunction", &cases);
    let text = format!("{:?}", statements(&template_text(), "TokenFunction"));
    assert!(!text.contains("WebhookKeySecret"), "{text}");
}

#[test]
fn the_audit_function_writes_only_audit_trails() {
    let k = keys();
    let mut cases = vec![
        ("BatchWriteItem", k.audit.as_str(), true),
        ("PutItem", &k.audit, true),
        ("GetItem", &k.audit, false),
        ("Query", &k.audit, false),
    ];
    for pk in [
        &k.guard_named_like_audit,
        &k.user,
        &k.group,
        &k.token,
        &k.tenant,
        &k.email,
        &k.counts,
    ] {
        cases.extend([
            ("BatchWriteItem", pk.as_str(), false),
            ("PutItem", pk, false),
        ]);
    }
    assert_reach("AuditFunction", &cases);
}

#[test]
fn each_scim_function_has_the_reserved_concurrency_the_parameter_sets_unreserved_by_default() {
    let template = template_text();
    let parameter = template
        .split("\n  ScimFunctionReservedConcurrency:\n")
        .nth(1)
        .expect("the ScimFunctionReservedConcurrency parameter");
    let parameter: Vec<&str> = parameter
        .lines()
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert!(parameter.contains(&"    Type: Number"), "{parameter:?}");
    assert!(parameter.contains(&"    Default: -1"), "{parameter:?}");
    assert!(
        template.contains(
            "\n  ScimConcurrencyReserved: !Not [!Equals [!Ref ScimFunctionReservedConcurrency, -1]]\n"
        ),
        "the condition: reserved unless the parameter is -1"
    );
    for function in [
        "UsersFunction",
        "GroupsFunction",
        "BulkFunction",
        "DiscoveryFunction",
        "TokenFunction",
    ] {
        let properties = resource_properties(&template, function);
        let reserved = properties
            .get("ReservedConcurrentExecutions")
            .and_then(|n| n.scalar())
            .unwrap_or_else(|| panic!("{function} has no ReservedConcurrentExecutions"));
        assert_eq!(
            reserved,
            "!If [ScimConcurrencyReserved, !Ref ScimFunctionReservedConcurrency, !Ref AWS::NoValue]",
            "{function}"
        );
    }
}

#[test]
fn the_events_function_writes_only_event_logs_and_puts_only_on_its_own_bus() {
    let template = template_text();
    let k = keys();
    let events_log = keys::events_pk(&TenantId::parse("acme-0192d7a4").unwrap());
    let mut cases = vec![
        ("BatchWriteItem", events_log.as_str(), true),
        ("PutItem", &events_log, false),
        ("Query", &events_log, false),
        // The webhook endpoints, read to queue their deliveries; never written.
        ("Query", keys::WEBHOOKS_PK, true),
        ("PutItem", keys::WEBHOOKS_PK, false),
        ("BatchWriteItem", keys::WEBHOOKS_PK, false),
    ];
    for pk in [
        &k.audit, &k.user, &k.group, &k.token, &k.tenant, &k.email, &k.counts,
    ] {
        cases.extend([
            ("BatchWriteItem", pk.as_str(), false),
            ("GetItem", pk, false),
        ]);
    }
    assert_reach("EventsFunction", &cases);
    let policy = statements(&template, "EventsFunction");
    let others: Vec<_> = policy.iter().filter(|s| s.resource != TABLE).collect();
    let [put, queue] = others.as_slice() else {
        panic!("two statements beside the table's: {policy:?}");
    };
    assert_eq!(put.actions, ["events:PutEvents"]);
    assert_eq!(put.resource, "!GetAtt EventBus.Arn");
    assert_eq!(queue.actions, ["sqs:SendMessage"]);
    assert_eq!(queue.resource, "!GetAtt WebhookQueue.Arn");
    // It reads the stream through its event source mapping, and reports the first record it
    // could not publish, so Lambda retries from there.
    let text = format!("{:?}", resource_properties(&template, "EventsFunction"));
    assert!(text.contains("ReportBatchItemFailures"), "{text}");
    assert!(text.contains("ScimTable.StreamArn"), "{text}");
}

#[test]
fn the_webhooks_function_reads_endpoints_and_writes_only_delivery_logs() {
    let template = template_text();
    let k = keys();
    let deliveries = keys::webhook_deliveries_pk("wh_0123456789abcdef0123456789abcdef");
    let mut cases = vec![
        ("Query", keys::WEBHOOKS_PK, true),
        ("UpdateItem", deliveries.as_str(), true),
        ("PutItem", keys::WEBHOOKS_PK, false),
        ("UpdateItem", keys::WEBHOOKS_PK, false),
        ("DeleteItem", &deliveries, false),
    ];
    for pk in [
        &k.audit, &k.user, &k.group, &k.token, &k.tenant, &k.email, &k.counts,
    ] {
        for action in ITEM_ACTIONS {
            cases.push((action, pk.as_str(), false));
        }
    }
    assert_reach("WebhooksFunction", &cases);
    let policy = statements(&template, "WebhooksFunction");
    let others: Vec<(Vec<String>, String)> = policy
        .iter()
        .filter(|s| s.resource != TABLE)
        .map(|s| (s.actions.clone(), s.resource.clone()))
        .collect();
    assert_eq!(
        others,
        vec![
            (
                vec!["sqs:ChangeMessageVisibility".to_string()],
                "!GetAtt WebhookQueue.Arn".to_string()
            ),
            (
                vec!["sqs:SendMessage".to_string()],
                "!GetAtt WebhookDeadLetterQueue.Arn".to_string()
            ),
            (
                vec!["secretsmanager:GetSecretValue".to_string()],
                "!Ref WebhookKeySecret".to_string()
            ),
        ]
    );
    // Fed by its queue's event source mapping, naming the deliveries to try again.
    let text = format!("{:?}", resource_properties(&template, "WebhooksFunction"));
    assert!(text.contains("ReportBatchItemFailures"), "{text}");
    assert!(text.contains("WebhookQueue.Arn"), "{text}");
}

#[test]
fn the_bulk_function_reaches_exactly_what_the_users_and_groups_functions_reach() {
    let k = keys();
    let families = [
        &k.tenant,
        &k.tenant_name,
        &k.token,
        &k.user,
        &k.user_name_guard,
        &k.user_external_id_guard,
        &k.email,
        &k.group,
        &k.group_name_guard,
        &k.group_external_id_guard,
        &k.audit,
        &k.counts,
        &k.paging,
    ];
    let template = template_text();
    let users = statements(&template, "UsersFunction");
    let groups = statements(&template, "GroupsFunction");
    let bulk = statements(&template, "BulkFunction");
    for pk in families {
        for action in ITEM_ACTIONS {
            let action = format!("dynamodb:{action}");
            let either = allows(&users, &action, pk) || allows(&groups, &action, pk);
            assert_eq!(
                allows(&bulk, &action, pk),
                either,
                "BulkFunction {action} on {pk}"
            );
        }
    }
}
