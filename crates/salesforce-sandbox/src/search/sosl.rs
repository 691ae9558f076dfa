//! A small SOSL parser: `FIND {term} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING Obj[(fields
//! [WHERE …] [ORDER BY …] [LIMIT n])], …] [LIMIT n]`, and the search term model shared with
//! `parameterizedSearch`.
//!
//! Inside the braces, the reserved characters `? & | ! { } [ ] ( ) ^ ~ * : \ " ' + -` must be
//! escaped with a backslash to be literal; unescaped `*` (any run of characters) and `?` (one
//! character) are wildcards and `"…"` quotes a phrase. Words are ANDed; `OR` between words
//! gives alternatives. Any other unescaped reserved character is `MALFORMED_SEARCH`.

use http::StatusCode;

use crate::error::ApiFailure;

/// `errorCode` of a search Salesforce cannot parse.
pub const MALFORMED_SEARCH: &str = "MALFORMED_SEARCH";

const RESERVED: &str = "?&|!{}[]()^~*:\\\"'+-";

/// 400 `MALFORMED_SEARCH`.
pub fn malformed(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(StatusCode::BAD_REQUEST, MALFORMED_SEARCH, message)
}

/// Which fields a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every text field (the default).
    All,
    /// Name fields only.
    Name,
    /// Email fields only.
    Email,
    /// Phone fields only.
    Phone,
}

impl Scope {
    /// Parses `ALL`, `NAME`, `EMAIL` or `PHONE` (any case).
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_uppercase().as_str() {
            "ALL" => Self::All,
            "NAME" => Self::Name,
            "EMAIL" => Self::Email,
            "PHONE" => Self::Phone,
            _ => return None,
        })
    }
}

/// One element of a word pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    Char(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A word with wildcards, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Elem>);

impl Pattern {
    fn matches(&self, token: &str) -> bool {
        let chars: Vec<char> = token.chars().collect();
        glob(&self.0, &chars)
    }
}

fn glob(pattern: &[Elem], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((Elem::Any, rest)) => {
            (0..=text.len()).any(|i| glob(rest, text.get(i..).unwrap_or(&[])))
        }
        Some((Elem::One, rest)) => text.split_first().is_some_and(|(_, t)| glob(rest, t)),
        Some((Elem::Char(c), rest)) => text
            .split_first()
            .is_some_and(|(first, t)| first == c && glob(rest, t)),
    }
}

/// A word or a quoted phrase of the search term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// One word.
    Word(Pattern),
    /// Consecutive words.
    Phrase(Vec<Pattern>),
}

/// A parsed search term: alternatives (`OR`) of pieces that must all match (`AND`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    alternatives: Vec<Vec<Piece>>,
}

