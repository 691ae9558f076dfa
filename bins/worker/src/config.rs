//! The worker's configuration: flags and environment variables (clap), each documented in
//! `--help`. Secrets (`SFMCP_WEBHOOK_SECRET`, `SALESFORCE_CLIENT_SECRET`) are never printed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// `sfmcp-worker`: receives Salesforce outbound messages, stores them before acknowledging and
/// turns them into follow-ups.
#[derive(Clone, Parser)]
#[command(name = "sfmcp-worker", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SFMCP_WORKER_LISTEN", default_value = "127.0.0.1:3001")]
    pub listen: SocketAddr,

    /// Redis for the durable queue, dedupe marks and the event feed. Without it events are kept
    /// in memory only (lost on restart: for demos, never for production).
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key the worker writes.
    #[arg(long, env = "SFMCP_REDIS_PREFIX", default_value = followups::DEFAULT_KEY_PREFIX)]
    pub redis_prefix: String,

    /// Comma-separated org ids (15 or 18 characters) whose messages are accepted.
    #[arg(
        long,
        env = "SFMCP_ALLOWED_ORGS",
        value_delimiter = ',',
        required = true
    )]
    pub allowed_orgs: Vec<String>,

    /// Secret path token (at least 16 of `A-Z a-z 0-9 - . _ ~`): Salesforce must post to
    /// `/webhooks/salesforce/outbound/{secret}`, compared in constant time. Required unless
    /// `--allow-unauthenticated-orgs`.
    #[arg(long, env = "SFMCP_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// Accept messages on the org allow-list alone, without a secret path token. The
    /// organization id is no secret: use this only where nobody else can reach the worker.
    #[arg(long, env = "SFMCP_ALLOW_UNAUTHENTICATED_ORGS")]
    pub allow_unauthenticated_orgs: bool,

    /// For outbound-message actions with "Send Session ID" on: check each message's session id
    /// at the configured Salesforce login URL's `userinfo` (a live session of the message's
    /// org, else 403). Needs the SALESFORCE_* credentials.
    #[arg(long, env = "SFMCP_VERIFY_SESSION_ID")]
    pub verify_session_id: bool,

    /// Rules file (JSON; see crates/followups/rules.example.json). Without it events are only
    /// recorded in the event feed.
    #[arg(long, env = "SFMCP_RULES")]
    pub rules: Option<PathBuf>,

    /// Salesforce login URL of the integration user (client-credentials flow), e.g. a My Domain.
    #[arg(long, env = "SALESFORCE_LOGIN_URL")]
    pub salesforce_login_url: Option<String>,

    /// Consumer key of the connected app.
    #[arg(long, env = "SALESFORCE_CLIENT_ID")]
    pub salesforce_client_id: Option<String>,

    /// Consumer secret of the connected app.
    #[arg(long, env = "SALESFORCE_CLIENT_SECRET", hide_env_values = true)]
    pub salesforce_client_secret: Option<String>,

    /// Concurrent consumers in this process.
    #[arg(long, env = "SFMCP_WORKER_CONSUMERS", default_value_t = 4)]
    pub consumers: usize,

    /// Deliveries after which a failing event is dead-lettered with its error.
    #[arg(long, env = "SFMCP_WORKER_MAX_DELIVERIES", default_value_t = 5)]
    pub max_deliveries: u64,

    /// Seconds an entry stays pending with a consumer before another one takes it over
    /// (XAUTOCLAIM): a crashed worker's events are processed after this.
    #[arg(long, env = "SFMCP_WORKER_CLAIM_IDLE_SECS", default_value_t = 60)]
    pub claim_idle_secs: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SFMCP_WORKER_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds a request may take before the worker answers 408.
    #[arg(long, env = "SFMCP_WORKER_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds a shutdown (SIGTERM, Ctrl-C) gives open requests and the events in hand to
    /// finish; events still unfinished then stay pending and are taken over by another consumer.
    #[arg(long, env = "SFMCP_WORKER_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
    pub shutdown_grace_secs: u64,

    /// Log format.
    #[arg(long, env = "SFMCP_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("redis", &self.redis_url.is_some())
            .field("allowed_orgs", &self.allowed_orgs)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "allow_unauthenticated_orgs",
                &self.allow_unauthenticated_orgs,
            )
            .field("verify_session_id", &self.verify_session_id)
            .field("rules", &self.rules)
            .field("salesforce_login_url", &self.salesforce_login_url)
            .field("consumers", &self.consumers)
            .finish_non_exhaustive()
    }
}

/// The integration user's credentials, all three present.
pub struct SalesforceCredentials<'a> {
    /// Login URL.
    pub login_url: &'a str,
    /// Consumer key.
    pub client_id: &'a str,
    /// Consumer secret.
    pub client_secret: &'a str,
}

impl Config {
    /// The Salesforce credentials: all three or none.
    ///
    /// # Errors
    /// When only some are set.
    pub fn salesforce(&self) -> anyhow::Result<Option<SalesforceCredentials<'_>>> {
        match (
            &self.salesforce_login_url,
            &self.salesforce_client_id,
            &self.salesforce_client_secret,
        ) {
            (Some(login_url), Some(client_id), Some(client_secret)) => {
                Ok(Some(SalesforceCredentials {
                    login_url,
                    client_id,
                    client_secret,
                }))
            }
            (None, None, None) => Ok(None),
            _ => anyhow::bail!(
                "SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET must be set together"
            ),
        }
    }

    /// The XAUTOCLAIM idle time.
    pub fn claim_idle(&self) -> Duration {
        Duration::from_secs(self.claim_idle_secs)
    }

    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The path token messages must carry: the secret, or `None` with the explicit opt-out.
    ///
    /// # Errors
    /// Neither (or both) configured, or a secret unfit for a URL path segment.
    pub fn path_token(&self) -> anyhow::Result<Option<&str>> {
        match (
            self.webhook_secret.as_deref(),
            self.allow_unauthenticated_orgs,
        ) {
            (Some(secret), false) => {
                check_secret(secret)?;
                Ok(Some(secret))
            }
            (None, true) => Ok(None),
            (Some(_), true) => anyhow::bail!(
                "SFMCP_WEBHOOK_SECRET and SFMCP_ALLOW_UNAUTHENTICATED_ORGS contradict each other: set one"
            ),
            (None, false) => anyhow::bail!(
                "SFMCP_WEBHOOK_SECRET is not set: the org allow-list alone does not authenticate a message (an org id is no secret). Set a random secret and end the outbound message's endpoint URL with /{{secret}}, or pass --allow-unauthenticated-orgs (SFMCP_ALLOW_UNAUTHENTICATED_ORGS=true) where nobody else can reach the worker"
            ),
        }
    }
}

/// Shortest accepted webhook secret.
pub const MIN_SECRET_LEN: usize = 16;

/// A secret must be long enough to resist guessing and travel unencoded as a path segment.
pub(crate) fn check_secret(secret: &str) -> anyhow::Result<()> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if secret.len() < MIN_SECRET_LEN || !secret.bytes().all(unreserved) {
        anyhow::bail!(
            "SFMCP_WEBHOOK_SECRET must be at least {MIN_SECRET_LEN} characters of A-Z, a-z, 0-9, '-', '.', '_', '~' (it is a URL path segment)"
        );
    }
    Ok(())
}
