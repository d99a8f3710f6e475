//! Query parameters shared by GET on a collection and POST `.search` (RFC 7644 sections
//! 3.4.2, 3.4.3): filter, paging, sorting and attribute projection, and the ListResponse.

use serde_json::{json, Map, Value};

use crate::error::ScimError;
use crate::filter::{AttrPath, Filter};
use crate::schema::ResourceSchema;

/// Page size when the client sends no `count`.
pub const DEFAULT_COUNT: usize = 100;
/// Largest page served (advertised as `filter.maxResults`); larger counts are reduced to it.
pub const MAX_COUNT: usize = 1000;
/// Largest `startIndex` accepted: offset paging past this is refused rather than scanned.
pub const MAX_START_INDEX: usize = 1_000_000;
/// Most resources a filter that no index answers may examine (400 `tooMany` beyond).
pub const MAX_FILTER_SCAN: usize = 10_000;
/// Longest `cursor` accepted; the cursors this service issues are far shorter.
pub const MAX_CURSOR_LEN: usize = 1024;

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A parsed list or search request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start_index: usize,
    pub count: usize,
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    pub projection: Projection,
    /// Cursor paging (RFC 9865): `Some` when the client sent `cursor` (an empty one asks for
    /// the first page); the answer then carries `nextCursor` instead of paging by `startIndex`.
    pub cursor: Option<String>,
}

/// `attributes` / `excludedAttributes` (RFC 7644 section 3.9).
#[derive(Debug, Clone, Default)]
pub struct Projection {
    pub attributes: Vec<Selector>,
    pub excluded: Vec<Selector>,
}

/// One entry of `attributes`/`excludedAttributes`: an attribute path or a whole extension.
#[derive(Debug, Clone)]
pub enum Selector {
    Path(AttrPath),
    Extension(String),
}

impl ListQuery {
    /// From GET query parameters; `param` looks one up by name (the door decides how names
    /// are matched).
    pub fn from_query<'a>(
        param: impl Fn(&str) -> Option<&'a str>,
        schema: &ResourceSchema,
    ) -> Result<Self, ScimError> {
        Self::build(
            param("filter"),
            param("startIndex").map(Value::from),
            param("count").map(Value::from),
            param("sortBy"),
            param("sortOrder"),
            Projection::parse(param("attributes"), param("excludedAttributes"), schema)?,
            param("cursor").map(str::to_string),
            schema,
        )
    }

    /// From a POST `.search` body (RFC 7644 section 3.4.3).
    pub fn from_search(body: &Value, schema: &ResourceSchema) -> Result<Self, ScimError> {
        let obj = body.as_object().ok_or_else(|| {
            ScimError::invalid_syntax("The search request must be a JSON object.")
        })?;
        let get = |name: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| Some(v.join(",")))
                    .ok_or_else(|| ScimError::invalid_value(format!("`{name}` must be strings."))),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "`{name}` must be a string."
                ))),
            }
        };
        let projection = Projection::parse(
            text("attributes")?.as_deref(),
            text("excludedAttributes")?.as_deref(),
            schema,
        )?;
        let cursor = match get("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(ScimError::invalid_cursor("`cursor` must be a string.")),
        };
        Self::build(
            text("filter")?.as_deref(),
            get("startIndex").cloned(),
            get("count").cloned(),
            text("sortBy")?.as_deref(),
            text("sortOrder")?.as_deref(),
            projection,
            cursor,
            schema,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        filter: Option<&str>,
        start_index: Option<Value>,
        count: Option<Value>,
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        projection: Projection,
        cursor: Option<String>,
        schema: &ResourceSchema,
    ) -> Result<Self, ScimError> {
        let has_start_index = start_index
            .as_ref()
            .is_some_and(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()));
        if cursor.is_some() && has_start_index {
            return Err(ScimError::invalid_value(
                "Page by `cursor` or by `startIndex`, not both (RFC 9865).",
            ));
        }
        if cursor.as_ref().is_some_and(|c| c.len() > MAX_CURSOR_LEN) {
            return Err(ScimError::invalid_cursor(
                "The cursor is not one this service issued.",
            ));
        }
        let filter = match filter.map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Filter::parse(text, schema)?),
        };
        // RFC 7644 3.4.2.4: startIndex < 1 is read as 1, a negative count as 0.
        let start_index = integer("startIndex", start_index)?.map_or(1, |n| n.max(1));
        if start_index > MAX_START_INDEX as i64 {
            return Err(ScimError::invalid_value(format!(
                "startIndex may be at most {MAX_START_INDEX}."
            )));
        }
        let count = integer("count", count)?
            .map_or(DEFAULT_COUNT, |n| n.clamp(0, MAX_COUNT as i64) as usize);
        let sort_by = match sort_by.map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(AttrPath::parse(text, schema)?),
        };
        let descending = match sort_order.map(|s| s.trim().to_ascii_lowercase()) {
            None => false,
            Some(o) if o.is_empty() || o == "ascending" => false,
            Some(o) if o == "descending" => true,
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "sortOrder must be `ascending` or `descending`.",
                ))
            }
        };
        Ok(Self {
            filter,
            start_index: start_index as usize,
            count,
            sort_by,
            descending,
            projection,
            cursor,
        })
    }
}

