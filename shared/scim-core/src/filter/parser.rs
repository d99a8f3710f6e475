//! Recursive-descent parser for RFC 7644 figure 1 (filters) and figure 7 (PATCH paths).
//!
//! ```text
//! filter     = orExpr
//! orExpr     = andExpr *("or" andExpr)              ; "and" binds tighter than "or"
//! andExpr    = unary *("and" unary)
//! unary      = "not" "(" filter ")" / "(" filter ")" / attrExpr
//! attrExpr   = attrPath "pr" / attrPath compareOp compValue
//!            / attrPath "[" valFilter "]" [ "." subAttr ( "pr" / compareOp compValue ) ]
//! PATH       = attrPath / valuePath [subAttr]
//! ```
//!
//! Budgets ([`MAX_FILTER_DEPTH`], [`MAX_FILTER_TERMS`]) are checked before descending or
//! building a node, so recursion depth and allocation are bounded by them whatever the input.

use super::ast::{AttrPath, CompValue, CompareOp, FilterExpr};
use super::eval::parse_instant;
use super::lexer::{Lexer, Tok};
use super::path::{resolve_sub, resolve_word};
use super::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS};
use crate::error::ScimError;
use crate::schema::{AttributeType, ResourceSchema};

type PResult<T> = Result<T, String>;

struct Parser<'a, 's> {
    lexer: Lexer<'a>,
    peeked: Option<Option<(usize, Tok<'a>)>>,
    schema: &'s ResourceSchema,
    depth: usize,
    terms: usize,
}

/// Parses a whole filter. The caller has checked the length budget.
pub(crate) fn parse_filter(input: &str, schema: &ResourceSchema) -> PResult<FilterExpr> {
    let mut parser = Parser::new(input, schema);
    let expr = parser.parse_or(None)?;
    parser.expect_end()?;
    Ok(expr)
}

/// Parses a PATCH `path` (RFC 7644 section 3.5.2, figure 7) into the attribute path (with the
/// trailing sub-attribute, if any) and the value filter, if any. Errors in the path itself are
/// `invalidPath`; errors inside the brackets are `invalidFilter` (RFC 7644 section 3.12 lists
/// `invalidFilter` for "PATCH (Path Filter)").
pub(crate) fn parse_patch_path(
    input: &str,
    schema: &ResourceSchema,
) -> Result<(AttrPath, Option<FilterExpr>), ScimError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_path(format!(
            "path is {} bytes; the limit is {MAX_FILTER_LEN}",
            input.len()
        )));
    }
    let mut p = Parser::new(input, schema);
    let path = match p.next().map_err(ScimError::invalid_path)? {
        Some((_, Tok::Word(word))) => {
            resolve_word(word, schema).map_err(ScimError::invalid_path)?
        }
        Some((pos, tok)) => {
            return Err(ScimError::invalid_path(format!(
                "unexpected {} at position {pos}: a path starts with an attribute name",
                tok.describe()
            )))
        }
        None => return Err(ScimError::invalid_path("empty path")),
    };
    match p.next().map_err(ScimError::invalid_path)? {
        None => Ok((path, None)),
        Some((pos, Tok::LBracket)) => {
            if path.sub_attr.is_some() || path.def.ty != AttributeType::Complex || !path.def.multi_valued {
                return Err(ScimError::invalid_path(format!(
                    "'[' at position {pos}: value filters select values of a multi-valued complex attribute, and '{path}' is not one"
                )));
            }
            let filter = p
                .bracket_filter(pos, &path)
                .map_err(ScimError::invalid_filter)?;
            match p.next().map_err(ScimError::invalid_path)? {
                None => Ok((path, Some(filter))),
                Some((_, Tok::Word(word))) if word.starts_with('.') => {
                    let sub = resolve_sub(&path, word.get(1..).unwrap_or_default())
                        .map_err(ScimError::invalid_path)?;
                    p.expect_end().map_err(ScimError::invalid_path)?;
                    Ok((sub, Some(filter)))
                }
                Some((pos, tok)) => Err(ScimError::invalid_path(format!(
                    "unexpected {} at position {pos}: only '.subAttribute' may follow ']'",
                    tok.describe()
                ))),
            }
        }
        Some((pos, tok)) => Err(ScimError::invalid_path(format!(
            "unexpected {} at position {pos}: a path is 'attr', 'attr.sub', 'attr[filter]' or 'attr[filter].sub'",
            tok.describe()
        ))),
    }
}

