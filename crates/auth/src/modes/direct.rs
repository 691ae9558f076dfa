//! Mode `direct`: the MCP client's callback URL is registered in the Salesforce connected app,
//! so the client runs OAuth with Salesforce itself and presents Salesforce access tokens to us.
//!
//! - The protected-resource metadata ([`DirectConfig::protected_resource_metadata`]) names the
//!   Salesforce login host as the authorization server.
//! - [`DirectValidator`] checks a presented token at Salesforce's `userinfo` endpoint and caches
//!   the answer briefly, keyed by the token's SHA-256 (the token itself is never kept as a key
//!   and never logged). A token for another org than the configured one is refused.
//! - [`DirectBearerLayer`] attaches the [`SalesforcePrincipal`] (user, org, instance URL and the
//!   presented token) to the request, or answers 401/400 like the broker's bearer layer.
//!
//! In this mode the Salesforce token the client presents is the one used for the Salesforce
//! calls made on its behalf: that is the deployment's explicit choice, made by registering the
//! client directly at Salesforce. Tokens issued by our own authorization server (broker mode)
//! are never passed through to Salesforce; this mode does not issue any.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, StatusCode};
use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::mcp_auth::bearer::{
    Bearer, BearerLayer, BearerRejection, TokenValidator, challenge_for, extract_bearer_allowing,
};
use crate::mcp_auth::metadata::{ProtectedResourceMetadata, paths};
use crate::random::sha256_hex;
use crate::salesforce::SalesforceOAuthClient;
use crate::secret::AccessToken;
use crate::{Error, Result};

/// The most validations kept in the cache; beyond it new ones are not cached.
const MAX_CACHED: usize = 10_000;

/// Configuration of mode `direct`.
#[derive(Debug, Clone)]
pub struct DirectConfig {
    resource: Url,
    /// The Salesforce login host clients authorize at (the authorization server we name).
    pub authorization_server: String,
    /// Where `userinfo` is asked and Salesforce API calls go (`https://acme.my.salesforce.com`).
    pub instance_url: String,
    /// When set, only tokens of this org (15 or 18 characters) are accepted.
    pub org_id: Option<String>,
    /// How long a successful validation is trusted before asking Salesforce again. Keep it
    /// short: a revoked Salesforce token stays accepted here at most this long.
    pub cache_ttl: Duration,
}

impl DirectConfig {
    /// `resource`: our MCP endpoint URL; `authorization_server`: the Salesforce login host;
    /// `instance_url`: the org's instance.
    pub fn new(resource: &str, authorization_server: &str, instance_url: &str) -> Result<Self> {
        let resource = Url::parse(resource)
            .ok()
            .filter(|u| {
                (u.scheme() == "https" || crate::salesforce::is_loopback(u))
                    && u.query().is_none()
                    && u.fragment().is_none()
            })
            .ok_or_else(|| Error::Config("resource must be an https URL".into()))?;
        for (what, url) in [
            ("authorization server", authorization_server),
            ("instance URL", instance_url),
        ] {
            let parsed =
                Url::parse(url).map_err(|_| Error::Config(format!("{what} is not a URL")))?;
            crate::salesforce::check_base_url(&parsed, "direct-mode Salesforce URL")?;
        }
        Ok(Self {
            resource,
            authorization_server: authorization_server.trim_end_matches('/').to_owned(),
            instance_url: instance_url.trim_end_matches('/').to_owned(),
            org_id: None,
            cache_ttl: Duration::from_secs(60),
        })
    }

    /// The canonical resource URL.
    pub fn resource(&self) -> String {
        let s = self.resource.as_str();
        if self.resource.path() == "/" {
            s.trim_end_matches('/').to_owned()
        } else {
            s.to_owned()
        }
    }

    /// RFC 9728 metadata naming Salesforce as the authorization server.
    pub fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: self.resource(),
            authorization_servers: vec![self.authorization_server.clone()],
            scopes_supported: vec!["api".into(), "refresh_token".into()],
            bearer_methods_supported: vec!["header".into()],
        }
    }

    /// The paths the metadata is served at (root and path-inserted forms).
    pub fn protected_resource_metadata_paths(&self) -> Vec<String> {
        let path = self.resource.path().trim_end_matches('/');
        let mut out = vec![paths::PROTECTED_RESOURCE_METADATA.to_owned()];
        if !path.is_empty() {
            out.insert(0, format!("{}{path}", paths::PROTECTED_RESOURCE_METADATA));
        }
        out
    }

    /// The URL named in `WWW-Authenticate: Bearer resource_metadata="…"`.
    pub fn resource_metadata_url(&self) -> String {
        format!(
            "{}{}{}",
            self.resource.origin().ascii_serialization(),
            paths::PROTECTED_RESOURCE_METADATA,
            self.resource.path().trim_end_matches('/')
        )
    }
}

/// A caller validated at Salesforce, attached to the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesforcePrincipal {
    /// `sf:<user id>`, the same principal a broker-mode login of this user gets.
    pub principal: String,
    /// The user id.
    pub user_id: String,
    /// The org id.
    pub org_id: String,
    /// The username.
    pub username: String,
    /// Where Salesforce API calls go.
    pub instance_url: String,
    /// The presented Salesforce token, used for this caller's Salesforce calls (see the module
    /// documentation). Prints `[redacted]`.
    pub access_token: AccessToken,
}

#[derive(Clone)]
struct Cached {
    user_id: String,
    org_id: String,
    username: String,
    until_ms: u64,
}

