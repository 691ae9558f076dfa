//! The composition behind `sfmcp-server`, as a library so the workspace end-to-end tests can run
//! the exact server in-process ([`start`]) as well as the binary. It wires library crates
//! together (configuration, Salesforce connection, CRM tools, MCP transports, tower layers,
//! metrics) and holds no business logic.
//!
//! It must never know how a tool works or how Salesforce answers: that is `crm-tools` and
//! `salesforce-api`.

pub mod config;
pub mod http;
pub mod metrics;
pub mod salesforce;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use crm_tools::{Connection, CrmConfig, CrmTools, SingleConnection};
use mcp_protocol::{HttpConfig, InMemorySessionStore, McpHttpService, McpServer};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Args, AuthMode, ConfigError, SalesforceSource, Settings};

use crate::http::{App, AppState, Layers};
use crate::metrics::Metrics;
use crate::salesforce::Org;

/// Instructions the MCP server gives models.
const INSTRUCTIONS: &str = "Tools for the user's Salesforce org: search and score leads, \
inspect opportunities and accounts, update contacts and create tasks. Figures in tool results \
are computed from the org's records; quote them rather than estimating.";

/// The MCP server with the CRM tools over `org`.
pub fn mcp_server(org: &Org, settings: &Settings) -> anyhow::Result<McpServer> {
    let connections = SingleConnection(Connection::new(org.client.clone(), &org.instance_url));
    let tools = CrmTools::new(
        connections,
        CrmConfig {
            read_only: settings.read_only,
            widget_domain: settings.public_url.as_deref().map(public_origin),
            ..CrmConfig::default()
        },
    );
    tools
        .register(
            McpServer::builder()
                .name("sfmcp")
                .title("Salesforce")
                .version(env!("CARGO_PKG_VERSION"))
                .instructions(INSTRUCTIONS),
        )
        .build()
        .context("building the MCP server")
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
    org: Org,
}

impl Running {
    /// The embedded sandbox, when running the demo (tests reach its data and faults).
    pub fn sandbox(&self) -> Option<&salesforce_sandbox::Sandbox> {
        self.org.sandbox.as_ref().map(|s| s.sandbox())
    }

    /// Graceful shutdown: stops accepting, lets in-flight calls finish within the grace
    /// period, then stops the embedded sandbox.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(sandbox) = self.org.sandbox.take() {
            sandbox.shutdown().await;
        }
    }
}

/// Connects to Salesforce (starting the embedded sandbox if configured so), binds, and serves
/// HTTP in the background.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let org = salesforce::connect(&settings).await?;
    let server = mcp_server(&org, &settings)?;
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
    let mcp = McpHttpService::new(
        server,
        Arc::new(InMemorySessionStore::default()),
        http_config,
    );
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let local_addr = listener.local_addr()?;
    let state = AppState {
        mcp,
        client: org.client.clone(),
        metrics: Metrics::default(),
        token_refreshes: org.token_refreshes.clone(),
        limiter: AppState::limiter(settings.rate_limit),
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
    let sandbox_url = org.sandbox.as_ref().map(|s| s.base_url());
    let public = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local_addr}"));
    let banner = banner(&public, sandbox_url.as_deref());
    Ok(Running {
        local_addr,
        sandbox_url,
        dataset_millis: org.dataset_millis,
        banner,
        shutdown: Some(tx),
        task,
        org,
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

/// Serves MCP over stdin/stdout until stdin closes.
pub async fn run_stdio(settings: Settings) -> anyhow::Result<()> {
    let mut org = salesforce::connect(&settings).await?;
    let server = mcp_server(&org, &settings)?;
    tracing::info!(instance_url = %org.instance_url, "serving MCP over stdio");
    let served = mcp_protocol::serve_stdio(server).await;
    if let Some(sandbox) = org.sandbox.take() {
        sandbox.shutdown().await;
    }
    served.context("stdio transport")
}

/// How to connect: MCP URL, MCP Inspector command, Claude Desktop snippet, sandbox URL.
pub fn banner(public_url: &str, sandbox_url: Option<&str>) -> String {
    let mcp_url = format!("{public_url}/mcp");
    let mut out = format!(
        "sfmcp-server is ready.\n\n  MCP endpoint (Streamable HTTP): {mcp_url}\n  Try it with the MCP Inspector: npx @modelcontextprotocol/inspector --transport http --server-url {mcp_url}\n  Health: {public_url}/healthz   Metrics: {public_url}/metrics\n"
    );
    out.push_str(
        "\n  Claude Desktop (claude_desktop_config.json, stdio):\n    {\"mcpServers\": {\"salesforce\": {\"command\": \"sfmcp-server\", \"args\": [\"--stdio\"]}}}\n",
    );
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
