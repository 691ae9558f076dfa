//! The crate's one error type.

use salesforce_core::soql::SoqlError;

/// Everything that can go wrong in `salesforce-api`. So far: SOQL the builder or guard refuses.
/// Errors never carry tokens or other secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query (built or model-written) is not valid SOQL, or a name or value in it is refused.
    #[error("invalid SOQL: {0}")]
    Soql(#[from] SoqlError),
    /// The builder was asked for a query with an empty `SELECT` list.
    #[error("the query selects nothing: add at least one field")]
    EmptySelect,
    /// A filter that SOQL cannot express, such as an aggregate on the left of `IN`.
    #[error("unsupported filter: {reason}")]
    UnsupportedFilter {
        /// Why it cannot be expressed.
        reason: &'static str,
    },
    /// The query reads an object the guard's policy does not allow.
    #[error("querying `{object}` is not allowed")]
    ObjectNotAllowed {
        /// The object (or child relationship) named in `FROM`.
        object: String,
    },
    /// The query follows a relationship the guard's policy does not allow.
    #[error("following the relationship `{relationship}` is not allowed")]
    RelationshipNotAllowed {
        /// The relationship name.
        relationship: String,
    },
    /// A guard policy with a row cap of zero, which would refuse every query.
    #[error("the guard's LIMIT cap must be at least 1")]
    InvalidLimitCap,
}