/// Reads an integer parameter sent as a number or a numeric string.
fn integer(name: &str, value: Option<Value>) -> Result<Option<i64>, ScimError> {
    let invalid = || ScimError::invalid_value(format!("`{name}` must be an integer."));
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            // Saturate huge values instead of failing: `count=99999999999` means "as many as
            // you serve", and a huge negative one gets the RFC's clamping like any negative.
            let (negative, digits) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s.strip_prefix('+').unwrap_or(s)),
            };
            match s.parse::<i64>() {
                Ok(n) => Ok(Some(n)),
                Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Some(if negative { i64::MIN } else { i64::MAX }))
                }
                Err(_) => Err(invalid()),
            }
        }
        Some(_) => Err(invalid()),
    }
}

impl Projection {
    /// Whether the client asked for a projection at all.
    pub fn is_requested(&self) -> bool {
        !self.attributes.is_empty() || !self.excluded.is_empty()
    }

    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
        schema: &ResourceSchema,
    ) -> Result<Self, ScimError> {
        let parse = |text: Option<&str>| -> Result<Vec<Selector>, ScimError> {
            let Some(text) = text else {
                return Ok(Vec::new());
            };
            text.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| match schema.extension(t) {
                    Some(ext) => Ok(Selector::Extension(ext.id.clone())),
                    None => AttrPath::parse(t, schema).map(Selector::Path),
                })
                .collect()
        };
        Ok(Self {
            attributes: parse(attributes)?,
            excluded: parse(excluded)?,
        })
    }

    /// Whether the top-level attribute `name` (core schema) will be in the output; lets the
    /// caller skip reading it (`excludedAttributes=members` reads no member item).
    pub fn wants(&self, name: &str) -> bool {
        let names = |s: &Selector| matches!(s, Selector::Path(p) if p.extension.is_none() && p.attr.eq_ignore_ascii_case(name));
        let whole = |s: &Selector| matches!(s, Selector::Path(p) if p.extension.is_none() && p.attr.eq_ignore_ascii_case(name) && p.sub_attr.is_none());
        if !self.attributes.is_empty() {
            return self.attributes.iter().any(names);
        }
        !self.excluded.iter().any(whole)
    }

    /// Applies the projection to a rendered resource. `id` and `schemas` are always returned
    /// (RFC 7643 section 7, `returned: always`).
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(mut full) = resource else {
            return resource;
        };
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            for key in ["schemas", "id"] {
                if let Some(v) = full.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            for selector in &self.attributes {
                copy_selected(&full, &mut out, selector);
            }
            full = out;
        }
        for selector in &self.excluded {
            remove_selected(&mut full, selector);
        }
        Value::Object(full)
    }
}

fn container_key(path: &AttrPath) -> Option<&str> {
    path.extension.as_deref()
}

fn copy_selected(from: &Map<String, Value>, to: &mut Map<String, Value>, selector: &Selector) {
    match selector {
        Selector::Extension(urn) => {
            if let Some(v) = from.get(urn) {
                to.insert(urn.clone(), v.clone());
            }
        }
        Selector::Path(path) => {
            let source = match container_key(path) {
                Some(urn) => from.get(urn).and_then(Value::as_object),
                None => Some(from),
            };
            let Some(value) = source.and_then(|s| s.get(path.attr)) else {
                return;
            };
            let picked = match path.sub_attr {
                None => value.clone(),
                Some(sub) => match value {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .filter_map(|i| i.get(sub).map(|v| json!({ sub: v })))
                            .collect(),
                    ),
                    Value::Object(o) => match o.get(sub) {
                        Some(v) => json!({ sub: v }),
                        None => return,
                    },
                    _ => return,
                },
            };
            let target = match container_key(path) {
                Some(urn) => match to
                    .entry(urn.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    Value::Object(o) => o,
                    _ => return,
                },
                None => to,
            };
            match (target.get_mut(path.attr), picked) {
                (Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
                (_, picked) => {
                    target.insert(path.attr.to_string(), picked);
                }
            }
        }
    }
}

