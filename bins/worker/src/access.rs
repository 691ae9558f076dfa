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
        // The redirect URI is part of the config but never used by the client-credentials flow.
        let unused = url::Url::parse("http://127.0.0.1/unused")?;
        let mut config = SalesforceOAuthConfig::new(client_id, unused);
        config.client_secret = Some(ClientSecret::new(client_secret));
        config.login_host = LoginHost::parse(login_url).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Arc::new(Self {
            oauth: SalesforceOAuthClient::new(config).map_err(|e| anyhow::anyhow!("{e}"))?,
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
