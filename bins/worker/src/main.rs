//! `sfmcp-worker`: receives Salesforce outbound messages, stores them durably before acknowledging,
//! and turns them into follow-ups. It only composes library crates (see the `worker` library).

use std::process::ExitCode;

use clap::Parser as _;
use tokio_util::sync::CancellationToken;
use worker::{Config, LogFormat};

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[expect(
    clippy::print_stderr,
    reason = "a configuration error is one line on stderr"
)]
fn config_error(error: &anyhow::Error) -> ExitCode {
    eprintln!("sfmcp-worker: configuration error: {error:#}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // clap prints its own one-line error and exits with 2 for bad flags.
    let config = Config::parse();
    init_logs(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return config_error(&error.into()),
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                return config_error(&anyhow::anyhow!(
                    "cannot listen on {}: {error}",
                    config.listen
                ));
            }
        };
        let stop = CancellationToken::new();
        if let Err(error) = worker::shutdown_on_signal(stop.clone()) {
            return config_error(&error.into());
        }
        match worker::run(config, listener, stop).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => config_error(&error),
        }
    })
}
