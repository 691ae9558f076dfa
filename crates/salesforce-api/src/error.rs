//! The crate's one error type, and the classification callers use to decide what to do next
//! (retry, re-authorize, back off, fix the input).

use std::fmt;
use std::time::Duration;

use salesforce_core::wire::ApiError;

/// What kind of failure an [`Error`] is, for callers that must react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient: the same call may succeed later (connection errors, 502/503/504,
    /// `SERVER_UNAVAILABLE`, `UNABLE_TO_LOCK_ROW`, an open circuit breaker).
    Retryable,
    /// The session is invalid or the user must authorize again.
    AuthExpired,
    /// An API quota is exhausted (`REQUEST_LIMIT_EXCEEDED`) or our soft ceiling was reached:
    /// retrying now only makes it worse.
    LimitExceeded,
    /// The record or resource does not exist (or was deleted).
    NotFound,
    /// The request itself is wrong (bad field, bad value, malformed query): fix the input.
    Validation,
    /// Anything else: retrying will not help.
    Permanent,
}

/// How a request failed to complete, from the transport's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// No connection could be made: nothing was sent.
    Connect,
    /// The request or the response took too long: it may have been acted on.
    Timeout,
    /// The connection broke while the request or response was in flight.
    Interrupted,
    /// The HTTP client itself could not be set up or the request could not be built.
    Setup,
}

/// Everything that can go wrong talking to Salesforce. Plain data (clonable, comparable), so
/// builders can hold an error until they are finished.
///
/// Messages are fit to show a user and never contain a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Salesforce answered with an error body.
    #[error("Salesforce returned HTTP {status}: {}", Summary(errors))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error entries, in Salesforce's order (at least one).
        errors: Vec<ApiError>,
    },
    /// The request did not complete: connection refused, reset, timed out.
    #[error("could not reach Salesforce: {detail}")]
    Transport {
        /// What happened.
        failure: TransportFailure,
        /// The transport's own description (no URL, no token).
        detail: String,
    },
    /// Salesforce answered something this client cannot read.
    #[error("unexpected response from Salesforce ({context}): {detail}")]
    UnexpectedResponse {
        /// Which call was being read.
        context: &'static str,
        /// What was wrong with it (bounded, no secrets).
        detail: String,
    },
    /// The access provider could not supply a token.
    #[error("no Salesforce access: {reason}")]
    Access {
        /// Why, fit to show a user.
        reason: String,
        /// The user must authorize again (a refresh will not help).
        reauthorize: bool,
    },
    /// The per-org circuit breaker is open after repeated failures.
    #[error("Salesforce calls to this org are paused after repeated failures; retry in {}s", retry_in.as_secs().max(1))]
    CircuitOpen {
        /// When the breaker will let a probe call through.
        retry_in: Duration,
    },
    /// An optional call was skipped because the org's daily API usage is above the soft ceiling.
    #[error(
        "skipped an optional call: the org has used {used} of {max} daily API requests, above sfmcp's soft ceiling"
    )]
    SoftLimit {
        /// Requests used in the rolling 24 hours.
        used: u64,
        /// The org's daily limit.
        max: u64,
    },
    /// The request was refused before any call because an argument is invalid.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The query (built or model-written) is not valid SOQL, or a name or value in it is refused.
    #[error("invalid SOQL: {0}")]
    Soql(#[from] salesforce_core::soql::SoqlError),
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

impl Error {
    /// Reads a reqwest failure, keeping what it means and dropping the URL.
    pub(crate) fn transport(error: reqwest::Error) -> Self {
        let failure = if error.is_connect() {
            TransportFailure::Connect
        } else if error.is_timeout() {
            TransportFailure::Timeout
        } else if error.is_builder() {
            TransportFailure::Setup
        } else {
            TransportFailure::Interrupted
        };
        Error::Transport {
            failure,
            detail: error.without_url().to_string(),
        }
    }

    /// The failure's class: whether to retry, re-authorize, back off or fix the input.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api { status, errors } => classify_api(*status, errors),
            Error::Transport {
                failure: TransportFailure::Setup,
                ..
            } => ErrorClass::Permanent,
            Error::Transport { .. } => ErrorClass::Retryable,
            Error::UnexpectedResponse { .. } => ErrorClass::Permanent,
            Error::Access {
                reauthorize: true, ..
            } => ErrorClass::AuthExpired,
            Error::Access {
                reauthorize: false, ..
            } => ErrorClass::Retryable,
            Error::CircuitOpen { .. } => ErrorClass::Retryable,
            Error::SoftLimit { .. } => ErrorClass::LimitExceeded,
            Error::InvalidRequest(_)
            | Error::Soql(_)
            | Error::EmptySelect
            | Error::UnsupportedFilter { .. }
            | Error::ObjectNotAllowed { .. }
            | Error::RelationshipNotAllowed { .. }
            | Error::InvalidLimitCap => ErrorClass::Validation,
        }
    }

    /// Salesforce's first error code, when Salesforce sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Error::Api { errors, .. } => errors.first().map(|e| e.error_code.as_str()),
            _ => None,
        }
    }

    /// The HTTP status Salesforce answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The session was refused (`INVALID_SESSION_ID`): a fresh token may fix it.
    pub(crate) fn is_invalid_session(&self) -> bool {
        matches!(self, Error::Api { status: 401, .. })
            || self.error_code() == Some("INVALID_SESSION_ID")
    }

    /// Whether a request that Salesforce may already have acted on can be sent again.
    ///
    /// Only when Salesforce said it did not perform the request (`SERVER_UNAVAILABLE`,
    /// `UNABLE_TO_LOCK_ROW`) or the connection failed before anything was sent.
    pub(crate) fn proves_not_performed(&self) -> bool {
        match self {
            Error::Transport { failure, .. } => *failure == TransportFailure::Connect,
            Error::Api { .. } => matches!(
                self.error_code(),
                Some("SERVER_UNAVAILABLE" | "UNABLE_TO_LOCK_ROW")
            ),
            _ => false,
        }
    }

    /// Whether this failure says the org (not the request) is unhealthy: it counts against the
    /// circuit breaker.
    pub(crate) fn is_org_failure(&self) -> bool {
        match self {
            Error::Transport { failure, .. } => *failure != TransportFailure::Setup,
            Error::Api { status, .. } => {
                *status >= 500 || self.error_code() == Some("SERVER_UNAVAILABLE")
            }
            _ => false,
        }
    }
}

