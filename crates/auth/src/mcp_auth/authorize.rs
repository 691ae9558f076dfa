//! Validation of an MCP client's authorization request (`/oauth/authorize`): registered client,
//! exact redirect URI, PKCE S256, `resource` equal to our MCP URL, known scopes.

use serde::{Deserialize, Serialize};

use crate::pkce::PkceChallenge;

/// An MCP client's authorization request after validation, kept with the pending Salesforce
/// flow and turned into our authorization code after the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatedAuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// The exact registered redirect URI the client asked for.
    pub redirect_uri: String,
    /// The client's S256 challenge.
    pub code_challenge: PkceChallenge,
    /// The client's `state`, echoed back.
    pub state: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The resource (audience) the tokens will be bound to.
    pub resource: String,
}
