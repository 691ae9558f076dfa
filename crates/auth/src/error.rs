//! The crate's one error type. No variant ever carries a secret: token, code, verifier and
//! client-secret values never reach an error message.

use std::fmt;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `auth`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is missing or malformed.
    #[error("invalid auth configuration: {0}")]
    Config(String),
    /// A PKCE verifier or challenge is malformed, or a method other than S256 was asked for.
    #[error("PKCE: {0}")]
    Pkce(&'static str),
    /// An encrypted value could not be opened: tampered, wrong key or wrong associated data.
    #[error(
        "decryption failed: the stored value was tampered with, or the key or associated data is wrong"
    )]
    Decrypt,
    /// An encrypted value names a key id that is not in the keyring.
    #[error("no key with id {0:?} in the keyring")]
    UnknownKeyId(String),
    /// A stored value does not have the expected shape.
    #[error("corrupt stored value: {0}")]
    Corrupt(&'static str),
    /// The storage backend failed (Redis unreachable, pool exhausted, …).
    #[error("storage backend: {0}")]
    Storage(String),
    /// A bound was reached (a full store, a rate limit): try again later.
    #[error("capacity exhausted: {0}")]
    Capacity(&'static str),
    /// A compare-and-swap lost a race: the record changed since it was read.
    #[error("the record was changed concurrently")]
    Conflict,
    /// No such connection.
    #[error("connection not found")]
    NotFound,
    /// An identifier (principal, org id) is malformed.
    #[error("invalid identifier: {0}")]
    InvalidIdentifier(&'static str),
    /// Salesforce answered an OAuth request with an error body.
    #[error("Salesforce OAuth error: {kind}")]
    Salesforce {
        /// What Salesforce said, mapped.
        kind: SalesforceErrorKind,
        /// The HTTP status.
        status: u16,
    },
    /// The stored connection needs the user to log in to Salesforce again.
    #[error("re-authorization required")]
    ReauthorizationRequired,
    /// An HTTP call failed before a response was read (connect, timeout, body too large).
    #[error("HTTP: {0}")]
    Http(String),
    /// A Salesforce response did not have the documented shape.
    #[error("invalid Salesforce response: {0}")]
    InvalidResponse(&'static str),
    /// The `signature` of a Salesforce token response does not match.
    #[error("Salesforce token response signature does not match")]
    SignatureMismatch,
    /// An OAuth protocol error of our own authorization server, to be answered to the MCP client.
    #[error("{code}: {description}")]
    OAuth {
        /// The RFC 6749 / 7591 / 8707 error code.
        code: OAuthErrorCode,
        /// A short, fixed human-readable description.
        description: &'static str,
    },
}

impl Error {
    /// Shorthand for [`Error::OAuth`].
    pub fn oauth(code: OAuthErrorCode, description: &'static str) -> Self {
        Self::OAuth { code, description }
    }
}

/// OAuth error codes our authorization server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_grant`.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `access_denied`: the user said no.
    AccessDenied,
    /// `server_error` (authorization response).
    ServerError,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `invalid_scope`.
    InvalidScope,
    /// `invalid_target` (RFC 8707).
    InvalidTarget,
    /// `invalid_redirect_uri` (RFC 7591).
    InvalidRedirectUri,
    /// `invalid_client_metadata` (RFC 7591).
    InvalidClientMetadata,
    /// `temporarily_unavailable`: a rate limit or capacity bound was hit (answered with 429).
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status of a token or registration endpoint answer with this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 429,
            _ => 400,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Salesforce's OAuth error codes, mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SalesforceErrorKind {
    /// `invalid_grant`: the code or refresh token is expired, revoked or already used.
    InvalidGrant,
    /// `invalid_client_id`: unknown consumer key.
    InvalidClientId,
    /// `invalid_client`: wrong consumer secret.
    InvalidClient,
    /// `redirect_uri_mismatch`.
    RedirectUriMismatch,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `inactive_user`.
    InactiveUser,
    /// `inactive_org`.
    InactiveOrg,
    /// `invalid_request` (for example a PKCE verifier mismatch).
    InvalidRequest,
    /// `access_denied` on the authorization callback.
    AccessDenied,
    /// Any other code (kept, bounded in length).
    Other(String),
}

impl SalesforceErrorKind {
    /// Maps Salesforce's `error` field.
    pub fn from_code(code: &str) -> Self {
        match code {
            "invalid_grant" => Self::InvalidGrant,
            "invalid_client_id" => Self::InvalidClientId,
            "invalid_client" | "invalid_client_credentials" => Self::InvalidClient,
            "redirect_uri_mismatch" => Self::RedirectUriMismatch,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "inactive_user" => Self::InactiveUser,
            "inactive_org" => Self::InactiveOrg,
            "invalid_request" => Self::InvalidRequest,
            "access_denied" => Self::AccessDenied,
            other => Self::Other(other.chars().take(64).collect()),
        }
    }
}

impl fmt::Display for SalesforceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidGrant => f.write_str("re-authorization required (invalid_grant)"),
            Self::InvalidClientId => f.write_str("unknown consumer key (invalid_client_id)"),
            Self::InvalidClient => f.write_str("wrong client credentials (invalid_client)"),
            Self::RedirectUriMismatch => f.write_str(
                "redirect URI does not match the connected app's callback (redirect_uri_mismatch)",
            ),
            Self::UnsupportedGrantType => {
                f.write_str("grant type not enabled for this app (unsupported_grant_type)")
            }
            Self::InactiveUser => f.write_str("the Salesforce user is inactive (inactive_user)"),
            Self::InactiveOrg => f.write_str("the Salesforce org is inactive (inactive_org)"),
            Self::InvalidRequest => {
                f.write_str("invalid request, for example a PKCE mismatch (invalid_request)")
            }
            Self::AccessDenied => f.write_str("the user denied access (access_denied)"),
            Self::Other(code) => write!(f, "{code}"),
        }
    }
}
