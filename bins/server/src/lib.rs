//! The composition behind `sfmcp-server`, as a library so the workspace end-to-end tests can run
//! the exact server in-process ([`start`]) as well as the binary. It wires library crates
//! together (configuration, Salesforce connection, CRM tools, MCP transports, tower layers,
//! metrics) and holds no business logic.
//!
//! It must never know how a tool works or how Salesforce answers: that is `crm-tools` and
//! `salesforce-api`.

pub mod config;
pub mod connections;
pub mod demo;
pub mod events;
pub mod http;
pub mod login;
pub mod metrics;
pub mod modes;
pub mod salesforce;
pub mod stores;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use crm_tools::{CrmConfig, CrmTools, RecordCaches};
use followups::EventFeed;
use mcp_protocol::{HttpConfig, McpHttpService, McpServer};
use salesforce_api::{ApiUsage, BreakerConfig, CircuitBreaker};
use salesforce_sandbox::RunningSandbox;
use secrecy::ExposeSecret as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Args, AuthMode, Command, ConfigError, SalesforceSource, Settings};

use crate::connections::{ClientParts, ServerConnections};
use crate::http::{App, AppState, Layers};
use crate::metrics::Metrics;
use crate::stores::Stores;

/// Instructions the MCP server gives models.
const INSTRUCTIONS: &str = "Tools for the user's Salesforce org: search and score leads, \
inspect opportunities and accounts, update contacts and create tasks. Figures in tool results \
are computed from the org's records; quote them rather than estimating.";

/// The MCP server with the CRM tools over `connections`, `recentEvents` reading `events` when
/// there is a feed, reporting tool calls to `metrics`.
pub fn mcp_server(
    connections: ServerConnections,
    settings: &Settings,
    events: Option<Arc<dyn EventFeed>>,
    metrics: Option<Arc<Metrics>>,
) -> anyhow::Result<McpServer> {
    let mut tools = CrmTools::new(
        connections,
        CrmConfig {
            read_only: settings.read_only,
            widget_domain: settings.public_url.as_deref().map(public_origin),
            ..CrmConfig::default()
        },
    );
    if let Some(feed) = events {
        tools = tools.with_events(events::FeedEvents(feed));
    }
    let mut builder = McpServer::builder()
        .name("sfmcp")
        .title("Salesforce")
        .version(env!("CARGO_PKG_VERSION"))
        .instructions(INSTRUCTIONS);
    if let Some(metrics) = metrics {
        builder = builder.observe_tools(metrics);
    }
    // Replicas sharing `SFMCP_TOKEN_KEY` accept each other's sealed `requestState`s (a modern
    // client's retry may reach any of them); mcp-protocol derives its own key from it.
    if let Some(key) = &settings.token_key {
        use secrecy::ExposeSecret;
        builder = builder.request_state_secret(key.expose_secret().as_bytes());
    }
    tools
        .register(builder)
        .build()
        .context("building the MCP server")
}

/// `recentEvents`' feed and the one the record caches follow: the embedded demo's, else with
/// `REDIS_URL` the stream a `sfmcp-worker` on the same Redis and prefix records, else none.
fn event_feed(
    settings: &Settings,
    demo: Option<&demo::DemoPipeline>,
) -> anyhow::Result<Option<Arc<dyn EventFeed>>> {
    if let Some(demo) = demo {
        return Ok(Some(demo.event_feed()));
    }
    let Some(url) = &settings.redis_url else {
        return Ok(None);
    };
    // This server only reads the feed; the length bounds only what a feed records.
    let feed = followups::RedisFeed::new(url.expose_secret(), &settings.redis_prefix, 1)
        .map_err(|_| anyhow::anyhow!("REDIS_URL is not a usable Redis URL"))?;
    tracing::info!(stream = %feed.stream_key(), "recentEvents and the record caches follow the worker's event feed");
    Ok(Some(Arc::new(feed)))
}

/// What every Salesforce client of this server shares: the HTTP pool, usage and breaker.
fn client_parts(settings: &Settings) -> anyhow::Result<ClientParts> {
    Ok(ClientParts {
        http: salesforce_api::http_client(Duration::from_secs(60), Duration::from_secs(10))
            .context("building the HTTP client")?,
        usage: Arc::new(ApiUsage::new(0.9)),
        breaker: Arc::new(CircuitBreaker::new(BreakerConfig::default())),
        api_version: settings.api_version.clone(),
    })
}

