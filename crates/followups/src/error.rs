//! The crate's one error type. Messages never carry tokens (the Salesforce client's errors do
//! not) and quote configuration, not event data, beyond bounded field names.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The rules file is not valid.
    #[error("invalid rules: {0}")]
    InvalidRules(String),
    /// A Salesforce call failed.
    #[error("salesforce: {0}")]
    Salesforce(#[from] salesforce_api::Error),
    /// The event feed's store failed.
    #[error("event feed unavailable: {0}")]
    FeedUnavailable(String),
}

impl From<redis::RedisError> for Error {
    fn from(error: redis::RedisError) -> Self {
        Self::FeedUnavailable(error.to_string())
    }
}

impl From<deadpool_redis::PoolError> for Error {
    fn from(error: deadpool_redis::PoolError) -> Self {
        Self::FeedUnavailable(error.to_string())
    }
}
