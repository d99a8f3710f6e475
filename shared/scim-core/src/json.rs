//! Strict JSON input: duplicate keys and absurd nesting are refused before any SCIM logic runs.
//!
//! It lives in the core (not the Lambda edge) so that it can be tested and fuzzed without the
//! HTTP and AWS dependencies.

use crate::error::ScimError;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Deepest JSON nesting accepted; SCIM resources need at most 4 levels.
pub const MAX_JSON_DEPTH: usize = 32;

/// Parses JSON, refusing duplicate object keys (which parsers disagree on, so an attacker could
/// make a check and a write see different values) and nesting deeper than [`MAX_JSON_DEPTH`].
pub fn parse_strict(bytes: &[u8]) -> Result<Value, ScimError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| ScimError::invalid_syntax(format!("The body is not valid JSON: {e}")))?;
    de.end()
        .map_err(|e| ScimError::invalid_syntax(format!("The body is not valid JSON: {e}")))?;
    Ok(value)
}

struct StrictValue {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictValue {
                depth: self.depth + 1,
            })?;
            if out.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_invalid_syntax() {
        let err = parse_strict(br#"{"userName":"a","userName":"b"}"#).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidSyntax));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
    }

    #[test]
    fn nesting_limit_is_exact() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_strict(nest(MAX_JSON_DEPTH).as_bytes()).is_ok());
        let err = parse_strict(nest(MAX_JSON_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidSyntax));
        let objects = format!(
            "{}1{}",
            "{\"a\":".repeat(MAX_JSON_DEPTH + 1),
            "}".repeat(MAX_JSON_DEPTH + 1)
        );
        assert!(parse_strict(objects.as_bytes()).is_err());
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth_and_in_any_encoding() {
        for body in [
            r#"{"name":{"givenName":"a","givenName":"b"}}"#,
            r#"{"emails":[{"value":"a","value":"b"}]}"#,
            // The same key spelled with a JSON escape is still the same key.
            r#"{"userName":"a","user\u004eame":"b"}"#,
        ] {
            let err = parse_strict(body.as_bytes()).unwrap_err();
            assert_eq!(
                err.scim_type(),
                Some(crate::ScimType::InvalidSyntax),
                "{body}"
            );
        }
        // Keys differing only in case are different JSON keys; the codec refuses them later.
        assert!(parse_strict(br#"{"userName":"a","USERNAME":"b"}"#).is_ok());
    }

    /// cargo-lambda answers a non-UTF-8 `application/json` body itself with a 500 before our code
    /// runs, so this layer is tested here: invalid UTF-8 is `invalidSyntax`, never a panic.
    #[test]
    fn bytes_that_are_not_utf8_are_invalid_syntax() {
        for body in [
            &b"{\"userName\":\"\xff\"}"[..],
            &b"{\"userName\":\"\xc0\xae\"}"[..], // overlong encoding of '.'
            &b"{\"\xed\xa0\x80\":1}"[..],        // a UTF-16 surrogate encoded as UTF-8
            &b"\xef\xbb\xbf{}"[..],              // a byte order mark
            &b"\xff\xfe{\x00}\x00"[..],          // UTF-16
        ] {
            let err = parse_strict(body).unwrap_err();
            assert_eq!(err.status(), 400, "{body:?}");
            assert_eq!(err.scim_type(), Some(crate::ScimType::InvalidSyntax));
        }
    }

    #[test]
    fn lone_surrogate_escapes_huge_numbers_and_trailing_data_are_invalid_syntax() {
        for body in [
            r#"{"userName":"\ud800"}"#,
            r#"{"n":1e999}"#,
            r#"{"a":1} {"b":2}"#,
            r#"{"a":1,}"#,
            "{\"a\":\"\u{0}\"}",
            "",
            "nul",
        ] {
            let err = parse_strict(body.as_bytes()).unwrap_err();
            assert_eq!(
                err.scim_type(),
                Some(crate::ScimType::InvalidSyntax),
                "{body:?}"
            );
        }
        // Big integers beyond u64 are read as floats, not refused: the codec decides.
        assert!(parse_strict(b"{\"n\":99999999999999999999}").is_ok());
    }

    #[test]
    fn ordinary_documents_parse() {
        let v = parse_strict(br#"{"a":[1,{"b":null}],"c":true}"#).unwrap();
        assert_eq!(v["a"][1]["b"], Value::Null);
    }
}
