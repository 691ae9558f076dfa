//! Runs the demo MCP server over Streamable HTTP (`--listen 127.0.0.1:8080`, sessions in memory
//! or in Redis with `--redis URL --prefix P`) or over stdio (`--stdio`).

mod server;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, RedisSessionStore, SessionStore,
};

#[derive(Parser)]
struct Args {
    /// Address to serve HTTP on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Serve over stdin/stdout instead of HTTP.
    #[arg(long)]
    stdio: bool,
    /// Keep legacy sessions in this Redis (`redis://127.0.0.1:6379`).
    #[arg(long)]
    redis: Option<String>,
    /// Redis key prefix.
    #[arg(long, default_value = "echo:")]
    prefix: String,
    /// Items per list page.
    #[arg(long, default_value_t = 2)]
    page_size: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let mcp = server::build(args.page_size);
    if args.stdio {
        mcp_protocol::serve_stdio(mcp).await?;
        return Ok(());
    }
    let store: Arc<dyn SessionStore> = match &args.redis {
        Some(url) => Arc::new(RedisSessionStore::connect(
            url,
            args.prefix.clone(),
            Duration::from_secs(3600),
        )?),
        None => Arc::new(InMemorySessionStore::default()),
    };
    let service = McpHttpService::new(mcp, store, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "serving MCP over HTTP");
    let closer = service.clone();
    mcp_protocol::serve(listener, service, async move {
        let _ = tokio::signal::ctrl_c().await;
        closer.close_streams();
    })
    .await;
    Ok(())
}
