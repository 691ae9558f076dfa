//! [`ClientCredentialsAccess`]: `salesforce-api`'s [`AccessProvider`] for the worker's
//! integration user, getting tokens with `auth`'s client-credentials flow (no OAuth code here)
//! and fetching a new one once when Salesforce refuses the current one.

use std::sync::Arc;

use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::ClientSecret;
use futures::future::BoxFuture;
use salesforce_api::{Access, AccessProvider, Error};
use secrecy::SecretString;
use tokio::sync::Mutex;

/// The connected app's OAuth client at `login_url`.
fn oauth_client(
    login_url: &str,
    client_id: &str,
    client_secret: &str,
) -> anyhow::Result<SalesforceOAuthClient> {
    // The redirect URI is part of the config but never used by the flows the worker runs.
    let unused = url::Url::parse("http://127.0.0.1/unused")?;
    let mut config = SalesforceOAuthConfig::new(client_id, unused);
    config.client_secret = Some(ClientSecret::new(client_secret));
    config.login_host = LoginHost::parse(login_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    SalesforceOAuthClient::new(config).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Access as the connected app's integration user.
pub struct ClientCredentialsAccess {
    oauth: SalesforceOAuthClient,
    current: Mutex<Option<Access>>,
}

impl std::fmt::Debug for ClientCredentialsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentialsAccess")
            .finish_non_exhaustive()
    }
}

fn access_error(error: &auth::Error) -> Error {
    Error::Access {
        reason: format!("client credentials: {error}"),
        reauthorize: false,
    }
}

impl ClientCredentialsAccess {
    /// An access provider for the app `client_id`/`client_secret` at `login_url`.
    ///
    /// # Errors
    /// When the login URL is not acceptable (https, or http on loopback).
    pub fn new(login_url: &str, client_id: &str, client_secret: &str) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            oauth: oauth_client(login_url, client_id, client_secret)?,
            current: Mutex::new(None),
        }))
    }

    async fn fetch(&self) -> Result<Access, Error> {
        let tokens = self
            .oauth
            .client_credentials()
            .await
            .map_err(|e| access_error(&e))?;
        Access::new(
            &tokens.instance_url,
            SecretString::from(tokens.access_token.secret().to_owned()),
        )
    }
}

impl AccessProvider for ClientCredentialsAccess {
    fn current(&self) -> BoxFuture<'_, Result<Access, Error>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if let Some(access) = &*current {
                return Ok(access.clone());
            }
            let access = self.fetch().await?;
            *current = Some(access.clone());
            Ok(access)
        })
    }

    fn refresh<'a>(&'a self, rejected: &'a Access) -> BoxFuture<'a, Result<Access, Error>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            // Another caller already replaced the refused token: use theirs.
            if let Some(access) = current.as_ref().filter(|a| !a.same_token(rejected)) {
                return Ok(access.clone());
            }
            let access = self.fetch().await?;
            *current = Some(access.clone());
            Ok(access)
        })
    }
}

/// Checks an outbound message's session id at the configured login URL's `userinfo`: it must be
/// a live session of the message's own org. The message's partner URL is never called — it is
/// attacker-controlled text, and calling it would let a forged message aim our request anywhere.
pub struct SessionCheck {
    oauth: SalesforceOAuthClient,
    login_url: String,
}

impl std::fmt::Debug for SessionCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCheck")
            .field("login_url", &self.login_url)
            .finish_non_exhaustive()
    }
}

impl SessionCheck {
    /// A check against `login_url` with the app's client.
    ///
    /// # Errors
    /// When the login URL is not acceptable (https, or http on loopback).
    pub fn new(login_url: &str, client_id: &str, client_secret: &str) -> anyhow::Result<Self> {
        Ok(Self {
            oauth: oauth_client(login_url, client_id, client_secret)?,
            login_url: login_url.trim_end_matches('/').to_owned(),
        })
    }
}

impl webhooks::SessionVerifier for SessionCheck {
    fn verify<'a>(
        &'a self,
        organization_id: &'a str,
        _partner_url: &'a str,
        session_id: Option<&'a webhooks::SessionId>,
    ) -> webhooks::VerifyFuture<'a> {
        Box::pin(async move {
            let Some(session_id) = session_id else {
                return Err(webhooks::Error::SessionRefused(
                    "the message carries no session id".into(),
                ));
            };
            let token = auth::secret::AccessToken::new(session_id.expose_secret());
            match self.oauth.userinfo(&self.login_url, &token).await {
                // Org ids compare on their case-sensitive 15-character form.
                Ok(info) if same_org(&info.organization_id, organization_id) => Ok(()),
                Ok(_) => Err(webhooks::Error::SessionRefused(
                    "the session belongs to another org".into(),
                )),
                // Salesforce could not be asked: answer so that the message is retried.
                Err(auth::Error::Http(reason)) => Err(webhooks::Error::StoreUnavailable(format!(
                    "session check: {reason}"
                ))),
                Err(_) => Err(webhooks::Error::SessionRefused(
                    "the session id is not a live Salesforce session".into(),
                )),
            }
        })
    }
}

fn same_org(a: &str, b: &str) -> bool {
    a.get(..15).is_some_and(|a| b.get(..15) == Some(a))
}
