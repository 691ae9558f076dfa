//! Helpers for the worker's end-to-end tests: a real worker process (this test binary
//! re-executed as the worker, because SIGKILL needs a real process), SOAP messages built
//! like Salesforce's, a sandbox org with the Task key field, and Redis stream inspection.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use salesforce_api::{Access, Client, StaticAccess};
use salesforce_sandbox::{RunningSandbox, Sandbox};

/// The org the synthetic messages come from (as in the shared node-webhook anchor).
pub const ORG: &str = "00Do0000000e0vQEAQ";

/// The rules file used by the end-to-end tests: one Task per new Lead.
pub const LEAD_RULES: &str = r#"{
  "rules": [{
    "name": "lead-follow-up",
    "object": "Lead",
    "task": {
      "subject": "Follow up with {LastName} ({Company})",
      "description": "Lead {Id}",
      "dueInBusinessDays": 2,
      "priority": { "field": "Rating", "map": { "Hot": "High", "Cold": "Low" } }
    }
  }]
}"#;

/// The webhook secret the test workers require in the path (see `SFMCP_WEBHOOK_SECRET`).
pub const SECRET: &str = "test-secret-0123456789abcdef";

/// The environment variable that turns this test binary into a worker process.
const AS_WORKER: &str = "SFMCP_TEST_AS_WORKER";

/// The worker process's entry point: the test binary re-executed with [`AS_WORKER`] set runs
/// the same composition as `sfmcp-worker`'s `main` (`worker::run` with the configuration from
/// the environment and SIGTERM handling) until it is killed or stops. A real process, so that
/// SIGKILL means SIGKILL, built with the tests instead of by a `cargo build` inside a test
/// (which would wait on other builds' locks). Run as an ordinary test, it returns at once.
#[test]
fn worker_process_entry() {
    if std::env::var_os(AS_WORKER).is_none() {
        return;
    }
    let config = <worker::Config as clap::Parser>::parse_from(["sfmcp-worker"]);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("listen");
        let stop = tokio_util::sync::CancellationToken::new();
        worker::shutdown_on_signal(stop.clone()).expect("signal handlers");
        worker::run(config, listener, stop).await.expect("worker");
    });
}

/// A free loopback port (bound then released).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// Writes a rules file for one test and returns its path.
pub fn rules_file(name: &str, text: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("sfmcp-worker-{name}-{}.json", std::process::id()));
    std::fs::write(&path, text).expect("write rules");
    path
}