fn classify_api(status: u16, errors: &[ApiError]) -> ErrorClass {
    let code = errors.first().map(|e| e.error_code.as_str()).unwrap_or("");
    match code {
        "INVALID_SESSION_ID" => return ErrorClass::AuthExpired,
        "REQUEST_LIMIT_EXCEEDED" | "TXN_SECURITY_NO_ACCESS" => return ErrorClass::LimitExceeded,
        "SERVER_UNAVAILABLE" | "UNABLE_TO_LOCK_ROW" => return ErrorClass::Retryable,
        "NOT_FOUND" | "ENTITY_IS_DELETED" => return ErrorClass::NotFound,
        _ => {}
    }
    match status {
        401 => ErrorClass::AuthExpired,
        404 => ErrorClass::NotFound,
        502..=504 => ErrorClass::Retryable,
        400 | 409 | 412 | 413 | 414 | 415 => ErrorClass::Validation,
        _ => ErrorClass::Permanent,
    }
}

/// Displays the first error's code and message, and how many more there are.
struct Summary<'a>(&'a [ApiError]);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("no error details"),
            [first, rest @ ..] => {
                write!(f, "{}: {}", first.error_code, first.message)?;
                if let Some(fields) = first.fields.as_ref().filter(|f| !f.is_empty()) {
                    write!(f, " (fields: {})", fields.join(", "))?;
                }
                if !rest.is_empty() {
                    write!(f, " (and {} more)", rest.len())?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        Error::Api {
            status,
            errors: vec![ApiError::new(code, "m")],
        }
    }

    #[test]
    fn classes_follow_salesforce_codes_before_statuses() {
        assert_eq!(
            api(401, "INVALID_SESSION_ID").class(),
            ErrorClass::AuthExpired
        );
        assert_eq!(
            api(403, "REQUEST_LIMIT_EXCEEDED").class(),
            ErrorClass::LimitExceeded
        );
        assert_eq!(
            api(503, "SERVER_UNAVAILABLE").class(),
            ErrorClass::Retryable
        );
        assert_eq!(
            api(400, "UNABLE_TO_LOCK_ROW").class(),
            ErrorClass::Retryable
        );
        assert_eq!(api(404, "NOT_FOUND").class(), ErrorClass::NotFound);
        assert_eq!(api(404, "ENTITY_IS_DELETED").class(), ErrorClass::NotFound);
        assert_eq!(api(400, "MALFORMED_QUERY").class(), ErrorClass::Validation);
        assert_eq!(
            api(400, "REQUIRED_FIELD_MISSING").class(),
            ErrorClass::Validation
        );
        assert_eq!(api(502, "").class(), ErrorClass::Retryable);
        assert_eq!(api(504, "").class(), ErrorClass::Retryable);
        assert_eq!(api(500, "UNKNOWN_EXCEPTION").class(), ErrorClass::Permanent);
        assert_eq!(
            api(403, "INSUFFICIENT_ACCESS").class(),
            ErrorClass::Permanent
        );
    }

    #[test]
    fn only_refusals_that_prove_nothing_happened_allow_resending() {
        assert!(api(503, "SERVER_UNAVAILABLE").proves_not_performed());
        assert!(api(400, "UNABLE_TO_LOCK_ROW").proves_not_performed());
        assert!(
            !api(502, "").proves_not_performed(),
            "a gateway error may hide a performed request"
        );
        assert!(!api(504, "").proves_not_performed());
    }

    #[test]
    fn display_names_the_code_message_and_fields() {
        let error = Error::Api {
            status: 400,
            errors: vec![
                ApiError::new(
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [LastName]",
                )
                .with_fields(vec!["LastName".into()]),
                ApiError::new("Y", "x"),
            ],
        };
        expect_test::expect![[r#"Salesforce returned HTTP 400: REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName) (and 1 more)"#]]
            .assert_eq(&error.to_string());
    }
}
