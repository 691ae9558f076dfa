//! The crate's one error type: what can go wrong when building a server, storing sessions or
//! running a transport (protocol-level failures are JSON-RPC error objects, not this type).

/// Errors from building a server, session storage and transports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tool, prompt or resource name/URI is invalid.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// Two registrations used the same name or URI.
    #[error("duplicate registration: {0}")]
    Duplicate(String),
    /// A JSON Schema could not be compiled.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// The session store failed (the message never contains session ids).
    #[error("session store: {0}")]
    SessionStore(String),
    /// The session store holds as many sessions as it may; a new one is refused.
    #[error("too many sessions")]
    SessionLimit,
    /// An I/O error in a transport.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
