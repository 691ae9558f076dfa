//! The benchmark runner behind `cargo xtask bench` (see `docs/benchmarks.md`): each figure starts
//! the release binaries it needs on loopback (and the Node anchors, installed by xtask), drives
//! them with the closed-loop generator in [`load`], and prints one line per measurement with the
//! comparison measured in the same run and the goal.

#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod figures;
pub mod fixtures;
pub mod load;
pub mod procs;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// `sfmcp-bench`.
#[derive(Parser)]
#[command(name = "sfmcp-bench", about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the figures.
    Run(RunArgs),
    /// One side of the Bulk 2.0 figure, as its own process (its peak RSS is measured).
    BulkClient(figures::bulk::ClientArgs),
}

/// Where things are and how long to measure.
#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// Directory with the release binaries (`sfmcp-server`, `sfmcp-worker`, `sfmcp-sandbox`,
    /// `examples/echo`).
    #[arg(long)]
    pub bins: PathBuf,
    /// Directory with the installed anchors (`mcp-sdk-echo/`, `node-webhook/`).
    #[arg(long)]
    pub anchors: PathBuf,
    /// Directory for the processes' logs.
    #[arg(long)]
    pub logs: PathBuf,
    /// A few seconds per figure and small data: a smoke test, not a measurement.
    #[arg(long)]
    pub quick: bool,
    /// Run only these figures (1-8).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<u8>,
}

impl RunArgs {
    /// Warm-up and measured window of one load run.
    pub fn window(&self) -> (Duration, Duration) {
        if self.quick {
            (Duration::from_millis(200), Duration::from_millis(800))
        } else {
            (Duration::from_secs(2), Duration::from_secs(8))
        }
    }

    fn wants(&self, figure: u8) -> bool {
        self.only.is_empty() || self.only.contains(&figure)
    }
}

/// Runs the command line.
///
/// # Errors
/// A figure that could not be measured at all (a process that would not start, say).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run_figures(&args).await,
        Command::BulkClient(args) => figures::bulk::client(args).await,
    }
}

async fn run_figures(args: &RunArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.logs)?;
    let mut failed = Vec::new();
    let mut loaded = None;
    for figure in 1..=8u8 {
        if !args.wants(figure) {
            continue;
        }
        let started = std::time::Instant::now();
        if let Err(e) = figures::run(figure, args, &mut loaded).await {
            println!("{figure}. could not be measured: {e:#}");
            failed.push(figure);
        }
        eprintln!(
            "   (figure {figure} took {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("figures {failed:?} could not be measured")
    }
}

/// `12345.6` as `12,346`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `✓` or `✗ (missed)`.
pub fn verdict(met: bool) -> &'static str {
    if met { "✓" } else { "✗ MISSED" }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
