//! Identifier validation: the shape of object, field, relationship and alias names, and dotted
//! relationship paths. Anything that reaches SOQL text as a name goes through here first.
//!
//! The accepted shape (Salesforce API names):
//! - a name is made of one to four *parts* joined by `__` (two underscores): an optional namespace
//!   prefix (`ns__`), the base name, and a suffix such as `c` (custom), `r` (relationship), `mdt`,
//!   `e`, `x`, `b`, `kav`, `share`, `history`, `feed`, `changeevent` or `s` (geolocation
//!   components such as `Location__latitude__s`);
//! - every part starts with an ASCII letter, continues with ASCII letters, digits and single
//!   underscores, and does not end with an underscore (so `a___c` and `a__` are refused);
//! - with two or more parts the last one must be one of the suffixes above (case-insensitive);
//! - a name is at most [`MAX_IDENT_LEN`] characters: Salesforce caps the base name at 40
//!   characters and the namespace at 15, so 80 leaves room for prefix and suffixes;
//! - a name is not a SOQL reserved word ([`is_reserved_word`]).
//!
//! A path is one to [`MAX_PATH_SEGMENTS`] names joined by `.`.

use super::error::SoqlError;

/// Longest accepted single name, in characters (see the module docs for why 80).
pub const MAX_IDENT_LEN: usize = 80;

/// Most `.`-separated names in one field path: five parent relationships (Salesforce's documented
/// limit for child-to-parent traversal) plus the field itself.
pub const MAX_PATH_SEGMENTS: usize = 6;

/// Suffixes Salesforce appends after `__` (compared case-insensitively).
const SUFFIXES: &[&str] = &[
    "c",
    "r",
    "mdt",
    "e",
    "x",
    "b",
    "kav",
    "share",
    "history",
    "feed",
    "changeevent",
    "s",
];

/// Words that can never be a name in SOQL (compared case-insensitively). `GROUP` and `ORDER` are
/// absent on purpose: `Group` and `Order` are standard objects, and the parser only treats them as
/// keywords where a clause can start.
const RESERVED: &[&str] = &[
    "AND", "ASC", "BY", "DESC", "EXCLUDES", "FALSE", "FIRST", "FOR", "FROM", "HAVING", "IN",
    "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET", "OR", "SELECT", "TRUE",
    "TYPEOF", "UPDATE", "USING", "WHERE", "WITH",
];

/// Whether `word` is a SOQL reserved word that can never be used as a name.
///
/// ```
/// use salesforce_core::soql::ident::is_reserved_word;
/// assert!(is_reserved_word("select"));
/// assert!(!is_reserved_word("Group")); // a standard object
/// ```
pub fn is_reserved_word(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Checks one name (no dots) against the shape described in the module docs.
///
/// ```
/// use salesforce_core::soql::ident::validate_name;
/// assert!(validate_name("Invoice__c").is_ok());
/// assert!(validate_name("acme__Invoice__c").is_ok());
/// assert!(validate_name("Name; DELETE").is_err());
/// ```
pub fn validate_name(name: &str) -> Result<(), SoqlError> {
    name_problem(name).map_or(Ok(()), |reason| {
        Err(SoqlError::InvalidIdentifier {
            name: truncate_for_error(name),
            reason,
        })
    })
}

/// Checks a dotted path such as `Account.Owner.Name`: one to [`MAX_PATH_SEGMENTS`] valid names.
///
/// ```
/// use salesforce_core::soql::ident::validate_path;
/// assert!(validate_path("Account.Owner.Name").is_ok());
/// assert!(validate_path("Account..Name").is_err());
/// ```
pub fn validate_path(path: &str) -> Result<(), SoqlError> {
    let segments = path.split('.').count();
    if segments > MAX_PATH_SEGMENTS {
        return Err(SoqlError::InvalidIdentifier {
            name: truncate_for_error(path),
            reason: "relationship path has more than five levels",
        });
    }
    path.split('.').try_for_each(validate_name)
}

/// Why `name` is not a valid name, or `None` when it is.
pub(crate) fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.chars().count() > MAX_IDENT_LEN {
        return Some("name longer than 80 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some("only ASCII letters, digits and underscores are allowed");
    }
    let parts: Vec<&str> = name.split("__").collect();
    if parts.len() > 4 {
        return Some("too many `__`-separated parts");
    }
    for part in &parts {
        let mut chars = part.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
            return Some(
                "each part must start with a letter (no leading, trailing or triple underscores)",
            );
        }
        if part.ends_with('_') {
            return Some("a name must not end with an underscore");
        }
    }
    if let [_, .., last] = parts.as_slice()
        && !SUFFIXES.iter().any(|s| s.eq_ignore_ascii_case(last))
    {
        return Some("`__` is only allowed before a suffix such as `__c` or `__r`");
    }
    if is_reserved_word(name) {
        return Some("reserved word");
    }
    None
}

