//! The `sfmcp-worker` composition, as a library so that it can also run in-process: it wires
//! the `webhooks` intake and queue, the `followups` processor, the `salesforce-api` client with
//! client-credentials access (`auth`), the HTTP server and the consumers. No parsing, policy or
//! business rule lives here.

mod access;
pub mod config;
mod embedded;
mod http;
mod metrics;
mod processing;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use followups::{
    CrmActions, EventFeed, MemoryFeed, Processor, RedisFeed, RulesFile, SalesforceActions,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use webhooks::{
    BatchedRedisIngest, EventQueue, IdempotencyTtl, Ingest, Intake, Limits, MemoryEventQueue,
    MemoryIdempotencyStore, OrgAllowList, PathToken, QueueLimits, RedisStore, RedisStreamQueue,
    StagedIngest, StreamConfig, Verifier,
};

pub use access::{ClientCredentialsAccess, SessionCheck};
pub use config::{Config, LogFormat};
pub use embedded::{Embedded, EmbeddedConfig};
pub use metrics::ProcessingMetrics;

/// Everything built from the configuration, before anything listens or consumes.
struct Parts {
    intake: Intake,
    queue: Arc<dyn EventQueue>,
    processor: Processor,
    feed: Arc<dyn EventFeed>,
}

/// Where events, dedupe marks and the feed are kept.
struct Stores {
    queue: Arc<dyn EventQueue>,
    ingest: Arc<dyn Ingest>,
    feed: Arc<dyn EventFeed>,
}

impl Parts {
    fn new(
        verifier: Verifier,
        stores: Stores,
        rules: RulesFile,
        crm: Arc<dyn CrmActions>,
        body_limits: Limits,
    ) -> Self {
        Self {
            intake: Intake::new(verifier, stores.ingest).with_limits(body_limits),
            processor: Processor::new(rules, crm, stores.feed.clone()),
            queue: stores.queue,
            feed: stores.feed,
        }
    }
}

/// The org allow-list, and the path token when one is required.
fn verifier(allowed_orgs: &[String], path_token: Option<&str>) -> anyhow::Result<Verifier> {
    let allow =
        OrgAllowList::new(allowed_orgs).map_err(|e| anyhow::anyhow!("SFMCP_ALLOWED_ORGS: {e}"))?;
    Ok(match path_token {
        Some(token) => Verifier::new(allow, PathToken::new(token.to_owned())),
        None => Verifier::without_path_token(allow),
    })
}

/// The in-memory queue, dedupe marks and feed (lost on restart: demos only).
fn memory_stores(limits: QueueLimits, feed_len: usize) -> Stores {
    let queue = Arc::new(MemoryEventQueue::new(limits));
    let store = Arc::new(MemoryIdempotencyStore::new(
        1_000_000,
        IdempotencyTtl::default(),
    ));
    Stores {
        ingest: Arc::new(StagedIngest::new(store, queue.clone())),
        queue,
        feed: Arc::new(MemoryFeed::new(feed_len)),
    }
}

/// Most events one ingest script run stores: a full message, or many small ones.
const INGEST_BATCH_EVENTS: usize = 100;

fn redis_stores(config: &Config, limits: QueueLimits, feed_len: usize) -> anyhow::Result<Stores> {
    let url = config.redis_url.as_deref().unwrap_or_default();
    let store = RedisStore::new(url, config.redis_prefix.clone())
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    let stream = Arc::new(RedisStreamQueue::new(
        store,
        StreamConfig {
            limits,
            ..StreamConfig::default()
        },
    ));
    let feed = RedisFeed::new(url, &config.redis_prefix, feed_len)
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    // Messages arriving together share one run of the ingest script (each is still answered
    // only after the run that stored its events).
    let ingest = BatchedRedisIngest::new((*stream).clone(), INGEST_BATCH_EVENTS);
    Ok(Stores {
        queue: stream,
        ingest: Arc::new(ingest),
        feed: Arc::new(feed),
    })
}

fn build(config: &Config) -> anyhow::Result<Parts> {
    let path_token = config.path_token()?;
    let verifier = verifier(&config.allowed_orgs, path_token)?;
    if path_token.is_none() {
        tracing::warn!(
            "no SFMCP_WEBHOOK_SECRET: any sender that knows an allowed org id is believed (SFMCP_ALLOW_UNAUTHENTICATED_ORGS)"
        );
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
    let stores = if config.redis_url.is_some() {
        redis_stores(config, limits, rules.feed.max_len)?
    } else {
        tracing::warn!("no REDIS_URL: events are kept in memory and lost on restart");
        memory_stores(limits, rules.feed.max_len)
    };
    let needs_salesforce = rules
        .rules
        .iter()
        .any(|r| r.task.is_some() || !r.route.is_empty());
    let crm: Arc<dyn CrmActions> = match config.salesforce()? {
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
    let verifier = if config.verify_session_id {
        let Some(creds) = config.salesforce()? else {
            anyhow::bail!(
                "SFMCP_VERIFY_SESSION_ID needs SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET"
            );
        };
        let check = SessionCheck::new(creds.login_url, creds.client_id, creds.client_secret)
            .context("SALESFORCE_LOGIN_URL")?;
        verifier.with_session_verifier(Arc::new(check))
    } else {
        verifier
    };
    let body_limits = Limits {
        max_body_bytes: config.max_body_bytes,
        ..Limits::default()
    };
    Ok(Parts::new(verifier, stores, rules, crm, body_limits))
}

/// Rules without Salesforce actions never call these; refusing keeps that visible.
struct NoSalesforce;

impl CrmActions for NoSalesforce {
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

/// How the consumers and the HTTP side run.
struct Running {
    consumers: usize,
    claim_idle: Duration,
    request_timeout: Duration,
    shutdown_grace: Duration,
}

/// Serves `parts.intake` on `listener` and consumes with `running.consumers` consumers until
/// `stop` is cancelled; then stops accepting, answers open requests and lets each consumer
/// finish the events in hand, all within `running.shutdown_grace`. Events still unfinished then
/// stay pending in the queue (another consumer takes them over), so nothing stored is lost.
async fn serve(parts: Parts, running: &Running, listener: TcpListener, stop: CancellationToken) {
    let processing = Arc::new(ProcessingMetrics::default());
    let base = processing::consumer_base_name();
    let mut consumers = tokio::task::JoinSet::new();
    for i in 0..running.consumers.max(1) {
        let consumer = processing::Consumer {
            name: format!("{base}-{i}"),
            queue: parts.queue.clone(),
            processor: parts.processor.clone(),
            metrics: processing.clone(),
            claim_idle: running.claim_idle,
        };
        consumers.spawn(consumer.run(stop.clone()));
    }
    let routes = http::Routes {
        intake: parts.intake,
        processing,
    };
    let grace = running.shutdown_grace;
    let deadline = http::serve(listener, routes, running.request_timeout, grace, stop).await;
    let finished = tokio::time::timeout_at(deadline, async {
        while consumers.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "events still in hand at the end of the grace period stay pending for another consumer"
        );
        consumers.abort_all();
    }
}

/// Runs the worker until `stop` is cancelled: serves on `listener`, consumes with
/// `config.consumers` consumers, then shuts down gracefully (open requests answered, each
/// consumer's events in hand finished, within `config.shutdown_grace()`).
///
/// # Errors
/// Configuration problems (before anything starts).
pub async fn run(
    config: Config,
    listener: TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let parts = build(&config)?;
    tracing::info!(listen = %listener.local_addr()?, consumers = config.consumers, "sfmcp-worker started");
    let running = Running {
        consumers: config.consumers,
        claim_idle: config.claim_idle(),
        request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)),
        shutdown_grace: config.shutdown_grace(),
    };
    serve(parts, &running, listener, stop).await;
    tracing::info!("sfmcp-worker stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    const SECRET: &str = "0123456789abcdef-secret";

    fn config(args: &[&str]) -> Config {
        let mut all = vec![
            "sfmcp-worker",
            "--allowed-orgs",
            "00Do0000000e0vQEAQ",
            "--webhook-secret",
            SECRET,
        ];
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
        let bad_org = Config::try_parse_from([
            "sfmcp-worker",
            "--allowed-orgs",
            "nope",
            "--webhook-secret",
            SECRET,
        ])
        .unwrap();
        assert!(format!("{:#}", check(&bad_org).unwrap_err()).contains("SFMCP_ALLOWED_ORGS"));
    }

    /// The org allow-list alone is not authentication: without a secret the worker refuses to
    /// start unless told explicitly; a secret must be long and fit a path segment.
    #[test]
    fn a_secret_or_an_explicit_opt_out_is_required() {
        let parse = |args: &[&str]| {
            let mut all = vec!["sfmcp-worker", "--allowed-orgs", "00Do0000000e0vQEAQ"];
            all.extend_from_slice(args);
            check(&Config::try_parse_from(all).unwrap()).map_err(|e| format!("{e:#}"))
        };
        let missing = parse(&[]).unwrap_err();
        assert!(
            missing.contains("SFMCP_WEBHOOK_SECRET is not set")
                && missing.contains("--allow-unauthenticated-orgs"),
            "{missing}"
        );
        assert!(parse(&["--allow-unauthenticated-orgs"]).is_ok());
        assert!(parse(&["--webhook-secret", SECRET]).is_ok());
        let both = parse(&["--webhook-secret", SECRET, "--allow-unauthenticated-orgs"]);
        assert!(both.unwrap_err().contains("contradict"));
        for bad in ["short", "has/a/slash-0123456789", "with space 0123456789"] {
            let refused = parse(&["--webhook-secret", bad]).unwrap_err();
            assert!(
                refused.contains("at least 16 characters"),
                "{bad}: {refused}"
            );
            assert!(
                !refused.contains(bad),
                "the secret is not echoed: {refused}"
            );
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = config(&["--salesforce-client-secret", "s3cret"]);
        let text = format!("{config:?}");
        assert!(!text.contains(SECRET) && !text.contains("s3cret"), "{text}");
    }
}
