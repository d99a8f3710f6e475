//! SCIM filters (RFC 7644 section 3.4.2.2): parsing with schema resolution, evaluation against
//! canonical resource documents, and the index key a store can answer a filter from.
//!
//! Filters arrive from the network, so parsing is bounded: the input length, nesting depth and
//! number of comparisons are limited ([`MAX_FILTER_LEN`], [`MAX_FILTER_DEPTH`],
//! [`MAX_FILTER_TERMS`]) and checked before the parser recurses or allocates further. Every
//! failure is `400 invalidFilter` with a `detail` saying what was wrong and where.
//!
//! Semantics a caller should know (all following RFC 7644 section 3.4.2.2 unless noted):
//! - attribute names are case-insensitive and may carry a schema URN prefix (section 3.10);
//! - string comparisons ignore case unless the attribute is `caseExact` (`id`, `externalId`,
//!   `$ref`, `manager.value`, `members.value`); `dateTime` values compare as instants;
//! - a comparison on a multi-valued attribute holds when any value satisfies it; `ne` is the
//!   negation of `eq`, so it also holds when the attribute is absent;
//! - `eq null` means "not present" and `ne null` means "present" (RFC 7643 section 2.5);
//! - `emails co "x"` compares the `value` sub-attribute of each email;
//! - unquoted string values (`externalId eq jyoung`) are refused, never guessed at.

mod ast;
mod eval;
mod lexer;
mod parser;
mod path;

use std::fmt;

use serde_json::Value;

pub use ast::{AttrPath, CompValue, CompareOp, FilterExpr};

use crate::error::ScimError;
use crate::schema::{ResourceKind, ResourceSchema};

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// The deepest nesting of parentheses, `not ( )` and value-path brackets accepted.
pub const MAX_FILTER_DEPTH: usize = 16;
/// The most comparisons (`attr op value` and `attr pr`) one filter may contain.
pub const MAX_FILTER_TERMS: usize = 50;

/// A parsed filter, resolved against one resource type's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: FilterExpr,
    kind: ResourceKind,
}

/// An equality a store can look up directly instead of scanning. Strings of attributes that are
/// not `caseExact` (`userName`, `displayName`, email addresses) are folded with
/// [`crate::fold`] (NFC, then lowercase); `id` and `externalId` are verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexKey {
    Id(String),
    UserName(String),
    ExternalId(String),
    /// Groups only: a user's `displayName` is not unique and not indexed.
    DisplayName(String),
    /// Users only: one of the user's email addresses.
    Email(String),
    /// Groups only: a member's id (`members.value eq`, `members[value eq ...]`); case-exact.
    Member(String),
}

impl IndexKey {
    /// Preference when both sides of an `and` offer a key: the most selective first.
    fn rank(&self) -> u8 {
        match self {
            Self::Id(_) => 0,
            Self::UserName(_) | Self::DisplayName(_) => 1,
            Self::ExternalId(_) => 2,
            Self::Email(_) | Self::Member(_) => 3,
        }
    }
}

impl Filter {
    /// Parses `input` and resolves every attribute path against `schema`.
    ///
    /// Errors are `400 invalidFilter`: syntax errors, unknown attributes, budgets exceeded,
    /// operators that make no sense for the attribute (`gt` on a boolean, `eq` on the complex
    /// `name`), and unquoted string values.
    pub fn parse(input: &str, schema: &ResourceSchema) -> Result<Filter, ScimError> {
        if input.len() > MAX_FILTER_LEN {
            return Err(ScimError::invalid_filter(format!(
                "filter is {} bytes; the limit is {MAX_FILTER_LEN}",
                input.len()
            )));
        }
        if input.trim().is_empty() {
            return Err(ScimError::invalid_filter("empty filter"));
        }
        parser::parse_filter(input, schema)
            .map(|expr| Filter {
                expr,
                kind: schema.kind,
            })
            .map_err(ScimError::invalid_filter)
    }

