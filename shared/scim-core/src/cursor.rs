//! RFC 9865 cursors as this service issues them. A cursor is opaque to the client: either an
//! offset into a result held in memory (filters no index answers) or a store position (where
//! the previous page ended in the store's name order), base64url-encoded without padding.
//!
//! The decoder reads untrusted text: it never panics, accepts only what [`Cursor::encode`]
//! writes (so a decoded cursor encodes back to the very text it came from), and refuses
//! anything else as 400 `invalidCursor`. A store position is not trusted either: the store
//! rebuilds its key in the caller's tenant and checks it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::list::MAX_CURSOR_LEN;
use crate::ScimError;

/// Where a cursor says the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// An offset into a result computed in memory.
    Offset(usize),
    /// A store position (never empty).
    Store(String),
}

impl Cursor {
    /// The cursor's text, as `nextCursor` carries it.
    pub fn encode(&self) -> String {
        let text = match self {
            Self::Offset(n) => format!("o{n}"),
            Self::Store(position) => format!("s{position}"),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a cursor a client sent back.
    pub fn decode(text: &str) -> Result<Self, ScimError> {
        let invalid = || ScimError::invalid_cursor("The cursor is not one this service issued.");
        if text.len() > MAX_CURSOR_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        match text.split_at_checked(1) {
            Some(("o", n)) if is_canonical_number(n) => {
                n.parse().map(Self::Offset).map_err(|_| invalid())
            }
            Some(("s", position)) if !position.is_empty() => Ok(Self::Store(position.into())),
            _ => Err(invalid()),
        }
    }
}

/// Digits only, without a leading zero (but `0` itself): the way `usize` prints.
fn is_canonical_number(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_was_not_issued() {
        for cursor in [
            Cursor::Offset(0),
            Cursor::Offset(12345),
            Cursor::Store("abc def".into()),
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
        let encoded = |t: &str| URL_SAFE_NO_PAD.encode(t);
        for bad in [
            "%%%".to_string(),
            "eA".into(),
            "bw".into(),
            "cw".into(),
            "b-1".into(),
            "zzzz".into(),
            encoded("o"),
            encoded("o07"),
            encoded("o+7"),
            encoded("o-1"),
            encoded("o99999999999999999999999"),
            encoded("s"),
            encoded("x1"),
            "o".repeat(MAX_CURSOR_LEN + 1),
        ] {
            let err = Cursor::decode(&bad).unwrap_err();
            assert_eq!(
                err.scim_type().map(|t| t.as_str()),
                Some("invalidCursor"),
                "{bad}"
            );
        }
    }
}