/// Splits text into lowercase search tokens (runs of letters and digits).
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Term {
    /// Whether the pieces of one alternative all match among `fields` (each the token list of
    /// one searchable field value).
    pub fn matches(&self, fields: &[Vec<String>]) -> bool {
        self.alternatives.iter().any(|pieces| {
            pieces.iter().all(|piece| {
                fields.iter().any(|tokens| match piece {
                    Piece::Word(p) => tokens.iter().any(|t| p.matches(t)),
                    Piece::Phrase(words) => {
                        !words.is_empty()
                            && tokens
                                .windows(words.len())
                                .any(|window| window.iter().zip(words).all(|(t, p)| p.matches(t)))
                    }
                })
            })
        })
    }

    /// Builds a term from plain text (`parameterizedSearch`: no escaping, wildcards kept).
    pub fn plain(text: &str) -> Result<Self, ApiFailure> {
        let chars: Vec<(char, bool)> = text.chars().map(|c| (c, false)).collect();
        Self::from_chars(&chars)
    }

    /// Builds a term from characters, each marked whether it was escaped.
    fn from_chars(chars: &[(char, bool)]) -> Result<Self, ApiFailure> {
        let mut alternatives = vec![Vec::new()];
        let mut word: Vec<Elem> = Vec::new();
        let mut phrase: Option<Vec<Pattern>> = None;
        let flush = |word: &mut Vec<Elem>,
                     phrase: &mut Option<Vec<Pattern>>,
                     alternatives: &mut Vec<Vec<Piece>>| {
            if word.is_empty() {
                return;
            }
            let pattern = Pattern(std::mem::take(word));
            if let Some(words) = phrase.as_mut() {
                words.push(pattern);
                return;
            }
            let text: String = pattern
                .0
                .iter()
                .map(|e| match e {
                    Elem::Char(c) => *c,
                    _ => '\0',
                })
                .collect();
            if text == "or" {
                alternatives.push(Vec::new());
            } else if text != "and"
                && let Some(last) = alternatives.last_mut()
            {
                last.push(Piece::Word(pattern));
            }
        };
        for &(c, escaped) in chars {
            if !escaped && c == '"' {
                flush(&mut word, &mut phrase, &mut alternatives);
                match phrase.take() {
                    Some(words) => {
                        if let Some(last) = alternatives.last_mut() {
                            last.push(Piece::Phrase(words));
                        }
                    }
                    None => phrase = Some(Vec::new()),
                }
            } else if !escaped && c == '*' {
                word.push(Elem::Any);
            } else if !escaped && c == '?' {
                word.push(Elem::One);
            } else if c.is_alphanumeric() {
                word.extend(c.to_lowercase().map(Elem::Char));
            } else {
                // Punctuation separates tokens in the index, so it separates words here too.
                flush(&mut word, &mut phrase, &mut alternatives);
            }
        }
        flush(&mut word, &mut phrase, &mut alternatives);
        if phrase.is_some() {
            return Err(malformed("Unterminated quoted phrase in the search term"));
        }
        if alternatives.iter().any(Vec::is_empty) {
            return Err(malformed("search term must be longer than one character"));
        }
        let significant = |p: &Pattern| p.0.iter().filter(|e| matches!(e, Elem::Char(_))).count();
        let too_short = alternatives.iter().flatten().any(|piece| match piece {
            Piece::Word(p) => significant(p) < 2 && p.0.iter().any(|e| !matches!(e, Elem::Char(_))),
            Piece::Phrase(_) => false,
        });
        if too_short {
            return Err(malformed(
                "Wildcard searches need at least two characters besides the wildcards",
            ));
        }
        Ok(Self { alternatives })
    }
}

/// One `RETURNING` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Object name as written.
    pub object: String,
    /// Selected fields (`Id` when none are listed).
    pub fields: Vec<String>,
    /// The `WHERE` condition (SOQL syntax), if any.
    pub condition: Option<String>,
    /// The `ORDER BY` list, if any.
    pub order_by: Option<String>,
    /// The per-object `LIMIT`.
    pub limit: Option<usize>,
}

/// A parsed SOSL search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The search term.
    pub term: Term,
    /// Which fields are searched.
    pub scope: Scope,
    /// `RETURNING` entries (empty: every searchable object, ids only).
    pub targets: Vec<Target>,
    /// The overall `LIMIT`.
    pub limit: Option<usize>,
}