/// A running `sfmcp-worker`, killed when dropped.
pub struct WorkerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl WorkerProcess {
    /// Starts the binary on `addr` with `env` (plus quiet logs and the path secret [`SECRET`])
    /// and waits for `/healthz`.
    pub async fn start(addr: SocketAddr, env: &[(&str, String)]) -> Self {
        let exe = std::env::current_exe().expect("test binary path");
        let mut command = Command::new(exe);
        command
            .args([
                "--exact",
                "worker_harness::worker_process_entry",
                "--nocapture",
            ])
            .env_clear()
            .env(AS_WORKER, "1")
            .env("SFMCP_WORKER_LISTEN", addr.to_string())
            .env("RUST_LOG", "warn")
            .env("SFMCP_WEBHOOK_SECRET", SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("spawn sfmcp-worker");
        let worker = Self { child, addr };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let health = client.get(worker.url("/healthz")).send().await;
            if health.is_ok_and(|r| r.status() == 200) {
                return worker;
            }
            assert!(
                Instant::now() < deadline,
                "sfmcp-worker did not become healthy"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The outbound-message endpoint, with the secret.
    pub fn endpoint(&self) -> String {
        self.url(&format!("/webhooks/salesforce/outbound/{SECRET}"))
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: the graceful shutdown starts.
    pub fn terminate(&self) {
        // The shell's builtin `kill`: present wherever `sh` is.
        let status = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// The exit status, once the process has ended.
    pub fn try_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("wait on the worker")
    }

    /// A counter from `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = reqwest::get(self.url("/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        let line = format!("sfmcp_worker_{name}_total ");
        text.lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in {text}"))
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One Lead notification: (notification id, lead id, last name).
pub type LeadNote = (String, String, String);

/// A Lead notification with 15-character ids numbered `n`.
pub fn lead_note(n: u32) -> LeadNote {
    (
        format!("04l{n:012}"),
        format!("00Q{n:012}"),
        format!("Lead{n}"),
    )
}

/// An outbound message from `org` carrying `notes`, as Salesforce writes it.
pub fn soap_message(org: &str, notes: &[LeadNote]) -> String {
    let mut body = String::new();
    for (notification, lead, last_name) in notes {
        body.push_str(&format!(
            r#"<Notification><Id>{notification}</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{lead}</sf:Id><sf:Company>Acme &amp; Sons</sf:Company><sf:LastName>{last_name}</sf:LastName><sf:Rating>Hot</sf:Rating><sf:Phone xsi:nil="true"/></sObject></Notification>"#
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId><ActionId>04k1N0000008pXOQAY</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/62.0/00Do0000000e0vQ</EnterpriseUrl><PartnerUrl>https://x.my.salesforce.com/services/Soap/u/62.0/00Do0000000e0vQ</PartnerUrl>{body}</notifications></soapenv:Body></soapenv:Envelope>"#
    )
}

/// Posts a message; returns the status and body.
pub async fn post(client: &reqwest::Client, url: &str, body: String) -> (u16, String) {
    let response = client
        .post(url)
        .header("content-type", "text/xml; charset=utf-8")
        .header("soapaction", "\"\"")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// A sandbox org (tiny dataset) whose Task has the unique external id `Sfmcp_Key__c`.
pub async fn sandbox_org() -> RunningSandbox {
    let extension = serde_json::from_str(
        r#"{"fields":{"Task":[{"name":"Sfmcp_Key__c","type":"string","length":255,"externalId":true,"unique":true}]}}"#,
    )
    .expect("extension");
    let sandbox = Sandbox::builder()
        .dataset(salesforce_sandbox::DatasetSize::Tiny, 7)
        .schema_extension(extension)
        .build()
        .expect("sandbox");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    sandbox.serve(listener).expect("serve")
}

/// A client of the sandbox org (as the demo user).
pub fn sandbox_client(org: &RunningSandbox) -> Client {
    let token = org.sandbox().issue_access_token();
    let access = Access::new(&org.base_url(), token.into()).expect("access");
    Client::builder(StaticAccess::new(access))
        .build()
        .expect("client")
}

/// The worker environment for acting on `org` as the demo app's integration user.
pub fn salesforce_env(org: &RunningSandbox) -> Vec<(&'static str, String)> {
    vec![
        ("SALESFORCE_LOGIN_URL", org.base_url()),
        ("SALESFORCE_CLIENT_ID", "sfmcp-demo".to_owned()),
        ("SALESFORCE_CLIENT_SECRET", "sfmcp-demo-secret".to_owned()),
    ]
}

/// The environment of a worker on `redis` that accepts messages of `allowed_org`, applies
/// `rules` (written to a file named after `name`) and acts on `org`.
pub fn worker_env(
    org: &RunningSandbox,
    redis: &test_support::TestRedis,
    allowed_org: &str,
    (name, rules): (&str, &str),
) -> Vec<(&'static str, String)> {
    let mut env = salesforce_env(org);
    env.extend([
        ("REDIS_URL", redis.url().to_owned()),
        ("SFMCP_REDIS_PREFIX", redis.prefix().to_owned()),
        ("SFMCP_ALLOWED_ORGS", allowed_org.to_owned()),
        ("SFMCP_RULES", rules_file(name, rules).display().to_string()),
    ]);
    env
}

/// Tasks carrying a follow-up key.
pub async fn keyed_tasks(client: &Client) -> u64 {
    client
        .count("SELECT COUNT() FROM Task WHERE Sfmcp_Key__c != null")
        .await
        .expect("count tasks")
}

/// A synchronous Redis connection.
pub fn redis_connection(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("redis connection")
}

/// `XLEN key` (0 when missing).
pub fn xlen(url: &str, key: &str) -> u64 {
    redis::cmd("XLEN")
        .arg(key)
        .query(&mut redis_connection(url))
        .expect("XLEN")
}

/// Waits (up to `limit`) until `done` returns true; panics with `what` otherwise.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The environment of a worker acting on `org` with one Task per new Lead ([`LEAD_RULES`]),
/// its queue under `redis`'s prefix, accepting messages from [`ORG`].
pub fn lead_worker_env(
    org: &RunningSandbox,
    redis: &test_support::TestRedis,
    name: &str,
) -> Vec<(&'static str, String)> {
    let mut env = salesforce_env(org);
    env.extend([
        ("REDIS_URL", redis.url().to_owned()),
        ("SFMCP_REDIS_PREFIX", redis.prefix().to_owned()),
        ("SFMCP_ALLOWED_ORGS", ORG.to_owned()),
        (
            "SFMCP_RULES",
            rules_file(name, LEAD_RULES).display().to_string(),
        ),
    ]);
    env
}