/// A server started by [`start`].
pub struct Running {
    /// The bound address.
    pub local_addr: SocketAddr,
    /// The embedded sandbox's base URL, when running the demo.
    pub sandbox_url: Option<String>,
    /// Milliseconds spent generating the demo dataset.
    pub dataset_millis: Option<u128>,
    /// Connection hints to print.
    pub banner: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    sandbox: Option<RunningSandbox>,
    demo: Option<demo::DemoPipeline>,
    follower: Option<events::CacheFollower>,
}

impl Running {
    /// The embedded sandbox, when running the demo (tests reach its data and faults).
    pub fn sandbox(&self) -> Option<&salesforce_sandbox::Sandbox> {
        self.sandbox.as_ref().map(|s| s.sandbox())
    }

    /// The embedded demo's event feed (what its outbound messages recorded), when running the
    /// demo: the source for the `recentEvents` tool.
    pub fn event_feed(&self) -> Option<Arc<dyn EventFeed>> {
        self.demo.as_ref().map(demo::DemoPipeline::event_feed)
    }

    /// Graceful shutdown: stops accepting, lets in-flight calls finish within the grace
    /// period, then stops following the event feed, the demo's webhook pipeline and the
    /// embedded sandbox.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(follower) = self.follower.take() {
            follower.shutdown().await;
        }
        if let Some(demo) = self.demo.take() {
            demo.shutdown().await;
        }
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.shutdown().await;
        }
    }
}

/// Binds, composes the configured auth mode (starting the embedded sandbox if configured so),
/// and serves HTTP in the background.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    // Bound first: the public URL (OAuth metadata, the demo org's callback) may name the port.
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let local_addr = listener.local_addr()?;
    let public = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local_addr}"));
    let stores = Arc::new(Stores::open(&settings)?);
    let parts = client_parts(&settings)?;
    let records = Arc::new(RecordCaches::new(settings.record_cache_ttl));
    let composed = modes::compose(&settings, &public, &stores, &parts, &records).await?;
    let demo = demo::start_if_embedded(composed.sandbox.as_ref()).await?;
    let metrics = Arc::new(Metrics::default());
    let feed = event_feed(&settings, demo.as_ref())?;
    let follower = feed
        .clone()
        .map(|feed| events::CacheFollower::start(feed, records, Some(metrics.clone())));
    let server = mcp_server(composed.connections, &settings, feed, Some(metrics.clone()))?;
    let mut http_config = HttpConfig::default();
    if settings.any_host {
        http_config.allowed_hosts = None;
    } else if let (Some(hosts), Some(public)) =
        (http_config.allowed_hosts.as_mut(), &settings.public_url)
    {
        // A tunnel or proxy forwards to loopback with the public name in `Host`.
        hosts.push(public_host(public).to_owned());
    }
    if !settings.allowed_origins.is_empty() {
        http_config.allowed_origins = Some(settings.allowed_origins.clone());
    }
    let max_body_bytes = http_config.max_body_bytes;
    let mcp = McpHttpService::new(server, stores.sessions.clone(), http_config);
    let endpoint = http::endpoint(
        composed.guard,
        mcp.clone(),
        http::limiter(settings.rate_limit),
        metrics.clone(),
    );
    let state = AppState {
        mcp,
        endpoint,
        routes: composed.routes,
        check: composed.check,
        stores,
        usage: parts.usage.clone(),
        breaker: parts.breaker.clone(),
        metrics,
        token_refreshes: composed.token_refreshes,
    };
    let layers = Layers {
        request_timeout: settings.request_timeout,
        max_body_bytes,
        allowed_origins: settings.allowed_origins.clone(),
    };
    let (tx, rx) = oneshot::channel::<()>();
    let grace = settings.shutdown_grace;
    let task = tokio::spawn(http::serve(
        listener,
        App(Arc::new(state)),
        layers,
        grace,
        async move {
            let _ = rx.await;
        },
    ));
    let sandbox_url = composed.sandbox.as_ref().map(|s| s.base_url());
    let banner = banner(&public, sandbox_url.as_deref(), settings.auth);
    tracing::info!(salesforce = %composed.salesforce_url, auth = ?settings.auth, "composed");
    Ok(Running {
        local_addr,
        sandbox_url,
        dataset_millis: composed.dataset_millis,
        banner,
        shutdown: Some(tx),
        task,
        sandbox: composed.sandbox,
        demo,
        follower,
    })
}

