//! `sfmcp-sandbox`: runs the local Salesforce org from `salesforce-sandbox` on a socket. It only
//! composes; the emulator lives in the library crate.

#![allow(clippy::print_stdout)]

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use salesforce_sandbox::schema::custom::SchemaExtension;
use salesforce_sandbox::tls::TlsIdentity;
use salesforce_sandbox::{DatasetSize, OutboundRule, Sandbox};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Dataset {
    /// No records besides the org's users.
    Empty,
    /// Tens of records per object.
    Tiny,
    /// About 32,000 records (1,000 accounts, 5,000 leads, 10,000 activities, 9,000
    /// stage-history rows, …).
    Demo,
    /// About 1,000,000 records.
    Large,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Plain,
    Json,
}

/// A local Salesforce org for testing integrations offline.
#[derive(Debug, Parser)]
#[command(name = "sfmcp-sandbox", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SFMCP_SANDBOX_LISTEN", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Dataset to generate at start.
    #[arg(long, value_enum, default_value = "demo")]
    dataset: Dataset,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Allowed OAuth callback URL of the demo connected app (repeatable).
    #[arg(long = "callback-url")]
    callback_urls: Vec<String>,
    /// Approve OAuth authorize requests without the login page.
    #[arg(long)]
    auto_approve: bool,
    /// Daily API request limit.
    #[arg(long, default_value_t = salesforce_sandbox::server::DEFAULT_DAILY_API_LIMIT)]
    daily_api_limit: u64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 7200)]
    access_token_lifetime: i64,
    /// Disable refresh-token rotation.
    #[arg(long)]
    no_rotation: bool,
    /// JSON file with custom objects and fields.
    #[arg(long)]
    schema: Option<std::path::PathBuf>,
    /// JSON file with an array of outbound-message rules (see `salesforce_sandbox::OutboundRule`).
    #[arg(long)]
    outbound_rules: Option<std::path::PathBuf>,
    /// Serve https with the PEM certificate at this path (generated, self-signed for
    /// 127.0.0.1 and localhost, when it and the key do not exist).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key for `--tls-cert` (generated with it).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Log format (logs go to stderr; stdout carries only the URL).
    #[arg(long, value_enum, default_value = "plain")]
    log_format: LogFormat,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match args.log_format {
        LogFormat::Plain => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
    }

    let mut builder = Sandbox::builder()
        .auto_approve(args.auto_approve)
        .daily_api_limit(args.daily_api_limit)
        .access_token_lifetime(
            chrono::TimeDelta::try_seconds(args.access_token_lifetime)
                .context("access token lifetime out of range")?,
        )
        .rotate_refresh_tokens(!args.no_rotation);
    if !args.callback_urls.is_empty() {
        builder = builder.callback_urls(args.callback_urls.clone());
    }
    if let Some(path) = &args.schema {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let extension: SchemaExtension =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        builder = builder.schema_extension(extension);
    }
    if let Some(path) = &args.outbound_rules {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let rules: Vec<OutboundRule> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        builder = builder.outbound_rules(rules);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsIdentity::load_or_generate(cert, key)?),
        _ => None,
    };
    let size = match args.dataset {
        Dataset::Empty => None,
        Dataset::Tiny => Some(DatasetSize::Tiny),
        Dataset::Demo => Some(DatasetSize::Demo),
        Dataset::Large => Some(DatasetSize::Large),
    };
    if let Some(size) = size {
        builder = builder.dataset(size, args.seed).progress(|p| {
            tracing::info!(done = p.done, total = p.total, "generating dataset");
        });
    }
    let sandbox = tokio::task::spawn_blocking(move || builder.build())
        .await
        .context("dataset generation panicked")??;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let running = match &tls {
        Some(identity) => sandbox.serve_tls(listener, identity)?,
        None => sandbox.serve(listener)?,
    };
    println!("{}", running.base_url());
    tracing::info!(url = %running.base_url(), client_id = salesforce_sandbox::oauth::DEMO_CLIENT_ID, "sfmcp-sandbox listening");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}
