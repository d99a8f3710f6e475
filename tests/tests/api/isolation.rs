//! Tenant isolation (issue #5, point 5): tenant B's token never reads, changes, counts, links or
//! deletes tenant A's resources, on any route or method; A's ids are 404 to B. The same userName
//! and displayName exist in both tenants independently.
//!
//! One table lists every request B makes and what B must see; afterwards A's resources are
//! compared, full body (meta.version included) and as the platform reads them, with a snapshot
//! taken before.

use integration_tests::{
    enc, list_filtered, member_values, patch_body, platform_members, platform_projects,
    platform_user, platform_user_projects, unique, Client, Resp, GROUP_SCHEMA, SCIM_JSON,
    SEARCH_REQUEST, USER_SCHEMA,
};
use serde_json::{json, Value};

/// What tenant B must get back.
#[derive(Debug)]
enum Expect {
    /// 404 SCIM error: A's id names nothing in B's tenant.
    NotFound,
    /// 400 `invalidValue`: A's user ids are not users of B's tenant.
    InvalidValue,
    /// A ListResponse holding exactly these of B's own ids (totalResults counts only them).
    ListOf(Vec<String>),
    /// Success with this status; A's side is checked by the snapshot afterwards.
    Status(u16),
}

struct Case {
    name: String,
    method: &'static str,
    path: String,
    body: Option<Value>,
    expect: Expect,
}

fn case(
    name: impl Into<String>,
    method: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    expect: Expect,
) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.into(),
        body,
        expect,
    }
}

fn search(filter: &str) -> Value {
    json!({"schemas": [SEARCH_REQUEST], "filter": filter, "startIndex": 1, "count": 100})
}

/// Tenant A's world: two users and a group holding both.
struct TenantA {
    client: Client,
    users: Vec<String>,
    group: String,
    shared_user_name: String,
    shared_group_name: String,
    user_external_id: String,
    group_external_id: String,
    email: String,
}

fn build_tenant_a(shared_user_name: &str, shared_group_name: &str) -> TenantA {
    let client = Client::new_tenant("iso-a");
    let user_external_id = unique("a-ext");
    let email = format!("{}@a.example", unique("only-a"));
    let first = client.post(
        "/Users",
        &json!({
            "schemas": [USER_SCHEMA],
            "userName": shared_user_name,
            "externalId": user_external_id,
            "name": {"givenName": "Alice", "familyName": "Tenant-A"},
            "emails": [{"value": email, "type": "work", "primary": true}],
            "title": "only-in-a",
        }),
    );
    assert_eq!(first.status, 201, "{}", first.raw);
    let second = client.create_user(&unique("a-second"));
    let users = vec![first.id(), second.id()];
    let group_external_id = unique("a-gext");
    let group = client.post(
        "/Groups",
        &json!({
            "schemas": [GROUP_SCHEMA],
            "displayName": shared_group_name,
            "externalId": group_external_id,
            "members": member_values(&users),
        }),
    );
    assert_eq!(group.status, 201, "{}", group.raw);
    TenantA {
        client,
        group: group.id(),
        users,
        shared_user_name: shared_user_name.to_string(),
        shared_group_name: shared_group_name.to_string(),
        user_external_id,
        group_external_id,
        email,
    }
}

/// Everything observable about A's resources: what A's token reads and what the platform reads.
fn snapshot(a: &TenantA) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for user in &a.users {
        let r = a.client.get(&format!("/Users/{user}"));
        assert_eq!(r.status, 200, "{}", r.raw);
        out.push((format!("GET /Users/{user}"), r.body));
        out.push((
            format!("platform user {user}"),
            platform_user(&a.client.tenant, user),
        ));
        out.push((
            format!("platform user-projects {user}"),
            platform_user_projects(&a.client.tenant, user),
        ));
    }
    let r = a.client.get(&format!("/Groups/{}", a.group));
    assert_eq!(r.status, 200, "{}", r.raw);
    out.push(("GET group".into(), r.body));
    out.push((
        "platform members".into(),
        Value::Array(platform_members(&a.client.tenant, &a.group)),
    ));
    out.push((
        "platform projects".into(),
        platform_projects(&a.client.tenant),
    ));
    let list = a.client.get("/Users?count=1000");
    out.push(("A's GET /Users".into(), list.body));
    out.push(("A's GET /Groups".into(), a.client.get("/Groups").body));
    out
}