/// Validates Salesforce access tokens at `userinfo`, with a short cache. Cheap to clone.
#[derive(Clone)]
pub struct DirectValidator {
    salesforce: SalesforceOAuthClient,
    config: Arc<DirectConfig>,
    clock: Arc<dyn Clock>,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl std::fmt::Debug for DirectValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectValidator")
            .field("resource", &self.config.resource())
            .finish_non_exhaustive()
    }
}

impl DirectValidator {
    /// A validator asking Salesforce through `salesforce` (its HTTP client and timeouts).
    pub fn new(salesforce: SalesforceOAuthClient, config: Arc<DirectConfig>) -> Self {
        Self::with_clock(salesforce, config, Arc::new(SystemClock))
    }

    /// Like [`new`](Self::new) on another clock (tests of the cache lifetime).
    pub fn with_clock(
        salesforce: SalesforceOAuthClient,
        config: Arc<DirectConfig>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            salesforce,
            config,
            clock,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DirectConfig {
        &self.config
    }

    /// Validates `token`: from the cache while fresh, otherwise at Salesforce.
    pub async fn validate_token(
        &self,
        token: &str,
    ) -> std::result::Result<SalesforcePrincipal, BearerRejection> {
        let hash = sha256_hex(token);
        let now = self.clock.now_ms();
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|cache| cache.get(&hash).filter(|c| c.until_ms > now).cloned());
        let validated = match cached {
            Some(hit) => hit,
            None => self.ask_salesforce(token, hash, now).await?,
        };
        Ok(SalesforcePrincipal {
            principal: format!("sf:{}", validated.user_id),
            user_id: validated.user_id,
            org_id: validated.org_id,
            username: validated.username,
            instance_url: self.config.instance_url.clone(),
            access_token: AccessToken::new(token),
        })
    }

    async fn ask_salesforce(
        &self,
        token: &str,
        hash: String,
        now: u64,
    ) -> std::result::Result<Cached, BearerRejection> {
        let info = match self
            .salesforce
            .userinfo(&self.config.instance_url, &AccessToken::new(token))
            .await
        {
            Ok(info) => info,
            Err(Error::Salesforce { .. }) => {
                return Err(BearerRejection::InvalidToken(
                    "Salesforce does not accept this token",
                ));
            }
            Err(error) => {
                tracing::warn!(%error, "could not validate a bearer token at Salesforce");
                return Err(BearerRejection::Unavailable);
            }
        };
        if let Some(expected) = &self.config.org_id
            && !same_org(expected, &info.organization_id)
        {
            return Err(BearerRejection::InvalidToken(
                "token was issued for another org",
            ));
        }
        let validated = Cached {
            user_id: info.user_id,
            org_id: info.organization_id,
            username: info.preferred_username,
            until_ms: now.saturating_add(
                u64::try_from(self.config.cache_ttl.as_millis()).unwrap_or(u64::MAX),
            ),
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, c| c.until_ms > now);
            }
            if cache.len() < MAX_CACHED {
                cache.insert(hash, validated.clone());
            }
        }
        Ok(validated)
    }

    /// The status and `WWW-Authenticate` value answering `rejection`.
    pub fn challenge(&self, rejection: BearerRejection) -> (StatusCode, String) {
        challenge_for(rejection, &self.config.resource_metadata_url(), &[])
    }
}

/// Org ids compare on their case-sensitive 15-character form.
fn same_org(a: &str, b: &str) -> bool {
    let short = |s: &str| s.get(..15).map(str::to_owned);
    matches!((short(a), short(b)), (Some(x), Some(y)) if x == y)
}

impl TokenValidator for DirectValidator {
    type Principal = SalesforcePrincipal;

    /// Salesforce access tokens (`00D…!AQ…`) carry a `!`.
    fn token<B>(&self, request: &Request<B>) -> std::result::Result<String, BearerRejection> {
        extract_bearer_allowing(request, b"!")
    }

    fn principal(
        &self,
        token: &str,
    ) -> impl Future<Output = std::result::Result<SalesforcePrincipal, BearerRejection>> + Send
    {
        self.validate_token(token)
    }

    fn answer(&self, rejection: BearerRejection) -> (StatusCode, String) {
        self.challenge(rejection)
    }
}

/// The tower layer of mode `direct`.
pub type DirectBearerLayer = BearerLayer<DirectValidator>;

/// The service made by [`DirectBearerLayer`].
pub type DirectBearer<S> = Bearer<S, DirectValidator>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_salesforce() {
        let config = DirectConfig::new(
            "https://mcp.example.com/mcp",
            "https://login.salesforce.com",
            "https://acme.my.salesforce.com",
        )
        .unwrap();
        let metadata = config.protected_resource_metadata();
        assert_eq!(metadata.resource, "https://mcp.example.com/mcp");
        assert_eq!(
            metadata.authorization_servers,
            vec!["https://login.salesforce.com".to_owned()]
        );
        assert_eq!(
            config.resource_metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert!(
            DirectConfig::new(
                "https://mcp.example.com/mcp",
                "http://login.salesforce.com",
                "https://acme.my.salesforce.com"
            )
            .is_err()
        );
    }

    #[test]
    fn orgs_compare_on_the_short_form() {
        assert!(same_org("00D000000000001EAA", "00D000000000001"));
        assert!(!same_org("00D000000000002EAA", "00D000000000001"));
        assert!(!same_org("00D", "00D"));
    }
}
