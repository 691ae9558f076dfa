//! Figure 6: Bulk API 2.0 through `salesforce-api` against the sandbox: an ingest of N new Leads
//! (`bulk_ingest`, results streamed and counted, none kept) and then an export of N Leads
//! (query job, results streamed page by page), each by a client in its own process
//! (`sfmcp-bench bulk-client`) so that its peak RSS (`VmHWM`) is the client's alone.
//!
//! The sandbox's `large` dataset has about 1,000,000 records spread over nine objects (at most
//! 250,000 of one), so the million rows come from the ingest itself: the export reads them back.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use salesforce_api::{
    Access, Client, IngestOperation, IngestRequest, JobKind, KeepRows, PollPolicy, StaticAccess,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::fixtures::Sandbox;
use crate::procs::Memory;
use crate::{RunArgs, thousands, verdict};

const TOKEN_ENV: &str = "SFMCP_BENCH_TOKEN";
const GOAL_PEAK_MB: f64 = 100.0;
const EXPORT_PAGE: u32 = 50_000;

/// Rows of the full figure, and of `--quick`.
pub fn rows(args: &RunArgs) -> u64 {
    if args.quick { 20_000 } else { 1_000_000 }
}

/// `sfmcp-bench bulk-client`: one ingest or export, then one JSON line on stdout.
#[derive(clap::Args)]
pub struct ClientArgs {
    /// The sandbox's instance URL.
    #[arg(long)]
    instance: String,
    /// `ingest` or `export`.
    #[arg(long)]
    mode: String,
    /// Rows to ingest or export.
    #[arg(long)]
    rows: u64,
}

/// The client side, in its own process; the token comes in `SFMCP_BENCH_TOKEN`.
///
/// # Errors
/// API failures or a row count other than asked.
pub async fn client(args: ClientArgs) -> anyhow::Result<()> {
    let token = std::env::var(TOKEN_ENV).with_context(|| format!("{TOKEN_ENV} is not set"))?;
    let access = Access::new(&args.instance, SecretString::from(token))?;
    let client = Client::builder(StaticAccess::new(access))
        .timeout(Duration::from_secs(600))
        .build()?;
    let poll = PollPolicy {
        first: Duration::from_millis(100),
        max: Duration::from_millis(500),
        timeout: Duration::from_secs(3600),
    };
    let started = Instant::now();
    let rows = match args.mode.as_str() {
        "ingest" => {
            let mut request = IngestRequest::new(
                "Lead",
                IngestOperation::Insert,
                vec!["LastName".into(), "Company".into()],
            );
            request.keep = KeepRows::NONE;
            let rows = futures::stream::iter(0..args.rows)
                .map(|i| vec![format!("Bench{i}"), format!("Bench {i}")]);
            let outcome = client.bulk_ingest(&request, rows, poll, |_| {}).await?;
            if outcome.failed > 0 || outcome.unprocessed > 0 {
                bail!(
                    "{} rows failed and {} were not processed",
                    outcome.failed,
                    outcome.unprocessed
                );
            }
            outcome.successful
        }
        "export" => {
            let soql = format!("SELECT Id, LastName, Company FROM Lead LIMIT {}", args.rows);
            let job = client.create_query_job(&soql, false).await?;
            client
                .wait_for_job(&job.id, JobKind::Query, poll, |_| {})
                .await?;
            let mut stream = std::pin::pin!(client.query_results_stream(&job.id, EXPORT_PAGE));
            let mut rows = 0u64;
            while let Some(row) = stream.next().await {
                row?;
                rows += 1;
            }
            rows
        }
        other => bail!("unknown mode {other}"),
    };
    let seconds = started.elapsed().as_secs_f64();
    let memory = Memory::of("self")?;
    println!(
        "{}",
        serde_json::json!({"rows": rows, "seconds": seconds, "peak_rss_kb": memory.hwm_kb})
    );
    Ok(())
}

/// What a client process reported.
pub struct ClientRun {
    /// Rows ingested or exported.
    pub rows: u64,
    /// Wall time.
    pub seconds: f64,
    /// Its peak RSS in MB.
    pub peak_mb: f64,
}

/// Runs `sfmcp-bench bulk-client` as a child process against `sandbox`.
///
/// # Errors
/// When the client fails or reports something unreadable.
pub async fn run_client(sandbox: &Sandbox, mode: &str, rows: u64) -> anyhow::Result<ClientRun> {
    let token = sandbox.token().await?;
    let exe = std::env::current_exe()?;
    let output = tokio::process::Command::from({
        let mut c = Command::new(exe);
        c.args([
            "bulk-client",
            "--instance",
            &sandbox.url(),
            "--mode",
            mode,
            "--rows",
            &rows.to_string(),
        ])
        .env(TOKEN_ENV, token.expose_secret());
        c
    })
    .output()
    .await?;
    if !output.status.success() {
        bail!(
            "bulk client ({mode}) failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "unreadable bulk client report: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let number = |key: &str| {
        report[key]
            .as_f64()
            .with_context(|| format!("no {key} in the report"))
    };
    Ok(ClientRun {
        rows: number("rows")? as u64,
        seconds: number("seconds")?,
        peak_mb: number("peak_rss_kb")? / 1024.0,
    })
}

/// Runs figure 6 and leaves the loaded sandbox for figure 7.
///
/// # Errors
/// When the sandbox does not start or a client fails.
pub async fn run(args: &RunArgs) -> anyhow::Result<Sandbox> {
    let sandbox = Sandbox::start(args, "demo").await?;
    let rows = rows(args);
    for mode in ["ingest", "export"] {
        let run = run_client(&sandbox, mode, rows).await?;
        if run.rows != rows {
            bail!("the {mode} handled {} rows, not {rows}", run.rows);
        }
        println!(
            "6. Bulk 2.0 {mode} of {} Lead rows through salesforce-api: {} rows/s ({:.1} s), client peak RSS {:.1} MB — goal ≤ {GOAL_PEAK_MB} MB {}",
            thousands(rows as f64),
            thousands(rows as f64 / run.seconds),
            run.seconds,
            run.peak_mb,
            verdict(run.peak_mb <= GOAL_PEAK_MB),
        );
    }
    Ok(sandbox)
}
