//! Authentication and authorization: the Salesforce OAuth 2.1 client side (PKCE S256, single-use
//! state, rotating refresh tokens, revocation), token stores encrypted at rest (in memory and in
//! Redis), and the MCP-side authorization server and bearer-validation tower layer.
//!
//! It never knows about MCP messages or CRM tools; the server mounts its routes and layer.