impl<'a, 's> Parser<'a, 's> {
    fn new(input: &'a str, schema: &'s ResourceSchema) -> Self {
        Self {
            lexer: Lexer::new(input),
            peeked: None,
            schema,
            depth: 0,
            terms: 0,
        }
    }

    fn next(&mut self) -> PResult<Option<(usize, Tok<'a>)>> {
        match self.peeked.take() {
            Some(tok) => Ok(tok),
            None => self.lexer.next_token(),
        }
    }

    fn peek(&mut self) -> PResult<Option<&Tok<'a>>> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        Ok(self
            .peeked
            .as_ref()
            .and_then(|t| t.as_ref())
            .map(|(_, tok)| tok))
    }

    fn peek_keyword(&mut self, keyword: &str) -> PResult<bool> {
        Ok(matches!(self.peek()?, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(keyword)))
    }

    fn expect_end(&mut self) -> PResult<()> {
        match self.next()? {
            None => Ok(()),
            Some((pos, tok)) => Err(format!(
                "unexpected {} at position {pos}: expected 'and', 'or' or the end of the filter",
                tok.describe()
            )),
        }
    }

    /// One more level of nesting, refused past [`MAX_FILTER_DEPTH`] before recursing.
    fn enter(&mut self, pos: usize) -> PResult<()> {
        if self.depth >= MAX_FILTER_DEPTH {
            return Err(format!(
                "filter nested too deeply at position {pos}: at most {MAX_FILTER_DEPTH} levels of parentheses, 'not' and brackets"
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// One more comparison, refused past [`MAX_FILTER_TERMS`].
    fn count_term(&mut self, pos: usize) -> PResult<()> {
        if self.terms >= MAX_FILTER_TERMS {
            return Err(format!(
                "too many comparisons at position {pos}: at most {MAX_FILTER_TERMS} per filter"
            ));
        }
        self.terms += 1;
        Ok(())
    }

    fn parse_or(&mut self, scope: Option<&AttrPath>) -> PResult<FilterExpr> {
        let mut left = self.parse_and(scope)?;
        while self.peek_keyword("or")? {
            self.next()?;
            let right = self.parse_and(scope)?;
            left = FilterExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self, scope: Option<&AttrPath>) -> PResult<FilterExpr> {
        let mut left = self.parse_unary(scope)?;
        while self.peek_keyword("and")? {
            self.next()?;
            let right = self.parse_unary(scope)?;
            left = FilterExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self, scope: Option<&AttrPath>) -> PResult<FilterExpr> {
        let Some((pos, tok)) = self.next()? else {
            return Err(
                "unexpected end of filter: expected an attribute path, 'not' or '('".into(),
            );
        };
        match tok {
            Tok::LParen => {
                self.enter(pos)?;
                let inner = self.parse_or(scope)?;
                self.expect_close(pos, Tok::RParen)?;
                self.leave();
                Ok(inner)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("not") => {
                match self.next()? {
                    Some((_, Tok::LParen)) => {}
                    _ => return Err(format!("expected '(' after 'not' at position {pos}")),
                }
                self.enter(pos)?;
                let inner = self.parse_or(scope)?;
                self.expect_close(pos, Tok::RParen)?;
                self.leave();
                Ok(FilterExpr::Not(Box::new(inner)))
            }
            Tok::Word(w) => self.parse_attr_expr(pos, w, scope),
            other => Err(format!(
                "unexpected {} at position {pos}: expected an attribute path, 'not' or '('",
                other.describe()
            )),
        }
    }

    fn expect_close(&mut self, open: usize, close: Tok<'static>) -> PResult<()> {
        match self.next()? {
            Some((_, tok)) if tok == close => Ok(()),
            Some((pos, tok)) => Err(format!(
                "unexpected {} at position {pos}: expected {} to close the one at position {open}",
                tok.describe(),
                close.describe()
            )),
            None => Err(format!(
                "unexpected end of filter: {} at position {open} is never closed",
                if close == Tok::RParen { "'('" } else { "'['" }
            )),
        }
    }

    /// `valFilter "]"` after a `[` at `open`; paths inside name sub-attributes of `parent`.
    fn bracket_filter(&mut self, open: usize, parent: &AttrPath) -> PResult<FilterExpr> {
        self.enter(open)?;
        let inner = self.parse_or(Some(parent))?;
        self.expect_close(open, Tok::RBracket)?;
        self.leave();
        Ok(inner)
    }

    fn parse_attr_expr(
        &mut self,
        pos: usize,
        word: &str,
        scope: Option<&AttrPath>,
    ) -> PResult<FilterExpr> {
        let path = match scope {
            None if word.starts_with('.') => {
                return Err(format!(
                    "unexpected '{}' at position {pos}: expected an attribute path",
                    super::lexer::excerpt(word)
                ))
            }
            None => resolve_word(word, self.schema).map_err(|e| format!("{e} (position {pos})"))?,
            Some(parent) => {
                if word.contains(['.', ':']) {
                    return Err(format!(
                        "'{}' at position {pos}: inside brackets name a sub-attribute of '{}' only",
                        super::lexer::excerpt(word),
                        parent.attr
                    ));
                }
                resolve_sub(parent, word).map_err(|e| format!("{e} (position {pos})"))?
            }
        };
        if self.peek()? != Some(&Tok::LBracket) {
            return self.parse_condition(pos, path);
        }
        let Some((open, _)) = self.next()? else {
            return Err("unexpected end of filter".into());
        };
        if scope.is_some() {
            return Err(format!(
                "nested '[' at position {open}: value filters cannot be nested"
            ));
        }
        if path.sub_attr.is_some() || path.def.ty != AttributeType::Complex {
            return Err(format!(
                "'[' at position {open}: value filters apply to complex attributes, and '{path}' is not one"
            ));
        }
        let mut inner = self.bracket_filter(open, &path)?;
        // Microsoft Entra: `emails[type eq "work"].value eq "x"` means one value satisfies both.
        if let Some(Tok::Word(w)) = self.peek()? {
            if let Some(sub) = w.strip_prefix('.') {
                let sub_path = resolve_sub(&path, sub)?;
                let sub_pos = match self.next()? {
                    Some((sub_pos, _)) => sub_pos,
                    None => open,
                };
                let condition = self.parse_condition(sub_pos, sub_path)?;
                inner = FilterExpr::And(Box::new(inner), Box::new(condition));
            }
        }
        Ok(FilterExpr::ValuePath {
            path,
            filter: Box::new(inner),
        })
    }

    /// `"pr"` or `compareOp compValue` after the attribute path `path` (at `pos`).
    fn parse_condition(&mut self, pos: usize, path: AttrPath) -> PResult<FilterExpr> {
        let op = match self.next()? {
            Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("pr") => {
                self.count_term(pos)?;
                return Ok(FilterExpr::Present(path));
            }
            Some((op_pos, Tok::Word(w))) => CompareOp::from_keyword(w).ok_or_else(|| {
                format!(
                    "unknown operator '{}' at position {op_pos}: expected eq, ne, co, sw, ew, gt, ge, lt, le or pr",
                    super::lexer::excerpt(w)
                )
            })?,
            Some((op_pos, tok)) => {
                return Err(format!(
                    "unexpected {} at position {op_pos}: expected an operator after '{path}'",
                    tok.describe()
                ))
            }
            None => return Err(format!("unexpected end of filter: expected an operator after '{path}'")),
        };
        let value = match self.next()? {
            Some((_, Tok::Str(s))) => CompValue::String(s),
            Some((value_pos, Tok::Word(w))) => literal(value_pos, w)?,
            Some((value_pos, tok)) => {
                return Err(format!(
                    "unexpected {} at position {value_pos}: expected a value after '{}'",
                    tok.describe(),
                    op.as_str()
                ))
            }
            None => {
                return Err(format!(
                    "unexpected end of filter: expected a value after '{}'",
                    op.as_str()
                ))
            }
        };
        self.count_term(pos)?;
        let (path, value) =
            check_comparison(path, op, value).map_err(|e| format!("{e} (position {pos})"))?;
        Ok(FilterExpr::Compare { path, op, value })
    }
}

/// An unquoted `compValue`: `true`, `false`, `null` (any case) or a JSON number. Anything else
/// is refused rather than guessed at: Microsoft's documentation shows `externalId eq jyoung`,
/// and treating that as a match-all or as a string would silently change meaning.
fn literal(pos: usize, word: &str) -> PResult<CompValue> {
    if word.eq_ignore_ascii_case("true") {
        return Ok(CompValue::Bool(true));
    }
    if word.eq_ignore_ascii_case("false") {
        return Ok(CompValue::Bool(false));
    }
    if word.eq_ignore_ascii_case("null") {
        return Ok(CompValue::Null);
    }
    let numeric = word.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    if numeric {
        if let Ok(n) = serde_json::from_str::<serde_json::Number>(word) {
            return Ok(CompValue::Number(n));
        }
    }
    Err(format!(
        "unquoted value '{}' at position {pos}: string values must be in double quotes, e.g. \"{}\"",
        super::lexer::excerpt(word),
        super::lexer::excerpt(word)
    ))
}

/// Checks that `op` and `value` make sense for the attribute (RFC 7644 section 3.4.2.2: `gt`,
/// `ge`, `lt`, `le` on booleans or binary are `invalidFilter`) and normalises: a comparison on a
/// multi-valued complex attribute without a sub-attribute compares its `value` sub-attribute
/// (`emails co "x"` is `emails.value co "x"`), and a boolean compared with a string `"true"` or
/// `"false"` compares with the boolean.
fn check_comparison(
    path: AttrPath,
    op: CompareOp,
    value: CompValue,
) -> PResult<(AttrPath, CompValue)> {
    let path = if path.sub_def.is_none() && path.def.ty == AttributeType::Complex {
        match path.def.sub_attribute("value") {
            Some(value_def) if path.def.multi_valued => path.with_sub(value_def),
            _ => {
                return Err(format!(
                    "'{path}' is a complex attribute: compare one of its sub-attributes (e.g. '{path}.{}') or use 'pr'",
                    path.def.sub_attributes.first().map_or("value", |s| s.name)
                ))
            }
        }
    } else {
        path
    };
    let def = path.target_def();
    if value == CompValue::Null {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok((path, value)),
            _ => Err(format!(
                "'{}' cannot compare with null; use eq or ne",
                op.as_str()
            )),
        };
    }
    let op_name = op.as_str();
    let value = match def.ty {
        AttributeType::Boolean => {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(format!("'{op_name}' is not supported on boolean attribute '{path}'; use eq or ne"));
            }
            match value {
                CompValue::Bool(_) => value,
                CompValue::String(s) if s.eq_ignore_ascii_case("true") => CompValue::Bool(true),
                CompValue::String(s) if s.eq_ignore_ascii_case("false") => CompValue::Bool(false),
                _ => return Err(format!("'{path}' is boolean: compare it with true or false")),
            }
        }
        AttributeType::Integer | AttributeType::Decimal => match value {
            CompValue::Number(_) if !op.is_substring() => value,
            _ => return Err(format!("'{path}' is numeric: compare it with a number using eq, ne, gt, ge, lt or le")),
        },
        AttributeType::DateTime => match value {
            CompValue::String(s) if op.is_substring() || parse_instant(&s).is_some() => CompValue::String(s),
            _ => {
                return Err(format!(
                    "'{path}' is a dateTime: compare it with an RFC 3339 string such as \"2011-05-13T04:42:34Z\""
                ))
            }
        },
        AttributeType::Binary if op.is_ordering() => {
            return Err(format!("'{op_name}' is not supported on binary attribute '{path}'"));
        }
        AttributeType::Complex => {
            return Err(format!("'{path}' is a complex attribute: compare one of its sub-attributes"));
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => match value {
            CompValue::String(_) => value,
            _ => return Err(format!("'{path}' is a string: put the value in double quotes")),
        },
    };
    Ok((path, value))
}
