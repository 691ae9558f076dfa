//! Writing values as SOQL string literals. This is the only place string values become query
//! text, and the printer uses it too.
//!
//! Every function here returns a **complete literal, quotes included** (`'O\'Brien'`), so a
//! caller cannot forget the quotes or put text outside them. Escaping: `'` → `\'`, `\` → `\\`,
//! newline → `\n`, carriage return → `\r`, tab → `\t`, backspace → `\b`, form feed → `\f`, other
//! control characters → `\uXXXX`; everything else (including `"` and non-ASCII text) is written
//! as is. The `LIKE` variants also turn `%` and `_` into `\%` and `\_`.

use super::ast::{SoqlString, StringPart};
use std::fmt::{self, Write};

/// A quoted SOQL string literal whose value is exactly `value`, for `=`, `!=`, `IN` and the like.
/// In a `LIKE` pattern its `%` and `_` would still be wildcards: use [`escape_like_literal`] there.
///
/// ```
/// use salesforce_core::soql::escape::escape_string_literal;
/// assert_eq!(escape_string_literal("O'Brien"), r"'O\'Brien'");
/// assert_eq!(escape_string_literal(r"a\b"), r"'a\\b'");
/// ```
pub fn escape_string_literal(value: &str) -> String {
    literal(&SoqlString::new(value))
}

/// A quoted `LIKE` pattern that matches exactly `value` (case-insensitively): `%` and `_` are
/// escaped as well.
///
/// ```
/// use salesforce_core::soql::escape::escape_like_literal;
/// assert_eq!(escape_like_literal("50%_off"), r"'50\%\_off'");
/// ```
pub fn escape_like_literal(value: &str) -> String {
    literal(&SoqlString::like_literal(value))
}

/// A quoted `LIKE` pattern `'%…%'` matching any value that contains `user_text`, with the user's
/// own `%` and `_` taken literally.
///
/// ```
/// use salesforce_core::soql::escape::contains_pattern;
/// assert_eq!(contains_pattern("Acme"), "'%Acme%'");
/// assert_eq!(contains_pattern("100%"), r"'%100\%%'");
/// ```
pub fn contains_pattern(user_text: &str) -> String {
    literal(&SoqlString::contains(user_text))
}

/// The quoted literal for a decoded string value.
pub fn literal(value: &SoqlString) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_literal(&mut out, value);
    out
}

/// Writes the quoted literal for `value` (used by the printer).
pub(crate) fn write_literal(out: &mut impl Write, value: &SoqlString) -> fmt::Result {
    out.write_char('\'')?;
    for part in value.parts() {
        match part {
            StringPart::Text(t) => {
                for c in t.chars() {
                    write_char(out, c)?;
                }
            }
            StringPart::EscapedPercent => out.write_str("\\%")?,
            StringPart::EscapedUnderscore => out.write_str("\\_")?,
        }
    }
    out.write_char('\'')
}

fn write_char(out: &mut impl Write, c: char) -> fmt::Result {
    match c {
        '\'' => out.write_str("\\'"),
        '\\' => out.write_str("\\\\"),
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        '\u{8}' => out.write_str("\\b"),
        '\u{c}' => out.write_str("\\f"),
        // Other controls (all in the BMP) are spelled out so the text stays printable.
        c if c.is_control() => write!(out, "\\u{:04x}", u32::from(c)),
        c => out.write_char(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::lexer::{TokenKind, tokenize};
    use proptest::prelude::*;

    #[test]
    fn escaping_table() {
        let table: &[(&str, &str)] = &[
            ("", "''"),
            ("plain", "'plain'"),
            ("O'Brien", r"'O\'Brien'"),
            (r"back\slash", r"'back\\slash'"),
            ("\\'", r"'\\\''"),
            ("line\nbreak", r"'line\nbreak'"),
            ("\r\t\u{8}\u{c}", r"'\r\t\b\f'"),
            ("\u{1}\u{7f}", r"'\u0001\u007f'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("100%_", "'100%_'"),
            ("' OR Name != '", r"'\' OR Name != \''"),
            ("héllo ✓", "'héllo ✓'"),
        ];
        for (input, expected) in table {
            assert_eq!(escape_string_literal(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn like_escaping_table() {
        let table: &[(&str, &str)] = &[
            ("", "''"),
            ("%", r"'\%'"),
            ("_", r"'\_'"),
            ("a%b_c", r"'a\%b\_c'"),
            (r"\%", r"'\\\%'"),
            ("it's 5%", r"'it\'s 5\%'"),
        ];
        for (input, expected) in table {
            assert_eq!(escape_like_literal(input), *expected, "{input:?}");
        }
        assert_eq!(contains_pattern(""), "'%%'");
        assert_eq!(contains_pattern("_x'"), r"'%\_x\'%'");
    }

    fn single_string_token(text: &str) -> Option<SoqlString> {
        let tokens = tokenize(text).ok()?;
        match tokens.as_slice() {
            [only, eof] if eof.kind == TokenKind::Eof => match &only.kind {
                TokenKind::String(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    proptest! {
        #[test]
        fn any_string_lexes_back_to_itself(s in any::<String>()) {
            let lexed = single_string_token(&escape_string_literal(&s));
            prop_assert_eq!(lexed, Some(SoqlString::new(&s)));
        }

        #[test]
        fn any_like_literal_lexes_back_to_itself(s in any::<String>()) {
            let lexed = single_string_token(&escape_like_literal(&s));
            prop_assert_eq!(lexed.map(|v| v.to_text()), Some(s.clone()));
        }

        #[test]
        fn quote_heavy_strings_lex_back_to_themselves(s in "['\\\\%_ a\n]{0,16}") {
            let lexed = single_string_token(&escape_string_literal(&s));
            prop_assert_eq!(lexed, Some(SoqlString::new(&s)));
        }
    }
}
