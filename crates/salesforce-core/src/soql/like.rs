//! `LIKE` patterns: a string literal read as a pattern, and case-insensitive matching.
//!
//! `%` matches any run of characters (including none), `_` exactly one character; `\%` and `\_`
//! in the literal (kept apart by [`SoqlString`]) match themselves. Matching is case-insensitive,
//! as Salesforce's `LIKE` is.

use super::ast::{SoqlString, StringPart};

/// One element of a `LIKE` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LikeElement {
    /// A character that must match (case-insensitively).
    Literal(char),
    /// `_`: any one character.
    AnyOne,
    /// `%`: any run of characters, possibly empty.
    AnyRun,
}

/// A compiled `LIKE` pattern.
///
/// ```
/// use salesforce_core::soql::SoqlString;
/// let pattern = SoqlString::new("Acme%").to_like_pattern();
/// assert!(pattern.matches("ACME Corp"));
/// assert!(!pattern.matches("The Acme"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LikePattern {
    elements: Vec<LikeElement>,
}

impl LikePattern {
    /// Reads a string literal's value as a pattern.
    pub fn from_soql_string(s: &SoqlString) -> Self {
        let mut elements = Vec::new();
        for part in s.parts() {
            match part {
                StringPart::Text(t) => elements.extend(t.chars().map(|c| match c {
                    '%' => LikeElement::AnyRun,
                    '_' => LikeElement::AnyOne,
                    c => LikeElement::Literal(c),
                })),
                StringPart::EscapedPercent => elements.push(LikeElement::Literal('%')),
                StringPart::EscapedUnderscore => elements.push(LikeElement::Literal('_')),
            }
        }
        Self { elements }
    }

    /// The pattern's elements.
    pub fn elements(&self) -> &[LikeElement] {
        &self.elements
    }

    /// Whether `text` matches the whole pattern, ignoring case.
    ///
    /// Runs in O(pattern × text) time in the worst case and never recurses.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let pattern = &self.elements;
        let (mut p, mut t) = (0usize, 0usize);
        // Where to resume after the most recent `%`: (pattern index after it, text index it covers to).
        let mut resume: Option<(usize, usize)> = None;
        while t < text.len() {
            let step = match (pattern.get(p), text.get(t)) {
                (Some(LikeElement::AnyRun), _) => {
                    resume = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                (Some(LikeElement::AnyOne), Some(_)) => true,
                (Some(LikeElement::Literal(a)), Some(b)) => chars_eq_ignore_case(*a, *b),
                _ => false,
            };
            if step {
                p += 1;
                t += 1;
            } else if let Some((rp, rt)) = resume {
                // Let the last `%` swallow one more character and retry.
                p = rp;
                t = rt + 1;
                resume = Some((rp, rt + 1));
            } else {
                return false;
            }
        }
        pattern
            .get(p..)
            .is_some_and(|rest| rest.iter().all(|e| *e == LikeElement::AnyRun))
    }
}

/// Case-insensitive character comparison (full Unicode lowercase mapping).
pub(crate) fn chars_eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pattern(p: &str) -> LikePattern {
        SoqlString::new(p).to_like_pattern()
    }

    #[test]
    fn wildcards() {
        let table: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("", "a", false),
            ("%", "", true),
            ("%", "anything", true),
            ("a%", "abc", true),
            ("a%", "ba", false),
            ("%c", "abc", true),
            ("%b%", "abc", true),
            ("%b%", "ac", false),
            ("a_c", "abc", true),
            ("a_c", "ac", false),
            ("a_c", "abbc", false),
            ("_", "é", true),
            ("ACME%", "acme corp", true),
            ("%%", "x", true),
            ("a%b%c", "aXbYc", true),
            ("a%b%c", "aXcYb", false),
            ("%ab", "aab", true),
            ("%aab", "aaab", true),
            ("Straße", "STRASSE", false),
            ("Ölbaum", "ölbaum", true),
        ];
        for (p, t, expected) in table {
            assert_eq!(pattern(p).matches(t), *expected, "{p:?} LIKE {t:?}");
        }
    }

    #[test]
    fn escaped_wildcards_are_literal() {
        let s = SoqlString::from_parts([
            StringPart::Text("50".into()),
            StringPart::EscapedPercent,
            StringPart::Text("%".into()),
        ]);
        let p = s.to_like_pattern();
        assert!(p.matches("50%"));
        assert!(p.matches("50% off"));
        assert!(!p.matches("500"));
        let u = SoqlString::like_literal("a_b").to_like_pattern();
        assert!(u.matches("A_B"));
        assert!(!u.matches("axb"));
    }

    #[test]
    fn contains_and_starts_with() {
        let c = SoqlString::contains("50%").to_like_pattern();
        assert!(c.matches("save 50% now"));
        assert!(!c.matches("save 500 now"));
        let s = SoqlString::starts_with("a_").to_like_pattern();
        assert!(s.matches("a_xyz"));
        assert!(!s.matches("abxyz"));
    }

    fn eq_ignore_case(a: &str, b: &str) -> bool {
        a.chars().count() == b.chars().count()
            && a.chars()
                .zip(b.chars())
                .all(|(x, y)| chars_eq_ignore_case(x, y))
    }

    proptest! {
        #[test]
        fn like_literal_matches_only_itself(s in "\\PC{0,12}", t in "\\PC{0,12}") {
            let p = SoqlString::like_literal(&s).to_like_pattern();
            prop_assert!(p.matches(&s));
            prop_assert_eq!(p.matches(&t), eq_ignore_case(&s, &t));
        }

        #[test]
        fn like_literal_of_wildcard_text_matches_only_itself(s in "[a%_]{0,8}", t in "[a%_b]{0,8}") {
            let p = SoqlString::like_literal(&s).to_like_pattern();
            prop_assert_eq!(p.matches(&t), s == t);
        }

        #[test]
        fn contains_matches_exactly_the_containing_strings(s in "[ab%_]{0,4}", t in "[ab%_]{0,10}") {
            let p = SoqlString::contains(&s).to_like_pattern();
            prop_assert_eq!(p.matches(&t), t.contains(&s));
        }
    }
}
