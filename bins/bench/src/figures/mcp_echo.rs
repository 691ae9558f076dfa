//! Figure 1: the MCP layer alone. `tools/call` of `echo` on the `mcp-protocol` example server, in
//! both eras, against the official TypeScript SDK's stateless server, with the same generator
//! (16 connections, as the anchor's README measured it with `wrk -c16`).

use std::process::Command;
use std::sync::Arc;

use crate::figures::{Era, ToolCall};
use crate::load::{self, Plan};
use crate::procs::{Proc, free_addr};
use crate::{RunArgs, fixtures, thousands, verdict};

const CONNECTIONS: usize = 16;
const GOAL_CALLS: f64 = 20_000.0;
const GOAL_RATIO: f64 = 10.0;

/// Runs figure 1.
///
/// # Errors
/// When a server does not start or answers nothing.
pub async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let (warmup, measure) = args.window();
    let plan = Plan {
        connections: CONNECTIONS,
        warmup,
        measure,
    };
    let echo = |addr, era| {
        Arc::new(ToolCall {
            addr,
            era,
            tool: "echo",
            arguments: serde_json::json!({"text": "hello, benchmark"}),
        })
    };

    let (anchor_proc, anchor) = fixtures::node_anchor(args, "mcp-sdk-echo", "server.mjs").await?;
    let ts = load::run(anchor, plan, echo(anchor, Era::Sessionless)).await?;
    drop(anchor_proc);

    let addr = free_addr()?;
    let mut command = Command::new(args.bins.join("examples/echo"));
    command.args(["--listen", &addr.to_string()]);
    let mut ours = Proc::start("echo", command, &args.logs)?;
    ours.wait_for_port(addr, std::time::Duration::from_secs(30))
        .await?;
    for (era, label) in [(Era::Legacy, "legacy era"), (Era::Modern, "modern era")] {
        let stats = load::run(addr, plan, echo(addr, era)).await?;
        let ratio = stats.rate() / ts.rate();
        println!(
            "1. MCP echo ({label}): {} calls/s (p50 {:.2} ms, p99 {:.2} ms) vs TS SDK {} calls/s (p99 {:.2} ms) ({ratio:.1}×) — goal ≥ {} calls/s and ≥ {GOAL_RATIO}× {}",
            thousands(stats.rate()),
            stats.quantile_ms(0.5),
            stats.quantile_ms(0.99),
            thousands(ts.rate()),
            ts.quantile_ms(0.99),
            thousands(GOAL_CALLS),
            verdict(stats.rate() >= GOAL_CALLS && ratio >= GOAL_RATIO),
        );
        report_errors("1.", &stats);
    }
    report_errors("1. (TS SDK)", &ts);
    Ok(())
}

/// Prints the errors of a run, if any, so that a rate is never read without them.
pub fn report_errors(prefix: &str, stats: &load::Stats) {
    if stats.errors > 0 {
        println!(
            "   {prefix} {} failed requests; first: {}",
            stats.errors,
            stats.first_error.as_deref().unwrap_or("?")
        );
    }
}
