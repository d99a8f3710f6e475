//! Tokens of the filter and PATCH path grammars (RFC 7644 figures 1 and 7).
//!
//! The lexer is lazy (one token at a time) so a hostile input costs nothing beyond the point
//! where the parser rejects it. Words are maximal runs of the characters that may appear in
//! attribute paths, schema URNs, keywords and numbers; the parser decides what a word is from
//! where it stands.

/// One token, borrowing from the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// An attribute path, keyword, literal or number, e.g. `userName`, `and`, `true`, `12.5`,
    /// `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, `.value`.
    Word(&'a str),
    /// A JSON string literal, unescaped.
    Str(String),
}

impl Tok<'_> {
    /// A short description for error messages (never the whole of a huge token).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::LParen => "'('".into(),
            Self::RParen => "')'".into(),
            Self::LBracket => "'['".into(),
            Self::RBracket => "']'".into(),
            Self::Word(w) => format!("'{}'", excerpt(w)),
            Self::Str(s) => format!("string \"{}\"", excerpt(s)),
        }
    }
}

/// At most 40 characters of `s`, for error details.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", s.get(..cut).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// Characters of a word: attribute names (`ALPHA`, `DIGIT`, `-`, `_`, and `$` for `$ref`), the
/// `:` and `.` of URNs and sub-attributes, `+` of number exponents and `/` seen in some URNs.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '$' | '-' | '+' | '/')
}

pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(input: &'a str) -> Self {
        Self { input, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or_default()
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
    }

    /// The next token with its byte offset, `Ok(None)` at the end of input.
    pub(crate) fn next_token(&mut self) -> Result<Option<(usize, Tok<'a>)>, String> {
        self.skip_whitespace();
        let start = self.pos;
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(None);
        };
        let simple = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            _ => None,
        };
        if let Some(tok) = simple {
            self.pos += 1;
            return Ok(Some((start, tok)));
        }
        if c == '"' {
            let literal = self.string_literal()?;
            return Ok(Some((start, Tok::Str(literal))));
        }
        if is_word_char(c) {
            let len = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
            self.pos += len;
            return Ok(Some((
                start,
                Tok::Word(rest.get(..len).unwrap_or_default()),
            )));
        }
        Err(format!("unexpected character {c:?} at position {start}"))
    }

    /// A JSON string literal (RFC 7644 figure 1: `compValue` strings are JSON strings, RFC 8259
    /// section 7), unescaped with serde_json so escapes mean exactly what they mean in JSON.
    fn string_literal(&mut self) -> Result<String, String> {
        let start = self.pos;
        let rest = self.rest();
        let mut escaped = false;
        let mut end = None;
        for (i, c) in rest.char_indices().skip(1) {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else {
            return Err(format!("unterminated string starting at position {start}"));
        };
        let literal = rest.get(..=end).unwrap_or_default();
        self.pos += end + 1;
        serde_json::from_str::<String>(literal).map_err(|_| {
            format!(
                "invalid string {} at position {start}: strings are JSON strings (escape '\"' and '\\', no raw control characters)",
                excerpt(literal)
            )
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tokens(input: &str) -> Result<Vec<Tok<'_>>, String> {
        let mut lexer = Lexer::new(input);
        let mut out = Vec::new();
        while let Some((_, tok)) = lexer.next_token()? {
            out.push(tok);
        }
        Ok(out)
    }

    #[test]
    fn lexes_value_path_with_trailing_sub_attribute() {
        assert_eq!(
            tokens(r#"emails[type eq "work"].value eq "a\"b""#).unwrap(),
            vec![
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str("work".into()),
                Tok::RBracket,
                Tok::Word(".value"),
                Tok::Word("eq"),
                Tok::Str("a\"b".into()),
            ]
        );
    }

    #[test]
    fn urn_is_one_word() {
        let input = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr";
        assert_eq!(tokens(input).unwrap().len(), 2);
    }

    #[test]
    fn unterminated_and_invalid_strings_are_errors() {
        assert!(tokens(r#"userName eq "abc"#).is_err());
        assert!(tokens("userName eq \"a\\qb\"").is_err());
        assert!(tokens("userName eq \"a\nb\"").is_err());
        assert!(tokens("userName eq \"a\\").is_err());
    }

    #[test]
    fn unicode_escapes_and_multibyte_text_survive() {
        assert_eq!(
            tokens(r#""caf\u00e9 ☕""#).unwrap(),
            vec![Tok::Str("café ☕".into())]
        );
        assert!(tokens("userName eq é").is_err());
    }

    #[test]
    fn excerpt_cuts_on_char_boundaries() {
        let long = "é".repeat(100);
        assert_eq!(excerpt(&long).chars().count(), 43);
    }
}
