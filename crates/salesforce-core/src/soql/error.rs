//! SOQL errors: syntax errors with Salesforce-style positions, and the few typed refusals
//! (offset out of range, query too long or too deeply nested, invalid identifier) that the client
//! and the sandbox both map to Salesforce error codes.

use std::fmt;

/// A position in query text, 1-based, counted the way Salesforce reports it
/// (`ERROR at Row:1:Column:78`): rows are lines, columns are characters within the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line number, starting at 1.
    pub row: u32,
    /// Character within the line, starting at 1.
    pub column: u32,
}

/// A malformed query: what was wrong and where.
///
/// `Display` prints the tail of Salesforce's `MALFORMED_QUERY` message,
/// `ERROR at Row:1:Column:22\nunexpected token: 'FORM'`; [`SyntaxError::salesforce_message`]
/// adds the echoed query line and caret that Salesforce puts in front of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What went wrong, in Salesforce's words where known (`unexpected token: 'OR'`).
    pub message: String,
    /// Where it went wrong.
    pub position: Position,
}

impl SyntaxError {
    pub(crate) fn new(message: impl Into<String>, position: Position) -> Self {
        Self {
            message: message.into(),
            position,
        }
    }

    /// The full `MALFORMED_QUERY` message as Salesforce writes it: the offending line of `query`,
    /// a caret under the column, then `ERROR at Row:r:Column:c` and the message.
    pub fn salesforce_message(&self, query: &str) -> String {
        let line: String = query
            .lines()
            .nth(self.position.row.saturating_sub(1) as usize)
            .unwrap_or_default()
            .chars()
            .take(2_000)
            .collect();
        let caret_pad = " ".repeat(self.position.column.saturating_sub(1).min(2_000) as usize);
        format!("\n{line}\n{caret_pad}^\n{self}")
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ERROR at Row:{}:Column:{}\n{}",
            self.position.row, self.position.column, self.message
        )
    }
}

impl std::error::Error for SyntaxError {}

/// Everything the SOQL grammar can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SoqlError {
    /// The text is not valid SOQL (Salesforce: `MALFORMED_QUERY`).
    #[error("{0}")]
    Syntax(#[from] SyntaxError),
    /// `OFFSET` above the documented maximum (Salesforce: `NUMBER_OUTSIDE_VALID_RANGE`).
    #[error("Maximum SOQL offset allowed is {max}")]
    OffsetOutOfRange {
        /// The offset that was asked for.
        offset: u64,
        /// The maximum, [`MAX_OFFSET`](super::MAX_OFFSET).
        max: u64,
    },
    /// The query text is longer than Salesforce accepts (Salesforce: `MALFORMED_QUERY`).
    #[error("SOQL statements cannot exceed {max} characters")]
    TooLong {
        /// The limit, [`MAX_QUERY_CHARS`](super::MAX_QUERY_CHARS).
        max: usize,
    },
    /// Parentheses or subqueries nested deeper than we parse (Salesforce: `QUERY_TOO_COMPLICATED`).
    #[error("query too complicated: nesting deeper than {max} levels at Row:{}:Column:{}", position.row, position.column)]
    TooDeep {
        /// The limit, [`MAX_NESTING`](super::MAX_NESTING).
        max: usize,
        /// Where the limit was crossed.
        position: Position,
    },
    /// A name that does not have the shape of a Salesforce API name (see [`super::ident`]).
    #[error("invalid identifier `{name}`: {reason}")]
    InvalidIdentifier {
        /// The refused name (at most 100 characters of it).
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A value that cannot be written as a SOQL literal (for example a non-finite number).
    #[error("invalid SOQL value: {reason}")]
    InvalidValue {
        /// Why it was refused.
        reason: &'static str,
    },
}

impl SoqlError {
    /// The Salesforce `errorCode` this refusal corresponds to, so both the client and the sandbox
    /// report it the same way.
    ///
    /// ```
    /// use salesforce_core::soql::{parse, SoqlError};
    /// let err = parse("SELECT Id FROM Account OFFSET 2001").unwrap_err();
    /// assert!(matches!(err, SoqlError::OffsetOutOfRange { offset: 2001, .. }));
    /// assert_eq!(err.error_code(), "NUMBER_OUTSIDE_VALID_RANGE");
    /// ```
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::OffsetOutOfRange { .. } => "NUMBER_OUTSIDE_VALID_RANGE",
            Self::TooDeep { .. } => "QUERY_TOO_COMPLICATED",
            Self::InvalidIdentifier { .. } => "INVALID_FIELD",
            Self::Syntax(_) | Self::TooLong { .. } | Self::InvalidValue { .. } => "MALFORMED_QUERY",
        }
    }
}
