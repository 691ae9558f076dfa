//! Dynamic Client Registration (RFC 7591): validation of the client's metadata and the registry
//! entry. Redirect URIs must be `https`, or `http` on a loopback host; they are matched exactly
//! later. A confidential client's secret is returned once and stored only as a hash.
//!
//! Registration is unauthenticated, so it is bounded ([`RegistrationLimits`]): sizes of the
//! metadata, a fixed-window rate limit per source address and overall (answered `429
//! temporarily_unavailable`), and an idle TTL after which an unused client is forgotten.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use url::Url;

use super::GrantStore;
use crate::random::{random_token, sha256_hex};
use crate::secret::{ClientSecret, ct_eq_str};
use crate::{Error, OAuthErrorCode, Result};

/// The largest registration body accepted.
pub const MAX_REGISTRATION_BODY: usize = 16 * 1024;
const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_LEN: usize = 2048;
const MAX_NAME_LEN: usize = 200;

/// Bounds on what unauthenticated callers can make us store: registered clients and pending
/// consent records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationLimits {
    /// Most redirect URIs per client.
    pub max_redirect_uris: usize,
    /// Longest redirect URI, bytes.
    pub max_redirect_uri_len: usize,
    /// Longest `client_name`, bytes.
    pub max_client_name_len: usize,
    /// A registered client not used (authorize, token, revoke) for this long is forgotten.
    pub client_idle_ttl: Duration,
    /// The rate-limit window.
    pub window: Duration,
    /// Registrations per window, all sources together (this bounds the number of unused
    /// clients to about `registrations_per_window × client_idle_ttl / window`).
    pub registrations_per_window: u64,
    /// Registrations per window from one source address.
    pub registrations_per_source: u64,
    /// Registrations per `client_idle_ttl` (a second, long fixed window): the store-wide cap,
    /// since a client lives at least that long. At most about twice this many clients that were
    /// never used can exist at once.
    pub registrations_per_idle_ttl: u64,
    /// Consent pages (each a pending record of [`crate::store::FLOW_TTL`]) per window, all
    /// sources together.
    pub consents_per_window: u64,
    /// Consent pages per window from one source address.
    pub consents_per_source: u64,
}

impl Default for RegistrationLimits {
    fn default() -> Self {
        Self {
            max_redirect_uris: MAX_REDIRECT_URIS,
            max_redirect_uri_len: MAX_URI_LEN,
            max_client_name_len: MAX_NAME_LEN,
            client_idle_ttl: DEFAULT_CLIENT_IDLE_TTL,
            window: Duration::from_secs(60 * 60),
            registrations_per_window: 1_000,
            registrations_per_source: 20,
            registrations_per_idle_ttl: 100_000,
            consents_per_window: 10_000,
            consents_per_source: 200,
        }
    }
}

/// How long an unused registered client is kept by default.
pub const DEFAULT_CLIENT_IDLE_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Counts one event of `kind` from `source` (and overall) in the current window; refuses with
/// `temporarily_unavailable` once either count is over its limit.
pub async fn check_rate(
    store: &dyn GrantStore,
    kind: &str,
    source: Option<IpAddr>,
    window: Duration,
    overall_limit: u64,
    per_source_limit: u64,
) -> Result<()> {
    let busy = || {
        Error::oauth(
            OAuthErrorCode::TemporarilyUnavailable,
            "too many requests; try again later",
        )
    };
    if let Some(source) = source {
        let key = format!("mcp:rate:{kind}:{}", sha256_hex(&source.to_string()));
        if store.increment_counter(&key, window).await? > per_source_limit {
            return Err(busy());
        }
    }
    if store
        .increment_counter(&format!("mcp:rate:{kind}:all"), window)
        .await?
        > overall_limit
    {
        return Err(busy());
    }
    Ok(())
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// Public client (PKCE only): what MCP clients usually are.
    None,
    /// `client_secret` in the form body.
    ClientSecretPost,
    /// HTTP Basic.
    ClientSecretBasic,
}

/// A registration request (the fields we act on; others are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct ClientRegistrationRequest {
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Display name.
    #[serde(default)]
    pub client_name: Option<String>,
    /// Requested auth method (default `client_secret_basic` per RFC 7591; we default to `none`
    /// for clients that send no preference, as MCP clients are public).
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// Grant types.
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Response types.
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredClient {
    /// Our random client id.
    pub client_id: String,
    /// Display name.
    pub client_name: Option<String>,
    /// Registered redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Auth method at the token endpoint.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// SHA-256 of the client secret, for confidential clients.
    pub secret_hash: Option<String>,
    /// Registered grant types.
    pub grant_types: Vec<String>,
    /// When it registered, epoch seconds.
    pub client_id_issued_at: u64,
}

impl RegisteredClient {
    /// Whether `redirect_uri` is one of the registered ones, character for character.
    pub fn has_redirect_uri(&self, redirect_uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == redirect_uri)
    }

    /// Checks the client's credentials at the token endpoint.
    pub fn authenticate(&self, secret: Option<&ClientSecret>) -> Result<()> {
        let invalid = || {
            Error::oauth(
                OAuthErrorCode::InvalidClient,
                "client authentication failed",
            )
        };
        match (&self.secret_hash, secret) {
            (None, None) => Ok(()),
            (Some(hash), Some(secret)) if ct_eq_str(hash, &sha256_hex(secret.secret())) => Ok(()),
            _ => Err(invalid()),
        }
    }
}