fn remove_selected(resource: &mut Map<String, Value>, selector: &Selector) {
    match selector {
        Selector::Extension(urn) => {
            resource.remove(urn);
        }
        Selector::Path(path) => {
            if path.extension.is_none() && matches!(path.attr, "id" | "schemas") {
                return;
            }
            let target = match container_key(path) {
                Some(urn) => match resource.get_mut(urn) {
                    Some(Value::Object(o)) => o,
                    _ => return,
                },
                None => resource,
            };
            match path.sub_attr {
                None => {
                    target.remove(path.attr);
                }
                Some(sub) => match target.get_mut(path.attr) {
                    Some(Value::Array(items)) => {
                        for item in items.iter_mut() {
                            if let Value::Object(o) = item {
                                o.remove(sub);
                            }
                        }
                    }
                    Some(Value::Object(o)) => {
                        o.remove(sub);
                    }
                    _ => {}
                },
            }
        }
    }
}

/// A ListResponse (RFC 7644 section 3.4.2).
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A ListResponse of cursor paging (RFC 9865 section 2.2): `nextCursor` when more follow, and
/// no `startIndex`.
pub fn cursor_list_response(
    total: usize,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    let mut body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let (Some(next), Some(obj)) = (next_cursor, body.as_object_mut()) {
        obj.insert("nextCursor".into(), Value::String(next));
    }
    body
}

impl ListQuery {
    /// Whether the query can be paged in the store's own order, without examining every
    /// resource: no filter, and no `sortBy` other than `index_order` ascending (the attribute
    /// the store's order follows, when clients may rely on it; `None` when every `sortBy` must
    /// sort in memory). `sortOrder` without `sortBy` changes nothing (RFC 7644 3.4.2.3).
    pub fn pages_in_index_order(&self, index_order: Option<&str>) -> bool {
        self.filter.is_none()
            && self.sort_by.as_ref().is_none_or(|s| {
                !self.descending
                    && s.extension.is_none()
                    && s.sub_attr.is_none()
                    && index_order == Some(s.attr)
            })
    }

    /// Filters, sorts and pages items held in memory; `resource` gives each item's SCIM
    /// representation, which the filter and the sort read. Returns the total and the page.
    pub fn page_in_memory<T>(
        &self,
        items: Vec<T>,
        resource: impl Fn(&T) -> &Value,
    ) -> (usize, Vec<T>) {
        self.page_in_memory_from(items, resource, self.start_index.saturating_sub(1))
    }