/// Parses a SOSL search.
pub fn parse(text: &str) -> Result<Search, ApiFailure> {
    let mut cursor = Cursor { text, pos: 0 };
    if !cursor.keyword("FIND") {
        return Err(malformed("Search query must start with FIND"));
    }
    cursor.skip_ws();
    if !cursor.eat('{') {
        return Err(malformed(
            "No search term found. The search term must be enclosed in braces.",
        ));
    }
    let term = Term::from_chars(&cursor.braced_term()?)?;
    let mut scope = Scope::All;
    if cursor.keyword("IN") {
        let word = cursor.word();
        scope =
            Scope::parse(&word).ok_or_else(|| malformed(format!("unexpected token: '{word}'")))?;
        if !cursor.keyword("FIELDS") {
            return Err(malformed("expecting FIELDS after the search group"));
        }
    }
    let mut targets = Vec::new();
    if cursor.keyword("RETURNING") {
        loop {
            targets.push(cursor.target()?);
            cursor.skip_ws();
            if !cursor.eat(',') {
                break;
            }
        }
    }
    let mut limit = None;
    if cursor.keyword("LIMIT") {
        limit = Some(cursor.number()?);
    }
    cursor.skip_ws();
    if cursor.pos < text.len() {
        return Err(malformed(format!(
            "unexpected token: '{}'",
            cursor.rest().split_whitespace().next().unwrap_or_default()
        )));
    }
    Ok(Search {
        term,
        scope,
        targets,
        limit,
    })
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> String {
        self.skip_ws();
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let word = rest.get(..len).unwrap_or_default().to_owned();
        self.pos += len;
        word
    }

    /// Consumes `keyword` (any case) when it comes next as a whole word.
    fn keyword(&mut self, keyword: &str) -> bool {
        let start = self.pos;
        if self.word().eq_ignore_ascii_case(keyword) {
            true
        } else {
            self.pos = start;
            false
        }
    }

    fn number(&mut self) -> Result<usize, ApiFailure> {
        let word = self.word();
        word.parse()
            .map_err(|_| malformed(format!("expecting a number, found '{word}'")))
    }

    /// The characters up to the closing brace, with escapes resolved.
    fn braced_term(&mut self) -> Result<Vec<(char, bool)>, ApiFailure> {
        let mut out = Vec::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, next)) if RESERVED.contains(next) => out.push((next, true)),
                    _ => {
                        return Err(malformed(
                            "Invalid escape sequence in the search term: use \\ before a reserved character",
                        ));
                    }
                },
                '}' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '*' | '?' | '"' => out.push((c, false)),
                c if RESERVED.contains(c) => {
                    return Err(malformed(format!(
                        "Reserved character '{c}' must be escaped with a backslash in the search term"
                    )));
                }
                c => out.push((c, false)),
            }
        }
        Err(malformed("Missing '}' at the end of the search term"))
    }

    fn target(&mut self) -> Result<Target, ApiFailure> {
        let object = self.word();
        if object.is_empty() {
            return Err(malformed("expecting an object name after RETURNING"));
        }
        self.skip_ws();
        let mut target = Target {
            object,
            fields: vec!["Id".to_owned()],
            condition: None,
            order_by: None,
            limit: None,
        };
        if !self.eat('(') {
            return Ok(target);
        }
        let inner = self.parenthesised()?;
        let clauses = split_clauses(&inner);
        let fields: Vec<String> = clauses
            .fields
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() {
            return Err(malformed("expecting a field list in RETURNING"));
        }
        target.fields = fields;
        target.condition = clauses.condition;
        target.order_by = clauses.order_by;
        target.limit = match clauses.limit {
            Some(n) => Some(
                n.trim()
                    .parse()
                    .map_err(|_| malformed(format!("expecting a number, found '{}'", n.trim())))?,
            ),
            None => None,
        };
        Ok(target)
    }

    /// The text up to the matching `)` (quotes and nested parentheses respected).
    fn parenthesised(&mut self) -> Result<String, ApiFailure> {
        let mut depth = 0usize;
        let mut in_quote = false;
        let mut escaped = false;
        for (i, c) in self.rest().char_indices() {
            if in_quote {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '\'') => in_quote = false,
                    _ => escaped = false,
                }
                continue;
            }
            match c {
                '\'' => in_quote = true,
                '(' => depth += 1,
                ')' if depth == 0 => {
                    let inner = self.rest().get(..i).unwrap_or_default().to_owned();
                    self.pos += i + 1;
                    return Ok(inner);
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        Err(malformed("Missing ')' in RETURNING"))
    }
}

struct Clauses {
    fields: String,
    condition: Option<String>,
    order_by: Option<String>,
    limit: Option<String>,
}