/// The registration response (RFC 7591 §3.2.1).
#[derive(Debug, Clone, Serialize)]
pub struct ClientRegistrationResponse {
    /// The client id.
    pub client_id: String,
    /// The client secret, shown once (confidential clients only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_optional_secret"
    )]
    pub client_secret: Option<ClientSecret>,
    /// Issue time, epoch seconds.
    pub client_id_issued_at: u64,
    /// `0`: the secret does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Auth method.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Response types.
    pub response_types: Vec<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

fn expose_optional_secret<S: Serializer>(
    secret: &Option<ClientSecret>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.secret()),
        None => serializer.serialize_none(),
    }
}

fn invalid_metadata(description: &'static str) -> Error {
    Error::oauth(OAuthErrorCode::InvalidClientMetadata, description)
}

/// Validates one redirect URI: absolute, `https` or loopback `http`, no fragment, no userinfo.
pub fn validate_redirect_uri(uri: &str) -> Result<()> {
    let invalid = |d| Error::oauth(OAuthErrorCode::InvalidRedirectUri, d);
    if uri.len() > MAX_URI_LEN {
        return Err(invalid("redirect URI too long"));
    }
    let url = Url::parse(uri).map_err(|_| invalid("redirect URI is not an absolute URL"))?;
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => crate::salesforce::is_loopback(&url),
        _ => false,
    };
    if !scheme_ok || url.host().is_none() {
        return Err(invalid(
            "redirect URI must be https, or http on a loopback host",
        ));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "redirect URI must not have a fragment or user info",
        ));
    }
    Ok(())
}

/// Validates a registration request body and registers the client, with the default
/// [`RegistrationLimits`] and no source address (only the overall rate limit applies).
pub async fn register_client(
    store: &dyn GrantStore,
    body: &[u8],
) -> Result<ClientRegistrationResponse> {
    register_client_limited(store, &RegistrationLimits::default(), None, body).await
}

/// Validates a registration request body against `limits` and registers the client; `source`
/// is the caller's address for the per-source rate limit.
pub async fn register_client_limited(
    store: &dyn GrantStore,
    limits: &RegistrationLimits,
    source: Option<IpAddr>,
    body: &[u8],
) -> Result<ClientRegistrationResponse> {
    if body.len() > MAX_REGISTRATION_BODY {
        return Err(invalid_metadata("registration request too large"));
    }
    let request: ClientRegistrationRequest = serde_json::from_slice(body)
        .map_err(|_| invalid_metadata("registration request is not valid JSON metadata"))?;
    if request.redirect_uris.is_empty() || request.redirect_uris.len() > limits.max_redirect_uris {
        return Err(Error::oauth(
            OAuthErrorCode::InvalidRedirectUri,
            "too few or too many redirect URIs",
        ));
    }
    for uri in &request.redirect_uris {
        if uri.len() > limits.max_redirect_uri_len {
            return Err(Error::oauth(
                OAuthErrorCode::InvalidRedirectUri,
                "redirect URI too long",
            ));
        }
        validate_redirect_uri(uri)?;
    }
    if request
        .client_name
        .as_ref()
        .is_some_and(|n| n.len() > limits.max_client_name_len || n.chars().any(char::is_control))
    {
        return Err(invalid_metadata("client_name too long or not printable"));
    }
    let method = match request.token_endpoint_auth_method.as_deref() {
        None | Some("none") => TokenEndpointAuthMethod::None,
        Some("client_secret_post") => TokenEndpointAuthMethod::ClientSecretPost,
        Some("client_secret_basic") => TokenEndpointAuthMethod::ClientSecretBasic,
        Some(_) => return Err(invalid_metadata("unsupported token_endpoint_auth_method")),
    };
    let grant_types = request
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    if grant_types.is_empty()
        || !grant_types
            .iter()
            .all(|g| g == "authorization_code" || g == "refresh_token")
    {
        return Err(invalid_metadata(
            "only authorization_code and refresh_token grants are supported",
        ));
    }
    let response_types = request
        .response_types
        .unwrap_or_else(|| vec!["code".into()]);
    if response_types != ["code"] {
        return Err(invalid_metadata("only the code response type is supported"));
    }
    // Counted only for well-formed requests, so a client fixing its metadata is not locked out.
    check_rate(
        store,
        "register",
        source,
        limits.window,
        limits.registrations_per_window,
        limits.registrations_per_source,
    )
    .await?;
    if store
        .increment_counter("mcp:rate:register:store", limits.client_idle_ttl)
        .await?
        > limits.registrations_per_idle_ttl
    {
        return Err(Error::oauth(
            OAuthErrorCode::TemporarilyUnavailable,
            "the client registry is full; try again later",
        ));
    }
    let secret =
        (method != TokenEndpointAuthMethod::None).then(|| ClientSecret::new(random_token()));
    let issued_at = store.now_ms() / 1000;
    let client = RegisteredClient {
        client_id: random_token(),
        client_name: request.client_name,
        redirect_uris: request.redirect_uris,
        token_endpoint_auth_method: method,
        secret_hash: secret.as_ref().map(|s| sha256_hex(s.secret())),
        grant_types,
        client_id_issued_at: issued_at,
    };
    store.touch_client(&client, limits.client_idle_ttl).await?;
    Ok(ClientRegistrationResponse {
        client_id: client.client_id,
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_secret: secret,
        client_id_issued_at: issued_at,
        redirect_uris: client.redirect_uris,
        token_endpoint_auth_method: method,
        grant_types: client.grant_types,
        response_types,
        client_name: client.client_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        for ok in [
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "http://127.0.0.1:33418/callback",
            "http://localhost:6274/oauth/callback",
            "http://[::1]:8080/cb",
        ] {
            assert!(validate_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/callback",
            "javascript:alert(1)",
            "https://example.com/cb#frag",
            "https://user:pw@example.com/cb",
            "/relative",
            "custom-scheme://cb",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}
