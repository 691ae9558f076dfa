//! Authentication and authorization: the Salesforce OAuth 2.1 client side (PKCE S256, single-use
//! state, rotating refresh tokens, revocation), token stores encrypted at rest (in memory and in
//! Redis), and the MCP-side authorization server and bearer-validation tower layer.
//!
//! It never knows about MCP messages or CRM tools; the server mounts its routes and layer.
//! The MCP client's token is never sent to Salesforce: the two token worlds only meet in the
//! server, which looks up the caller's Salesforce connection by principal.

pub mod clock;
pub mod crypto;
pub mod error;
pub mod login;
pub mod mcp_auth;
pub mod pkce;
pub mod random;
pub mod refresh;
pub mod salesforce;
pub mod secret;
pub mod store;

pub use error::{Error, OAuthErrorCode, Result, SalesforceErrorKind};
