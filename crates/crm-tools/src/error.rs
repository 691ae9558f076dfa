//! The crate's one error type. Its `Display` is the message the model reads in an `isError`
//! result, so every variant says what went wrong and what to do about it.

use salesforce_api::ErrorClass;

/// Why a CRM tool call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller has no usable Salesforce connection.
    #[error("{}", not_connected(reason, *reauthorize))]
    NotConnected {
        /// Why, fit to show a user (no tokens).
        reason: String,
        /// Only the user can fix it by authorizing sfmcp with Salesforce again.
        reauthorize: bool,
    },
    /// An argument is wrong; the message says which and how to fix it.
    #[error("{0}")]
    InvalidArgument(String),
    /// What the arguments name does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The server's configuration does not allow this (read-only mode, writable objects).
    #[error("{0}")]
    NotAllowed(String),
    /// Salesforce (or the client on its behalf) refused or failed the call.
    #[error("{}", salesforce_message(.0))]
    Salesforce(#[from] salesforce_api::Error),
}

impl Error {
    /// An [`Error::InvalidArgument`] from anything printable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    /// Whether the user must authorize sfmcp with Salesforce again.
    pub fn needs_reauthorization(&self) -> bool {
        match self {
            Error::NotConnected { reauthorize, .. } => *reauthorize,
            Error::Salesforce(e) => e.class() == ErrorClass::AuthExpired,
            _ => false,
        }
    }
}

fn not_connected(reason: &str, reauthorize: bool) -> String {
    if reauthorize {
        format!(
            "No usable Salesforce connection ({reason}). Ask the user to re-authorize sfmcp with Salesforce (reconnect the Salesforce account), then call the tool again."
        )
    } else {
        format!("No usable Salesforce connection ({reason}). Try again in a moment.")
    }
}

/// The model-facing message for a Salesforce failure, by its class.
fn salesforce_message(e: &salesforce_api::Error) -> String {
    match e.class() {
        ErrorClass::Validation => format!(
            "Salesforce rejected the request: {e}. Fix the arguments named in this message and call the tool again."
        ),
        ErrorClass::NotFound => format!(
            "Salesforce has no such record: {e}. Check the id (it may have been deleted), or search for the record first."
        ),
        ErrorClass::AuthExpired => format!(
            "The Salesforce session expired or was revoked ({e}). Ask the user to re-authorize sfmcp with Salesforce, then call the tool again."
        ),
        ErrorClass::LimitExceeded => format!(
            "Salesforce API limits are exhausted ({e}). Do not retry now; try again later (limits reset over 24 hours)."
        ),
        ErrorClass::Retryable => {
            format!("Salesforce is temporarily unavailable ({e}). Retry the same call in a moment.")
        }
        ErrorClass::Permanent => format!("The Salesforce call failed: {e}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce_api::ApiError;

    fn api(status: u16, code: &str, message: &str) -> Error {
        Error::Salesforce(salesforce_api::Error::Api {
            status,
            errors: vec![ApiError::new(code, message)],
        })
    }

    #[test]
    fn messages_say_what_to_do_for_each_class() {
        let validation = api(400, "INVALID_FIELD", "No such column 'Foo'").to_string();
        assert!(validation.contains("No such column 'Foo'"), "{validation}");
        assert!(validation.contains("Fix the arguments"), "{validation}");
        let missing = api(404, "NOT_FOUND", "The requested resource does not exist").to_string();
        assert!(missing.contains("Check the id"), "{missing}");
        let auth = api(401, "INVALID_SESSION_ID", "Session expired or invalid");
        assert!(auth.needs_reauthorization());
        assert!(auth.to_string().contains("re-authorize"), "{auth}");
        let limit = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
        .to_string();
        assert!(limit.contains("try again later"), "{limit}");
        let busy = api(503, "SERVER_UNAVAILABLE", "busy").to_string();
        assert!(busy.contains("Retry"), "{busy}");
        let gone = Error::NotConnected {
            reason: "refresh token revoked".into(),
            reauthorize: true,
        };
        assert!(gone.to_string().contains("re-authorize"));
    }
}