/// Checks one response against what B must see; returns a description of any mismatch.
fn check(case: &Case, r: &Resp, a: &TenantA) -> Option<String> {
    let problem = |what: String| {
        Some(format!(
            "{} {} [{}]: {what}; body {}",
            case.method, case.path, case.name, r.raw
        ))
    };
    // No response to B may mention any of A's ids, whatever its status.
    for id in a.users.iter().chain(std::iter::once(&a.group)) {
        if r.raw.contains(id.as_str()) && !matches!(case.expect, Expect::InvalidValue) {
            return problem(format!("mentions A's id {id}"));
        }
    }
    match &case.expect {
        Expect::NotFound | Expect::InvalidValue => {
            let (status, scim_type) = match case.expect {
                Expect::NotFound => (404, None),
                _ => (400, Some("invalidValue")),
            };
            let ok = r.status == status
                && r.header("content-type") == Some(SCIM_JSON)
                && r.body["status"] == json!(status.to_string())
                && scim_type.is_none_or(|t| r.body["scimType"] == t);
            (!ok).then(|| {
                format!(
                    "{} {} [{}]: expected {status} {scim_type:?}, got {} {}",
                    case.method, case.path, case.name, r.status, r.raw
                )
            })
        }
        Expect::ListOf(ids) => {
            if r.status != 200 {
                return problem(format!("status {}", r.status));
            }
            let got: Vec<&str> = r.body["Resources"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v["id"].as_str()).collect())
                .unwrap_or_default();
            let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut got_sorted = got.clone();
            want.sort_unstable();
            got_sorted.sort_unstable();
            if r.body["totalResults"] != json!(ids.len()) {
                return problem(format!("totalResults should be {}", ids.len()));
            }
            // count=0 pages carry no resources; every other page carries all of B's matches.
            let paged_out = case.path.contains("count=0") || case.path.contains("startIndex=2");
            if !paged_out && got_sorted != want {
                return problem(format!("resources {got:?}, expected {want:?}"));
            }
            None
        }
        Expect::Status(status) => (r.status != *status).then(|| {
            format!(
                "{} {} [{}]: expected {status}, got {} {}",
                case.method, case.path, case.name, r.status, r.raw
            )
        }),
    }
}

