//! The `sfmcp-worker` composition, as a library so that it can also run in-process: it wires
//! the `webhooks` intake and queue, the `followups` processor, the `salesforce-api` client with
//! client-credentials access (`auth`), the HTTP server and the consumers. No parsing, policy or
//! business rule lives here.

mod access;
pub mod config;
mod http;
mod metrics;
mod processing;

use std::sync::Arc;

use anyhow::Context as _;
use followups::{EventFeed, MemoryFeed, Processor, RedisFeed, RulesFile, SalesforceActions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use webhooks::{
    EventQueue, IdempotencyTtl, Ingest, Intake, Limits, MemoryEventQueue, MemoryIdempotencyStore,
    OrgAllowList, PathToken, QueueLimits, RedisStore, RedisStreamQueue, StagedIngest, StreamConfig,
    Verifier,
};

pub use access::ClientCredentialsAccess;
pub use config::{Config, LogFormat};
pub use metrics::ProcessingMetrics;

/// Everything built from the configuration, before anything listens or consumes.
struct Parts {
    intake: Intake,
    queue: Arc<dyn EventQueue>,
    processor: Processor,
}

fn build(config: &Config) -> anyhow::Result<Parts> {
    let allow = OrgAllowList::new(&config.allowed_orgs)
        .map_err(|e| anyhow::anyhow!("SFMCP_ALLOWED_ORGS: {e}"))?;
    let mut verifier = Verifier::new(allow);
    if let Some(secret) = config.webhook_secret.as_ref().filter(|s| !s.is_empty()) {
        verifier = verifier.with_path_token(PathToken::new(secret.clone()));
    }
    let rules = match &config.rules {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("SFMCP_RULES: cannot read {}", path.display()))?;
            RulesFile::from_json(&text).map_err(|e| anyhow::anyhow!("SFMCP_RULES: {e}"))?
        }
        None => RulesFile::from_json("{}").map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let limits = QueueLimits {
        max_deliveries: config.max_deliveries.max(1),
        ..QueueLimits::default()
    };
    let (queue, ingest, feed): (Arc<dyn EventQueue>, Arc<dyn Ingest>, Arc<dyn EventFeed>) =
        match &config.redis_url {
            Some(url) => {
                let store = RedisStore::new(url, config.redis_prefix.clone())
                    .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
                let stream = Arc::new(RedisStreamQueue::new(
                    store,
                    StreamConfig {
                        limits,
                        ..StreamConfig::default()
                    },
                ));
                let feed = RedisFeed::new(url, &config.redis_prefix, rules.feed.max_len)
                    .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
                (stream.clone(), stream, Arc::new(feed))
            }
            None => {
                tracing::warn!("no REDIS_URL: events are kept in memory and lost on restart");
                let queue = Arc::new(MemoryEventQueue::new(limits));
                let store = Arc::new(MemoryIdempotencyStore::new(
                    1_000_000,
                    IdempotencyTtl::default(),
                ));
                let ingest = Arc::new(StagedIngest::new(store, queue.clone()));
                (queue, ingest, Arc::new(MemoryFeed::new(rules.feed.max_len)))
            }
        };
    let needs_salesforce = rules
        .rules
        .iter()
        .any(|r| r.task.is_some() || !r.route.is_empty());
    let crm: Arc<dyn followups::CrmActions> = match config.salesforce()? {
        Some(creds) => {
            let access =
                ClientCredentialsAccess::new(creds.login_url, creds.client_id, creds.client_secret)
                    .context("SALESFORCE_LOGIN_URL")?;
            let client = salesforce_api::Client::builder(access)
                .build()
                .map_err(|e| anyhow::anyhow!("Salesforce client: {e}"))?;
            Arc::new(SalesforceActions::new(client))
        }
        None if needs_salesforce => anyhow::bail!(
            "the rules create Tasks or route records: set SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET"
        ),
        None => Arc::new(NoSalesforce),
    };
    let body_limits = Limits {
        max_body_bytes: config.max_body_bytes,
        ..Limits::default()
    };
    Ok(Parts {
        intake: Intake::new(verifier, ingest).with_limits(body_limits),
        queue,
        processor: Processor::new(rules, crm, feed),
    })
}

