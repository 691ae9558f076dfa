//! The discovery documents: protected-resource metadata (RFC 9728) and authorization-server
//! metadata (RFC 8414), plus where they are served.

use serde::Serialize;

use super::McpAuthConfig;

/// RFC 9728 protected-resource metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// Our canonical MCP URL.
    pub resource: String,
    /// Our authorization server (the issuer).
    pub authorization_servers: Vec<String>,
    /// Scopes.
    pub scopes_supported: Vec<String>,
    /// Only the `Authorization` header.
    pub bearer_methods_supported: Vec<String>,
}

/// RFC 8414 authorization-server metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationServerMetadata {
    /// The issuer, compared exactly by clients.
    pub issuer: String,
    /// `/oauth/authorize`.
    pub authorization_endpoint: String,
    /// `/oauth/token`.
    pub token_endpoint: String,
    /// `/oauth/register` (RFC 7591).
    pub registration_endpoint: String,
    /// `/oauth/revoke` (RFC 7009).
    pub revocation_endpoint: String,
    /// Scopes.
    pub scopes_supported: Vec<String>,
    /// `["code"]`.
    pub response_types_supported: Vec<String>,
    /// `["authorization_code", "refresh_token"]`.
    pub grant_types_supported: Vec<String>,
    /// `["S256"]`: MCP clients refuse to go on without it.
    pub code_challenge_methods_supported: Vec<String>,
    /// Token endpoint client authentication methods.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Revocation endpoint client authentication methods.
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// Client ID Metadata Documents.
    pub client_id_metadata_document_supported: bool,
    /// RFC 9207 `iss` in the authorization response.
    pub authorization_response_iss_parameter_supported: bool,
}

/// Paths of our endpoints under the issuer.
pub mod paths {
    /// Authorization endpoint.
    pub const AUTHORIZE: &str = "/oauth/authorize";
    /// Where the consent form posts.
    pub const CONSENT: &str = "/oauth/authorize/consent";
    /// Token endpoint.
    pub const TOKEN: &str = "/oauth/token";
    /// Registration endpoint.
    pub const REGISTER: &str = "/oauth/register";
    /// Revocation endpoint.
    pub const REVOKE: &str = "/oauth/revoke";
    /// Where Salesforce sends the user back.
    pub const SALESFORCE_CALLBACK: &str = "/oauth/salesforce/callback";
    /// RFC 8414 metadata.
    pub const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// RFC 9728 metadata (root form).
    pub const PROTECTED_RESOURCE_METADATA: &str = "/.well-known/oauth-protected-resource";
}

impl McpAuthConfig {
    /// The protected-resource metadata document.
    pub fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: self.resource(),
            authorization_servers: vec![self.issuer()],
            scopes_supported: self.scopes_supported.clone(),
            bearer_methods_supported: vec!["header".into()],
        }
    }

    /// The authorization-server metadata document.
    pub fn authorization_server_metadata(&self) -> AuthorizationServerMetadata {
        let auth_methods: Vec<String> = ["none", "client_secret_post", "client_secret_basic"]
            .map(String::from)
            .to_vec();
        AuthorizationServerMetadata {
            issuer: self.issuer(),
            authorization_endpoint: self.endpoint(paths::AUTHORIZE),
            token_endpoint: self.endpoint(paths::TOKEN),
            registration_endpoint: self.endpoint(paths::REGISTER),
            revocation_endpoint: self.endpoint(paths::REVOKE),
            scopes_supported: self.scopes_supported.clone(),
            response_types_supported: vec!["code".into()],
            grant_types_supported: vec!["authorization_code".into(), "refresh_token".into()],
            code_challenge_methods_supported: vec![crate::pkce::S256.into()],
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            client_id_metadata_document_supported: self.client_id_metadata_document_supported,
            authorization_response_iss_parameter_supported: true,
        }
    }

    /// The paths the protected-resource metadata is served at: the root form and, when the MCP
    /// endpoint has a path, the path-inserted form (RFC 9728 §3.1).
    pub fn protected_resource_metadata_paths(&self) -> Vec<String> {
        let mut out = vec![paths::PROTECTED_RESOURCE_METADATA.to_owned()];
        let path = self.resource_path();
        if !path.is_empty() {
            out.insert(0, format!("{}{path}", paths::PROTECTED_RESOURCE_METADATA));
        }
        out
    }

    /// The absolute URL named in `WWW-Authenticate: Bearer resource_metadata="…"`.
    pub fn resource_metadata_url(&self) -> String {
        let origin = self.resource.origin().ascii_serialization();
        format!(
            "{origin}{}{}",
            paths::PROTECTED_RESOURCE_METADATA,
            self.resource_path()
        )
    }

    fn resource_path(&self) -> String {
        self.resource.path().trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn config() -> McpAuthConfig {
        McpAuthConfig::new("https://mcp.example.com", "https://mcp.example.com/mcp").unwrap()
    }

    #[test]
    fn authorization_server_metadata_snapshot() {
        let json = serde_json::to_string_pretty(&config().authorization_server_metadata()).unwrap();
        expect![[r#"
            {
              "issuer": "https://mcp.example.com",
              "authorization_endpoint": "https://mcp.example.com/oauth/authorize",
              "token_endpoint": "https://mcp.example.com/oauth/token",
              "registration_endpoint": "https://mcp.example.com/oauth/register",
              "revocation_endpoint": "https://mcp.example.com/oauth/revoke",
              "scopes_supported": [
                "mcp"
              ],
              "response_types_supported": [
                "code"
              ],
              "grant_types_supported": [
                "authorization_code",
                "refresh_token"
              ],
              "code_challenge_methods_supported": [
                "S256"
              ],
              "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_post",
                "client_secret_basic"
              ],
              "revocation_endpoint_auth_methods_supported": [
                "none",
                "client_secret_post",
                "client_secret_basic"
              ],
              "client_id_metadata_document_supported": true,
              "authorization_response_iss_parameter_supported": true
            }"#]]
        .assert_eq(&json);
    }

    #[test]
    fn protected_resource_metadata_snapshot() {
        let config = config();
        let json = serde_json::to_string_pretty(&config.protected_resource_metadata()).unwrap();
        expect![[r#"
            {
              "resource": "https://mcp.example.com/mcp",
              "authorization_servers": [
                "https://mcp.example.com"
              ],
              "scopes_supported": [
                "mcp"
              ],
              "bearer_methods_supported": [
                "header"
              ]
            }"#]]
        .assert_eq(&json);
        assert_eq!(
            config.resource_metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            config.protected_resource_metadata_paths(),
            [
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-protected-resource"
            ]
        );
    }
}
