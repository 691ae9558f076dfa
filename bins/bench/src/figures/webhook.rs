//! Figure 3: webhook intake. `sfmcp-worker` with a private Redis (dedupe + stream enqueue before
//! the `Ack`) against the Node anchor (express + xml2js, which stores and dedupes nothing), with
//! the same generator and the same envelopes (the anchor's `make_soap.py` shape), messages of 1
//! and of 100 notifications. Every notification id is new, so no dedupe short-circuits; the
//! worker's own counters (`enqueued`, `duplicates`) are printed to show it.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::Full;

use crate::figures::mcp_echo::report_errors;
use crate::load::{self, Answer, Conn, Plan, Scenario};
use crate::procs::{Proc, free_addr};
use crate::{RunArgs, fixtures, thousands, verdict};

/// The secret path token the worker requires (the production default), as Salesforce's endpoint
/// URL would carry it; the anchor checks nothing, which is part of what is compared.
macro_rules! webhook_secret {
    () => {
        "bench-secret-path-token-0123456789"
    };
}
const WEBHOOK_SECRET: &str = webhook_secret!();
const OUR_PATH: &str = concat!("/webhooks/salesforce/outbound/", webhook_secret!());
const CONNECTIONS: usize = 32;
const ORG_ID: &str = "00Do0000000e0vQEAQ";
const GOAL_MESSAGES: f64 = 20_000.0;
const GOAL_NOTIFICATIONS: f64 = 100_000.0;

/// Outbound messages of `per_message` Lead notifications, each with a new notification id.
pub struct Outbound {
    /// The receiver.
    pub addr: SocketAddr,
    /// Its path.
    pub path: &'static str,
    /// Notifications per message.
    pub per_message: usize,
    /// The next notification number (shared by every connection).
    pub next: Arc<AtomicU64>,
}

impl Outbound {
    /// One message whose notifications are numbered from `first`.
    pub fn envelope(per_message: usize, first: u64) -> String {
        let mut body = String::with_capacity(700 + per_message * 450);
        body.push_str(concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>"#,
            "00Do0000000e0vQEAQ",
            r#"</OrganizationId><ActionId>04k1N0000008pXOQAY</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/62.0/00Do0000000e0vQ</EnterpriseUrl><PartnerUrl>https://x.my.salesforce.com/services/Soap/u/62.0/00Do0000000e0vQ</PartnerUrl>"#
        ));
        for n in first..first + per_message as u64 {
            // 15-character ids (no checksum); 12 digits leave room for every run.
            body.push_str(&format!(
                r#"<Notification><Id>04l{n:012}</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q{n:012}</sf:Id><sf:Company>Company {n} &amp; Sons</sf:Company><sf:Email>lead{n}@example.com</sf:Email><sf:Industry>Healthcare</sf:Industry><sf:LastName>Flores</sf:LastName><sf:Phone xsi:nil="true"/><sf:Status>Open - Not Contacted</sf:Status></sObject></Notification>"#
            ));
        }
        body.push_str("</notifications></soapenv:Body></soapenv:Envelope>");
        body
    }
}

impl Scenario for Outbound {
    fn request(
        &self,
        _conn: usize,
        _seq: u64,
        _part: usize,
        extra: &HeaderMap,
    ) -> Request<Full<Bytes>> {
        let first = self
            .next
            .fetch_add(self.per_message as u64, Ordering::Relaxed);
        load::post(
            self.addr,
            self.path,
            &[
                ("content-type", "text/xml; charset=utf-8"),
                ("soapaction", "\"\""),
            ],
            extra,
            Self::envelope(self.per_message, first),
        )
    }

    fn accept(&self, answer: &Answer) -> bool {
        answer.status.is_success() && answer.body.windows(15).any(|w| w == b"<Ack>true</Ack>")
    }
}

/// Runs figure 3.
///
/// # Errors
/// When Redis, the worker or the anchor do not start or answer nothing.
pub async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let (warmup, measure) = args.window();
    let plan = Plan {
        connections: CONNECTIONS,
        warmup,
        measure,
    };
    let next = Arc::new(AtomicU64::new(1));
    let (_redis, redis_addr) = fixtures::redis(args).await?;
    let worker_addr = free_addr()?;
    let mut command = Command::new(args.bins.join("sfmcp-worker"));
    command
        .args(["--listen", &worker_addr.to_string()])
        .env("REDIS_URL", format!("redis://{redis_addr}"))
        .env("SFMCP_REDIS_PREFIX", "bench:")
        .env("SFMCP_ALLOWED_ORGS", ORG_ID)
        .env("SFMCP_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("RUST_LOG", "warn");
    let mut worker = Proc::start("worker", command, &args.logs)?;
    worker
        .wait_for_port(worker_addr, Duration::from_secs(30))
        .await?;
    let (_anchor, anchor_addr) = fixtures::node_anchor(args, "node-webhook", "handler.mjs").await?;

    for (per_message, goal, goal_unit) in [
        (1, GOAL_MESSAGES, "messages/s"),
        (100, GOAL_NOTIFICATIONS, "notifications/s"),
    ] {
        let scenario = |addr, path| {
            Arc::new(Outbound {
                addr,
                path,
                per_message,
                next: next.clone(),
            })
        };
        let before = worker_counters(worker_addr).await?;
        let ours = load::run(worker_addr, plan, scenario(worker_addr, OUR_PATH)).await?;
        let after = worker_counters(worker_addr).await?;
        let node = load::run(
            anchor_addr,
            plan,
            scenario(anchor_addr, "/webhooks/salesforce/lead-created"),
        )
        .await?;
        let n = per_message as f64;
        // Messages/s for one-notification messages, notifications/s for the others.
        let figure = ours.rate() * n;
        println!(
            "3. webhook intake, {per_message}-notification messages: worker {} messages/s = {} notifications/s (p99 Ack {:.2} ms) vs Node anchor {} messages/s = {} notifications/s (p99 {:.2} ms) ({:.1}×) — goal ≥ {} {goal_unit} {}",
            thousands(ours.rate()),
            thousands(ours.rate() * n),
            ours.quantile_ms(0.99),
            thousands(node.rate()),
            thousands(node.rate() * n),
            node.quantile_ms(0.99),
            ours.rate() / node.rate(),
            thousands(goal),
            verdict(figure >= goal),
        );
        println!(
            "   worker counters during the run: {} notifications enqueued, {} duplicates (new ids every message)",
            after.0 - before.0,
            after.1 - before.1,
        );
        report_errors("3. (worker)", &ours);
        report_errors("3. (Node)", &node);
    }
    Ok(())
}

/// `(enqueued, duplicates)` from the worker's `/metrics`.
async fn worker_counters(addr: SocketAddr) -> anyhow::Result<(u64, u64)> {
    let mut conn = Conn::open(addr).await?;
    let answer = conn.send(load::get(addr, "/metrics", &[])).await?;
    let text = String::from_utf8_lossy(&answer.body);
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((
        counter("sfmcp_worker_enqueued_total"),
        counter("sfmcp_worker_duplicates_total"),
    ))
}