/// Error messages quote at most this much of a refused name, so a huge input cannot make a huge error.
fn truncate_for_error(name: &str) -> String {
    name.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepted_names() {
        for ok in [
            "Id",
            "Name",
            "Account",
            "Group",
            "Order",
            "Invoice__c",
            "Invoice__r",
            "INVOICE__C",
            "acme__Invoice__c",
            "Setting__mdt",
            "Order_Event__e",
            "Location__latitude__s",
            "ns__Location__longitude__s",
            "Account_Name_2__c",
            "a",
            "X1",
            "Article__kav",
            "Account__Share",
            "Foo__History",
            &"a".repeat(80),
        ] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn refused_names() {
        for bad in [
            "",
            "1abc",
            "_abc",
            "abc_",
            "a__",
            "__c",
            "a___c",
            "a__q",
            "ns__Name",
            "a b",
            "a.b",
            "a-b",
            "a'b",
            "Name;",
            "Ñame",
            "select",
            "FROM",
            "Null",
            "true",
            "a__b__c__d__c",
            "a__c_",
            &"a".repeat(81),
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn paths() {
        assert!(validate_path("Name").is_ok());
        assert!(validate_path("Account.Owner.Manager.Name").is_ok());
        assert!(validate_path("A.B.C.D.E.Name").is_ok());
        assert!(validate_path("A.B.C.D.E.F.Name").is_err());
        for bad in [
            "",
            ".",
            "Account.",
            ".Name",
            "Account..Name",
            "Account.1x",
            "Account.Name ",
        ] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
    }

    /// An independent statement of the name grammar: a character-by-character scan with no splitting.
    fn oracle(name: &str) -> bool {
        let bytes = name.as_bytes();
        if name.is_empty() || name.len() > 80 || !name.is_ascii() {
            return false;
        }
        // Scan parts separated by exactly two underscores.
        let mut parts: Vec<String> = vec![String::new()];
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'_' && bytes.get(i + 1) == Some(&b'_') {
                parts.push(String::new());
                i += 2;
                continue;
            }
            if !(b.is_ascii_alphanumeric() || b == b'_') {
                return false;
            }
            if let Some(p) = parts.last_mut() {
                p.push(b as char);
            }
            i += 1;
        }
        let part_ok = |p: &String| {
            p.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && !p.ends_with('_')
        };
        let suffix_ok = |p: &String| {
            [
                "c",
                "r",
                "mdt",
                "e",
                "x",
                "b",
                "kav",
                "share",
                "history",
                "feed",
                "changeevent",
                "s",
            ]
            .contains(&p.to_ascii_lowercase().as_str())
        };
        let reserved = [
            "and", "asc", "by", "desc", "excludes", "false", "first", "for", "from", "having",
            "in", "includes", "last", "like", "limit", "not", "null", "nulls", "offset", "or",
            "select", "true", "typeof", "update", "using", "where", "with",
        ];
        parts.len() <= 4
            && parts.iter().all(part_ok)
            && (parts.len() == 1 || parts.last().is_some_and(suffix_ok))
            && !reserved.contains(&name.to_ascii_lowercase().as_str())
    }

    proptest! {
        #[test]
        fn validation_agrees_with_the_oracle_on_arbitrary_strings(s in "\\PC{0,20}") {
            prop_assert_eq!(validate_name(&s).is_ok(), oracle(&s));
        }

        #[test]
        fn validation_agrees_with_the_oracle_on_name_like_strings(s in "[a-zA-Z0-9_ .;']{0,24}") {
            prop_assert_eq!(validate_name(&s).is_ok(), oracle(&s));
        }

        #[test]
        fn validation_agrees_with_the_oracle_on_suffixed_strings(
            base in "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
            suffix in "(__(c|r|mdt|x|s|q|C|_c))?(__[a-z]{1,3})?",
        ) {
            let s = format!("{base}{suffix}");
            prop_assert_eq!(validate_name(&s).is_ok(), oracle(&s));
        }
    }
}
