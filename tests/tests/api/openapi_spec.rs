//! Keeps `openapi.yaml` true to the code: every route the router, the SAM template and the
//! cargo-lambda router know is described, enums match the code's tables, and live responses only
//! use statuses (and the media type) the description documents for the operation.
//!
//! The YAML is read as text (no YAML crate): the description keeps the regular layout these
//! helpers expect, two spaces per level under `paths:` (`  /Users:`, `    get:`,
//! `        "200":`); a test fails when it finds no operations, so a layout change cannot make
//! these checks pass vacuously.

use std::collections::{BTreeMap, BTreeSet};

use integration_tests::{
    enc, patch_body, unique, Client, Resp, GROUP_SCHEMA, PLATFORM, SCIM_JSON, USER_SCHEMA,
};
use scim_core::PlatformRole;
use serde_json::json;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn repo_file(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// path -> method -> documented statuses.
type Operations = BTreeMap<String, BTreeMap<String, BTreeSet<u16>>>;

fn spec_text() -> String {
    repo_file("openapi.yaml")
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The operations under `paths:` with the statuses each documents.
fn operations(spec: &str) -> Operations {
    let mut ops = Operations::new();
    let mut in_paths = false;
    let mut path: Option<String> = None;
    let mut method: Option<String> = None;
    let mut in_responses = false;
    for line in spec.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        let indent = indent_of(trimmed);
        let text = trimmed.trim_start();
        if indent == 0 {
            in_paths = text == "paths:";
            path = None;
            method = None;
            continue;
        }
        if !in_paths {
            continue;
        }
        match indent {
            2 => {
                let p = text.strip_suffix(':').unwrap_or(text).to_string();
                assert!(p.starts_with('/'), "unexpected key under paths: `{text}`");
                ops.entry(p.clone()).or_default();
                path = Some(p);
                method = None;
            }
            4 => {
                let key = text.split(':').next().unwrap_or("");
                method = METHODS.contains(&key).then(|| key.to_string());
                in_responses = false;
                if let (Some(p), Some(m)) = (&path, &method) {
                    ops.entry(p.clone())
                        .or_default()
                        .entry(m.clone())
                        .or_default();
                }
            }
            6 => in_responses = method.is_some() && text == "responses:",
            8 if in_responses => {
                let code = text
                    .trim_start_matches('"')
                    .get(..3)
                    .and_then(|c| c.parse::<u16>().ok());
                if let (Some(p), Some(m), Some(code)) = (&path, &method, code) {
                    ops.entry(p.clone())
                        .or_default()
                        .entry(m.clone())
                        .or_default()
                        .insert(code);
                }
            }
            _ => {}
        }
    }
    assert!(
        ops.values().map(BTreeMap::len).sum::<usize>() >= 20,
        "found too few operations in openapi.yaml; has its layout changed? {ops:?}"
    );
    ops
}

/// The `enum: [...]` list that follows `anchor` in `text` (flow or block style).
fn enum_after(text: &str, anchor: &str) -> BTreeSet<String> {
    let start = text
        .find(anchor)
        .unwrap_or_else(|| panic!("`{anchor}` is not in openapi.yaml"));
    let rest = &text[start..];
    let at = rest
        .find("enum:")
        .unwrap_or_else(|| panic!("no enum after `{anchor}`"));
    let rest = &rest[at + "enum:".len()..];
    let rest = rest.trim_start_matches([' ', '\t']);
    if let Some(flow) = rest.strip_prefix('[') {
        let end = flow.find(']').unwrap_or(flow.len());
        return flow[..end]
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    rest.lines()
        .skip(1)
        .map(str::trim)
        .take_while(|l| l.starts_with("- "))
        .map(|l| l.trim_start_matches("- ").trim_matches('"').to_string())
        .collect()
}

/// The string literals of the match arms in the function `fn_name` of a Rust source file.
fn arm_strings(source: &str, fn_name: &str) -> BTreeSet<String> {
    let start = source
        .find(&format!("fn {fn_name}("))
        .unwrap_or_else(|| panic!("no fn {fn_name}"));
    let body = &source[start..];
    let end = body.find("\n    }\n").unwrap_or(body.len());
    body[..end]
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_route_of_the_code_the_template_and_the_local_router_is_described() {
    let ops = operations(&spec_text());
    let mut expected = BTreeSet::new();

    // shared/scim-edge/src/routes.rs, the route table ROUTES: `path: "/scim/v2/Users/{id}"`.
    // (Its own tests check the table against template.yaml, the router and openapi.yaml with
    // methods; this test adds what every documented operation must answer.)
    let table: Vec<String> = repo_file("shared/scim-edge/src/routes.rs")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path: \"/scim/v2"))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    assert_eq!(table.len(), 13, "ROUTES paths: {table:?}");
    expected.extend(table);

    // template.yaml: every `Path: /scim/v2/...` of the HTTP API (not `$default`).
    let template = repo_file("template.yaml");
    let template_paths: Vec<String> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Path: /scim/v2"))
        .map(|p| p.replace("{proxy+}", "{id}"))
        .collect();
    assert!(template_paths.len() >= 11, "{template_paths:?}");
    expected.extend(template_paths);

    // Cargo.toml, [workspace.metadata.lambda.watch.router] (not the catch-all).
    let cargo = repo_file("Cargo.toml");
    let router: Vec<String> = cargo
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"/scim/v2"))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    assert!(router.len() >= 12, "{router:?}");
    expected.extend(router);

    let documented: BTreeSet<String> = ops.keys().cloned().collect();
    let missing: Vec<&String> = expected.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.yaml: {missing:?}"
    );
    let unknown: Vec<&String> = documented.difference(&expected).collect();
    assert!(
        unknown.is_empty(),
        "openapi.yaml describes unknown paths: {unknown:?}"
    );

    // Every operation documents the answers the pipeline can give any authenticated operation.
    for (path, methods) in &ops {
        assert!(!methods.is_empty(), "{path} has no operation");
        for (method, codes) in methods {
            for code in [401, 429, 503] {
                assert!(
                    codes.contains(&code),
                    "{method} {path} does not document {code}"
                );
            }
            assert!(
                codes.iter().any(|c| (200..300).contains(c)),
                "{method} {path} documents no success"
            );
            if ["post", "put", "patch"].contains(&method.as_str()) {
                assert!(codes.contains(&413), "{method} {path} lacks 413");
            }
        }
    }
}

