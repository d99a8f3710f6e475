//! Searching every resource type at once: `POST /.search` at the root (RFC 7644 section
//! 3.4.3). One result list: the matching users (in their list order) and then the matching
//! groups (in theirs), paged by `startIndex` and `count` over the whole.
//!
//! A resource type takes part when the filter can be read against its schema: a filter on
//! `userName` finds users only, one on `displayName` or `externalId` finds both. An attribute
//! in `attributes`, `excludedAttributes` or `sortBy` that a type does not have is ignored for
//! that type (a type none of whose attributes were asked for returns `id` and `schemas`). When
//! no type can read the filter, the Users error is the answer.
//!
//! Cost: what the two pages cost. The users' list answers the page and its total; the groups'
//! list is asked only for what the page still has room for (its total alone when nothing).

use scim_core::filter::AttrPath;
use scim_core::list::{list_response, ListQuery};
use scim_core::schema::ResourceSchema;
use scim_core::ScimError;
use serde_json::{Map, Value};

use crate::operation::{Ctx, Outcome};
use crate::paging::Paging;
use crate::ports::{GroupStore, UserStore};
use crate::Operations;

impl<S: UserStore + GroupStore> Operations<S> {
    pub(crate) async fn search_all(
        &self,
        ctx: &Ctx<'_>,
        body: &Value,
    ) -> Result<Outcome, ScimError> {
        let request = body.as_object().ok_or_else(|| {
            ScimError::invalid_syntax("The search request must be a JSON object.")
        })?;
        if field(request, "cursor").is_some_and(|v| !v.is_null()) {
            return Err(ScimError::invalid_value(
                "A search of every resource type pages by `startIndex`; cursors page \
                 /Users/.search and /Groups/.search.",
            ));
        }
        let users = query_for(request, &self.schemas.user);
        let groups = query_for(request, &self.schemas.group);
        let (users, groups) = match (users, groups) {
            (Err(err), Err(_)) => return Err(err),
            (users, groups) => (users.ok(), groups.ok()),
        };
        let Some(first) = users.as_ref().or(groups.as_ref()) else {
            return Err(ScimError::invalid_syntax("The search request is empty."));
        };
        let (start_index, count) = (first.start_index, first.count);
        let mut total = 0;
        let mut resources = Vec::new();
        if let Some(query) = users {
            let listed = self.listed_users(ctx, &query, &Paging::Index).await?;
            total += listed.total;
            resources.extend(listed.items);
        }
        if let Some(mut query) = groups {
            // The groups follow the `total` users: their own startIndex is what is left of the
            // page's start once the users are passed, and their count what the page has room for.
            query.start_index = start_index.saturating_sub(total).max(1);
            query.count = count.saturating_sub(resources.len());
            let listed = self.listed_groups(ctx, &query, &Paging::Index).await?;
            total += listed.total;
            resources.extend(listed.items);
        }
        Ok(Outcome::List(list_response(total, start_index, resources)))
    }
}

/// The search request as one resource type reads it, or the error that keeps the type out.
fn query_for(
    request: &Map<String, Value>,
    schema: &ResourceSchema,
) -> Result<ListQuery, ScimError> {
    let mut own = Map::new();
    for (name, value) in request {
        let value = if name.eq_ignore_ascii_case("attributes") {
            match known_names(value, schema) {
                // Asked for attributes, none of them this type's: its resources show `id`.
                Some(names) if names.is_empty() && !is_empty_list(value) => Value::from("id"),
                Some(names) => Value::from(names.join(",")),
                None => value.clone(),
            }
        } else if name.eq_ignore_ascii_case("excludedAttributes") {
            match known_names(value, schema) {
                Some(names) => Value::from(names.join(",")),
                None => value.clone(),
            }
        } else if name.eq_ignore_ascii_case("sortBy") {
            match value.as_str() {
                Some(path) if !path.trim().is_empty() && !knows(schema, path.trim()) => continue,
                _ => value.clone(),
            }
        } else {
            value.clone()
        };
        own.insert(name.clone(), value);
    }
    ListQuery::from_search(&Value::Object(own), schema)
}

fn field<'a>(request: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    request
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The names of an `attributes`-like value that `schema` has, or `None` when the value is not
/// a string or a list of strings (left to the parser to refuse).
fn known_names(value: &Value, schema: &ResourceSchema) -> Option<Vec<String>> {
    let names: Vec<&str> = match value {
        Value::Null => return Some(Vec::new()),
        Value::String(text) => text.split(',').collect(),
        Value::Array(items) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .flat_map(|t| t.split(','))
            .collect(),
        _ => return None,
    };
    Some(
        names
            .into_iter()
            .map(str::trim)
            .filter(|n| !n.is_empty() && knows(schema, n))
            .map(str::to_string)
            .collect(),
    )
}

fn is_empty_list(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.split(',').all(|n| n.trim().is_empty()),
        Value::Array(items) => items.iter().all(|v| {
            v.as_str()
                .is_some_and(|t| t.split(',').all(|n| n.trim().is_empty()))
        }),
        _ => false,
    }
}

fn knows(schema: &ResourceSchema, name: &str) -> bool {
    schema.extension(name).is_some() || AttrPath::parse(name, schema).is_ok()
}
