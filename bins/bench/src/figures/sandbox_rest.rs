//! Figure 7: the sandbox itself. Simple REST requests per second (a record by id, and `/limits`)
//! with the same generator, and a filtered SOQL that must scan every Lead of a table holding the
//! million rows of figure 6 (ingested here when figure 6 did not run).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use crate::figures::bulk;
use crate::figures::mcp_echo::report_errors;
use crate::figures::tool_overhead::{DirectRest, query_path};
use crate::fixtures::{API_VERSION, Sandbox};
use crate::load::{self, Plan};
use crate::{RunArgs, thousands, verdict};

const CONNECTIONS: usize = 16;
const GOAL_REQUESTS: f64 = 10_000.0;
const SCAN_RUNS: usize = 5;

/// Runs figure 7 on `loaded` (figure 6's sandbox) or on a new one.
///
/// # Errors
/// When the sandbox does not start or refuses the requests.
pub async fn run(args: &RunArgs, loaded: Option<Sandbox>) -> anyhow::Result<()> {
    let sandbox = match loaded {
        Some(sandbox) => sandbox,
        None => {
            let sandbox = Sandbox::start(args, "demo").await?;
            bulk::run_client(&sandbox, "ingest", bulk::rows(args)).await?;
            sandbox
        }
    };
    let token = sandbox.token().await?;
    let authorization = format!("Bearer {}", token.expose_secret());
    let some_lead = sandbox
        .rest_get(
            &token,
            &query_path("SELECT Id FROM Lead LIMIT 1")?
                .replace(&format!("/services/data/{API_VERSION}/"), ""),
        )
        .await?;
    let id = some_lead["records"][0]["Id"]
        .as_str()
        .context("no Lead in the sandbox")?
        .to_owned();
    let (warmup, measure) = args.window();
    let plan = Plan {
        connections: CONNECTIONS,
        warmup,
        measure,
    };
    for (label, path) in [
        (
            "GET sobjects/Lead/{id}",
            format!("/services/data/{API_VERSION}/sobjects/Lead/{id}"),
        ),
        ("GET limits", format!("/services/data/{API_VERSION}/limits")),
    ] {
        let scenario = Arc::new(DirectRest {
            addr: sandbox.addr,
            authorization: authorization.clone(),
            paths: vec![path],
            body_marker: None,
        });
        let stats = load::run(sandbox.addr, plan, scenario).await?;
        println!(
            "7. sandbox REST {label}: {} requests/s (p50 {:.2} ms, p99 {:.2} ms, {CONNECTIONS} connections) — goal ≥ {} requests/s {}",
            thousands(stats.rate()),
            stats.quantile_ms(0.5),
            stats.quantile_ms(0.99),
            thousands(GOAL_REQUESTS),
            verdict(stats.rate() >= GOAL_REQUESTS),
        );
        report_errors("7.", &stats);
    }

    let count = sandbox
        .rest_get(&token, "query?q=SELECT+COUNT()+FROM+Lead")
        .await?["totalSize"]
        .as_u64()
        .context("no totalSize")?;
    // `LIKE '%…%'` cannot use an index: every row is read.
    let soql = "SELECT Id, Company FROM Lead WHERE Company LIKE '%Bench 12345%'";
    let path = query_path(soql)?.replace(&format!("/services/data/{API_VERSION}/"), "");
    let mut times = Vec::new();
    let mut matched = 0;
    for _ in 0..SCAN_RUNS {
        let started = Instant::now();
        let answer = sandbox.rest_get(&token, &path).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        matched = answer["totalSize"].as_u64().unwrap_or(0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "7. sandbox filtered SOQL over {} Leads (`{soql}`, {matched} rows): median {:.0} ms, best {:.0} ms of {SCAN_RUNS} — no goal set",
        thousands(count as f64),
        times[SCAN_RUNS / 2],
        times[0],
    );
    Ok(())
}
