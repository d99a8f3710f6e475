//! Caseless matching of strings that are not `caseExact` (RFC 7643 section 2.3.1): the one
//! definition every comparison and every key uses, so a lookup, a filter and a uniqueness check
//! can never disagree on whether two names are the same.

use unicode_normalization::UnicodeNormalization;

/// The form two case-insensitive strings share exactly when they are the same name: Unicode
/// NFC, lowercased, and NFC again (lowercasing can leave a sequence that composes). So "José"
/// typed with a precomposed `é` (U+00E9) and with `e` + U+0301, in any letter case, fold alike.
/// ASCII, the common case, is only lowercased.
pub fn fold(value: &str) -> String {
    if value.is_ascii() {
        return value.to_ascii_lowercase();
    }
    value
        .nfc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_and_decomposed_accents_fold_alike() {
        let nfc = "Jos\u{e9}";
        let nfd = "JOSE\u{301}";
        assert_ne!(nfc.to_lowercase(), nfd.to_lowercase());
        assert_eq!(fold(nfc), fold(nfd));
        assert_eq!(fold(nfd), "jos\u{e9}");
    }

    #[test]
    fn different_letters_stay_different() {
        assert_ne!(fold("jose"), fold("jos\u{e9}"));
        assert_ne!(fold("ann@x.com"), fold("anne@x.com"));
    }

    #[test]
    fn folding_twice_changes_nothing() {
        for s in [
            "Ann",
            "JOSE\u{301}",
            "\u{130}stanbul",
            "\u{1e9e}",
            "A\u{30a}ngstr\u{f6}m",
        ] {
            assert_eq!(fold(&fold(s)), fold(s), "{s:?}");
        }
    }
}
