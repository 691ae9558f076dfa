//! The MCP side: we are the resource server the MCP client calls and a broker authorization
//! server in front of Salesforce. Metadata documents, client registration, our own codes and
//! tokens (opaque, stored only as SHA-256 hashes), the token endpoint logic and the bearer layer.
//!
//! Everything here is plain async functions over [`GrantStore`]; the server mounts the routes.

pub mod authorize;
pub mod bearer;
pub mod client_metadata;
pub mod grants;
pub mod metadata;
pub mod registration;
pub mod routes;
pub mod token;

use std::time::Duration;

use url::Url;

use crate::{Error, Result};

pub use client_metadata::ClientMetadataFetcher;
pub use grants::{GrantKind, GrantRecord, GrantStore, PendingConsent};
use registration::RegisteredClient;

/// Configuration of our authorization server and protected resource.
#[derive(Debug, Clone)]
pub struct McpAuthConfig {
    issuer: Url,
    resource: Url,
    /// Scopes we advertise and grant.
    pub scopes_supported: Vec<String>,
    /// Scopes every MCP request needs (checked by the bearer layer).
    pub required_scopes: Vec<String>,
    /// Lifetime of our access tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of our refresh tokens.
    pub refresh_token_ttl: Duration,
    /// Lifetime of our authorization codes.
    pub code_ttl: Duration,
    /// Whether to accept (and advertise) Client ID Metadata Documents: a `client_id` that is an
    /// https URL is resolved through [`Self::client_metadata`]. On by default.
    pub client_id_metadata_document_supported: bool,
    /// Fetches and caches client metadata documents (public https hosts only by default; tests
    /// inject their own [`client_metadata::DocumentFetcher`]).
    pub client_metadata: ClientMetadataFetcher,
    /// Bounds on registration and consent records.
    pub limits: registration::RegistrationLimits,
}

impl McpAuthConfig {
    /// `issuer`: our origin, e.g. `https://mcp.example.com`; `resource`: the canonical URL of the
    /// MCP endpoint, e.g. `https://mcp.example.com/mcp`. Both https (http only on loopback), no
    /// query or fragment.
    pub fn new(issuer: &str, resource: &str) -> Result<Self> {
        let issuer = canonical_url(issuer)
            .ok_or_else(|| Error::Config("issuer must be an https URL".into()))?;
        let resource = canonical_url(resource)
            .ok_or_else(|| Error::Config("resource must be an https URL".into()))?;
        Ok(Self {
            issuer,
            resource,
            scopes_supported: vec!["mcp".into()],
            required_scopes: vec!["mcp".into()],
            access_token_ttl: Duration::from_secs(60 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            code_ttl: Duration::from_secs(5 * 60),
            client_id_metadata_document_supported: true,
            client_metadata: ClientMetadataFetcher::default(),
            limits: registration::RegistrationLimits::default(),
        })
    }

    /// The issuer, without a trailing slash (RFC 8414 compares it exactly).
    pub fn issuer(&self) -> String {
        self.issuer.as_str().trim_end_matches('/').to_owned()
    }

    /// The canonical resource URL (without a trailing slash on an empty path).
    pub fn resource(&self) -> String {
        canonical_string(&self.resource)
    }

    /// Whether `candidate` names our resource (scheme and host case-insensitively).
    pub fn is_our_resource(&self, candidate: &str) -> bool {
        canonical_url(candidate).is_some_and(|url| canonical_string(&url) == self.resource())
    }

    /// `{issuer}{path}`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }
}

/// The client named `client_id`: with Client ID Metadata Documents on, an `https://` id is
/// resolved from its document (errors are `invalid_client`); any other id is looked up among
/// registered clients. `None`: no such registered client.
pub async fn lookup_client(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    client_id: &str,
) -> Result<Option<RegisteredClient>> {
    if config.client_id_metadata_document_supported && client_id.starts_with("https://") {
        return config.client_metadata.client(client_id).await.map(Some);
    }
    let client = store.get_client(client_id).await?;
    if let Some(client) = &client {
        store
            .touch_client(client, config.limits.client_idle_ttl)
            .await?;
    }
    Ok(client)
}

/// Parses an https (or loopback http) URL without fragment or query.
fn canonical_url(value: &str) -> Option<Url> {
    let url = Url::parse(value).ok()?;
    let scheme_ok =
        url.scheme() == "https" || (url.scheme() == "http" && crate::salesforce::is_loopback(&url));
    (scheme_ok
        && url.host().is_some()
        && url.fragment().is_none()
        && url.query().is_none()
        && url.username().is_empty()
        && url.password().is_none())
    .then_some(url)
}

fn canonical_string(url: &Url) -> String {
    let s = url.as_str();
    if url.path() == "/" {
        s.trim_end_matches('/').to_owned()
    } else {
        s.to_owned()
    }
}

/// Whether every scope in `requested` is in `allowed`.
pub(crate) fn scopes_within(requested: &[String], allowed: &[String]) -> bool {
    requested.iter().all(|s| allowed.contains(s))
}

/// Splits a space-separated scope string, bounded.
pub(crate) fn parse_scopes(scope: Option<&str>) -> Result<Vec<String>> {
    let Some(scope) = scope else {
        return Ok(Vec::new());
    };
    let scopes: Vec<String> = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.len() > 32 || scopes.iter().any(|s| s.len() > 128) {
        return Err(Error::oauth(
            crate::OAuthErrorCode::InvalidScope,
            "too many or too long scopes",
        ));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_comparison_is_canonical() {
        let config =
            McpAuthConfig::new("https://mcp.example.com", "https://mcp.example.com/mcp").unwrap();
        assert!(config.is_our_resource("https://mcp.example.com/mcp"));
        assert!(config.is_our_resource("HTTPS://MCP.example.com/mcp"));
        assert!(!config.is_our_resource("https://mcp.example.com/mcp/"));
        assert!(!config.is_our_resource("https://mcp.example.com/mcq"));
        assert!(!config.is_our_resource("https://other.example.com/mcp"));
        assert!(!config.is_our_resource("https://mcp.example.com/mcp#x"));
        let root =
            McpAuthConfig::new("https://mcp.example.com/", "https://mcp.example.com/").unwrap();
        assert_eq!(root.resource(), "https://mcp.example.com");
        assert_eq!(root.issuer(), "https://mcp.example.com");
        assert!(root.is_our_resource("https://mcp.example.com"));
        assert!(
            McpAuthConfig::new("http://mcp.example.com", "https://mcp.example.com/mcp").is_err()
        );
        assert!(McpAuthConfig::new("http://127.0.0.1:8080", "http://127.0.0.1:8080/mcp").is_ok());
    }
}