/// Splits `fields [WHERE …] [ORDER BY …] [LIMIT n]` at keywords outside quotes.
fn split_clauses(inner: &str) -> Clauses {
    let mut marks: Vec<(usize, usize, &str)> = Vec::new();
    let upper = inner.to_ascii_uppercase();
    let mut in_quote = false;
    let mut escaped = false;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes.get(i).copied().unwrap_or_default();
        if in_quote {
            match (escaped, c) {
                (false, b'\\') => escaped = true,
                (false, b'\'') => in_quote = false,
                _ => escaped = false,
            }
            i += 1;
            continue;
        }
        if c == b'\'' {
            in_quote = true;
            i += 1;
            continue;
        }
        let boundary_before = i == 0
            || !bytes
                .get(i - 1)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if boundary_before {
            for keyword in ["WHERE", "ORDER BY", "LIMIT"] {
                let end = i + keyword.len();
                let after_ok = !bytes
                    .get(end)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
                if upper.get(i..end) == Some(keyword) && after_ok {
                    marks.push((i, end, keyword));
                }
            }
        }
        i += 1;
    }
    let fields_end = marks.first().map_or(inner.len(), |m| m.0);
    let mut clauses = Clauses {
        fields: inner.get(..fields_end).unwrap_or_default().to_owned(),
        condition: None,
        order_by: None,
        limit: None,
    };
    for (n, (_, end, keyword)) in marks.iter().enumerate() {
        let stop = marks.get(n + 1).map_or(inner.len(), |m| m.0);
        let body = inner.get(*end..stop).unwrap_or_default().trim().to_owned();
        match *keyword {
            "WHERE" => clauses.condition = Some(body),
            "ORDER BY" => clauses.order_by = Some(body),
            _ => clauses.limit = Some(body),
        }
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(values: &[&str]) -> Vec<Vec<String>> {
        values.iter().map(|v| tokens(v)).collect()
    }

    #[test]
    fn parses_returning_with_clauses() {
        let search = parse(
            "FIND {Acme*} IN NAME FIELDS RETURNING Account(Id, Name WHERE Industry = 'Tech (new)' ORDER BY Name LIMIT 5), Contact LIMIT 20",
        )
        .unwrap();
        assert_eq!(search.scope, Scope::Name);
        assert_eq!(search.limit, Some(20));
        assert_eq!(search.targets.len(), 2);
        let account = &search.targets[0];
        assert_eq!(account.fields, ["Id", "Name"]);
        assert_eq!(
            account.condition.as_deref(),
            Some("Industry = 'Tech (new)'")
        );
        assert_eq!(account.order_by.as_deref(), Some("Name"));
        assert_eq!(account.limit, Some(5));
        assert_eq!(search.targets[1].fields, ["Id"]);
    }

    #[test]
    fn wildcards_phrases_and_escapes() {
        let term = parse("FIND {acme*}").unwrap().term;
        assert!(term.matches(&fields(&["ACMEWIDGETS Ltd"])));
        assert!(!term.matches(&fields(&["The Acm"])));
        let term = parse("FIND {gr?y}").unwrap().term;
        assert!(term.matches(&fields(&["grey"])) && !term.matches(&fields(&["greey"])));
        let term = parse("FIND {\"united oil\"}").unwrap().term;
        assert!(term.matches(&fields(&["United Oil & Gas"])));
        assert!(!term.matches(&fields(&["Oil United"])));
        let term = parse("FIND {jo OR ann}").unwrap().term;
        assert!(term.matches(&fields(&["Ann Smith"])));
        let term = parse(r"FIND {O\'Brien \- Co}").unwrap().term;
        assert!(term.matches(&fields(&["O'Brien - Co"])));
    }

    #[test]
    fn malformed_searches() {
        for bad in [
            "SEARCH {x}",
            "FIND acme",
            "FIND {acme",
            "FIND {a-b}",
            r"FIND {a\qb}",
            "FIND {acme} RETURNING",
            "FIND {acme} IN EVERY FIELDS",
            "FIND {acme} RETURNING Account(Id",
            "FIND {a*}",
            "FIND {acme} LIMIT x",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code(), MALFORMED_SEARCH, "{bad}");
        }
    }
}
