//! The auth mode's pieces, composed from `auth`: what guards `/mcp` (the broker's bearer layer,
//! the direct-mode Salesforce token layer, or nothing), the extra routes (our OAuth endpoints or
//! the direct-mode metadata), the connections tools use, and how readiness reaches Salesforce.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context as _;
use auth::mcp_auth::McpAuthConfig;
use auth::mcp_auth::bearer::{BearerAuthLayer, BearerValidator};
use auth::mcp_auth::routes::OAuthRoutes;
use auth::modes::direct::{DirectBearerLayer, DirectConfig, DirectValidator};
use auth::modes::none::LOCAL_PRINCIPAL;
use auth::refresh::{RefreshPolicy, TokenManager};
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::ClientSecret;
use auth::store::Store;
use crm_tools::{Connection, RecordCaches, SingleConnection};
use salesforce_api::Client;
use salesforce_sandbox::RunningSandbox;
use salesforce_sandbox::oauth::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use secrecy::ExposeSecret as _;

use crate::config::{AuthMode, SalesforceSource, Settings};
use crate::connections::{ClientParts, DirectConnections, ServerConnections, StoredConnections};
use crate::stores::{Stores, keyring};

/// What guards `/mcp`.
#[derive(Clone)]
pub enum Guard {
    /// Nothing (`none`).
    Open,
    /// Our bearer tokens (`oauth`).
    Broker(BearerAuthLayer),
    /// Salesforce access tokens (`direct`).
    Direct(DirectBearerLayer),
}

/// Routes besides `/mcp` that the mode serves.
#[derive(Clone)]
pub enum AuthRoutes {
    /// None.
    Nothing,
    /// Our authorization server and protected-resource metadata.
    Broker(OAuthRoutes),
    /// Protected-resource metadata naming Salesforce.
    Direct(Arc<DirectConfig>),
}

/// How readiness checks Salesforce.
#[derive(Clone)]
pub enum SalesforceCheck {
    /// The one client answers `/limits`.
    Client(Client),
    /// The login host answers HTTP (per-user modes have no connection of their own).
    Reachable {
        /// The URL asked.
        url: String,
        /// The HTTP client.
        http: reqwest::Client,
    },
}

/// The composed mode.
pub struct Composed {
    /// The tools' connections.
    pub connections: ServerConnections,
    /// What guards `/mcp`.
    pub guard: Guard,
    /// The mode's routes.
    pub routes: AuthRoutes,
    /// Token renewals (refreshes, client-credentials re-fetches).
    pub token_refreshes: Arc<AtomicU64>,
    /// Readiness.
    pub check: SalesforceCheck,
    /// The embedded sandbox, when used.
    pub sandbox: Option<RunningSandbox>,
    /// Milliseconds spent generating its dataset.
    pub dataset_millis: Option<u128>,
    /// Where Salesforce is, for the log.
    pub salesforce_url: String,
}

/// Composes `settings`' mode; `public_url` is where clients reach us (known after binding).
/// Connections keep their hot records in `records`.
pub async fn compose(
    settings: &Settings,
    public_url: &str,
    stores: &Stores,
    parts: &ClientParts,
    records: &Arc<RecordCaches>,
) -> anyhow::Result<Composed> {
    match settings.auth {
        AuthMode::None => none(settings, stores, parts, records).await,
        AuthMode::Oauth => broker(settings, public_url, stores, parts, records).await,
        AuthMode::Direct => direct(settings, public_url, parts, records).await,
    }
}

fn reachable(url: &str, parts: &ClientParts) -> SalesforceCheck {
    SalesforceCheck::Reachable {
        url: url.trim_end_matches('/').to_owned(),
        http: parts.http.clone(),
    }
}

fn token_manager(
    store: &Store,
    salesforce: &SalesforceOAuthClient,
    refreshes: &Arc<AtomicU64>,
) -> TokenManager {
    let shared = Arc::new(store.clone());
    TokenManager::new(
        shared.clone(),
        shared,
        crate::login::counting(salesforce.refresher(), refreshes.clone()),
        RefreshPolicy {
            lifetime: salesforce.config().access_token_lifetime,
            ..RefreshPolicy::default()
        },
    )
}

async fn none(
    settings: &Settings,
    stores: &Stores,
    parts: &ClientParts,
    records: &Arc<RecordCaches>,
) -> anyhow::Result<Composed> {
    if matches!(settings.salesforce, SalesforceSource::Embedded)
        && let Some(stored) = crate::login::load(settings, stores).await?
    {
        tracing::info!(location = %stored.location, "using the connection stored by `sfmcp-server login`");
        let refreshes = Arc::new(AtomicU64::new(0));
        let tokens = token_manager(&stored.store, &stored.salesforce, &refreshes);
        let login_url = stored.salesforce.config().login_host.url().to_string();
        return Ok(Composed {
            connections: ServerConnections::Stored(StoredConnections::new(
                Arc::new(stored.store),
                tokens,
                Some(LOCAL_PRINCIPAL.to_owned()),
                parts.clone(),
                records.clone(),
            )),
            guard: Guard::Open,
            routes: AuthRoutes::Nothing,
            token_refreshes: refreshes,
            check: reachable(&login_url, parts),
            sandbox: None,
            dataset_millis: None,
            salesforce_url: login_url,
        });
    }
    let org = crate::salesforce::connect(settings, parts).await?;
    let connection = Connection::new(org.client.clone(), &org.instance_url)
        .with_record_cache(records.cache(LOCAL_PRINCIPAL, org.org_id.as_deref()));
    Ok(Composed {
        connections: ServerConnections::Single(SingleConnection(connection)),
        guard: Guard::Open,
        routes: AuthRoutes::Nothing,
        token_refreshes: org.token_refreshes,
        check: SalesforceCheck::Client(org.client),
        sandbox: org.sandbox,
        dataset_millis: org.dataset_millis,
        salesforce_url: org.instance_url,
    })
}

