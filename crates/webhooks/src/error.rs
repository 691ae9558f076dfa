//! The crate's one error type: what can go wrong parsing, verifying, storing or queueing an
//! outbound message. Messages never carry secrets (session ids, path tokens) and quote input only
//! in bounded, truncated form.

use std::time::Duration;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is larger than the configured limit.
    #[error("body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The body is not valid UTF-8.
    #[error("body is not valid UTF-8")]
    InvalidUtf8,
    /// The XML declaration names an encoding other than UTF-8.
    #[error("unsupported encoding {0:?} (only UTF-8 is accepted)")]
    UnsupportedEncoding(String),
    /// A `<!DOCTYPE …>` (and so any entity declaration) was found: refused to rule out XXE and
    /// entity expansion attacks.
    #[error("DOCTYPE and entity declarations are refused")]
    DoctypeRefused,
    /// A processing instruction other than the XML declaration.
    #[error("processing instructions are refused")]
    ProcessingInstructionRefused,
    /// A reference to an entity that XML does not predefine.
    #[error("reference to undeclared entity &{0};")]
    UndeclaredEntity(String),
    /// The XML is not well-formed (or a namespace prefix is unbound).
    #[error("malformed XML: {0}")]
    MalformedXml(String),
    /// An element that does not belong where it was found (wrong name or wrong namespace).
    #[error("unexpected element {{{namespace}}}{name} inside {parent}")]
    UnexpectedElement {
        /// The namespace the element resolved to (empty when unbound).
        namespace: String,
        /// Its local name.
        name: String,
        /// Where it was found.
        parent: &'static str,
    },
    /// Non-whitespace text where only elements may appear.
    #[error("unexpected text inside {0}")]
    UnexpectedText(&'static str),
    /// A required element is missing.
    #[error("missing element {0}")]
    MissingElement(&'static str),
    /// An element that may appear once appeared again.
    #[error("duplicate element {0}")]
    DuplicateElement(&'static str),
    /// The document ended before the envelope was complete.
    #[error("unexpected end of document")]
    UnexpectedEof,
    /// Elements nest deeper than the limit.
    #[error("elements nest deeper than {limit}")]
    TooDeep {
        /// The configured depth limit.
        limit: usize,
    },
    /// More notifications than the limit (Salesforce sends at most 100).
    #[error("more than {limit} notifications in one message")]
    TooManyNotifications {
        /// The configured limit.
        limit: usize,
    },
    /// More fields in one sObject than the limit.
    #[error("more than {limit} fields in one sObject")]
    TooManyFields {
        /// The configured limit.
        limit: usize,
    },
    /// A text value longer than the limit.
    #[error("a value in {element} is longer than {limit} bytes")]
    ValueTooLong {
        /// The element holding the value.
        element: &'static str,
        /// The configured limit.
        limit: usize,
    },
    /// An element value that is not what its element requires (an id, a type name, a typed value).
    #[error("invalid value in {element}: {reason}")]
    InvalidValue {
        /// The element holding the value.
        element: &'static str,
        /// Why it was refused (never the value of a secret).
        reason: String,
    },
    /// The organization id is not in the allow-list.
    #[error("organization {0} is not allowed")]
    OrganizationNotAllowed(String),
    /// The secret path token is missing or wrong.
    #[error("missing or wrong path token")]
    BadPathToken,
    /// The session id check refused the message.
    #[error("session id refused: {0}")]
    SessionRefused(String),
    /// A store (idempotency or queue) could not be reached or failed.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// A queued entry could not be encoded or decoded.
    #[error("event encoding: {0}")]
    EventEncoding(String),
    /// The queue's backlog is at its limit (memory or Redis).
    #[error("queue is full ({capacity} events)")]
    QueueFull {
        /// Its capacity.
        capacity: usize,
    },
    /// Another delivery of the same notification is being stored right now and may still fail:
    /// this one must be retried later, not acknowledged.
    #[error("another delivery of this notification is in progress")]
    DeliveryInProgress,
    /// A Redis operation did not finish in time.
    #[error("store timed out after {0:?}")]
    StoreTimeout(Duration),
}

impl Error {
    /// True for errors caused by the message itself (answered 4xx, never worth a retry), false for
    /// errors of our own stores (answered 503 so that Salesforce delivers again).
    pub fn is_message_error(&self) -> bool {
        !matches!(
            self,
            Self::StoreUnavailable(_)
                | Self::EventEncoding(_)
                | Self::QueueFull { .. }
                | Self::StoreTimeout(_)
                | Self::DeliveryInProgress
        )
    }
}

impl From<redis::RedisError> for Error {
    fn from(error: redis::RedisError) -> Self {
        Self::StoreUnavailable(error.to_string())
    }
}

impl From<deadpool_redis::PoolError> for Error {
    fn from(error: deadpool_redis::PoolError) -> Self {
        Self::StoreUnavailable(error.to_string())
    }
}

/// Shortens input quoted in an error so that errors stay small.
pub(crate) fn quote(input: &str) -> String {
    const MAX: usize = 64;
    match input.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", input.get(..end).unwrap_or_default()),
        None => input.to_owned(),
    }
}
