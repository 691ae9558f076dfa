//! The crate's one error type.

/// Everything that can go wrong in `salesforce-core`: all of it is bad input, reported with enough
/// detail to fix it and never with a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A string that is not a well-formed 15- or 18-character Salesforce record id.
    #[error("invalid record id `{id}`: {reason}")]
    InvalidId {
        /// The offending input (ids are not secrets).
        id: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A SOQL query or query part that the grammar refuses.
    #[error("invalid SOQL: {0}")]
    Soql(#[from] crate::soql::SoqlError),
}
