//! The SOQL lexer: query text to tokens with 1-based row/column positions.
//!
//! Words (keywords and names, possibly dotted) are one token kind: keywords are recognised by the
//! parser, case-insensitively, because some of them (`Group`, `Order`) are also object names.
//! String literals are decoded here (see [`SoqlString`]); numbers, dates and datetimes are
//! unquoted. Bind variables (`:name`) are refused.

use super::MAX_QUERY_CHARS;
use super::ast::{Number, SoqlString, StringPart};
use super::error::{Position, SoqlError, SyntaxError};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A keyword or a name, possibly dotted (`SELECT`, `Account.Name`).
    Word(String),
    /// A string literal's decoded value.
    String(SoqlString),
    /// A number (`42`, `-3.5`).
    Number(Number),
    /// A date (`2024-05-29`).
    Date(NaiveDate),
    /// A datetime (`2024-05-29T10:00:00Z`).
    DateTime(DateTime<FixedOffset>),
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,`.
    Comma,
    /// `:` (only before the number of a `LAST_N_DAYS:n`-style literal).
    Colon,
    /// `=`.
    Eq,
    /// `!=` or `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// End of input.
    Eof,
}

/// A token, where it starts, and its source text (for error messages).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it starts.
    pub position: Position,
    /// The text it was read from (empty for [`TokenKind::Eof`]).
    pub text: String,
}

