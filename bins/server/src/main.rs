//! `sfmcp-server`: the MCP server. It parses the configuration, sets up JSON logs on stderr and
//! runs the composition in the `server` library; no business logic lives here.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use server::Args;

// Every tool call allocates many small short-lived objects (JSON values, headers, buffers) across
// the runtime's threads; mimalloc serves that pattern at a fraction of glibc malloc's per-call cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let started = Instant::now();
    let settings = match Args::parse().settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("sfmcp-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sfmcp-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        if let Some(server::Command::Login {
            port,
            no_browser,
            timeout,
        }) = settings.command.clone()
        {
            return server::login::run(
                &settings,
                port,
                no_browser,
                std::time::Duration::from_secs(timeout),
            )
            .await;
        }
        if settings.stdio {
            return server::run_stdio(settings).await;
        }
        let running = server::start(settings).await?;
        tracing::info!(
            addr = %running.local_addr,
            startup_ms = started.elapsed().as_millis() as u64,
            dataset_ms = running.dataset_millis.map(|m| m as u64),
            "listening"
        );
        println!("{}", running.banner);
        shutdown_signal().await;
        running.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sfmcp-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
