//! The server's one Salesforce connection (`none` auth): the embedded demo sandbox, a static
//! token, or an app's client-credentials flow, as a `salesforce_api::Client` with shared
//! usage tracking and circuit breaker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::Context;
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::ClientSecret;
use futures::future::BoxFuture;
use salesforce_api::{Access, AccessProvider, Client, StaticAccess};
use salesforce_sandbox::{DatasetSize, RunningSandbox, Sandbox};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use crate::config::{SalesforceSource, Settings};
use crate::connections::ClientParts;

/// Seed of the embedded demo dataset: the same records on every start.
pub const DEMO_SEED: u64 = 1;

/// A connected org.
pub struct Org {
    /// The client every tool call uses.
    pub client: Client,
    /// Instance URL.
    pub instance_url: String,
    /// The org's id, when known (the embedded sandbox, client credentials; not a static token).
    pub org_id: Option<String>,
    /// The embedded sandbox, when running the demo.
    pub sandbox: Option<RunningSandbox>,
    /// Successful token fetches after the first (client credentials).
    pub token_refreshes: Arc<AtomicU64>,
    /// How long generating the demo dataset took.
    pub dataset_millis: Option<u128>,
}

/// Starts the embedded sandbox (demo dataset, auto-approve), accepting `callback_urls` for its
/// demo app; returns it and the milliseconds spent generating the data.
pub async fn start_embedded(callback_urls: Vec<String>) -> anyhow::Result<(RunningSandbox, u128)> {
    let started = Instant::now();
    // The demo's follow-up Tasks are keyed by an external id field the worker upserts on.
    let task_key = crate::demo::task_key_extension()?;
    let sandbox = tokio::task::spawn_blocking(move || {
        Sandbox::builder()
            .dataset(DatasetSize::Demo, DEMO_SEED)
            .auto_approve(true)
            .callback_urls(callback_urls)
            .schema_extension(task_key)
            .build()
    })
    .await
    .context("dataset generation stopped")?
    .context("building the embedded sandbox")?;
    let dataset_millis = started.elapsed().as_millis();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the embedded sandbox")?;
    let running = sandbox.serve(listener).context("serving the sandbox")?;
    Ok((running, dataset_millis))
}

/// Connects as configured (`none` mode); for [`SalesforceSource::Embedded`], starts the sandbox
/// first. The client shares `parts`.
pub async fn connect(settings: &Settings, parts: &ClientParts) -> anyhow::Result<Org> {
    let token_refreshes = Arc::new(AtomicU64::new(0));
    let (access, instance_url, org_id, sandbox, dataset_millis): (
        Arc<dyn AccessProvider>,
        _,
        _,
        _,
        _,
    ) = match &settings.salesforce {
        SalesforceSource::Embedded => {
            let (running, dataset_millis) = start_embedded(Vec::new()).await?;
            let base = running.base_url();
            let org_id = running.sandbox().store().read().org_id().to_string();
            let access = ClientCredentialsAccess::new(
                &base,
                salesforce_sandbox::oauth::DEMO_CLIENT_ID,
                SecretString::from(salesforce_sandbox::oauth::DEMO_CLIENT_SECRET),
                token_refreshes.clone(),
            )?;
            (
                Arc::new(access) as Arc<dyn AccessProvider>,
                base,
                Some(org_id),
                Some(running),
                Some(dataset_millis),
            )
        }
        SalesforceSource::Static {
            instance_url,
            access_token,
        } => {
            let access = Access::new(instance_url, access_token.clone())
                .context("SALESFORCE_INSTANCE_URL")?;
            (
                StaticAccess::new(access) as Arc<dyn AccessProvider>,
                instance_url.clone(),
                None,
                None,
                None,
            )
        }
        SalesforceSource::ClientCredentials {
            login_url,
            client_id,
            client_secret,
        } => {
            let access = ClientCredentialsAccess::new(
                login_url,
                client_id,
                client_secret.clone(),
                token_refreshes.clone(),
            )?;
            // The instance URL comes with the first token.
            let first = access.current().await.context("client-credentials login")?;
            let instance_url = first
                .instance_url()
                .as_str()
                .trim_end_matches('/')
                .to_owned();
            let org_id = access.org_id();
            (
                Arc::new(access) as Arc<dyn AccessProvider>,
                instance_url,
                org_id,
                None,
                None,
            )
        }
        SalesforceSource::WebServerFlow { .. } | SalesforceSource::Direct { .. } => {
            anyhow::bail!("SFMCP_AUTH=none has no single Salesforce connection to make here")
        }
    };
    let client = parts
        .client(access)
        .context("building the Salesforce client")?;
    Ok(Org {
        client,
        instance_url,
        org_id,
        sandbox,
        token_refreshes,
        dataset_millis,
    })
}

/// Access through the client-credentials flow: fetched on first use, fetched again (once for
/// all waiting callers) when Salesforce refuses the current token.
pub struct ClientCredentialsAccess {
    oauth: SalesforceOAuthClient,
    current: Mutex<Option<Access>>,
    refreshes: Arc<AtomicU64>,
    /// The org of the first token (an app's client-credentials user belongs to one org).
    org_id: OnceLock<String>,
}

impl ClientCredentialsAccess {
    /// Access for the app `client_id` at `login_url`.
    pub fn new(
        login_url: &str,
        client_id: &str,
        client_secret: SecretString,
        refreshes: Arc<AtomicU64>,
    ) -> anyhow::Result<Self> {
        let login_host = LoginHost::parse(login_url).context("SALESFORCE_LOGIN_URL")?;
        // The callback is never used by this flow, but the configuration requires one.
        let unused_callback = login_host.url().join("/services/oauth2/success")?;
        let mut config = SalesforceOAuthConfig::new(client_id, unused_callback);
        config.login_host = login_host;
        config.client_secret = Some(ClientSecret::new(client_secret.expose_secret()));
        config.scopes = vec!["api".into()];
        Ok(ClientCredentialsAccess {
            oauth: SalesforceOAuthClient::new(config)?,
            current: Mutex::new(None),
            refreshes,
            org_id: OnceLock::new(),
        })
    }

    /// The org's id, once a token was fetched.
    pub fn org_id(&self) -> Option<String> {
        self.org_id.get().cloned()
    }

    async fn fetch(&self) -> Result<Access, salesforce_api::Error> {
        let tokens =
            self.oauth
                .client_credentials()
                .await
                .map_err(|e| salesforce_api::Error::Access {
                    reason: format!("client-credentials login failed: {e}"),
                    reauthorize: false,
                })?;
        self.org_id.get_or_init(|| tokens.org_id.clone());
        Access::new(
            &tokens.instance_url,
            SecretString::from(tokens.access_token.secret()),
        )
    }
}

impl AccessProvider for ClientCredentialsAccess {
    fn current(&self) -> BoxFuture<'_, Result<Access, salesforce_api::Error>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if let Some(access) = current.as_ref() {
                return Ok(access.clone());
            }
            let access = self.fetch().await?;
            *current = Some(access.clone());
            Ok(access)
        })
    }

    fn refresh<'a>(
        &'a self,
        rejected: &'a Access,
    ) -> BoxFuture<'a, Result<Access, salesforce_api::Error>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if let Some(access) = current.as_ref()
                && !access.same_token(rejected)
            {
                // Another caller already refreshed.
                return Ok(access.clone());
            }
            let access = self.fetch().await?;
            self.refreshes.fetch_add(1, Ordering::Relaxed);
            *current = Some(access.clone());
            Ok(access)
        })
    }
}
