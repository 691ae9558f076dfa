//! The Salesforce OAuth client side: configuration and login hosts, authorization URLs, token
//! response parsing and `signature` verification, error mapping, and the HTTP calls (code
//! exchange, refresh, revoke, userinfo, introspect, client credentials).

mod client;
mod response;

use std::time::Duration;

use url::Url;

use crate::pkce::{PkceChallenge, S256};
use crate::secret::{ClientSecret, OAuthState};
use crate::{Error, Result};

pub use client::{Introspection, SalesforceOAuthClient, UserInfo};
pub use response::{SalesforceTokens, parse_error_body, parse_token_response, verify_signature};

/// Where users log in: production, sandbox orgs, a My Domain, or (for the local sandbox
/// emulator) a loopback `http` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginHost(Url);

impl LoginHost {
    /// `https://login.salesforce.com`.
    pub fn production() -> Self {
        Self(constant_url("https://login.salesforce.com"))
    }

    /// `https://test.salesforce.com` (sandbox orgs).
    pub fn sandbox() -> Self {
        Self(constant_url("https://test.salesforce.com"))
    }

    /// A My Domain or other login base URL: `https`, or `http` only on a loopback host; no
    /// path, query or fragment.
    pub fn parse(base: &str) -> Result<Self> {
        let url = Url::parse(base).map_err(|_| Error::Config("login host is not a URL".into()))?;
        check_base_url(&url, "login host")?;
        Ok(Self(url))
    }

    /// The base URL.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `{base}/services/oauth2/{endpoint}`.
    pub(crate) fn endpoint(&self, endpoint: &str) -> Url {
        endpoint_url(&self.0, endpoint)
    }
}

#[expect(
    clippy::expect_used,
    reason = "only ever called with constant, valid URLs"
)]
fn constant_url(url: &'static str) -> Url {
    Url::parse(url).expect("constant URL parses")
}

pub(crate) fn endpoint_url(base: &Url, endpoint: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("/services/oauth2/{endpoint}"));
    url.set_query(None);
    url
}

/// Whether `url` is acceptable as a Salesforce base URL: https, or http on loopback only.
pub(crate) fn check_base_url(url: &Url, what: &'static str) -> Result<()> {
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    };
    if !scheme_ok || url.host_str().is_none() {
        return Err(Error::Config(format!(
            "{what} must be https (http only on loopback)"
        )));
    }
    if !(url.path().is_empty() || url.path() == "/")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(Error::Config(format!(
            "{what} must not have a path, query or fragment"
        )));
    }
    Ok(())
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Configuration of our connected app at Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceOAuthConfig {
    /// The consumer key.
    pub client_id: String,
    /// The consumer secret, when the connected app requires it; also enables `signature` checks.
    pub client_secret: Option<ClientSecret>,
    /// Our callback URL registered in the connected app.
    pub redirect_uri: Url,
    /// Scopes to ask for (`api refresh_token` by default).
    pub scopes: Vec<String>,
    /// Where users log in.
    pub login_host: LoginHost,
    /// Salesforce does not say when an access token expires: the session timeout configured
    /// for the org, used with `issued_at`.
    pub access_token_lifetime: Duration,
    /// Timeout of each HTTP call.
    pub timeout: Duration,
}

impl SalesforceOAuthConfig {
    /// A configuration with the defaults: production login, scopes `api refresh_token`,
    /// a 2-hour token lifetime (Salesforce's default session timeout), 30-second timeouts.
    pub fn new(client_id: impl Into<String>, redirect_uri: Url) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri,
            scopes: vec!["api".into(), "refresh_token".into()],
            login_host: LoginHost::production(),
            access_token_lifetime: Duration::from_secs(2 * 60 * 60),
            timeout: Duration::from_secs(30),
        }
    }

    /// The URL to send the user to: `response_type=code`, `client_id`, `redirect_uri`, `scope`,
    /// `state`, `code_challenge` and `code_challenge_method=S256`.
    pub fn authorization_url(&self, state: &OAuthState, challenge: &PkceChallenge) -> Url {
        let mut url = self.login_host.endpoint("authorize");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", state.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", S256);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::PkceVerifier;

    fn config(host: LoginHost) -> SalesforceOAuthConfig {
        let mut config = SalesforceOAuthConfig::new(
            "3MVG9key",
            Url::parse("https://mcp.example.com/oauth/salesforce/callback").unwrap(),
        );
        config.login_host = host;
        config
    }

    #[test]
    fn authorization_url_for_each_host() {
        let state = OAuthState::new("st4te");
        let challenge = PkceChallenge::from_verifier(&PkceVerifier::new(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ));
        let expected_query = "response_type=code&client_id=3MVG9key&redirect_uri=https%3A%2F%2Fmcp.example.com%2Foauth%2Fsalesforce%2Fcallback&scope=api+refresh_token&state=st4te&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
        for (host, base) in [
            (LoginHost::production(), "https://login.salesforce.com"),
            (LoginHost::sandbox(), "https://test.salesforce.com"),
            (
                LoginHost::parse("https://acme.my.salesforce.com").unwrap(),
                "https://acme.my.salesforce.com",
            ),
        ] {
            let url = config(host).authorization_url(&state, &challenge);
            assert_eq!(
                url.as_str(),
                format!("{base}/services/oauth2/authorize?{expected_query}")
            );
        }
    }

    #[test]
    fn login_hosts_are_validated() {
        assert!(LoginHost::parse("http://acme.my.salesforce.com").is_err());
        assert!(LoginHost::parse("https://acme.my.salesforce.com/path").is_err());
        assert!(LoginHost::parse("https://acme.my.salesforce.com/?q=1").is_err());
        assert!(LoginHost::parse("ftp://acme.my.salesforce.com").is_err());
        assert!(LoginHost::parse("http://127.0.0.1:8080").is_ok());
        assert!(LoginHost::parse("http://localhost:8080/").is_ok());
    }
}