/// Splits `query` into tokens, ending with one [`TokenKind::Eof`].
///
/// ```
/// use salesforce_core::soql::lexer::{tokenize, TokenKind};
/// let tokens = tokenize("SELECT Id FROM Account").unwrap();
/// assert_eq!(tokens.len(), 5);
/// assert_eq!(tokens[4].kind, TokenKind::Eof);
/// assert_eq!(tokens[2].position.column, 11);
/// ```
pub fn tokenize(query: &str) -> Result<Vec<Token>, SoqlError> {
    // The byte check avoids counting characters of an absurdly large input.
    if query.len() > 4 * MAX_QUERY_CHARS || query.chars().count() > MAX_QUERY_CHARS {
        return Err(SoqlError::TooLong {
            max: MAX_QUERY_CHARS,
        });
    }
    let mut lexer = Lexer {
        chars: query.chars().collect(),
        index: 0,
        row: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.kind == TokenKind::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer {
    chars: Vec<char>,
    index: usize,
    row: u32,
    column: u32,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.index + ahead).copied()
    }

    fn position(&self) -> Position {
        Position {
            row: self.row,
            column: self.column,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.index += 1;
        if c == '\n' {
            self.row = self.row.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn text_since(&self, start: usize) -> String {
        self.chars
            .get(start..self.index)
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    fn error(&self, message: impl Into<String>, position: Position) -> SoqlError {
        SyntaxError::new(message, position).into()
    }

    fn next_token(&mut self) -> Result<Token, SoqlError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let start = self.index;
        let position = self.position();
        let Some(c) = self.peek() else {
            return Ok(Token {
                kind: TokenKind::Eof,
                position,
                text: String::new(),
            });
        };
        let kind = match c {
            '(' | ')' | ',' | '=' => {
                self.bump();
                match c {
                    '(' => TokenKind::LParen,
                    ')' => TokenKind::RParen,
                    ',' => TokenKind::Comma,
                    _ => TokenKind::Eq,
                }
            }
            ':' => {
                self.bump();
                if self.peek().is_some_and(is_word_start) {
                    return Err(self.error(
                        "bind variables are not supported; pass values as literals",
                        position,
                    ));
                }
                TokenKind::Colon
            }
            '!' => {
                self.bump();
                if self.peek() != Some('=') {
                    return Err(self.error("no viable alternative at character '!'", position));
                }
                self.bump();
                TokenKind::Ne
            }
            '<' => {
                self.bump();
                match self.peek() {
                    Some('=') => {
                        self.bump();
                        TokenKind::Le
                    }
                    Some('>') => {
                        self.bump();
                        TokenKind::Ne
                    }
                    _ => TokenKind::Lt,
                }
            }
            '>' => {
                self.bump();
                if self.peek() == Some('=') {
                    self.bump();
                    TokenKind::Ge
                } else {
                    TokenKind::Gt
                }
            }
            '\'' => TokenKind::String(self.string_literal()?),
            c if c.is_ascii_digit()
                || (c == '-' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number_or_date(start, position)?
            }
            c if is_word_start(c) => self.word()?,
            other => {
                return Err(self.error(
                    format!("no viable alternative at character '{other}'"),
                    position,
                ));
            }
        };
        Ok(Token {
            kind,
            position,
            text: self.text_since(start),
        })
    }

    fn word(&mut self) -> Result<TokenKind, SoqlError> {
        let mut word = String::new();
        loop {
            while let Some(c) = self.peek().filter(|c| is_word_char(*c)) {
                word.push(c);
                self.bump();
            }
            if self.peek() != Some('.') {
                return Ok(TokenKind::Word(word));
            }
            let dot = self.position();
            self.bump();
            if !self.peek().is_some_and(is_word_start) {
                return Err(self.error("no viable alternative at character '.'", dot));
            }
            word.push('.');
        }
    }

    fn digits(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            out.push(c);
            self.bump();
        }
        out
    }

    /// Reads exactly `n` digits as a number, or fails.
    fn fixed_digits(&mut self, n: usize, what: &str, start: Position) -> Result<u32, SoqlError> {
        let mut value = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| c.to_digit(10)) {
                Some(d) => {
                    value = value * 10 + d;
                    self.bump();
                }
                None => return Err(self.error(format!("invalid {what} literal"), start)),
            }
        }
        Ok(value)
    }

    fn expect_char(
        &mut self,
        expected: char,
        what: &str,
        start: Position,
    ) -> Result<(), SoqlError> {
        if self.peek() == Some(expected) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!("invalid {what} literal"), start))
        }
    }

    fn number_or_date(&mut self, start: usize, position: Position) -> Result<TokenKind, SoqlError> {
        let negative = self.peek() == Some('-');
        if negative {
            self.bump();
        }
        let int = self.digits();
        let is_date = !negative
            && int.len() == 4
            && self.peek() == Some('-')
            && self.peek_at(1).is_some_and(|c| c.is_ascii_digit());
        let kind = if is_date {
            self.date_or_datetime(&int, position)?
        } else {
            if self.peek() == Some('.') {
                self.bump();
                if self.digits().is_empty() {
                    return Err(self.error("invalid number literal", position));
                }
            }
            let number = Number::parse(&self.text_since(start))
                .map_err(|_| self.error("number out of range", position))?;
            TokenKind::Number(number)
        };
        if let Some(c) = self.peek().filter(|c| is_word_char(*c) || *c == '.') {
            return Err(self.error(
                format!("no viable alternative at character '{c}'"),
                self.position(),
            ));
        }
        Ok(kind)
    }

    fn date_or_datetime(&mut self, year: &str, position: Position) -> Result<TokenKind, SoqlError> {
        let year: i32 = year
            .parse()
            .map_err(|_| self.error("invalid date literal", position))?;
        self.expect_char('-', "date", position)?;
        let month = self.fixed_digits(2, "date", position)?;
        self.expect_char('-', "date", position)?;
        let day = self.fixed_digits(2, "date", position)?;
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| self.error("invalid date literal", position))?;
        if self.peek() != Some('T') {
            return Ok(TokenKind::Date(date));
        }
        self.bump();
        let hour = self.fixed_digits(2, "datetime", position)?;
        self.expect_char(':', "datetime", position)?;
        let minute = self.fixed_digits(2, "datetime", position)?;
        self.expect_char(':', "datetime", position)?;
        let second = self.fixed_digits(2, "datetime", position)?;
        let mut nanos = 0u32;
        if self.peek() == Some('.') {
            self.bump();
            let fraction = self.digits();
            if fraction.is_empty() || fraction.len() > 9 {
                return Err(self.error("invalid datetime literal", position));
            }
            let scale = 10u32.pow(9 - u32::try_from(fraction.len()).unwrap_or(9));
            nanos = fraction
                .parse::<u32>()
                .map_err(|_| self.error("invalid datetime literal", position))?
                * scale;
        }
        let offset_seconds = match self.peek() {
            Some('Z') => {
                self.bump();
                0
            }
            Some(sign @ ('+' | '-')) => {
                self.bump();
                let hours = self.fixed_digits(2, "datetime", position)?;
                self.expect_char(':', "datetime", position)?;
                let minutes = self.fixed_digits(2, "datetime", position)?;
                let seconds = i32::try_from(hours * 3600 + minutes * 60).unwrap_or(i32::MAX);
                if sign == '-' { -seconds } else { seconds }
            }
            _ => {
                return Err(self.error(
                    "invalid datetime literal: a time zone (Z or ±hh:mm) is required",
                    position,
                ));
            }
        };
        let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
            .filter(|_| second < 60)
            .ok_or_else(|| self.error("invalid datetime literal", position))?;
        let offset = FixedOffset::east_opt(offset_seconds)
            .ok_or_else(|| self.error("invalid datetime literal", position))?;
        date.and_time(time)
            .and_local_timezone(offset)
            .single()
            .map(TokenKind::DateTime)
            .ok_or_else(|| self.error("invalid datetime literal", position))
    }

    fn string_literal(&mut self) -> Result<SoqlString, SoqlError> {
        self.bump(); // the opening quote
        let mut value = SoqlString::default();
        loop {
            let here = self.position();
            match self.bump() {
                None => {
                    return Err(self.error("mismatched character '<EOF>' expecting '''", here));
                }
                Some('\'') => return Ok(value),
                Some('\\') => {
                    let escaped = match self.bump() {
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('"') => '"',
                        Some('\'') => '\'',
                        Some('\\') => '\\',
                        Some('%') => {
                            value.push(StringPart::EscapedPercent);
                            continue;
                        }
                        Some('_') => {
                            value.push(StringPart::EscapedUnderscore);
                            continue;
                        }
                        Some('u') => self.unicode_escape(here)?,
                        Some(other) => {
                            return Err(self.error(
                                format!("Illegal character sequence '\\{other}' in string literal"),
                                here,
                            ));
                        }
                        None => {
                            return Err(
                                self.error("mismatched character '<EOF>' expecting '''", here)
                            );
                        }
                    };
                    value.push_char(escaped);
                }
                Some(c) => value.push_char(c),
            }
        }
    }

    fn unicode_escape(&mut self, escape_start: Position) -> Result<char, SoqlError> {
        let mut code = 0u32;
        for _ in 0..4 {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    code = code * 16 + d;
                    self.bump();
                }
                None => {
                    return Err(self.error(
                        "Illegal character sequence '\\u' in string literal: expected four hex digits",
                        escape_start,
                    ));
                }
            }
        }
        char::from_u32(code).ok_or_else(|| {
            self.error(
                format!(
                    "Illegal character sequence '\\u{code:04x}' in string literal: a lone surrogate"
                ),
                escape_start,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str) -> Vec<TokenKind> {
        tokenize(q).unwrap().into_iter().map(|t| t.kind).collect()
    }

    fn err(q: &str) -> (String, u32, u32) {
        match tokenize(q) {
            Err(SoqlError::Syntax(e)) => (e.message, e.position.row, e.position.column),
            other => panic!("expected a syntax error for {q:?}, got {other:?}"),
        }
    }

    fn word(w: &str) -> TokenKind {
        TokenKind::Word(w.into())
    }

    fn num(n: &str) -> TokenKind {
        TokenKind::Number(Number::parse(n).unwrap())
    }

    #[test]
    fn words_punctuation_and_operators() {
        use TokenKind::*;
        assert_eq!(
            kinds(
                "SELECT Account.Owner.Name,(x) FROM Contact WHERE a=1 AND b!=2 AND c<>3 AND d<4 AND e<=5 AND f>6 AND g>=7"
            ),
            vec![
                word("SELECT"),
                word("Account.Owner.Name"),
                Comma,
                LParen,
                word("x"),
                RParen,
                word("FROM"),
                word("Contact"),
                word("WHERE"),
                word("a"),
                Eq,
                num("1"),
                word("AND"),
                word("b"),
                Ne,
                num("2"),
                word("AND"),
                word("c"),
                Ne,
                num("3"),
                word("AND"),
                word("d"),
                Lt,
                num("4"),
                word("AND"),
                word("e"),
                Le,
                num("5"),
                word("AND"),
                word("f"),
                Gt,
                num("6"),
                word("AND"),
                word("g"),
                Ge,
                num("7"),
                Eof,
            ]
        );
    }

    #[test]
    fn positions_are_one_based_rows_and_columns() {
        let tokens = tokenize("SELECT Id\n  FROM Account").unwrap();
        let positions: Vec<(u32, u32)> = tokens
            .iter()
            .map(|t| (t.position.row, t.position.column))
            .collect();
        assert_eq!(positions, vec![(1, 1), (1, 8), (2, 3), (2, 8), (2, 15)]);
        assert_eq!(tokens[2].text, "FROM");
        let tokens = tokenize("SELECT\r\n\tId\n\nFROM 'a\nb' X").unwrap();
        let positions: Vec<(u32, u32)> = tokens
            .iter()
            .map(|t| (t.position.row, t.position.column))
            .collect();
        assert_eq!(
            positions,
            vec![(1, 1), (2, 2), (4, 1), (4, 6), (5, 4), (5, 5)]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0 42 -7 3.25 -0.5"),
            vec![
                num("0"),
                num("42"),
                num("-7"),
                num("3.25"),
                num("-0.5"),
                TokenKind::Eof
            ]
        );
        let TokenKind::Number(n) = &kinds("-12.50")[0] else {
            panic!()
        };
        assert_eq!((n.text(), n.value()), ("-12.50", -12.5));
    }

    #[test]
    fn dates_and_datetimes() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(kinds("2024-02-29")[0], TokenKind::Date(date));
        let dt = |s: &str| TokenKind::DateTime(DateTime::parse_from_rfc3339(s).unwrap());
        assert_eq!(kinds("2024-02-29T10:20:30Z")[0], dt("2024-02-29T10:20:30Z"));
        assert_eq!(
            kinds("2024-02-29T10:20:30.123Z")[0],
            dt("2024-02-29T10:20:30.123Z")
        );
        assert_eq!(
            kinds("2024-02-29T10:20:30+05:30")[0],
            dt("2024-02-29T10:20:30+05:30")
        );
        assert_eq!(
            kinds("2024-02-29T10:20:30.5-08:00")[0],
            dt("2024-02-29T10:20:30.5-08:00")
        );
        // The offset is kept, not just the instant.
        let TokenKind::DateTime(v) = &kinds("2024-02-29T10:20:30+05:30")[0] else {
            panic!()
        };
        assert_eq!(v.offset().local_minus_utc(), 5 * 3600 + 1800);
    }

    #[test]
    fn string_escapes() {
        let s = |q: &str| match &kinds(q)[0] {
            TokenKind::String(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(s(r"'a\nb'"), SoqlString::new("a\nb"));
        assert_eq!(
            s(r#"'\r\t\b\f\"\'\\'"#),
            SoqlString::new("\r\t\u{8}\u{c}\"'\\")
        );
        assert_eq!(s(r"'\u00e9\u00E9'"), SoqlString::new("éé"));
        assert_eq!(s("'héllo ✓'"), SoqlString::new("héllo ✓"));
        assert_eq!(s("''"), SoqlString::new(""));
        assert_eq!(s("'%_'"), SoqlString::new("%_"));
        assert_eq!(
            s(r"'5\%\_'"),
            SoqlString::from_parts([
                StringPart::Text("5".into()),
                StringPart::EscapedPercent,
                StringPart::EscapedUnderscore
            ])
        );
        assert!(s(r"'\%'").has_escaped_wildcards());
        assert!(!s("'%'").has_escaped_wildcards());
    }

    #[test]
    fn keyword_case_is_kept_in_words() {
        assert_eq!(kinds("select")[0], word("select"));
    }

    #[test]
    fn lexer_errors() {
        let table: &[(&str, &str, u32, u32)] = &[
            ("'abc", "mismatched character '<EOF>' expecting '''", 1, 5),
            ("'abc\\", "mismatched character '<EOF>' expecting '''", 1, 5),
            (
                r"x = 'a\qb'",
                "Illegal character sequence '\\q' in string literal",
                1,
                7,
            ),
            (
                r"'\x41'",
                "Illegal character sequence '\\x' in string literal",
                1,
                2,
            ),
            (
                r"'\u12'",
                "Illegal character sequence '\\u' in string literal: expected four hex digits",
                1,
                2,
            ),
            (
                r"'\ud800'",
                "Illegal character sequence '\\ud800' in string literal: a lone surrogate",
                1,
                2,
            ),
            (
                "Id = :name",
                "bind variables are not supported; pass values as literals",
                1,
                6,
            ),
            ("a ! b", "no viable alternative at character '!'", 1, 3),
            (
                "SELECT * FROM X",
                "no viable alternative at character '*'",
                1,
                8,
            ),
            ("a; DROP", "no viable alternative at character ';'", 1, 2),
            ("\"x\"", "no viable alternative at character '\"'", 1, 1),
            ("Account.", "no viable alternative at character '.'", 1, 8),
            (
                "Account..Name",
                "no viable alternative at character '.'",
                1,
                8,
            ),
            ("a.1b", "no viable alternative at character '.'", 1, 2),
            ("12abc", "no viable alternative at character 'a'", 1, 3),
            ("1.", "invalid number literal", 1, 1),
            ("1.2.3", "no viable alternative at character '.'", 1, 4),
            ("-", "no viable alternative at character '-'", 1, 1),
            ("+1", "no viable alternative at character '+'", 1, 1),
            ("2024-13-01", "invalid date literal", 1, 1),
            ("2024-02-30", "invalid date literal", 1, 1),
            ("2024-2-01", "invalid date literal", 1, 1),
            (
                "2024-02-01T10:00:00",
                "invalid datetime literal: a time zone (Z or ±hh:mm) is required",
                1,
                1,
            ),
            ("2024-02-01T25:00:00Z", "invalid datetime literal", 1, 1),
            ("2024-02-01T10:00:60Z", "invalid datetime literal", 1, 1),
            ("2024-02-01T10:00Z", "invalid datetime literal", 1, 1),
            ("2024-02-01T10:00:00.Z", "invalid datetime literal", 1, 1),
            (
                "2024-02-01T10:00:00+25:00",
                "invalid datetime literal",
                1,
                1,
            ),
            (
                "2024-02-01x",
                "no viable alternative at character 'x'",
                1,
                11,
            ),
            (
                "SELECT\n  Id ?",
                "no viable alternative at character '?'",
                2,
                6,
            ),
        ];
        for (query, message, row, column) in table {
            assert_eq!(
                err(query),
                ((*message).to_owned(), *row, *column),
                "{query:?}"
            );
        }
    }

    #[test]
    fn huge_numbers_are_refused() {
        let q = "9".repeat(400);
        assert_eq!(err(&q).0, "number out of range");
    }

    #[test]
    fn length_is_bounded() {
        let ok = format!(
            "SELECT Id FROM Account WHERE Name = '{}'",
            "a".repeat(90_000)
        );
        assert!(tokenize(&ok).is_ok());
        let long = "a ".repeat(50_001);
        assert_eq!(
            tokenize(&long),
            Err(SoqlError::TooLong {
                max: MAX_QUERY_CHARS
            })
        );
        // Characters, not bytes, are counted.
        let wide = "é".repeat(MAX_QUERY_CHARS);
        assert!(!matches!(tokenize(&wide), Err(SoqlError::TooLong { .. })));
    }
}
