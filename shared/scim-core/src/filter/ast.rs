//! The parsed, schema-resolved filter tree (RFC 7644 section 3.4.2.2, figure 1).
//!
//! Attribute paths are resolved against the schema while parsing, so the tree carries canonical
//! names and the attribute definitions that drive evaluation (types, `caseExact`,
//! multi-valuedness). Grouping parentheses are not kept: the tree shape is the grouping.

use std::fmt;

use serde_json::{Number, Value};

use crate::schema::AttributeDef;

/// A resolved attribute path: `attr`, `attr.sub`, optionally written with a schema URN prefix
/// (RFC 7644 section 3.10). Names are the canonical spellings from the schema table.
#[derive(Clone)]
pub struct AttrPath {
    /// The extension URN the attribute lives under (the key of the extension object in the
    /// resource), or `None` for core and common attributes, which are top-level keys.
    pub extension: Option<String>,
    /// The canonical attribute name, e.g. `userName`, `emails`, `manager`.
    pub attr: &'static str,
    /// The canonical sub-attribute name, e.g. `givenName` in `name.givenName`.
    pub sub_attr: Option<&'static str>,
    /// The attribute's definition.
    pub def: &'static AttributeDef,
    /// The sub-attribute's definition, when `sub_attr` is given.
    pub sub_def: Option<&'static AttributeDef>,
}

impl AttrPath {
    /// The definition of what the path finally names: the sub-attribute when given, else the
    /// attribute.
    pub fn target_def(&self) -> &'static AttributeDef {
        self.sub_def.unwrap_or(self.def)
    }

    /// Whether the attribute or the sub-attribute it names is `readOnly` (RFC 7643 section 7).
    pub fn is_read_only(&self) -> bool {
        !self.def.is_writable() || self.sub_def.is_some_and(|sub| !sub.is_writable())
    }

    /// The same attribute, naming `sub` below it.
    pub(crate) fn with_sub(&self, sub: &'static AttributeDef) -> Self {
        Self {
            extension: self.extension.clone(),
            attr: self.attr,
            sub_attr: Some(sub.name),
            def: self.def,
            sub_def: Some(sub),
        }
    }

    /// The attribute without its sub-attribute.
    pub(crate) fn parent(&self) -> Self {
        Self {
            extension: self.extension.clone(),
            attr: self.attr,
            sub_attr: None,
            def: self.def,
            sub_def: None,
        }
    }
}

/// Paths are equal when they name the same attribute; the definitions follow from the names.
impl PartialEq for AttrPath {
    fn eq(&self, other: &Self) -> bool {
        self.extension == other.extension
            && self.attr == other.attr
            && self.sub_attr == other.sub_attr
    }
}

impl Eq for AttrPath {}

impl fmt::Debug for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttrPath({self})")
    }
}

/// The fully qualified form for extension attributes (`urn:...:User:manager.value`), the short
/// form for core attributes (`name.givenName`); both re-parse to the same path.
impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.extension {
            write!(f, "{urn}:")?;
        }
        f.write_str(self.attr)?;
        if let Some(sub) = self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// The comparison operators of RFC 7644 section 3.4.2.2, table 3 (`pr` is [`FilterExpr::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator keyword, matched case-insensitively (RFC 7644 section 3.4.2.2).
    pub(crate) fn from_keyword(word: &str) -> Option<Self> {
        const OPS: [(&str, CompareOp); 9] = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ];
        OPS.iter()
            .find(|(kw, _)| kw.eq_ignore_ascii_case(word))
            .map(|(_, op)| *op)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// `gt`, `ge`, `lt`, `le`: the operators that need an ordering.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    /// `co`, `sw`, `ew`: the substring operators.
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

/// A comparison value (`compValue` in RFC 7644 figure 1): JSON `false`, `null`, `true`, a number
/// or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

impl CompValue {
    /// The value as JSON (used when PATCH creates an element from `eq` terms).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            // JSON string syntax is the filter string syntax (RFC 7644 figure 1, `compValue`).
            Self::String(s) => write!(f, "{}", Value::String(s.clone())),
        }
    }
}