async fn broker(
    settings: &Settings,
    public_url: &str,
    stores: &Stores,
    parts: &ClientParts,
    records: &Arc<RecordCaches>,
) -> anyhow::Result<Composed> {
    let keyring = keyring(settings)?.context("SFMCP_AUTH=oauth needs SFMCP_TOKEN_KEY")?;
    let store = stores.auth_store(keyring);
    let (config, sandbox, dataset_millis) = match &settings.salesforce {
        SalesforceSource::WebServerFlow {
            login_url,
            client_id,
            client_secret,
            callback_url,
        } => {
            let mut config = SalesforceOAuthConfig::new(
                client_id.clone(),
                url::Url::parse(callback_url).context("SALESFORCE_CALLBACK_URL")?,
            );
            config.login_host = LoginHost::parse(login_url).context("SALESFORCE_LOGIN_URL")?;
            config.client_secret = client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose_secret()));
            (config, None, None)
        }
        _ => {
            // The embedded demo org is the users' Salesforce (it approves every login).
            let callback = format!("{public_url}/oauth/salesforce/callback");
            let (running, millis) =
                crate::salesforce::start_embedded(vec![callback.clone()]).await?;
            let mut config =
                SalesforceOAuthConfig::new(DEMO_CLIENT_ID, url::Url::parse(&callback)?);
            config.login_host = LoginHost::parse(&running.base_url())?;
            config.client_secret = Some(ClientSecret::new(DEMO_CLIENT_SECRET));
            (config, Some(running), Some(millis))
        }
    };
    let login_url = config.login_host.url().to_string();
    let salesforce = SalesforceOAuthClient::new(config)?;
    let mcp_config = Arc::new(
        McpAuthConfig::new(public_url, &format!("{public_url}/mcp")).context("SFMCP_PUBLIC_URL")?,
    );
    let routes = OAuthRoutes::new(
        store.clone(),
        Arc::new(salesforce.clone()),
        mcp_config.clone(),
    );
    let layer = BearerAuthLayer::new(BearerValidator::new(Arc::new(store.clone()), mcp_config));
    let refreshes = Arc::new(AtomicU64::new(0));
    let tokens = token_manager(&store, &salesforce, &refreshes);
    Ok(Composed {
        connections: ServerConnections::Stored(StoredConnections::new(
            Arc::new(store),
            tokens,
            None,
            parts.clone(),
            records.clone(),
        )),
        guard: Guard::Broker(layer),
        routes: AuthRoutes::Broker(routes),
        token_refreshes: refreshes,
        check: reachable(&login_url, parts),
        sandbox,
        dataset_millis,
        salesforce_url: login_url,
    })
}

async fn direct(
    settings: &Settings,
    public_url: &str,
    parts: &ClientParts,
    records: &Arc<RecordCaches>,
) -> anyhow::Result<Composed> {
    let (login_url, instance_url, sandbox, dataset_millis) = match &settings.salesforce {
        SalesforceSource::Direct {
            login_url,
            instance_url,
        } => (login_url.clone(), instance_url.clone(), None, None),
        _ => {
            let (running, millis) = crate::salesforce::start_embedded(Vec::new()).await?;
            let base = running.base_url();
            (base.clone(), base, Some(running), Some(millis))
        }
    };
    let mut config = DirectConfig::new(&format!("{public_url}/mcp"), &login_url, &instance_url)
        .context("SFMCP_AUTH=direct")?;
    config.org_id.clone_from(&settings.org_id);
    let config = Arc::new(config);
    // Only `userinfo` is called: the app's consumer key is not needed to validate tokens.
    let mut oauth = SalesforceOAuthConfig::new(
        settings
            .client_id
            .clone()
            .unwrap_or_else(|| "sfmcp".to_owned()),
        url::Url::parse(&format!("{public_url}/unused-callback"))?,
    );
    oauth.login_host = LoginHost::parse(&login_url).context("SALESFORCE_LOGIN_URL")?;
    let validator = DirectValidator::new(SalesforceOAuthClient::new(oauth)?, config.clone());
    Ok(Composed {
        connections: ServerConnections::Direct(DirectConnections::new(
            parts.clone(),
            records.clone(),
        )),
        guard: Guard::Direct(DirectBearerLayer::new(validator)),
        routes: AuthRoutes::Direct(config),
        token_refreshes: Arc::new(AtomicU64::new(0)),
        check: reachable(&instance_url, parts),
        sandbox,
        dataset_millis,
        salesforce_url: instance_url,
    })
}
