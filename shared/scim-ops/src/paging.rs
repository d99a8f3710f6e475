//! How a list answer is paged: by `startIndex` (RFC 7644 section 3.4.2.4) or by cursor
//! (RFC 9865; the cursor codec is `scim_core::cursor`). The store checks a position it is
//! given back.

use scim_core::cursor::Cursor;
use scim_core::list::{cursor_list_response, list_response, ListQuery};
use scim_core::ScimError;
use serde_json::Value;

use crate::model::PageStart;

fn mismatched() -> ScimError {
    ScimError::invalid_cursor("The cursor belongs to another query; start again with `cursor=`.")
}

/// How the client pages this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Paging {
    /// By `startIndex` and `count`.
    Index,
    /// By cursor; `None` is the first page (`cursor=`).
    Cursor(Option<Cursor>),
}

/// A page and what the answer needs besides it.
pub(crate) struct Listed<T> {
    pub(crate) total: usize,
    pub(crate) items: Vec<T>,
    next: Option<Cursor>,
}

impl<T> Listed<T> {
    pub(crate) fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            total: self.total,
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

impl Paging {
    pub(crate) fn of(query: &ListQuery) -> Result<Self, ScimError> {
        Ok(match query.cursor.as_deref() {
            None => Self::Index,
            Some("") => Self::Cursor(None),
            Some(text) => Self::Cursor(Some(Cursor::decode(text)?)),
        })
    }

    /// Pages items already filtered and held in memory (sorted and paged by `query`).
    pub(crate) fn in_memory<T>(
        &self,
        query: &ListQuery,
        items: Vec<T>,
        resource: impl Fn(&T) -> &Value,
    ) -> Result<Listed<T>, ScimError> {
        let skip = match self {
            Self::Index => query.start_index.saturating_sub(1),
            Self::Cursor(None) => 0,
            Self::Cursor(Some(Cursor::Offset(n))) => *n,
            Self::Cursor(Some(Cursor::Store(_))) => return Err(mismatched()),
        };
        let (total, items) = query.page_in_memory_from(items, resource, skip);
        let end = skip.saturating_add(items.len());
        let next = (matches!(self, Self::Cursor(_)) && !items.is_empty() && end < total)
            .then_some(Cursor::Offset(end));
        Ok(Listed { total, items, next })
    }

    /// Where the store's page starts, or `None` when the answer is an empty page (`count=0`, or
    /// a `startIndex` past the end).
    pub(crate) fn store_start(
        &self,
        query: &ListQuery,
        total: usize,
    ) -> Result<Option<PageStart>, ScimError> {
        if query.count == 0 {
            return Ok(None);
        }
        Ok(match self {
            Self::Index if query.start_index > total => None,
            Self::Index => Some(PageStart::Offset(query.start_index.saturating_sub(1))),
            Self::Cursor(None) => Some(PageStart::Offset(0)),
            Self::Cursor(Some(Cursor::Store(position))) => Some(PageStart::After(position.clone())),
            Self::Cursor(Some(Cursor::Offset(_))) => return Err(mismatched()),
        })
    }

    /// A page read from the store.
    pub(crate) fn store_page<T>(
        &self,
        total: usize,
        items: Vec<T>,
        next: Option<String>,
    ) -> Listed<T> {
        let next = match self {
            Self::Cursor(_) => next.map(Cursor::Store),
            Self::Index => None,
        };
        Listed { total, items, next }
    }

    /// The ListResponse: `startIndex` paging as RFC 7644, cursor paging with `nextCursor`.
    pub(crate) fn response(&self, query: &ListQuery, listed: Listed<Value>) -> Value {
        match self {
            Self::Index => list_response(listed.total, query.start_index, listed.items),
            Self::Cursor(_) => {
                cursor_list_response(listed.total, listed.items, listed.next.map(|c| c.encode()))
            }
        }
    }
}
