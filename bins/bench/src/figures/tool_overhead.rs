//! Figure 2: what a `searchLeads` call through `sfmcp-server` costs over sending its SOQL to the
//! org directly. `searchLeads` with `limit: 10` sends two queries at once (the page and its
//! `COUNT()`), so the direct side sends the same two at once, on two connections, with a token of
//! the same app; both sides hit the same sandbox (demo dataset).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::Full;
use secrecy::ExposeSecret as _;

use crate::figures::mcp_echo::report_errors;
use crate::figures::{Era, ToolCall};
use crate::fixtures::{API_VERSION, Sandbox};
use crate::load::{self, Answer, Plan, Scenario};
use crate::{RunArgs, fixtures, thousands, verdict};

/// The SOQL `searchLeads` sends for `{"limit": 10}`, character for character (see
/// `crm-tools/src/tools/search_leads.rs`: its field list, the default sort, then `Id`, and the
/// first page's `OFFSET 0`), and the count it sends beside it.
pub const SEARCH_LEADS_SOQL: [&str; 2] = [
    "SELECT Id, Name, Title, Company, Email, Phone, Status, Rating, Industry, LeadSource, \
     AnnualRevenue, NumberOfEmployees, OwnerId, Owner.Name, CreatedDate, IsConverted FROM Lead \
     ORDER BY CreatedDate DESC NULLS LAST, Id ASC LIMIT 10 OFFSET 0",
    "SELECT COUNT() FROM Lead",
];
const GOAL_RATIO: f64 = 0.77;

/// GETs to the sandbox's REST API, `paths.len()` of them at once per call.
pub struct DirectRest {
    /// The sandbox.
    pub addr: SocketAddr,
    /// `Bearer …`.
    pub authorization: String,
    /// Paths with query strings.
    pub paths: Vec<String>,
    /// Text a good answer's body must hold (beside a 2xx status), if any.
    pub body_marker: Option<&'static str>,
}

impl Scenario for DirectRest {
    fn parallel(&self) -> usize {
        self.paths.len()
    }

    fn request(
        &self,
        _conn: usize,
        _seq: u64,
        part: usize,
        _extra: &HeaderMap,
    ) -> Request<Full<Bytes>> {
        load::get(
            self.addr,
            &self.paths[part],
            &[
                ("authorization", &self.authorization),
                ("accept", "application/json"),
            ],
        )
    }

    /// A 2xx, holding `body_marker` when there is one: for figure 2 the body is looked into as
    /// the server side's tool results are (`tool_succeeded`), so both sides pay the same check.
    fn accept(&self, answer: &Answer) -> bool {
        answer.status.is_success()
            && self
                .body_marker
                .is_none_or(|marker| String::from_utf8_lossy(&answer.body).contains(marker))
    }
}

/// The path and query string of a REST query of `soql`.
pub fn query_path(soql: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse_with_params(
        &format!("http://localhost/services/data/{API_VERSION}/query"),
        &[("q", soql)],
    )?;
    Ok(format!(
        "{}?{}",
        url.path(),
        url.query().unwrap_or_default()
    ))
}

/// Runs figure 2.
///
/// # Errors
/// When the sandbox or the server does not start or answers nothing.
pub async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(args, "demo").await?;
    let (_server, server_addr) = fixtures::server(args, &sandbox, "server").await?;
    let token = sandbox.token().await?;
    let direct = Arc::new(DirectRest {
        addr: sandbox.addr,
        authorization: format!("Bearer {}", token.expose_secret()),
        paths: SEARCH_LEADS_SOQL
            .iter()
            .map(|soql| query_path(soql))
            .collect::<anyhow::Result<_>>()?,
        body_marker: Some("\"totalSize\""),
    });
    let through_server = Arc::new(ToolCall {
        addr: server_addr,
        era: Era::Modern,
        tool: "searchLeads",
        arguments: serde_json::json!({"limit": 10}),
    });
    let (warmup, measure) = args.window();
    for clients in [1, 16, 64] {
        let plan = Plan {
            connections: clients,
            warmup,
            measure,
        };
        let server = load::run(server_addr, plan, through_server.clone()).await?;
        let direct = load::run(sandbox.addr, plan, direct.clone()).await?;
        let ratio = server.rate() / direct.rate();
        let goal = if clients == 64 {
            format!("goal ≥ {GOAL_RATIO}× {}", verdict(ratio >= GOAL_RATIO))
        } else {
            "goal applies at 64".into()
        };
        println!(
            "2. searchLeads (limit 10), {clients} clients: server {} calls/s (p50 {:.2} ms, p99 {:.2} ms) vs direct SOQL {} calls/s (p50 {:.2} ms, p99 {:.2} ms) ({ratio:.2}×) — {goal}",
            thousands(server.rate()),
            server.quantile_ms(0.5),
            server.quantile_ms(0.99),
            thousands(direct.rate()),
            direct.quantile_ms(0.5),
            direct.quantile_ms(0.99),
        );
        report_errors("2. (server)", &server);
        report_errors("2. (direct)", &direct);
    }
    Ok(())
}
