//! The HTTP calls to Salesforce's OAuth endpoints over a reqwest client that uses rustls, never
//! follows redirects (a redirect from a token endpoint is an error, not something to chase with
//! our secrets), times out, and reads at most [`MAX_BODY`] bytes of any answer.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use url::Url;

use super::{SalesforceOAuthConfig, SalesforceTokens, parse_error_body, parse_token_response};
use crate::pkce::PkceChallenge;
use crate::secret::{AccessToken, AuthorizationCode, OAuthState, PkceVerifier, RefreshToken};
use crate::{Error, Result};

/// The largest response body we read.
pub const MAX_BODY: usize = 64 * 1024;

/// `/services/oauth2/userinfo`, the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    /// The identity URL.
    pub sub: String,
    /// The user id.
    pub user_id: String,
    /// The org id.
    pub organization_id: String,
    /// The username.
    #[serde(default)]
    pub preferred_username: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Email address.
    #[serde(default)]
    pub email: String,
}

/// `/services/oauth2/introspect`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Introspection {
    /// Whether the token is live.
    pub active: bool,
    /// Scopes.
    #[serde(default)]
    pub scope: Option<String>,
    /// The consumer key it was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The username.
    #[serde(default)]
    pub username: Option<String>,
    /// The identity URL.
    #[serde(default)]
    pub sub: Option<String>,
    /// Expiry, epoch seconds.
    #[serde(default)]
    pub exp: Option<u64>,
    /// Issue time, epoch seconds.
    #[serde(default)]
    pub iat: Option<u64>,
}

/// The Salesforce OAuth client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SalesforceOAuthClient {
    http: reqwest::Client,
    config: Arc<SalesforceOAuthConfig>,
}

impl SalesforceOAuthClient {
    /// A client for `config` (rustls, no redirects, the configured timeout).
    pub fn new(config: SalesforceOAuthConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("sfmcp-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SalesforceOAuthConfig {
        &self.config
    }

    /// The authorization URL (see [`SalesforceOAuthConfig::authorization_url`]).
    pub fn authorization_url(&self, state: &OAuthState, challenge: &PkceChallenge) -> Url {
        self.config.authorization_url(state, challenge)
    }

    fn client_auth<'a>(&'a self, form: &mut Vec<(&'static str, &'a str)>) {
        form.push(("client_id", &self.config.client_id));
        if let Some(secret) = &self.config.client_secret {
            form.push(("client_secret", secret.secret()));
        }
    }

    /// Exchanges an authorization code (web-server flow with PKCE).
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<SalesforceTokens> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.secret()),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("code_verifier", verifier.secret()),
        ];
        self.client_auth(&mut form);
        self.token_request(&form).await
    }

    /// Refreshes; with rotation the answer carries a new refresh token and the old one is dead.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<SalesforceTokens> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ];
        self.client_auth(&mut form);
        self.token_request(&form).await
    }

    /// The client-credentials flow (server-to-server integration user). Needs the consumer
    /// secret and a My Domain login host.
    pub async fn client_credentials(&self) -> Result<SalesforceTokens> {
        if self.config.client_secret.is_none() {
            return Err(Error::Config(
                "client credentials flow needs a consumer secret".into(),
            ));
        }
        let mut form = vec![("grant_type", "client_credentials")];
        self.client_auth(&mut form);
        self.token_request(&form).await
    }

    /// Revokes a refresh token (which also kills its access tokens).
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        self.revoke(token.secret()).await
    }

    /// Revokes an access token.
    pub async fn revoke_access_token(&self, token: &AccessToken) -> Result<()> {
        self.revoke(token.secret()).await
    }

    async fn revoke(&self, token: &str) -> Result<()> {
        let url = self.config.login_host.endpoint("revoke");
        let response = self
            .http
            .post(url)
            .form(&[("token", token)])
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status().as_u16();
        let body = read_bounded(response).await?;
        if status == 200 {
            Ok(())
        } else {
            Err(parse_error_body(status, &body))
        }
    }

    /// `GET {instance_url}/services/oauth2/userinfo` with the access token.
    pub async fn userinfo(&self, instance_url: &str, token: &AccessToken) -> Result<UserInfo> {
        let base = Url::parse(instance_url)
            .map_err(|_| Error::InvalidResponse("instance_url is not a URL"))?;
        super::check_base_url(&base, "instance_url")?;
        let response = self
            .http
            .get(super::endpoint_url(&base, "userinfo"))
            .bearer_auth(token.secret())
            .send()
            .await
            .map_err(http_error)?;
        let (status, body) = (response.status().as_u16(), read_bounded(response).await?);
        if status != 200 {
            return Err(parse_error_body(status, &body));
        }
        serde_json::from_slice(&body)
            .map_err(|_| Error::InvalidResponse("userinfo is not the documented JSON"))
    }

    /// Introspects an access token (needs the consumer secret).
    pub async fn introspect(&self, token: &AccessToken) -> Result<Introspection> {
        let mut form = vec![
            ("token", token.secret()),
            ("token_type_hint", "access_token"),
        ];
        self.client_auth(&mut form);
        let response = self
            .http
            .post(self.config.login_host.endpoint("introspect"))
            .form(&form)
            .send()
            .await
            .map_err(http_error)?;
        let (status, body) = (response.status().as_u16(), read_bounded(response).await?);
        if status != 200 {
            return Err(parse_error_body(status, &body));
        }
        serde_json::from_slice(&body)
            .map_err(|_| Error::InvalidResponse("introspection is not the documented JSON"))
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<SalesforceTokens> {
        let response = self
            .http
            .post(self.config.login_host.endpoint("token"))
            .form(form)
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status().as_u16();
        let body = read_bounded(response).await?;
        if status != 200 {
            return Err(parse_error_body(status, &body));
        }
        parse_token_response(&body, self.config.client_secret.as_ref())
    }

    /// This client's refresh as a closure, for [`crate::refresh::TokenManager`]: the refresh
    /// grant, or for a connection without a refresh token the client-credentials flow.
    pub fn refresher(&self) -> crate::refresh::RefreshFn {
        let client = self.clone();
        Arc::new(
            move |token: Option<RefreshToken>| -> BoxFuture<'static, Result<SalesforceTokens>> {
                let client = client.clone();
                Box::pin(async move {
                    match token {
                        Some(token) => client.refresh(&token).await,
                        None => client.client_credentials().await,
                    }
                })
            },
        )
    }
}

fn http_error(error: reqwest::Error) -> Error {
    // reqwest's Display includes the URL, which never carries a secret here (secrets go in
    // bodies and headers), but strip it anyway to be sure.
    Error::Http(error.without_url().to_string())
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY as u64)
    {
        return Err(Error::Http("response body too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::Http("response body too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
