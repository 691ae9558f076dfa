//! [`Embedded`]: the worker's pipeline run inside another process (the server's embedded demo)
//! on the in-memory idempotency store, queue and event feed: the same intake, processor,
//! consumers and HTTP side as `sfmcp-worker`, composed by the same functions, with a secret
//! path token always required.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use followups::{CrmActions, EventFeed, RulesFile};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use webhooks::{Limits, QueueLimits};

use crate::{Parts, Running, memory_stores, serve, verifier};

/// What the embedded pipeline needs from its host.
pub struct EmbeddedConfig {
    /// The one organization whose messages are accepted (15 or 18 characters).
    pub org_id: String,
    /// The secret path token (see `SFMCP_WEBHOOK_SECRET`); the host generates a random one.
    pub secret: SecretString,
    /// The follow-up rules.
    pub rules: RulesFile,
    /// How follow-ups reach Salesforce.
    pub crm: Arc<dyn CrmActions>,
}

/// The embedded pipeline, serving until [`Embedded::shutdown`].
pub struct Embedded {
    addr: SocketAddr,
    secret: SecretString,
    feed: Arc<dyn EventFeed>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Embedded {
    /// Starts the intake on `listener` and two consumers.
    ///
    /// # Errors
    /// An invalid org id or secret.
    pub fn start(config: EmbeddedConfig, listener: TcpListener) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let secret = config.secret.expose_secret();
        crate::config::check_secret(secret)?;
        let verifier = verifier(&[config.org_id], Some(secret))?;
        let stores = memory_stores(QueueLimits::default(), config.rules.feed.max_len);
        let parts = Parts::new(
            verifier,
            stores,
            config.rules,
            config.crm,
            Limits::default(),
        );
        let feed = parts.feed.clone();
        let running = Running {
            consumers: 2,
            claim_idle: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
        };
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move { serve(parts, &running, listener, stop).await }
        });
        Ok(Self {
            addr,
            secret: config.secret,
            feed,
            stop,
            task,
        })
    }

    /// The address the intake listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL an outbound message must be sent to (it contains the secret: never log it).
    pub fn endpoint(&self) -> SecretString {
        SecretString::from(format!(
            "http://{}{}/{}",
            self.addr,
            webhooks::intake::DEFAULT_PATH,
            self.secret.expose_secret()
        ))
    }

    /// The event feed the processor records into (the `recentEvents` tool's source).
    pub fn event_feed(&self) -> Arc<dyn EventFeed> {
        self.feed.clone()
    }

    /// Stops accepting, answers open requests and finishes the events in hand (within 5 s).
    pub async fn shutdown(self) {
        self.stop.cancel();
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "embedded worker ended abnormally");
        }
    }
}