/// Rules without Salesforce actions never call these; refusing keeps that visible.
struct NoSalesforce;

impl followups::CrmActions for NoSalesforce {
    fn ensure_task<'a>(
        &'a self,
        _key_field: &'a str,
        _key: &'a str,
        _fields: &'a serde_json::Map<String, serde_json::Value>,
    ) -> followups::BoxFuture<'a, Result<String, followups::Error>> {
        Box::pin(async {
            Err(followups::Error::InvalidRules(
                "no Salesforce configured".into(),
            ))
        })
    }

    fn assign_owner<'a>(
        &'a self,
        _object: &'a str,
        _record_id: &'a str,
        _owner_id: &'a str,
    ) -> followups::BoxFuture<'a, Result<(), followups::Error>> {
        Box::pin(async {
            Err(followups::Error::InvalidRules(
                "no Salesforce configured".into(),
            ))
        })
    }
}

/// Cancels `stop` on SIGTERM or Ctrl-C (SIGINT), which starts the graceful shutdown. The
/// handlers are installed before this returns (so a signal right after start is not lost);
/// call it inside a Tokio runtime.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn shutdown_on_signal(stop: CancellationToken) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutdown requested; finishing in-flight events");
        stop.cancel();
    });
    Ok(())
}

/// Checks the configuration (everything but reachability) without starting anything.
///
/// # Errors
/// The first configuration problem.
pub fn check(config: &Config) -> anyhow::Result<()> {
    build(config).map(drop)
}

/// Runs the worker until `stop` is cancelled: serves on `listener`, consumes with
/// `config.consumers` consumers, then shuts down gracefully (open requests answered, each
/// consumer's batch in hand finished).
///
/// # Errors
/// Configuration problems (before anything starts).
pub async fn run(
    config: Config,
    listener: TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let parts = build(&config)?;
    let processing = Arc::new(ProcessingMetrics::default());
    let base = processing::consumer_base_name();
    let mut consumers = tokio::task::JoinSet::new();
    for i in 0..config.consumers.max(1) {
        let consumer = processing::Consumer {
            name: format!("{base}-{i}"),
            queue: parts.queue.clone(),
            processor: parts.processor.clone(),
            metrics: processing.clone(),
            claim_idle: config.claim_idle(),
        };
        consumers.spawn(consumer.run(stop.clone()));
    }
    tracing::info!(listen = %listener.local_addr()?, consumers = config.consumers, "sfmcp-worker started");
    let routes = http::Routes {
        intake: parts.intake,
        processing,
    };
    let timeout = std::time::Duration::from_secs(config.request_timeout_secs.max(1));
    http::serve(listener, routes, timeout, stop).await;
    while consumers.join_next().await.is_some() {}
    tracing::info!("sfmcp-worker stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["sfmcp-worker", "--allowed-orgs", "00Do0000000e0vQEAQ"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    fn error(args: &[&str]) -> String {
        format!("{:#}", check(&config(args)).unwrap_err())
    }

    #[test]
    fn configuration_problems_are_named() {
        assert!(check(&config(&[])).is_ok());
        assert!(error(&["--salesforce-client-id", "x"]).contains("must be set together"));
        let rules =
            std::env::temp_dir().join(format!("sfmcp-worker-unit-{}.json", std::process::id()));
        std::fs::write(
            &rules,
            include_str!("../../../crates/followups/rules.example.json"),
        )
        .unwrap();
        let rules = rules.display().to_string();
        assert!(error(&["--rules", &rules]).contains("SALESFORCE_LOGIN_URL"));
        assert!(error(&["--rules", "/nonexistent/rules.json"]).contains("cannot read"));
        let bad_org = Config::try_parse_from(["sfmcp-worker", "--allowed-orgs", "nope"]).unwrap();
        assert!(format!("{:#}", check(&bad_org).unwrap_err()).contains("SFMCP_ALLOWED_ORGS"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = config(&[
            "--webhook-secret",
            "hunter2",
            "--salesforce-client-secret",
            "s3cret",
        ]);
        let text = format!("{config:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
    }
}