#[test]
fn enums_match_the_code() {
    let spec = spec_text();
    let roles = enum_after(&spec, "platformRole:");
    // The role names of shared/scim-core/src/roles.rs (`role_names!(PlatformRole { ... })`).
    let code_roles: BTreeSet<String> = PlatformRole::NAMES
        .iter()
        .map(|name| name.to_string())
        .collect();
    assert_eq!(
        roles, code_roles,
        "platformRole enum vs PlatformRole::NAMES"
    );
    assert_eq!(
        roles,
        ["ADMIN", "MEMBER", "OPERATOR"]
            .map(String::from)
            .into_iter()
            .collect()
    );

    let scim_types = enum_after(&spec, "scimType:");
    let code_types = arm_strings(&repo_file("shared/scim-core/src/error.rs"), "as_str");
    assert!(code_types.len() >= 10, "{code_types:?}");
    assert_eq!(
        scim_types, code_types,
        "Error.scimType enum vs ScimType::as_str"
    );

    let spec_has = |s: &str| assert!(spec.contains(s), "openapi.yaml lacks `{s}`");
    spec_has("urn:ietf:params:scim:schemas:extension:platform:2.0:User");
    spec_has("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    spec_has("scheme: bearer");
    spec_has("url: http://127.0.0.1:9100/scim/v2");
    spec_has("application/json:");
}

/// Checks a live response against the description of `method path`.
fn conforms(ops: &Operations, method: &str, path: &str, r: &Resp) {
    let documented = ops
        .get(path)
        .and_then(|m| m.get(method))
        .unwrap_or_else(|| panic!("{method} {path} is not in openapi.yaml"));
    assert!(
        documented.contains(&r.status),
        "{method} {path} answered {} (not documented: {documented:?}): {}",
        r.status,
        r.raw
    );
    if r.raw.is_empty() {
        assert_eq!(r.status, 204, "{method} {path}: empty body");
    } else {
        assert_eq!(r.header("content-type"), Some(SCIM_JSON), "{method} {path}");
        if r.status >= 400 {
            r.assert_scim_error(r.status, None);
        }
    }
}

#[test]
fn live_responses_use_only_documented_statuses() {
    let ops = operations(&spec_text());
    let c = Client::new_tenant("openapi");
    let check = |method: &str, spec_path: &str, r: &Resp| conforms(&ops, method, spec_path, r);

    // Users: create, read, conflict, bad filter, stale If-Match, patch, delete, gone.
    let name = format!("{}@example.com", unique("oas"));
    let user = json!({
        "schemas": [USER_SCHEMA],
        "userName": name,
        PLATFORM: {"platformRole": "OPERATOR"},
    });
    let r = c.post("/Users", &user);
    check("post", "/Users", &r);
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(r.header("location").is_some() && r.header("etag").is_some());
    let id = r.id();
    let r = c.post("/Users", &user);
    check("post", "/Users", &r);
    assert_eq!(r.status, 409);
    let r = c.send_raw(
        "POST",
        "/Users",
        Some("{}"),
        &[("Content-Type", "text/plain")],
        true,
    );
    check("post", "/Users", &r);
    assert_eq!(r.status, 415);
    let r = c.get(&format!("/Users?filter={}", enc("userName eq")));
    check("get", "/Users", &r);
    assert_eq!(r.status, 400);
    let r = c.get(&format!(
        "/Users?filter={}&count=2",
        enc(&format!("userName eq \"{name}\""))
    ));
    check("get", "/Users", &r);
    assert_eq!(r.total(), 1);
    let r = c.post(
        "/Users/.search",
        &json!({"filter": "userName pr", "count": 1}),
    );
    check("post", "/Users/.search", &r);
    let r = c.get(&format!("/Users/{id}"));
    check("get", "/Users/{id}", &r);
    assert_eq!(r.body[PLATFORM]["platformRole"], "OPERATOR");
    let r = c.send(
        "PUT",
        &format!("/Users/{id}"),
        Some(&user),
        &[("If-Match", "W/\"999\"")],
    );
    check("put", "/Users/{id}", &r);
    assert_eq!(r.status, 412);
    let patch = patch_body(json!([{"op": "replace", "path": "active", "value": false}]));
    let r = c.patch(&format!("/Users/{id}"), &patch);
    check("patch", "/Users/{id}", &r);
    let r = c.get("/Users/.search");
    check("get", "/Users/{id}", &r);
    assert_eq!(r.status, 405, "GET on the search endpoint");
    let r = c.delete(&format!("/Users/{id}"));
    check("delete", "/Users/{id}", &r);
    assert_eq!(r.status, 204);
    let r = c.get(&format!("/Users/{id}"));
    check("get", "/Users/{id}", &r);
    assert_eq!(r.status, 404);

    // Groups: create, PATCH (204), search, delete.
    let g = c.post(
        "/Groups",
        &json!({"schemas": [GROUP_SCHEMA], "displayName": unique("oas-group")}),
    );
    check("post", "/Groups", &g);
    let gid = g.id();
    let r = c.patch(
        &format!("/Groups/{gid}"),
        &patch_body(json!([{"op": "replace", "path": "externalId", "value": "x"}])),
    );
    check("patch", "/Groups/{id}", &r);
    let r = c.post("/Groups/.search", &json!({"startIndex": 1}));
    check("post", "/Groups/.search", &r);
    let r = c.get("/Groups?sortOrder=sideways");
    check("get", "/Groups", &r);
    let r = c.delete(&format!("/Groups/{gid}"));
    check("delete", "/Groups/{id}", &r);

    // Discovery and the root search.
    check(
        "get",
        "/ServiceProviderConfig",
        &c.get("/ServiceProviderConfig"),
    );
    check("get", "/ResourceTypes", &c.get("/ResourceTypes"));
    check("get", "/ResourceTypes/{id}", &c.get("/ResourceTypes/Nope"));
    check("get", "/Schemas", &c.get("/Schemas"));
    check(
        "get",
        "/Schemas/{id}",
        &c.get("/Schemas/urn:ietf:params:scim:schemas:extension:platform:2.0:User"),
    );
    let r = c.post("/.search", &json!({"filter": "userName pr"}));
    check("post", "/.search", &r);
    assert_eq!(r.status, 200);
    let r = c.post("/.search", &json!({"filter": "userName eq"}));
    check("post", "/.search", &r);
    assert_eq!(r.status, 400);

    // Without a token: 401 everywhere the description says so.
    let r = c.send_raw("GET", "/Users", None, &[], false);
    check("get", "/Users", &r);
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
}

#[test]
fn undocumented_methods_are_405_and_documented_ones_are_not() {
    let ops = operations(&spec_text());
    let c = Client::new_tenant("openapi");
    let body = json!({});
    for (path, methods) in &ops {
        let concrete = path
            .replace("/ResourceTypes/{id}", "/ResourceTypes/User")
            .replace(
                "/Schemas/{id}",
                "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            )
            .replace("{id}", "00000000-0000-4000-8000-000000000000");
        for method in METHODS {
            let upper = method.to_ascii_uppercase();
            let b = (!matches!(method, "get" | "delete")).then_some(&body);
            let r = c.send(&upper, &concrete, b, &[]);
            if methods.contains_key(method) {
                conforms(&ops, method, path, &r);
                assert_ne!(r.status, 405, "{upper} {concrete}: {}", r.raw);
            } else {
                assert_eq!(
                    r.status, 405,
                    "{upper} {concrete} is not in openapi.yaml but answered: {}",
                    r.raw
                );
            }
        }
    }
}
