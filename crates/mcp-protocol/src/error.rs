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
    /// The client did not declare the `sampling` capability, or the transport cannot carry a
    /// request to it (the handler should go on without).
    #[error("the client does not offer sampling")]
    SamplingUnsupported,
    /// The client answered a sampling request with an error (declined, or failed).
    #[error("the client declined the sampling request ({code}): {message}")]
    SamplingDeclined {
        /// The JSON-RPC error code the client sent.
        code: i64,
        /// The client's message (client text: untrusted).
        message: String,
    },
    /// The client's answer did not come within the sampling timeout.
    #[error("the client did not answer the sampling request in time")]
    SamplingTimeout,
    /// The session already has as many sampling requests waiting as it may.
    #[error("too many sampling requests are waiting for this session")]
    SamplingLimit,
    /// The client's sampling result was not a usable `CreateMessageResult`.
    #[error("invalid sampling result: {0}")]
    SamplingInvalid(String),
    /// Modern era: the answer comes with the client's retry; the call ends with
    /// `input_required` whatever the handler returns now.
    #[error("the client's input is needed first (the call returns input_required)")]
    InputRequired,
    /// The request was cancelled, or the client went away, while waiting.
    #[error("the request was cancelled")]
    Cancelled,
    /// An I/O error in a transport.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