#[test]
fn tenant_b_never_reads_changes_counts_links_or_deletes_tenant_a_resources() {
    let shared_user_name = unique("same-user");
    let shared_group_name = unique("Same Group");
    let a = build_tenant_a(&shared_user_name, &shared_group_name);

    // Tenant B: the same userName and displayName are free in another tenant.
    let b = Client::new_tenant("iso-b");
    let b_user = b.create_user(&shared_user_name).id();
    let b_group = b.create_group(&shared_group_name).id();
    assert_ne!(b_user, a.users[0]);
    assert_ne!(b_group, a.group);

    let before = snapshot(&a);
    let (ua, ua2, ga) = (a.users[0].clone(), a.users[1].clone(), a.group.clone());
    let a_members = json!([{"value": ua}, {"value": ua2}]);
    let user_filters = [
        (
            "userName (shared)",
            format!("userName eq \"{}\"", a.shared_user_name),
            vec![b_user.clone()],
        ),
        (
            "userName (uppercased)",
            format!("userName eq \"{}\"", a.shared_user_name.to_uppercase()),
            vec![b_user.clone()],
        ),
        (
            "externalId of A's user",
            format!("externalId eq \"{}\"", a.user_external_id),
            vec![],
        ),
        ("id of A's user", format!("id eq \"{ua}\""), vec![]),
        ("A's email", format!("emails eq \"{}\"", a.email), vec![]),
        (
            "Entra email value path",
            format!("emails[type eq \"work\"].value eq \"{}\"", a.email),
            vec![],
        ),
        (
            "scan: A's title",
            "title eq \"only-in-a\"".to_string(),
            vec![],
        ),
        (
            "scan: A's given name",
            "name.givenName eq \"Alice\"".to_string(),
            vec![],
        ),
        (
            "scan: everything",
            "userName pr".to_string(),
            vec![b_user.clone()],
        ),
        (
            "id or userName",
            format!("id eq \"{ua}\" or userName eq \"{}\"", a.shared_user_name),
            vec![b_user.clone()],
        ),
        (
            "userName and externalId",
            format!(
                "userName eq \"{}\" and externalId eq \"{}\"",
                a.shared_user_name, a.user_external_id
            ),
            vec![],
        ),
    ];
    let group_filters = [
        (
            "displayName (shared)",
            format!("displayName eq \"{}\"", a.shared_group_name),
            vec![b_group.clone()],
        ),
        (
            "externalId of A's group",
            format!("externalId eq \"{}\"", a.group_external_id),
            vec![],
        ),
        ("id of A's group", format!("id eq \"{ga}\""), vec![]),
        (
            "scan: A's member",
            format!("members.value eq \"{ua}\""),
            vec![],
        ),
        (
            "scan: A's member value path",
            format!("members[value eq \"{ua}\"]"),
            vec![],
        ),
        (
            "scan: everything",
            "displayName pr".to_string(),
            vec![b_group.clone()],
        ),
    ];

    // Filters first: the cases after them change B's own resources.
    let mut cases = Vec::new();
    for (name, filter, ids) in &user_filters {
        let q = enc(filter);
        cases.push(case(
            format!("GET users: {name}"),
            "GET",
            format!("/Users?filter={q}"),
            None,
            Expect::ListOf(ids.clone()),
        ));
        cases.push(case(
            format!("search users: {name}"),
            "POST",
            "/Users/.search",
            Some(search(filter)),
            Expect::ListOf(ids.clone()),
        ));
    }
    for (name, filter, ids) in &group_filters {
        let q = enc(filter);
        cases.push(case(
            format!("GET groups: {name}"),
            "GET",
            format!("/Groups?filter={q}"),
            None,
            Expect::ListOf(ids.clone()),
        ));
        cases.push(case(
            format!("GET groups without members: {name}"),
            "GET",
            format!("/Groups?filter={q}&excludedAttributes=members"),
            None,
            Expect::ListOf(ids.clone()),
        ));
        cases.push(case(
            format!("search groups: {name}"),
            "POST",
            "/Groups/.search",
            Some(search(filter)),
            Expect::ListOf(ids.clone()),
        ));
    }
    cases.extend([
        // A's ids on every method of /Users/{id} and /Groups/{id}: 404, nothing changes.
        case("read A's user", "GET", format!("/Users/{ua}"), None, Expect::NotFound),
        case("read A's user, projected", "GET", format!("/Users/{ua}?attributes=userName"), None, Expect::NotFound),
        case("replace A's user", "PUT", format!("/Users/{ua}"), Some(json!({"userName": "hijacked", "active": false})), Expect::NotFound),
        case("replace A's user, echoing its id", "PUT", format!("/Users/{ua}"), Some(json!({"id": ua, "userName": a.shared_user_name, "active": false})), Expect::NotFound),
        case("deactivate A's user (Okta)", "PATCH", format!("/Users/{ua}"), Some(patch_body(json!([{"op": "replace", "value": {"active": false}}]))), Expect::NotFound),
        case("deactivate A's user (Entra)", "PATCH", format!("/Users/{ua}"), Some(patch_body(json!([{"op": "Replace", "path": "active", "value": "False"}]))), Expect::NotFound),
        case("rename A's user", "PATCH", format!("/Users/{ua}"), Some(patch_body(json!([{"op": "replace", "path": "userName", "value": "hijacked"}]))), Expect::NotFound),
        case("delete A's user", "DELETE", format!("/Users/{ua}"), None, Expect::NotFound),
        case("read A's group", "GET", format!("/Groups/{ga}"), None, Expect::NotFound),
        case("read A's group without members", "GET", format!("/Groups/{ga}?excludedAttributes=members"), None, Expect::NotFound),
        case("replace A's group", "PUT", format!("/Groups/{ga}"), Some(json!({"displayName": "hijacked", "members": []})), Expect::NotFound),
        case("empty A's group", "PATCH", format!("/Groups/{ga}"), Some(patch_body(json!([{"op": "remove", "path": "members"}]))), Expect::NotFound),
        case("remove A's member from A's group", "PATCH", format!("/Groups/{ga}"), Some(patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{ua}\"]")}]))), Expect::NotFound),
        case("add B's user to A's group", "PATCH", format!("/Groups/{ga}"), Some(patch_body(json!([{"op": "add", "path": "members", "value": [{"value": b_user}]}]))), Expect::NotFound),
        case("rename A's group (Okta)", "PATCH", format!("/Groups/{ga}"), Some(patch_body(json!([{"op": "replace", "value": {"id": ga, "displayName": "hijacked"}}]))), Expect::NotFound),
        case("delete A's group", "DELETE", format!("/Groups/{ga}"), None, Expect::NotFound),
        // A user id on the Groups route and a group id on the Users route.
        case("A's user id as a group", "GET", format!("/Groups/{ua}"), None, Expect::NotFound),
        case("A's group id as a user", "GET", format!("/Users/{ga}"), None, Expect::NotFound),
        // Counting: B sees its own resources only.
        case("list users", "GET", "/Users", None, Expect::ListOf(vec![b_user.clone()])),
        case("list users, count=0", "GET", "/Users?count=0", None, Expect::ListOf(vec![b_user.clone()])),
        case("list users sorted by a scanned attribute", "GET", "/Users?sortBy=name.givenName&sortOrder=descending", None, Expect::ListOf(vec![b_user.clone()])),
        case("list users from startIndex=2, past B's only user", "GET", "/Users?startIndex=2", None, Expect::ListOf(vec![b_user.clone()])),
        case("list groups", "GET", "/Groups", None, Expect::ListOf(vec![b_group.clone()])),
        case("list groups, count=0", "GET", "/Groups?count=0", None, Expect::ListOf(vec![b_group.clone()])),
        case("list groups without members", "GET", "/Groups?excludedAttributes=members", None, Expect::ListOf(vec![b_group.clone()])),
        // Linking: A's users are not users of B's tenant.
        case("create a group with A's users", "POST", "/Groups", Some(json!({"displayName": unique("b-new"), "members": a_members})), Expect::InvalidValue),
        case("create a group with B's and A's users", "POST", "/Groups", Some(json!({"displayName": unique("b-new"), "members": [{"value": b_user}, {"value": ua}]})), Expect::InvalidValue),
        case("add A's user to B's group", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "add", "path": "members", "value": [{"value": ua}]}]))), Expect::InvalidValue),
        case("add A's user to B's group (Entra)", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ua}]}]))), Expect::InvalidValue),
        case("replace B's members with A's users", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "replace", "path": "members", "value": a_members}]))), Expect::InvalidValue),
        case("path-less add of A's users", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "add", "value": {"members": a_members}}]))), Expect::InvalidValue),
        case("PUT B's group with A's users", "PUT", format!("/Groups/{b_group}"), Some(json!({"displayName": a.shared_group_name, "members": a_members})), Expect::InvalidValue),
        // Unlinking A's user from B's group is a no-op; A's group is untouched (snapshot).
        case("remove A's user from B's group", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{ua}\"]")}]))), Expect::Status(204)),
        case("Entra removal of A's users from B's group", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "Remove", "path": "members", "value": a_members}]))), Expect::Status(204)),
        // Read-only `groups` naming A's group, on B's own user, is ignored.
        case("PUT B's user claiming A's group", "PUT", format!("/Users/{b_user}"), Some(json!({"userName": a.shared_user_name, "groups": [{"value": ga}]})), Expect::Status(200)),
        // The same names are taken in B's tenant by B's resources only: uniqueness is per tenant.
        case("externalId of A's user on B's user", "PATCH", format!("/Users/{b_user}"), Some(patch_body(json!([{"op": "replace", "path": "externalId", "value": a.user_external_id}]))), Expect::Status(200)),
        case("externalId of A's group on B's group", "PATCH", format!("/Groups/{b_group}"), Some(patch_body(json!([{"op": "replace", "path": "externalId", "value": a.group_external_id}]))), Expect::Status(204)),
    ]);

    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let r = b.send(c.method, &c.path, c.body.as_ref(), &[]);
            check(c, &r, &a)
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // A's resources are exactly as before, to A's token and to the platform.
    let after = snapshot(&a);
    for ((what, old), (_, new)) in before.iter().zip(&after) {
        assert_eq!(old, new, "{what} changed");
    }
    // And nothing of A's got linked into B's tenant.
    let b_group_now = b.get(&format!("/Groups/{b_group}"));
    assert_eq!(b_group_now.status, 200, "{}", b_group_now.raw);
    assert!(
        b_group_now
            .body
            .get("members")
            .is_none_or(|m| m == &json!([])),
        "{}",
        b_group_now.raw
    );
    assert_eq!(platform_members(&b.tenant, &b_group), Vec::<Value>::new());
    let b_user_now = b.get(&format!("/Users/{b_user}"));
    assert!(
        b_user_now
            .body
            .get("groups")
            .is_none_or(|g| g == &json!([])),
        "{}",
        b_user_now.raw
    );
}

