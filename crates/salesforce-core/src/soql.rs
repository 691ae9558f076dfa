//! The SOQL grammar: lexer, parser, syntax tree, printer, `LIKE` matching, relative dates, and
//! string-literal escaping. The client's builder and guard and the sandbox's evaluator share it.
//!
//! - [`parse`] turns text into a [`Query`] (or a [`SoqlError`] whose [`SoqlError::error_code`] is
//!   the Salesforce `errorCode` to report);
//! - `Display` on [`Query`] prints canonical SOQL that parses back to an equal tree;
//! - [`escape`] writes values as quoted literals, [`ident`] validates names;
//! - [`SoqlString::to_like_pattern`] and [`LikePattern::matches`] evaluate `LIKE`;
//! - [`RelativeDate::range`] gives the days a date literal covers.
//!
//! ```
//! use salesforce_core::soql::{self, Condition, ComparisonOperator, Value};
//!
//! let query = soql::parse(
//!     "SELECT Id, Name FROM Lead WHERE Company LIKE '%acme%' AND CreatedDate = LAST_N_DAYS:30 LIMIT 10",
//! )?;
//! assert_eq!(query.from.object.as_str(), "Lead");
//! let Some(Condition::And(parts)) = &query.where_ else { unreachable!() };
//! let Condition::Compare { op: ComparisonOperator::Like, value: Value::String(pattern), .. } = &parts[0]
//!     else { unreachable!() };
//! assert!(pattern.to_like_pattern().matches("ACME Corp"));
//! assert_eq!(soql::parse(&query.to_string())?, query);
//!
//! // User text only ever enters a query as an escaped literal.
//! assert_eq!(soql::escape::escape_string_literal("x' OR Id != '"), r"'x\' OR Id != \''");
//! # Ok::<(), soql::SoqlError>(())
//! ```

mod ast;
mod date;
mod error;
pub mod escape;
pub mod ident;
pub mod lexer;
mod like;
mod parser;
mod printer;

pub use ast::{
    Aggregate, AggregateFunction, ComparisonOperator, Condition, FieldPath, From, Identifier,
    NullsOrder, Number, Operand, OrderBy, Query, SelectItem, SoqlString, SortDirection, StringPart,
    Value,
};
pub use date::RelativeDate;
pub use error::{Position, SoqlError, SyntaxError};
pub use like::{LikeElement, LikePattern};
pub use parser::parse;

/// Longest query Salesforce accepts, in characters.
pub const MAX_QUERY_CHARS: usize = 100_000;

/// Largest `OFFSET` Salesforce accepts; more is `NUMBER_OUTSIDE_VALID_RANGE`.
pub const MAX_OFFSET: u64 = 2_000;

/// Deepest nesting of parentheses, `NOT`s and subqueries the parser follows.
pub const MAX_NESTING: usize = 64;