/// One node of a filter.
///
/// Inside [`FilterExpr::ValuePath`] the nested expression's paths name sub-attributes of the
/// value path's attribute (`path.sub_attr` is always set there) and are evaluated against each
/// value of that attribute rather than against the resource.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    /// `attrPath compareOp compValue`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attrPath pr`.
    Present(AttrPath),
    And(Box<FilterExpr>, Box<FilterExpr>),
    Or(Box<FilterExpr>, Box<FilterExpr>),
    /// `not ( filter )`.
    Not(Box<FilterExpr>),
    /// `attrPath [ valFilter ]`: some value of the complex attribute `path` satisfies `filter`.
    /// The Microsoft Entra form `emails[type eq "work"].value eq "x"` is parsed into this node
    /// with the trailing comparison joined to the bracket filter by `and`: both must hold for
    /// the same value.
    ValuePath {
        path: AttrPath,
        filter: Box<FilterExpr>,
    },
}

impl FilterExpr {
    /// The number of comparison terms (`Compare` and `Present` nodes).
    pub fn term_count(&self) -> usize {
        match self {
            Self::Compare { .. } | Self::Present(_) => 1,
            Self::And(a, b) | Self::Or(a, b) => a.term_count() + b.term_count(),
            Self::Not(inner) | Self::ValuePath { filter: inner, .. } => inner.term_count(),
        }
    }

    /// The nesting depth counted by [`super::MAX_FILTER_DEPTH`]: `not` and value paths nest,
    /// `and`/`or` do not. (Redundant parentheses also count while parsing but leave no node.)
    pub fn nesting_depth(&self) -> usize {
        match self {
            Self::Compare { .. } | Self::Present(_) => 0,
            Self::And(a, b) | Self::Or(a, b) => a.nesting_depth().max(b.nesting_depth()),
            Self::Not(inner) | Self::ValuePath { filter: inner, .. } => 1 + inner.nesting_depth(),
        }
    }

    /// The sub-attribute `eq` terms when this expression is a conjunction of them, e.g.
    /// `type eq "work" and primary eq true`. PATCH uses them to create a value when a value
    /// path matches nothing (what Microsoft Entra expects when it adds a work email).
    pub fn eq_terms(&self) -> Option<Vec<(&'static AttributeDef, &CompValue)>> {
        let mut out = Vec::new();
        self.collect_eq_terms(&mut out).then_some(out)
    }

    fn collect_eq_terms<'a>(
        &'a self,
        out: &mut Vec<(&'static AttributeDef, &'a CompValue)>,
    ) -> bool {
        match self {
            Self::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if !matches!(value, CompValue::Null) => match path.sub_def {
                Some(sub) => {
                    out.push((sub, value));
                    true
                }
                None => false,
            },
            Self::And(a, b) => a.collect_eq_terms(out) && b.collect_eq_terms(out),
            _ => false,
        }
    }

    /// Writes the canonical text. `relative`: inside brackets, where paths are written as the
    /// bare sub-attribute name.
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, relative: bool) -> fmt::Result {
        match self {
            Self::Compare { path, op, value } => {
                write_path(f, path, relative)?;
                write!(f, " {} {value}", op.as_str())
            }
            Self::Present(path) => {
                write_path(f, path, relative)?;
                f.write_str(" pr")
            }
            // `and` binds tighter than `or` and both associate to the left, so parentheses are
            // written exactly where the tree differs from that reading.
            Self::Or(a, b) => {
                a.write(f, relative)?;
                f.write_str(" or ")?;
                write_grouped(f, b, relative, matches!(**b, Self::Or(..)))
            }
            Self::And(a, b) => {
                write_grouped(f, a, relative, matches!(**a, Self::Or(..)))?;
                f.write_str(" and ")?;
                write_grouped(f, b, relative, matches!(**b, Self::Or(..) | Self::And(..)))
            }
            Self::Not(inner) => {
                f.write_str("not (")?;
                inner.write(f, relative)?;
                f.write_str(")")
            }
            Self::ValuePath { path, filter } => {
                write_path(f, path, relative)?;
                f.write_str("[")?;
                filter.write(f, true)?;
                f.write_str("]")
            }
        }
    }
}

fn write_path(f: &mut fmt::Formatter<'_>, path: &AttrPath, relative: bool) -> fmt::Result {
    match (relative, path.sub_attr) {
        (true, Some(sub)) => f.write_str(sub),
        _ => write!(f, "{path}"),
    }
}

fn write_grouped(
    f: &mut fmt::Formatter<'_>,
    expr: &FilterExpr,
    relative: bool,
    group: bool,
) -> fmt::Result {
    if group {
        f.write_str("(")?;
        expr.write(f, relative)?;
        f.write_str(")")
    } else {
        expr.write(f, relative)
    }
}

impl fmt::Display for FilterExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}
