//! Authentication and authorization: the Salesforce OAuth 2.1 client side (PKCE S256, single-use
//! state, rotating refresh tokens, revocation), token stores encrypted at rest (in memory and in
//! Redis), and the MCP-side authorization server and bearer-validation tower layer.
//!
//! It never knows about MCP messages or CRM tools; the server mounts its routes and layer.
//! The MCP client's token is never sent to Salesforce: the two token worlds only meet in the
//! server, which looks up the caller's Salesforce connection by principal.
//!
//! Besides this broker mode, [`modes::direct`] accepts Salesforce access tokens (validated at
//! `userinfo`, cached by SHA-256) and [`modes::none`] serves one pre-configured connection on
//! loopback only; [`loopback`] is the command-line login.
//!
//! How the server composes the broker mode:
//!
//! ```no_run
//! use std::sync::Arc;
//! use auth::crypto::{EncryptionKey, Keyring};
//! use auth::mcp_auth::{McpAuthConfig, bearer::{BearerAuthLayer, BearerValidator}, routes::OAuthRoutes};
//! use auth::refresh::{RefreshPolicy, TokenManager};
//! use auth::salesforce::{SalesforceOAuthClient, SalesforceOAuthConfig};
//! use auth::secret::KeyMaterial;
//! use auth::store::{ConnectionKey, Store, redis::RedisBackend};
//!
//! # async fn compose() -> auth::Result<()> {
//! let key = EncryptionKey::from_base64("k1", &KeyMaterial::new("base64 of 32 bytes"))?;
//! let keyring = Arc::new(Keyring::new(key));
//! let store = Store::new(Arc::new(RedisBackend::new("redis://127.0.0.1:6379", "sfmcp:")?), keyring);
//!
//! let callback = url::Url::parse("https://mcp.example.com/oauth/salesforce/callback")
//!     .map_err(|_| auth::Error::Config("callback".into()))?;
//! let salesforce = SalesforceOAuthClient::new(SalesforceOAuthConfig::new("consumer key", callback))?;
//! let config = Arc::new(McpAuthConfig::new("https://mcp.example.com", "https://mcp.example.com/mcp")?);
//!
//! // Mount `routes` for the paths it `handles`, and the layer in front of the MCP endpoint.
//! let routes = OAuthRoutes::new(store.clone(), Arc::new(salesforce.clone()), config.clone());
//! let layer = BearerAuthLayer::new(BearerValidator::new(Arc::new(store.clone()), config));
//!
//! // Per MCP request: the layer attached an `AuthenticatedPrincipal`; get its Salesforce token.
//! let shared = Arc::new(store);
//! let tokens = TokenManager::new(shared.clone(), shared, salesforce.refresher(), RefreshPolicy::default());
//! let fresh = tokens.access_token(&ConnectionKey::new("sf:005000000000001AAA", "00D000000000001EAA")?).await?;
//! # let _ = (routes, layer, fresh);
//! # Ok(())
//! # }
//! ```

pub mod clock;
pub mod crypto;
pub mod error;
pub mod login;
pub mod loopback;
pub mod mcp_auth;
pub mod modes;
pub mod pkce;
pub mod random;
pub mod refresh;
pub mod salesforce;
pub mod secret;
pub mod store;

pub use error::{Error, OAuthErrorCode, Result, SalesforceErrorKind};