    /// Whether `resource`, a canonical resource document, satisfies the filter.
    pub fn matches(&self, resource: &Value) -> bool {
        eval::eval(&self.expr, resource, false)
    }

    /// The parsed tree.
    pub fn expr(&self) -> &FilterExpr {
        &self.expr
    }

    /// The resource type the filter was resolved against.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// A key the store can fetch candidates by: `id`, `userName`, `externalId`, a group's
    /// `displayName` or a user's email address compared with `eq` to a string, alone or as one
    /// side of an `and` (the caller still runs [`Filter::matches`] on the candidates). `None`
    /// for anything else (`or`, `not`, other operators): the store must scan.
    pub fn index_key(&self) -> Option<IndexKey> {
        key_of(&self.expr, self.kind)
    }
}

impl fmt::Display for Filter {
    /// Canonical filter text: canonical attribute names, lowercase operators, JSON literals and
    /// parentheses only where the tree needs them. Parsing it gives back an equal filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.write(f, false)
    }
}

fn key_of(expr: &FilterExpr, kind: ResourceKind) -> Option<IndexKey> {
    match expr {
        FilterExpr::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(s),
        } if path.extension.is_none() => match (path.attr, path.sub_attr, kind) {
            ("id", None, _) => Some(IndexKey::Id(s.clone())),
            ("externalId", None, _) => Some(IndexKey::ExternalId(s.clone())),
            ("userName", None, ResourceKind::User) => Some(IndexKey::UserName(crate::fold(s))),
            ("displayName", None, ResourceKind::Group) => {
                Some(IndexKey::DisplayName(crate::fold(s)))
            }
            ("emails", Some("value"), ResourceKind::User) => Some(IndexKey::Email(crate::fold(s))),
            ("members", Some("value"), ResourceKind::Group) => Some(IndexKey::Member(s.clone())),
            _ => None,
        },
        FilterExpr::And(a, b) => match (key_of(a, kind), key_of(b, kind)) {
            (Some(x), Some(y)) => Some(if y.rank() < x.rank() { y } else { x }),
            (x, y) => x.or(y),
        },
        FilterExpr::ValuePath { path, filter }
            if kind == ResourceKind::User && path.extension.is_none() && path.attr == "emails" =>
        {
            email_in_value_filter(filter)
        }
        FilterExpr::ValuePath { path, filter }
            if kind == ResourceKind::Group
                && path.extension.is_none()
                && path.attr == "members" =>
        {
            member_in_value_filter(filter)
        }
        _ => None,
    }
}

/// `value eq "x"` inside `emails[...]`, alone or in a conjunction.
fn email_in_value_filter(expr: &FilterExpr) -> Option<IndexKey> {
    match expr {
        FilterExpr::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(s),
        } if path.sub_attr == Some("value") => Some(IndexKey::Email(crate::fold(s))),
        FilterExpr::And(a, b) => email_in_value_filter(a).or_else(|| email_in_value_filter(b)),
        _ => None,
    }
}

/// `value eq "id"` inside `members[...]`, alone or in a conjunction.
fn member_in_value_filter(expr: &FilterExpr) -> Option<IndexKey> {
    match expr {
        FilterExpr::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(s),
        } if path.sub_attr == Some("value") => Some(IndexKey::Member(s.clone())),
        FilterExpr::And(a, b) => member_in_value_filter(a).or_else(|| member_in_value_filter(b)),
        _ => None,
    }
}

/// Evaluates a value filter (the inside of `attr[...]`, as parsed for a PATCH path) against
/// one value of the attribute.
pub(crate) fn matches_value(filter: &FilterExpr, value: &Value) -> bool {
    eval::eval(filter, value, true)
}

/// Displays a value filter the way it is written inside brackets (bare sub-attribute names).
pub(crate) struct Relative<'a>(pub(crate) &'a FilterExpr);

impl fmt::Display for Relative<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, true)
    }
}

pub(crate) use eval::is_true;
pub(crate) use lexer::excerpt;
pub(crate) use parser::parse_patch_path;
pub(crate) use path::{get_ci, resolve_word};