#[test]
fn the_same_user_name_and_display_name_live_independently_in_two_tenants() {
    let user_name = unique("twin");
    let group_name = unique("Twin Group");
    let a = Client::new_tenant("twin-a");
    let b = Client::new_tenant("twin-b");
    let a_user = a.create_user(&user_name).id();
    let b_user = b.create_user(&user_name).id();
    let a_group = a.create_group(&group_name).id();
    let b_group = b.create_group(&group_name).id();
    // Within one tenant the names are still unique (case-insensitively).
    b.post("/Users", &json!({"userName": user_name.to_uppercase()}))
        .assert_scim_error(409, Some("uniqueness"));
    b.post("/Groups", &json!({"displayName": group_name}))
        .assert_scim_error(409, Some("uniqueness"));
    // Each tenant finds only its own.
    for (c, user, group) in [(&a, &a_user, &a_group), (&b, &b_user, &b_group)] {
        let r = list_filtered(c, "/Users", &format!("userName eq \"{user_name}\""), "");
        assert_eq!(r.total(), 1, "{}", r.raw);
        assert_eq!(r.body["Resources"][0]["id"], json!(user));
        let r = list_filtered(
            c,
            "/Groups",
            &format!("displayName eq \"{group_name}\""),
            "",
        );
        assert_eq!(r.total(), 1, "{}", r.raw);
        assert_eq!(r.body["Resources"][0]["id"], json!(group));
    }
    // Deleting B's copies leaves A's in place, and frees the names only in B.
    assert_eq!(b.delete(&format!("/Users/{b_user}")).status, 204);
    assert_eq!(b.delete(&format!("/Groups/{b_group}")).status, 204);
    assert_eq!(a.get(&format!("/Users/{a_user}")).status, 200);
    assert_eq!(a.get(&format!("/Groups/{a_group}")).status, 200);
    a.post("/Users", &json!({"userName": user_name}))
        .assert_scim_error(409, Some("uniqueness"));
    assert_eq!(b.create_user(&user_name).status, 201);
}
