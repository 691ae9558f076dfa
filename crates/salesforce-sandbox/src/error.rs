//! The crate's error type and the wire-level failure every endpoint answers with.

use http::StatusCode;
use salesforce_core::wire::{ApiError, error_code};

/// What can go wrong running the sandbox (not per-request failures, which are [`ApiFailure`]s).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Socket or file I/O failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A schema extension was refused.
    #[error("invalid schema extension: {0}")]
    Schema(#[from] crate::schema::custom::ExtensionError),
    /// A JSON document (schema file) did not parse.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A dataset name was not recognised.
    #[error("unknown dataset size `{0}` (expected tiny, demo or large)")]
    UnknownDataset(String),
    /// An outbound-message rule was refused.
    #[error("invalid outbound rule: {0}")]
    OutboundRule(String),
    /// The TLS certificate or key could not be generated or loaded.
    #[error("TLS: {0}")]
    Tls(String),
}

/// A Salesforce error response: an HTTP status and the JSON array body
/// `[{"message","errorCode","fields"}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// Body entries.
    pub errors: Vec<ApiError>,
}

impl ApiFailure {
    /// A failure with one error entry.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![ApiError::new(code, message)],
        }
    }

    /// A 400 with one error entry naming `fields`.
    pub fn bad_request(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            errors: vec![ApiError::new(code, message).with_fields(fields)],
        }
    }

    /// 404 `NOT_FOUND` `The requested resource does not exist`.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            error_code::NOT_FOUND,
            "The requested resource does not exist",
        )
    }

    /// 404 `NOT_FOUND` for a type Salesforce does not know in a URL (Salesforce answers with
    /// the plain not-found body; the name is not echoed).
    pub fn unknown_object(_name: &str) -> Self {
        Self::not_found()
    }

    /// 400 `INVALID_TYPE` for a type Salesforce does not know in a body.
    pub fn invalid_type(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error_code::INVALID_TYPE,
            format!("sObject type '{name}' is not supported."),
        )
    }

    /// 400 `CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY` `entity type cannot be {verb}: {label}` for an
    /// object the API may not write (`inserted`, `updated` or `deleted`), as Salesforce answers
    /// for read-only objects such as the history objects. The insert and update wording is
    /// Salesforce's; the delete wording follows it (unverified).
    pub fn read_only_entity(verb: &str, label: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error_code::CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY,
            format!("entity type cannot be {verb}: {label}"),
        )
    }

    /// 400 `JSON_PARSER_ERROR`.
    pub fn json(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error_code::JSON_PARSER_ERROR,
            message,
        )
    }

    /// 401 `INVALID_SESSION_ID` `Session expired or invalid`.
    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            error_code::INVALID_SESSION_ID,
            "Session expired or invalid",
        )
    }

    /// The first error's code (for collections and tests).
    pub fn code(&self) -> &str {
        self.errors.first().map_or("", |e| e.error_code.as_str())
    }
}
