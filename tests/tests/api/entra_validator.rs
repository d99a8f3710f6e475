//! The remaining items of Microsoft's provisioning validator list: paging with `count=5` across
//! pages, and schema discoverability of every attribute Entra's default mapping sends.

use std::collections::BTreeSet;

use integration_tests::{unique, Client};
use serde_json::{json, Value};

#[test]
fn entra_pages_of_five_cover_every_user_once_in_a_stable_order() {
    let c = Client::new_tenant("entra-pages");
    let mut created = BTreeSet::new();
    for i in 0..12 {
        let name = format!("{}-{i:02}@contoso.example", unique("page"));
        created.insert(c.create_user(&name).id());
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = c.get(&format!("/Users?startIndex={start}&count=5"));
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(r.total(), 12);
        assert_eq!(r.body["startIndex"], start);
        let page = r.body["Resources"].as_array().cloned().unwrap_or_default();
        assert_eq!(r.body["itemsPerPage"], page.len());
        assert!(page.len() <= 5);
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        start += 5;
    }
    assert_eq!(seen.len(), 12, "no duplicates and no gaps: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), created);
    let again: Vec<String> = (0..3)
        .flat_map(|p| {
            c.get(&format!("/Users?startIndex={}&count=5", 1 + 5 * p))
                .body["Resources"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(again, seen, "the order is stable across reads");
}

fn attribute_names(schema: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for attr in schema["attributes"].as_array().into_iter().flatten() {
        let name = attr["name"].as_str().unwrap().to_string();
        for sub in attr["subAttributes"].as_array().into_iter().flatten() {
            names.insert(format!("{name}.{}", sub["name"].as_str().unwrap()));
        }
        names.insert(name);
    }
    names
}

#[test]
fn every_attribute_entras_default_mapping_sends_is_discoverable_in_schemas() {
    let c = Client::new_tenant("entra-schemas");
    let user = c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    let enterprise = c.get("/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    let platform = c.get("/Schemas/urn:ietf:params:scim:schemas:extension:platform:2.0:User");
    let group = c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group");
    for r in [&user, &enterprise, &platform, &group] {
        assert_eq!(r.status, 200, "{}", r.raw);
    }
    let user_attrs = attribute_names(&user.body);
    for name in [
        "userName",
        "active",
        "displayName",
        "title",
        "preferredLanguage",
        "nickName",
        "userType",
        "locale",
        "timezone",
        "name.givenName",
        "name.familyName",
        "name.formatted",
        "emails.value",
        "emails.type",
        "emails.primary",
        "phoneNumbers.value",
        "phoneNumbers.type",
        "addresses.streetAddress",
        "addresses.locality",
        "addresses.region",
        "addresses.postalCode",
        "addresses.country",
        "addresses.formatted",
        "addresses.type",
        "roles.value",
        "roles.primary",
        "roles.type",
        "roles.display",
    ] {
        assert!(user_attrs.contains(name), "User schema lacks {name}");
    }
    let enterprise_attrs = attribute_names(&enterprise.body);
    for name in [
        "employeeNumber",
        "department",
        "costCenter",
        "organization",
        "division",
        "manager.value",
    ] {
        assert!(
            enterprise_attrs.contains(name),
            "enterprise schema lacks {name}"
        );
    }
    assert!(attribute_names(&platform.body).contains("platformRole"));
    let group_attrs = attribute_names(&group.body);
    for name in ["displayName", "members.value", "members.type"] {
        assert!(group_attrs.contains(name), "Group schema lacks {name}");
    }
    // And each of them round-trips: what Entra writes, we read back.
    let r = c.post(
        "/Users",
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": format!("{}@contoso.example", unique("disc")),
            "title": "Engineer", "preferredLanguage": "en-US", "nickName": "Al", "userType": "Employee",
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            "addresses": [{"type": "work", "locality": "Redmond", "country": "US"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"costCenter": "42", "division": "R&D"},
        }),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["title"], "Engineer");
    assert_eq!(r.body["addresses"][0]["locality"], "Redmond");
    assert_eq!(
        r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["division"],
        "R&D"
    );
}