    /// [`ListQuery::page_in_memory`] from an offset of the caller's (a cursor's) instead of
    /// `startIndex`.
    pub fn page_in_memory_from<T>(
        &self,
        mut items: Vec<T>,
        resource: impl Fn(&T) -> &Value,
        skip: usize,
    ) -> (usize, Vec<T>) {
        if let Some(filter) = &self.filter {
            items.retain(|i| filter.matches(resource(i)));
        }
        if let Some(sort) = &self.sort_by {
            items.sort_by(|a, b| {
                let o = sort.compare_resources(resource(a), resource(b));
                if self.descending {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let total = items.len();
        let page = items.into_iter().skip(skip).take(self.count).collect();
        (total, page)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::schema::{Schemas, DEFAULT_PLATFORM_SCHEMA};

    fn users() -> ResourceSchema {
        Schemas::new(DEFAULT_PLATFORM_SCHEMA).user
    }

    fn search(body: Value) -> Result<ListQuery, ScimError> {
        ListQuery::from_search(&body, &users())
    }

    #[test]
    fn cursor_paging_is_asked_by_sending_a_cursor_and_excludes_start_index() {
        assert_eq!(
            search(json!({"cursor": ""})).unwrap().cursor.as_deref(),
            Some("")
        );
        assert_eq!(search(json!({})).unwrap().cursor, None);
        let q = ListQuery::from_query(
            |name| match name {
                "cursor" => Some("abc"),
                "count" => Some("5"),
                _ => None,
            },
            &users(),
        )
        .unwrap();
        assert_eq!((q.cursor.as_deref(), q.count), (Some("abc"), 5));
        let both = search(json!({"cursor": "", "startIndex": 2})).unwrap_err();
        assert_eq!(both.scim_type(), Some(ScimType::InvalidValue));
        let long = search(json!({"cursor": "x".repeat(MAX_CURSOR_LEN + 1)})).unwrap_err();
        assert_eq!(long.scim_type(), Some(ScimType::InvalidCursor));
        let typed = search(json!({"cursor": 7})).unwrap_err();
        assert_eq!(typed.scim_type(), Some(ScimType::InvalidCursor));
    }

    #[test]
    fn paging_defaults_and_rfc_clamping() {
        let q = search(json!({})).unwrap();
        assert_eq!((q.start_index, q.count), (1, DEFAULT_COUNT));
        let q = search(json!({"startIndex": 0, "count": -5})).unwrap();
        assert_eq!((q.start_index, q.count), (1, 0));
        let q = search(json!({"count": "5000"})).unwrap();
        assert_eq!(q.count, MAX_COUNT);
        let q = search(json!({"count": "99999999999999999999999"})).unwrap();
        assert_eq!(q.count, MAX_COUNT);
        // Huge negative values clamp like any negative (RFC 7644 3.4.2.4), never overflow.
        let q = search(
            json!({"count": "-99999999999999999999999", "startIndex": "-99999999999999999999999"}),
        )
        .unwrap();
        assert_eq!((q.start_index, q.count), (1, 0));
        let q = search(json!({"count": "+7", "startIndex": "-9223372036854775808"})).unwrap();
        assert_eq!((q.start_index, q.count), (1, 7));
    }

    #[test]
    fn non_integer_paging_is_invalid_value() {
        for body in [
            json!({"count": "ten"}),
            json!({"count": "-"}),
            json!({"count": "--5"}),
            json!({"count": "-+5"}),
            json!({"count": "1e3"}),
            json!({"startIndex": 1.5}),
            json!({"count": true}),
        ] {
            let err = search(body.clone()).unwrap_err();
            assert_eq!(
                err.scim_type(),
                Some(crate::ScimType::InvalidValue),
                "{body}"
            );
        }
    }

    #[test]
    fn a_bad_filter_is_invalid_filter_and_sort_order_is_checked() {
        let err = search(json!({"filter": "userName eq"})).unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidFilter));
        let err = search(json!({"sortOrder": "sideways"})).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(
            search(json!({"sortBy": "name.familyName", "sortOrder": "Descending"}))
                .unwrap()
                .descending
        );
    }

    #[test]
    fn projection_keeps_id_and_schemas_and_drops_excluded() {
        let p = Projection::parse(Some("userName,name.givenName"), None, &users()).unwrap();
        let out = p.apply(json!({"id": "1", "schemas": ["s"], "userName": "a", "name": {"givenName": "A", "familyName": "B"}, "active": true}));
        assert_eq!(
            out,
            json!({"id": "1", "schemas": ["s"], "userName": "a", "name": {"givenName": "A"}})
        );
        let p = Projection::parse(None, Some("emails,id"), &users()).unwrap();
        let out = p.apply(
            json!({"id": "1", "schemas": ["s"], "emails": [{"value": "x"}], "userName": "a"}),
        );
        assert_eq!(out, json!({"id": "1", "schemas": ["s"], "userName": "a"}));
        assert!(!Projection::parse(
            None,
            Some("members"),
            &Schemas::new(DEFAULT_PLATFORM_SCHEMA).group
        )
        .unwrap()
        .wants("members"));
    }

    #[test]
    fn only_an_unfiltered_ascending_sort_on_the_index_attribute_pages_in_index_order() {
        let q = |body: Value| search(body).unwrap();
        assert!(q(json!({})).pages_in_index_order(Some("userName")));
        assert!(q(json!({"sortOrder": "descending"})).pages_in_index_order(Some("userName")));
        assert!(q(json!({"sortBy": "userName"})).pages_in_index_order(Some("userName")));
        assert!(!q(json!({"sortBy": "userName", "sortOrder": "descending"}))
            .pages_in_index_order(Some("userName")));
        assert!(!q(json!({"sortBy": "title"})).pages_in_index_order(Some("userName")));
        assert!(!q(json!({"sortBy": "userName"})).pages_in_index_order(None));
        assert!(!q(json!({"filter": "title eq \"x\""})).pages_in_index_order(Some("userName")));
    }

    #[test]
    fn a_whole_extension_can_be_selected() {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let p = Projection::parse(Some(ext), None, &users()).unwrap();
        let out = p.apply(json!({"id": "1", "userName": "a", ext: {"department": "Eng"}}));
        assert_eq!(out, json!({"id": "1", ext: {"department": "Eng"}}));
    }
}
