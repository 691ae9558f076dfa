//! Figure 8: token refresh under load. `sfmcp-server` (client-credentials connection) against the
//! sandbox; the sandbox ends every access token, then 100 callers each send one `searchLeads` at
//! once. The sandbox's request log counts the token requests that follow (the goal: exactly one)
//! and the time until the last caller has its answer is reported.

use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;

use crate::figures::{Era, ToolCall};
use crate::fixtures::{self, Sandbox};
use crate::load::{Conn, Scenario as _};
use crate::{RunArgs, verdict};

const CALLERS: usize = 100;

/// Runs figure 8.
///
/// # Errors
/// When the sandbox or the server does not start, or its log cannot be read.
pub async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(args, "demo").await?;
    let (_server, addr) = fixtures::server(args, &sandbox, "server-refresh").await?;
    let call = Arc::new(ToolCall {
        addr,
        era: Era::Modern,
        tool: "searchLeads",
        arguments: serde_json::json!({"limit": 10}),
    });
    // Connections and one call each first, so that only the refresh is left to measure.
    let mut conns = Vec::new();
    for _ in 0..CALLERS {
        let mut conn = Conn::open(addr).await?;
        let extra = call.setup(&mut conn).await?;
        let answer = conn.send(call.request(0, 0, 0, &extra)).await?;
        anyhow::ensure!(
            call.accept(&answer),
            "searchLeads failed before the refresh"
        );
        conns.push((conn, extra));
    }
    sandbox.admin(Method::POST, "sessions/expire", None).await?;
    sandbox.admin(Method::DELETE, "log", None).await?;
    let started = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, (mut conn, extra))| {
            let call = call.clone();
            tokio::spawn(async move {
                let answer = conn.send(call.request(i, 1, 0, &extra)).await?;
                anyhow::Ok(call.accept(&answer))
            })
        })
        .collect();
    let mut served = 0;
    for task in tasks {
        if task.await?? {
            served += 1;
        }
    }
    let took = started.elapsed();
    let log = sandbox.admin(Method::GET, "log", None).await?;
    let entries = log.as_array().cloned().unwrap_or_default();
    let refreshes = entries
        .iter()
        .filter(|e| e["path"] == "/services/oauth2/token")
        .count();
    let refused = entries.iter().filter(|e| e["status"] == 401).count();
    println!(
        "8. token refresh: {CALLERS} concurrent callers with an expired token → {refreshes} token request(s) at the sandbox ({refused} calls refused with 401 first), {served}/{CALLERS} served in {:.0} ms — goal exactly 1 refresh, all served {}",
        took.as_secs_f64() * 1000.0,
        verdict(refreshes == 1 && served == CALLERS),
    );
    Ok(())
}