/// The host name of a public base URL (`https://mcp.example.com:8443/x` → `mcp.example.com`).
/// `https://mcp.example.com:8443` of `https://mcp.example.com:8443/base`.
fn public_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest))
}

fn public_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Serves MCP over stdin/stdout until stdin closes (`none` mode: a static token, client
/// credentials, the connection stored by `sfmcp-server login`, or the embedded demo).
pub async fn run_stdio(settings: Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings)?;
    let parts = client_parts(&settings)?;
    let records = Arc::new(RecordCaches::new(settings.record_cache_ttl));
    let mut composed =
        modes::compose(&settings, "http://127.0.0.1", &stores, &parts, &records).await?;
    let demo = demo::start_if_embedded(composed.sandbox.as_ref()).await?;
    let feed = event_feed(&settings, demo.as_ref())?;
    let follower = feed
        .clone()
        .map(|feed| events::CacheFollower::start(feed, records, None));
    let server = mcp_server(composed.connections, &settings, feed, None)?;
    tracing::info!(salesforce = %composed.salesforce_url, "serving MCP over stdio");
    let served = mcp_protocol::serve_stdio(server).await;
    if let Some(follower) = follower {
        follower.shutdown().await;
    }
    if let Some(demo) = demo {
        demo.shutdown().await;
    }
    if let Some(sandbox) = composed.sandbox.take() {
        sandbox.shutdown().await;
    }
    served.context("stdio transport")
}

/// How to connect: MCP URL, MCP Inspector command, Claude Desktop snippet, sandbox URL.
pub fn banner(public_url: &str, sandbox_url: Option<&str>, auth: AuthMode) -> String {
    let mcp_url = format!("{public_url}/mcp");
    let mut out = format!(
        "sfmcp-server is ready.\n\n  MCP endpoint (Streamable HTTP): {mcp_url}\n  Try it with the MCP Inspector: npx @modelcontextprotocol/inspector --transport http --server-url {mcp_url}\n  Health: {public_url}/healthz   Metrics: {public_url}/metrics\n"
    );
    out.push_str(
        "\n  Claude Desktop (claude_desktop_config.json, stdio):\n    {\"mcpServers\": {\"salesforce\": {\"command\": \"sfmcp-server\", \"args\": [\"--stdio\"]}}}\n",
    );
    match auth {
        AuthMode::Oauth => out.push_str(&format!(
            "\n  Auth: OAuth. MCP clients discover {public_url}/.well-known/oauth-protected-resource/mcp, register, and send their users to sign in to Salesforce.\n"
        )),
        AuthMode::Direct => out.push_str(
            "\n  Auth: direct. MCP clients present Salesforce access tokens as bearer tokens.\n",
        ),
        AuthMode::None => {}
    }
    if let Some(sandbox) = sandbox_url {
        out.push_str(&format!(
            "\n  No Salesforce configured: using the embedded demo org at {sandbox} (demo dataset, seed {}).\n  Set SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET to use your org (docs/configuration.md).\n",
            salesforce::DEMO_SEED
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{public_host, public_origin};

    #[test]
    fn the_public_host_is_the_url_host_without_port() {
        assert_eq!(public_host("https://mcp.example.com"), "mcp.example.com");
        assert_eq!(
            public_host("https://abc.ngrok.app:8443/base"),
            "abc.ngrok.app"
        );
        assert_eq!(public_host("http://[::1]:3000"), "[::1]");
    }

    #[test]
    fn the_widget_domain_is_the_public_urls_origin() {
        assert_eq!(
            public_origin("https://abc.ngrok.app:8443/base"),
            "https://abc.ngrok.app:8443"
        );
        assert_eq!(
            public_origin("https://mcp.example.com"),
            "https://mcp.example.com"
        );
    }
}
