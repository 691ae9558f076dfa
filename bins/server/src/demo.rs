//! The embedded demo's webhook pipeline: `worker`'s in-process pipeline ([`worker::Embedded`],
//! in-memory dedupe store, queue and event feed) on a loopback port with a random secret path
//! token, and the sandbox's demo outbound rules (Lead created, Opportunity stage changed)
//! delivering to it. Follow-ups follow `demo-followups.json` (in this crate, documented in
//! docs/configuration.md) and act as the demo app's integration user, like `sfmcp-worker`; the
//! Task key field they need is added to the demo org's schema by [`task_key_extension`].

use std::sync::Arc;

use anyhow::Context as _;
use followups::{EventFeed, RulesFile, SalesforceActions};
use salesforce_sandbox::RunningSandbox;
use salesforce_sandbox::schema::custom::SchemaExtension;
use secrecy::{ExposeSecret as _, SecretString};

/// The demo's follow-up rules.
pub const DEMO_RULES: &str = include_str!("../demo-followups.json");

/// The unique external-id field on Task that makes follow-ups idempotent (`taskKeyField`).
pub fn task_key_extension() -> anyhow::Result<SchemaExtension> {
    serde_json::from_value(serde_json::json!({"fields": {"Task": [{
        "name": "Sfmcp_Key__c", "type": "string", "length": 255,
        "externalId": true, "unique": true
    }]}}))
    .context("the demo's Task key field")
}

/// Starts the pipeline when there is an embedded sandbox.
pub async fn start_if_embedded(
    sandbox: Option<&RunningSandbox>,
) -> anyhow::Result<Option<DemoPipeline>> {
    match sandbox {
        Some(sandbox) => Ok(Some(DemoPipeline::start(sandbox).await?)),
        None => Ok(None),
    }
}

/// The running demo pipeline.
#[derive(Debug)]
pub struct DemoPipeline {
    worker: worker::Embedded,
}

impl DemoPipeline {
    /// Starts the pipeline, acting as the demo app's integration user (client credentials,
    /// as `sfmcp-worker` does), and points the sandbox's demo outbound rules at it.
    pub async fn start(sandbox: &RunningSandbox) -> anyhow::Result<Self> {
        let access = worker::ClientCredentialsAccess::new(
            &sandbox.base_url(),
            salesforce_sandbox::oauth::DEMO_CLIENT_ID,
            salesforce_sandbox::oauth::DEMO_CLIENT_SECRET,
        )?;
        let client = salesforce_api::Client::builder(access)
            .build()
            .context("the demo follow-ups' Salesforce client")?;
        let org_id = sandbox.sandbox().store().read().org_id().to_string();
        let rules = RulesFile::from_json(DEMO_RULES).context("demo-followups.json")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the demo webhook intake")?;
        let worker = worker::Embedded::start(
            worker::EmbeddedConfig {
                org_id,
                secret: SecretString::from(auth::random::random_token()),
                rules,
                crm: Arc::new(SalesforceActions::new(client)),
            },
            listener,
        )?;
        let endpoint = worker.endpoint();
        for rule in salesforce_sandbox::demo_outbound_rules(endpoint.expose_secret()) {
            sandbox
                .sandbox()
                .add_outbound_rule(&rule)
                .context("the demo outbound rules")?;
        }
        tracing::info!(intake = %worker.local_addr(), "demo follow-ups: outbound messages of the embedded org go to the in-process worker");
        Ok(Self { worker })
    }

    /// The event feed (the source of the `recentEvents` tool).
    pub fn event_feed(&self) -> Arc<dyn EventFeed> {
        self.worker.event_feed()
    }

    /// Finishes open requests and events in hand.
    pub async fn shutdown(self) {
        self.worker.shutdown().await;
    }
}
